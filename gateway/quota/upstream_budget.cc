#include "gateway/quota/upstream_budget.h"

#include <algorithm>

namespace fdgw::quota {
namespace {

constexpr std::int64_t kBucketMs = 6000;
constexpr std::int64_t kWindowMs = 60000;
constexpr std::int64_t kBucketsRead = kWindowMs / kBucketMs + 1;

// KEYS[1]: key prefix such as fdgw:budget:{main}
// ARGV: now_ms, limit, reserve, tenant, priority (1 or 0)
// Returns {allowed, remaining, retry_after_ms}.
constexpr const char* kBudgetScript = R"lua(
local prefix = KEYS[1]
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local reserve = tonumber(ARGV[3])
local tenant = ARGV[4]
local priority = ARGV[5] == '1'
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
)lua";

std::int64_t toSeconds(std::int64_t milliseconds) {
  return std::max<std::int64_t>((milliseconds + 999) / 1000, 1);
}

std::string keyPrefix(const std::string& upstream) { return "fdgw:budget:{" + upstream + "}"; }

}  // namespace

std::int64_t priorityReserve(std::int64_t limit) {
  return limit >= 5 ? std::max<std::int64_t>(limit / 5, 1) : 0;
}

RedisUpstreamBudget::RedisUpstreamBudget(redis::AsyncRedis& redis, const common::Clock& clock,
                                         log::Logger& logger)
    : redis_(redis), clock_(clock), logger_(logger), script_(kBudgetScript) {}

void RedisUpstreamBudget::acquire(const std::string& upstream, std::int64_t requests_per_minute,
                                  const std::string& tenant_id, bool priority,
                                  std::function<void(BudgetDecision)> done) {
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  clock_.now().time_since_epoch())
                                  .count();
  const std::int64_t limit = requests_per_minute;
  redis_.evalScript(
      script_, {keyPrefix(upstream)},
      {std::to_string(now_ms), std::to_string(limit), std::to_string(priorityReserve(limit)),
       tenant_id, priority ? "1" : "0"},
      [this, upstream, limit, tenant_id, priority, now_ms,
       done = std::move(done)](redis::RedisReply reply) {
        const bool valid = !reply.isError() && reply.elements.size() == 3;
        if (!valid) {
          logger_.warn("upstream_budget_fallback",
                       {{"upstream", upstream},
                        {"error", reply.isError() ? reply.text : "unexpected reply"}});
          auto decision = acquireLocally(upstream, limit, tenant_id, priority, now_ms);
          decision.redis_failed = true;
          done(decision);
          return;
        }
        BudgetDecision decision;
        decision.allowed = reply.elements[0].integer == 1;
        decision.remaining = std::max<std::int64_t>(reply.elements[1].integer, 0);
        if (!decision.allowed) decision.retry_after_seconds = toSeconds(reply.elements[2].integer);
        done(decision);
      });
}

void RedisUpstreamBudget::block(const std::string& upstream, std::int64_t seconds) {
  const std::int64_t milliseconds = std::max<std::int64_t>(seconds, 1) * 1000;
  {
    std::lock_guard lock(local_mutex_);
    const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    clock_.now().time_since_epoch())
                                    .count();
    local_[upstream].blocked_until_ms = now_ms + milliseconds;
  }
  redis_.command({"SET", keyPrefix(upstream) + ":blocked", "1", "PX", std::to_string(milliseconds)},
                 [this, upstream](redis::RedisReply reply) {
                   if (reply.isError()) {
                     logger_.warn("upstream_block_not_shared",
                                  {{"upstream", upstream}, {"error", reply.text}});
                   }
                 });
}

BudgetDecision RedisUpstreamBudget::acquireLocally(const std::string& upstream, std::int64_t limit,
                                                   const std::string& tenant_id, bool priority,
                                                   std::int64_t now_ms) {
  std::lock_guard lock(local_mutex_);
  LocalWindow& window = local_[upstream];
  BudgetDecision decision;
  if (now_ms < window.blocked_until_ms) {
    decision.allowed = false;
    decision.retry_after_seconds = toSeconds(window.blocked_until_ms - now_ms);
    return decision;
  }

  const std::int64_t current = now_ms / kBucketMs;
  window.buckets.erase(window.buckets.begin(), window.buckets.lower_bound(current - kBucketsRead + 1));
  window.last_seen_ms[tenant_id] = now_ms;
  std::erase_if(window.last_seen_ms,
                [now_ms](const auto& entry) { return entry.second <= now_ms - kWindowMs; });

  std::int64_t total = 0;
  std::int64_t mine = 0;
  for (const auto& [bucket, counts] : window.buckets) {
    for (const auto& [tenant, count] : counts) {
      total += count;
      if (tenant == tenant_id) mine += count;
    }
  }
  bool allowed = total < limit;
  if (allowed && !priority) {
    const std::int64_t open = limit - priorityReserve(limit);
    const auto tenants = static_cast<std::int64_t>(window.last_seen_ms.size());
    const std::int64_t share = (open + tenants - 1) / std::max<std::int64_t>(tenants, 1);
    allowed = total < open && mine < share;
  }
  decision.allowed = allowed;
  decision.remaining = std::max<std::int64_t>(limit - total - (allowed ? 1 : 0), 0);
  if (!allowed) {
    const std::int64_t oldest = window.buckets.empty() ? current : window.buckets.begin()->first;
    decision.retry_after_seconds = toSeconds((oldest + 1) * kBucketMs + kWindowMs - now_ms);
    return decision;
  }
  ++window.buckets[current][tenant_id];
  return decision;
}

}  // namespace fdgw::quota
