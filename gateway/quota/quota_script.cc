#include "gateway/quota/quota_script.h"

namespace fdgw::quota {

const std::string& quotaScriptSource() {
  static const std::string kSource = R"lua(
local now = tonumber(ARGV[1])
local count_request = ARGV[2] == '1'
local quota_count = tonumber(ARGV[3])

local quotas = {}
local allowed = 1
local arg = 4
local first_key = 1
for q = 1, quota_count do
  local limit = tonumber(ARGV[arg])
  local bucket_count = tonumber(ARGV[arg + 1])
  arg = arg + 2
  local values = redis.call('MGET', unpack(KEYS, first_key, first_key + bucket_count - 1))
  local counts = {}
  local releases = {}
  local used = 0
  for b = 1, bucket_count do
    counts[b] = tonumber(values[b]) or 0
    releases[b] = tonumber(ARGV[arg + b - 1])
    used = used + counts[b]
  end
  arg = arg + bucket_count

  -- When full, one more request fits once enough of the oldest buckets are released.
  local retry = 0
  if used + 1 > limit then
    if count_request then allowed = 0 end
    local excess = used + 1 - limit
    local freed = 0
    retry = releases[bucket_count] - now
    for b = 1, bucket_count do
      freed = freed + counts[b]
      if freed >= excess then
        retry = releases[b] - now
        break
      end
    end
  end
  quotas[q] = {first_key = first_key, bucket_count = bucket_count, counts = counts,
               releases = releases, used = used, retry = retry}
  first_key = first_key + bucket_count
end

if count_request and allowed == 1 then
  for q = 1, quota_count do
    local quota = quotas[q]
    local newest = quota.bucket_count
    local key = KEYS[quota.first_key + newest - 1]
    redis.call('INCR', key)
    redis.call('PEXPIRE', key, quota.releases[newest] - now + tonumber(ARGV[#ARGV]))
    quota.counts[newest] = quota.counts[newest] + 1
    quota.used = quota.used + 1
  end
end

local reply = {allowed}
for q = 1, quota_count do
  local quota = quotas[q]
  local reset = 0
  for b = 1, quota.bucket_count do
    if quota.counts[b] > 0 then
      reset = quota.releases[b] - now
      break
    end
  end
  reply[#reply + 1] = quota.used
  reply[#reply + 1] = reset
  reply[#reply + 1] = quota.retry
end
return reply
)lua";
  return kSource;
}

ScriptCall buildScriptCall(const std::vector<CountedQuota>& quotas, std::int64_t now_ms,
                           bool count) {
  ScriptCall call;
  call.args = {std::to_string(now_ms), count ? "1" : "0", std::to_string(quotas.size())};
  for (const auto& quota : quotas) {
    call.args.push_back(std::to_string(quota.limit));
    call.args.push_back(std::to_string(quota.buckets.size()));
    for (const auto& bucket : quota.buckets) {
      call.keys.push_back(bucket.key);
      call.args.push_back(std::to_string(bucket.release_ms));
    }
  }
  // The last argument is the expiry slack, read by the script as ARGV[#ARGV].
  call.args.push_back(std::to_string(kKeyExpirySlackMs));
  return call;
}

std::optional<ScriptResult> parseScriptReply(const redis::RedisReply& reply,
                                             std::size_t quota_count) {
  using Type = redis::RedisReply::Type;
  if (reply.type != Type::kArray || reply.elements.size() != 1 + 3 * quota_count) {
    return std::nullopt;
  }
  for (const auto& element : reply.elements) {
    if (element.type != Type::kInteger) return std::nullopt;
  }

  ScriptResult result;
  result.allowed = reply.elements[0].integer == 1;
  for (std::size_t q = 0; q < quota_count; ++q) {
    const std::size_t base = 1 + 3 * q;
    result.usages.push_back(BucketUsage{reply.elements[base].integer,
                                        reply.elements[base + 1].integer,
                                        reply.elements[base + 2].integer});
  }
  return result;
}

}  // namespace fdgw::quota
