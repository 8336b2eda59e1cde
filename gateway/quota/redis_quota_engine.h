#pragma once

#include "gateway/common/clock.h"
#include "gateway/log/logger.h"
#include "gateway/quota/local_counter.h"
#include "gateway/quota/quota_engine.h"
#include "gateway/quota/quota_script.h"
#include "gateway/quota/time_zone.h"
#include "gateway/quota/upstream_budget.h"
#include "gateway/redis/async_redis.h"

namespace fdgw::quota {

// Quotas counted in Redis, shared by every gateway instance that uses the
// same Redis database.
//
// Algorithm: a sliding window of buckets. A fixed-length window L is split
// into kBucketsPerWindow (10) buckets of L/10, aligned to the Unix epoch. A
// check at time t reads the 11 buckets from the one containing t - L to the
// one containing t, which reach back between L and 1.1 × L. It admits the
// request when they contain fewer than `limit` requests, and then counts it
// in the bucket containing t.
//
// Error bound: no span of length L ever contains more than `limit` admitted
// requests, whatever the timing, because every such span lies inside the
// buckets that the check of its last request counted. The error is on the
// strict side: a request keeps counting for between L and 1.1 × L, so a
// client may wait up to L/10 longer than an exact sliding log would make it.
// Calendar-month quotas use one fixed window per month in the plan's time
// zone, so two adjacent months can together admit 2 × limit within a span
// shorter than a month.
//
// One request's quotas are checked and counted by one call of the admission
// script, which is one atomic round trip. If any quota is full, nothing is
// counted. admit() takes the upstream budget in the same call, with the
// rules and key layout of `budget`. The time comes from `clock` and is sent
// to the script. Redis's own clock is never read, so instances need roughly
// synchronised clocks.
//
// When Redis fails or times out (RedisConfig::timeout), each quota follows
// its on_redis_error: deny rejects the request (kFailedClosed), allow admits
// it without counting (kFailedOpen), local counts it in this instance's
// memory with the same limit (kLocal). When the quotas admit the request,
// admit() then takes the budget from `budget`'s in-memory window. A
// timed-out script may still have counted the request in Redis.
//
// Thread-safe. Callbacks run on the Redis client thread, or inline when
// check() matches no quota or the client is stopped. Stop `redis` before
// destroying the engine or `budget`, because stopping fails pending
// commands, whose callbacks use both.
class RedisQuotaEngine final : public QuotaEngine {
 public:
  RedisQuotaEngine(redis::AsyncRedis& redis, const common::Clock& clock, log::Logger& logger,
                   RedisUpstreamBudget& budget);

  void check(const std::string& tenant_id, const config::Plan& plan, std::string_view route_id,
             std::function<void(Decision)> done) override;
  void admit(const std::string& tenant_id, const config::Plan& plan, std::string_view route_id,
             const BudgetRequest& budget, std::function<void(Admission)> done) override;
  void usage(const std::string& tenant_id, const config::Plan& plan,
             std::function<void(std::vector<QuotaResult>)> done) override;

 private:
  std::vector<CountedQuota> countedQuotas(const std::string& tenant_id, const config::Plan& plan,
                                          const std::string_view* route_id, std::int64_t now_ms);
  // Runs the admission script for `quotas` and, when `budget` is set, the
  // upstream budget, and applies the fallbacks when Redis fails.
  void checkAndCount(const std::string& tenant_id, std::vector<CountedQuota> quotas,
                     std::int64_t now_ms, std::optional<BudgetRequest> budget,
                     std::function<void(Admission)> done);
  Decision decideFromRedis(const std::vector<CountedQuota>& quotas, const ScriptResult& result);
  // Applies each quota's on_redis_error, counting in local memory only when `count`.
  Decision decideWithoutRedis(const std::vector<CountedQuota>& quotas, std::int64_t now_ms,
                              bool count);
  std::vector<QuotaResult> usageWithoutRedis(const std::vector<CountedQuota>& quotas,
                                             std::int64_t now_ms);
  void logRedisFailure(std::string_view operation, const std::string& tenant_id,
                       const redis::RedisReply& reply);

  redis::AsyncRedis& redis_;
  const common::Clock& clock_;
  log::Logger& logger_;
  RedisUpstreamBudget& budget_;
  TimeZoneCache zones_;
  LocalCounter local_;
};

}  // namespace fdgw::quota
