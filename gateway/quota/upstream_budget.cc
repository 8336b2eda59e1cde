#include "gateway/quota/upstream_budget.h"

#include <algorithm>

namespace fdgw::quota {
namespace {

// The same window as the budget step of the admission script (quota_script.cc).
constexpr std::int64_t kBucketMs = 6000;
constexpr std::int64_t kWindowMs = 60000;
constexpr std::int64_t kBucketsRead = kWindowMs / kBucketMs + 1;

std::int64_t toSeconds(std::int64_t milliseconds) {
  return std::max<std::int64_t>((milliseconds + 999) / 1000, 1);
}

std::string keyPrefix(const std::string& upstream) { return "fdgw:budget:{" + upstream + "}"; }

}  // namespace

std::int64_t priorityReserve(std::int64_t limit) {
  return limit >= 5 ? std::max<std::int64_t>(limit / 5, 1) : 0;
}

BudgetCall budgetCall(const BudgetRequest& request, const std::string& tenant_id) {
  return BudgetCall{keyPrefix(request.upstream), request.requests_per_minute,
                    priorityReserve(request.requests_per_minute), tenant_id, request.priority};
}

BudgetDecision budgetDecisionOf(const BudgetResult& result) {
  BudgetDecision decision;
  decision.allowed = result.allowed;
  decision.remaining = std::max<std::int64_t>(result.remaining, 0);
  if (!decision.allowed) decision.retry_after_seconds = toSeconds(result.retry_ms);
  return decision;
}

RedisUpstreamBudget::RedisUpstreamBudget(redis::AsyncRedis& redis, const common::Clock& clock,
                                         log::Logger& logger)
    : redis_(redis), clock_(clock), logger_(logger) {}

void RedisUpstreamBudget::acquire(const std::string& upstream, std::int64_t requests_per_minute,
                                  const std::string& tenant_id, bool priority,
                                  std::function<void(BudgetDecision)> done) {
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  clock_.now().time_since_epoch())
                                  .count();
  BudgetRequest request{upstream, requests_per_minute, priority};
  const BudgetCall budget = budgetCall(request, tenant_id);
  auto call = buildScriptCall({}, now_ms, /*count=*/true, &budget);
  redis_.evalScript(
      admissionScript(), std::move(call.keys), std::move(call.args),
      [this, request = std::move(request), tenant_id, now_ms,
       done = std::move(done)](redis::RedisReply reply) {
        const auto result = parseScriptReply(reply, 0, /*took_budget=*/true);
        if (result && result->budget) {
          done(budgetDecisionOf(*result->budget));
          return;
        }
        done(acquireWithoutRedis(request, tenant_id, now_ms,
                                 reply.isError() ? reply.text : "unexpected reply"));
      });
}

BudgetDecision RedisUpstreamBudget::acquireWithoutRedis(const BudgetRequest& request,
                                                        const std::string& tenant_id,
                                                        std::int64_t now_ms,
                                                        std::string_view error) {
  logger_.warn("upstream_budget_fallback", {{"upstream", request.upstream}, {"error", error}});
  BudgetDecision decision = acquireLocally(request.upstream, request.requests_per_minute,
                                           tenant_id, request.priority, now_ms);
  decision.redis_failed = true;
  return decision;
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
