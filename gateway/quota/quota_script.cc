#include "gateway/quota/quota_script.h"

namespace fdgw::quota {

const redis::Script& admissionScript() {
  static const redis::Script kScript(R"lua(
local now = tonumber(ARGV[1])
local count_request = ARGV[2] == '1'
local expiry_slack = tonumber(ARGV[3])
local quota_count = tonumber(ARGV[4])
local take_budget = ARGV[5] == '1'

-- Takes one request from the upstream budget whose keys start with
-- `prefix`: a sliding window of ten 6-second buckets, one hash each with a
-- total and a count per tenant. Returns {allowed, remaining, retry_ms}.
local function acquire_budget(prefix, limit, reserve, tenant, priority)
  local bucket_ms = 6000
  local window_ms = 60000

  local blocked = redis.call('PTTL', prefix .. ':blocked')
  if blocked > 0 then return {0, 0, blocked} end

  local active = prefix .. ':active'
  redis.call('ZREMRANGEBYSCORE', active, '-inf', now - window_ms)
  redis.call('ZADD', active, now, tenant)
  redis.call('PEXPIRE', active, window_ms * 2)
  local tenants = redis.call('ZCARD', active)

  local current = math.floor(now / bucket_ms)
  local total, mine, oldest = 0, 0, nil
  for bucket = current - 10, current do
    local counts = redis.call('HMGET', prefix .. ':' .. bucket, 'total', tenant)
    local bucket_total = tonumber(counts[1]) or 0
    if bucket_total > 0 and oldest == nil then oldest = bucket end
    total = total + bucket_total
    mine = mine + (tonumber(counts[2]) or 0)
  end

  local allowed = total < limit
  if allowed and not priority then
    local open = limit - reserve
    local share = math.ceil(open / tenants)
    allowed = total < open and mine < share
  end
  if not allowed then
    local release = ((oldest or current) + 1) * bucket_ms + window_ms
    return {0, math.max(limit - total, 0), math.max(release - now, 1)}
  end

  local key = prefix .. ':' .. current
  redis.call('HINCRBY', key, 'total', 1)
  redis.call('HINCRBY', key, tenant, 1)
  redis.call('PEXPIRE', key, window_ms + 2 * bucket_ms)
  return {1, limit - total - 1, 0}
end

local quotas = {}
local allowed = 1
local arg = 6
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
    redis.call('PEXPIRE', key, quota.releases[newest] - now + expiry_slack)
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

-- The budget is taken only after every quota admitted and counted the
-- request, so a request that a quota rejects takes no budget.
if take_budget and allowed == 1 then
  local budget = acquire_budget(KEYS[first_key], tonumber(ARGV[arg]), tonumber(ARGV[arg + 1]),
                                ARGV[arg + 2], ARGV[arg + 3] == '1')
  reply[#reply + 1] = budget[1]
  reply[#reply + 1] = budget[2]
  reply[#reply + 1] = budget[3]
end
return reply
)lua");
  return kScript;
}

ScriptCall buildScriptCall(const std::vector<CountedQuota>& quotas, std::int64_t now_ms,
                           bool count, const BudgetCall* budget) {
  std::size_t bucket_count = 0;
  for (const auto& quota : quotas) bucket_count += quota.buckets.size();

  ScriptCall call;
  call.keys.reserve(bucket_count + 1);
  call.args.reserve(5 + 2 * quotas.size() + bucket_count + 4);
  call.args.push_back(std::to_string(now_ms));
  call.args.emplace_back(count ? "1" : "0");
  call.args.push_back(std::to_string(kKeyExpirySlackMs));
  call.args.push_back(std::to_string(quotas.size()));
  call.args.emplace_back(budget != nullptr ? "1" : "0");
  for (const auto& quota : quotas) {
    call.args.push_back(std::to_string(quota.limit));
    call.args.push_back(std::to_string(quota.buckets.size()));
    for (const auto& bucket : quota.buckets) {
      call.keys.push_back(bucket.key);
      call.args.push_back(std::to_string(bucket.release_ms));
    }
  }
  if (budget != nullptr) {
    call.keys.push_back(budget->key_prefix);
    call.args.push_back(std::to_string(budget->limit));
    call.args.push_back(std::to_string(budget->reserve));
    call.args.push_back(budget->tenant_id);
    call.args.emplace_back(budget->priority ? "1" : "0");
  }
  return call;
}

std::optional<ScriptResult> parseScriptReply(const redis::RedisReply& reply,
                                             std::size_t quota_count, bool took_budget) {
  using Type = redis::RedisReply::Type;
  const std::size_t quota_elements = 1 + 3 * quota_count;
  if (reply.type != Type::kArray || reply.elements.empty()) return std::nullopt;
  for (const auto& element : reply.elements) {
    if (element.type != Type::kInteger) return std::nullopt;
  }

  ScriptResult result;
  result.allowed = reply.elements[0].integer == 1;
  // The budget's three elements follow only when the quotas admitted the request.
  const bool has_budget = took_budget && result.allowed;
  if (reply.elements.size() != quota_elements + (has_budget ? 3 : 0)) return std::nullopt;

  result.usages.reserve(quota_count);
  for (std::size_t q = 0; q < quota_count; ++q) {
    const std::size_t base = 1 + 3 * q;
    result.usages.push_back(BucketUsage{reply.elements[base].integer,
                                        reply.elements[base + 1].integer,
                                        reply.elements[base + 2].integer});
  }
  if (has_budget) {
    result.budget = BudgetResult{reply.elements[quota_elements].integer == 1,
                                 reply.elements[quota_elements + 1].integer,
                                 reply.elements[quota_elements + 2].integer};
  }
  return result;
}

}  // namespace fdgw::quota
