#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "gateway/common/clock.h"
#include "gateway/log/logger.h"
#include "gateway/quota/quota_engine.h"
#include "gateway/quota/quota_script.h"
#include "gateway/redis/async_redis.h"

namespace fdgw::quota {

// The upstream account's own rate limit (FullDatos: requests per minute per
// API key), spent for every tenant and every gateway instance together.
class UpstreamBudget {
 public:
  virtual ~UpstreamBudget() = default;

  // Takes one request from `upstream`'s budget of `requests_per_minute` for
  // `tenant_id`. `priority` requests (orders and refunds) may use the whole
  // budget. Other requests leave a reserve for them, and when several
  // tenants are active each tenant gets at most an equal share of the rest.
  // `done` runs exactly once, on any thread.
  virtual void acquire(const std::string& upstream, std::int64_t requests_per_minute,
                       const std::string& tenant_id, bool priority,
                       std::function<void(BudgetDecision)> done) = 0;

  // Stops all use of `upstream` for `seconds`, after it returned 429.
  virtual void block(const std::string& upstream, std::int64_t seconds) = 0;
};

// UpstreamBudget kept in Redis, so all instances share it.
//
// Algorithm: a sliding window of 60 s made of ten 6-second buckets (one
// Redis hash each, with a total and a count per tenant). A request is
// admitted when the eleven buckets that overlap the last 60 s hold fewer
// requests than the limit, so no 60-second span admits more than the limit
// whatever the alignment of the upstream's own window. A tenant is active
// when it sent a request within the last 60 s. With n active tenants, a
// non-priority request is rejected once its tenant has used
// ceil((limit - reserve) / n) of the window. The reserve is 20 % of the limit (at least 1 when the limit
// is 5 or more) and only orders and refunds may use it.
//
// When Redis fails, each instance falls back to its own window with the
// same rules and the full limit. NOTE: with N instances up to N times the
// limit can then reach the upstream.
//
// The Redis side is the budget step of the admission script
// (quota_script.h), which RedisQuotaEngine::admit runs together with the
// quotas. acquire() runs the same script without quotas.
class RedisUpstreamBudget final : public UpstreamBudget {
 public:
  RedisUpstreamBudget(redis::AsyncRedis& redis, const common::Clock& clock, log::Logger& logger);

  void acquire(const std::string& upstream, std::int64_t requests_per_minute,
               const std::string& tenant_id, bool priority,
               std::function<void(BudgetDecision)> done) override;
  void block(const std::string& upstream, std::int64_t seconds) override;

  // Decides `request` in this instance's own window after the Redis call
  // failed with `error`. Logs upstream_budget_fallback and sets redis_failed.
  BudgetDecision acquireWithoutRedis(const BudgetRequest& request, const std::string& tenant_id,
                                     std::int64_t now_ms, std::string_view error);

 private:
  BudgetDecision acquireLocally(const std::string& upstream, std::int64_t limit,
                                const std::string& tenant_id, bool priority, std::int64_t now_ms);

  redis::AsyncRedis& redis_;
  const common::Clock& clock_;
  log::Logger& logger_;

  struct LocalWindow {
    std::map<std::int64_t, std::map<std::string, std::int64_t>> buckets;  // bucket -> tenant -> count
    std::map<std::string, std::int64_t> last_seen_ms;
    std::int64_t blocked_until_ms = 0;
  };
  std::mutex local_mutex_;
  std::map<std::string, LocalWindow> local_;
};

// The reserve that only priority requests may use, out of `limit`.
std::int64_t priorityReserve(std::int64_t limit);

// Returns the admission script's arguments for `request` by `tenant_id`.
BudgetCall budgetCall(const BudgetRequest& request, const std::string& tenant_id);

// Converts the admission script's budget reply into a decision.
BudgetDecision budgetDecisionOf(const BudgetResult& result);

}  // namespace fdgw::quota
