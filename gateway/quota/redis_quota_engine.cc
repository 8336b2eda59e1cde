#include "gateway/quota/redis_quota_engine.h"

#include <algorithm>

namespace fdgw::quota {
namespace {

// Retry-After for quotas that fail closed: Redis may be back within a second.
constexpr std::int64_t kFailedClosedRetrySeconds = 1;

std::int64_t ceilSeconds(std::int64_t milliseconds) {
  return milliseconds <= 0 ? 0 : (milliseconds + 999) / 1000;
}

std::int64_t unixMilliseconds(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

QuotaResult resultOf(const CountedQuota& quota, const BucketUsage& usage, Outcome outcome) {
  return QuotaResult{quota.name, quota.limit, std::max<std::int64_t>(0, quota.limit - usage.used),
                     ceilSeconds(usage.reset_ms), outcome};
}

// Returns the quota with the fewest remaining requests or, on a tie, the
// one that frees capacity last.
std::optional<QuotaResult> tightestOf(const std::vector<QuotaResult>& quotas) {
  const QuotaResult* tightest = nullptr;
  for (const auto& quota : quotas) {
    if (tightest == nullptr || quota.remaining < tightest->remaining ||
        (quota.remaining == tightest->remaining &&
         quota.reset_seconds > tightest->reset_seconds)) {
      tightest = &quota;
    }
  }
  if (tightest == nullptr) return std::nullopt;
  return *tightest;
}

}  // namespace

RedisQuotaEngine::RedisQuotaEngine(redis::AsyncRedis& redis, const common::Clock& clock,
                                   log::Logger& logger, RedisUpstreamBudget& budget)
    : redis_(redis), clock_(clock), logger_(logger), budget_(budget) {}

void RedisQuotaEngine::check(const std::string& tenant_id, const config::Plan& plan,
                             std::string_view route_id, std::function<void(Decision)> done) {
  const std::int64_t now_ms = unixMilliseconds(clock_.now());
  auto quotas = countedQuotas(tenant_id, plan, &route_id, now_ms);
  if (quotas.empty()) {
    done(Decision{});
    return;
  }
  checkAndCount(tenant_id, std::move(quotas), now_ms, std::nullopt,
                [done = std::move(done)](Admission admission) {
                  done(std::move(admission.quotas));
                });
}

void RedisQuotaEngine::admit(const std::string& tenant_id, const config::Plan& plan,
                             std::string_view route_id, const BudgetRequest& budget,
                             std::function<void(Admission)> done) {
  const std::int64_t now_ms = unixMilliseconds(clock_.now());
  // The script runs even when no quota matches, because the budget is still taken.
  checkAndCount(tenant_id, countedQuotas(tenant_id, plan, &route_id, now_ms), now_ms, budget,
                std::move(done));
}

void RedisQuotaEngine::checkAndCount(const std::string& tenant_id,
                                     std::vector<CountedQuota> quotas, std::int64_t now_ms,
                                     std::optional<BudgetRequest> budget,
                                     std::function<void(Admission)> done) {
  std::optional<BudgetCall> budget_call;
  if (budget) budget_call = budgetCall(*budget, tenant_id);
  auto call = buildScriptCall(quotas, now_ms, /*count=*/true,
                              budget_call ? &*budget_call : nullptr);
  redis_.evalScript(
      admissionScript(), std::move(call.keys), std::move(call.args),
      [this, tenant_id, quotas = std::move(quotas), now_ms, budget = std::move(budget),
       done = std::move(done)](redis::RedisReply reply) {
        Admission admission;
        if (auto result = parseScriptReply(reply, quotas.size(), budget.has_value())) {
          admission.quotas = decideFromRedis(quotas, *result);
          if (result->budget) admission.budget = budgetDecisionOf(*result->budget);
          done(std::move(admission));
          return;
        }

        // As in the script, the quotas decide first, and only a request that
        // they admit takes budget, here from this instance's own window.
        if (!quotas.empty()) {
          logRedisFailure("quota_check", tenant_id, reply);
          admission.quotas = decideWithoutRedis(quotas, now_ms, /*count=*/true);
        }
        if (budget && admission.quotas.allowed) {
          admission.budget = budget_.acquireWithoutRedis(
              *budget, tenant_id, now_ms, reply.isError() ? reply.text : "unexpected reply");
        }
        done(std::move(admission));
      });
}

void RedisQuotaEngine::usage(const std::string& tenant_id, const config::Plan& plan,
                             std::function<void(std::vector<QuotaResult>)> done) {
  const std::int64_t now_ms = unixMilliseconds(clock_.now());
  auto quotas = countedQuotas(tenant_id, plan, nullptr, now_ms);
  if (quotas.empty()) {
    done({});
    return;
  }

  auto call = buildScriptCall(quotas, now_ms, /*count=*/false);
  redis_.evalScript(
      admissionScript(), std::move(call.keys), std::move(call.args),
      [this, tenant_id, quotas = std::move(quotas), now_ms,
       done = std::move(done)](redis::RedisReply reply) {
        auto result = parseScriptReply(reply, quotas.size(), /*took_budget=*/false);
        if (!result) {
          logRedisFailure("quota_usage", tenant_id, reply);
          done(usageWithoutRedis(quotas, now_ms));
          return;
        }
        std::vector<QuotaResult> results;
        for (std::size_t i = 0; i < quotas.size(); ++i) {
          const BucketUsage& usage = result->usages[i];
          const bool full = usage.used >= quotas[i].limit;
          results.push_back(
              resultOf(quotas[i], usage, full ? Outcome::kRejected : Outcome::kAllowed));
        }
        done(std::move(results));
      });
}

std::vector<CountedQuota> RedisQuotaEngine::countedQuotas(const std::string& tenant_id,
                                                          const config::Plan& plan,
                                                          const std::string_view* route_id,
                                                          std::int64_t now_ms) {
  auto zone = zones_.find(plan.time_zone);
  if (zone == nullptr) {
    logger_.warn("quota_time_zone_unknown",
                 {{"tenant", tenant_id}, {"time_zone", plan.time_zone}, {"fallback", "UTC"}});
    zone = TimeZone::utc();
  }

  std::vector<CountedQuota> quotas;
  for (const auto& rule : plan.quotas) {
    const bool matches = route_id == nullptr || rule.all_routes ||
                         rule.routes.contains(std::string(*route_id));
    if (matches) quotas.push_back(countedQuota(tenant_id, rule, now_ms, *zone));
  }
  return quotas;
}

Decision RedisQuotaEngine::decideFromRedis(const std::vector<CountedQuota>& quotas,
                                           const ScriptResult& result) {
  Decision decision;
  decision.allowed = result.allowed;
  for (std::size_t i = 0; i < quotas.size(); ++i) {
    const BucketUsage& usage = result.usages[i];
    // On a rejected request `used` excludes it, so a full quota is one
    // without room for one more.
    const bool full = !result.allowed && usage.used + 1 > quotas[i].limit;
    decision.quotas.push_back(
        resultOf(quotas[i], usage, full ? Outcome::kRejected : Outcome::kAllowed));
    if (full) {
      decision.retry_after_seconds =
          std::max({decision.retry_after_seconds, ceilSeconds(usage.retry_ms), std::int64_t{1}});
    }
  }
  decision.tightest = tightestOf(decision.quotas);
  return decision;
}

Decision RedisQuotaEngine::decideWithoutRedis(const std::vector<CountedQuota>& quotas,
                                              std::int64_t now_ms, bool count) {
  const bool any_denies = std::any_of(quotas.begin(), quotas.end(), [](const auto& quota) {
    return quota.on_redis_error == config::RedisFailureMode::kDeny;
  });
  std::vector<const CountedQuota*> local_quotas;
  for (const auto& quota : quotas) {
    if (quota.on_redis_error == config::RedisFailureMode::kLocal) local_quotas.push_back(&quota);
  }
  // A request that a failed-closed quota rejects must not use local capacity.
  const LocalCounter::Result local = local_.check(local_quotas, now_ms, count && !any_denies);

  Decision decision;
  decision.redis_failed = true;
  decision.allowed = !any_denies && local.allowed;
  std::size_t local_index = 0;
  for (const auto& quota : quotas) {
    switch (quota.on_redis_error) {
      case config::RedisFailureMode::kDeny:
        decision.quotas.push_back(QuotaResult{quota.name, quota.limit, 0,
                                              kFailedClosedRetrySeconds, Outcome::kFailedClosed});
        decision.retry_after_seconds =
            std::max(decision.retry_after_seconds, kFailedClosedRetrySeconds);
        break;
      case config::RedisFailureMode::kAllow:
        decision.quotas.push_back(
            QuotaResult{quota.name, quota.limit, quota.limit, 0, Outcome::kFailedOpen});
        break;
      case config::RedisFailureMode::kLocal: {
        const BucketUsage& usage = local.usages[local_index++];
        decision.quotas.push_back(resultOf(quota, usage, Outcome::kLocal));
        if (!local.allowed && usage.retry_ms > 0) {
          decision.retry_after_seconds =
              std::max({decision.retry_after_seconds, ceilSeconds(usage.retry_ms), std::int64_t{1}});
        }
        break;
      }
    }
  }
  if (decision.allowed) decision.retry_after_seconds = 0;
  decision.tightest = tightestOf(decision.quotas);
  return decision;
}

std::vector<QuotaResult> RedisQuotaEngine::usageWithoutRedis(
    const std::vector<CountedQuota>& quotas, std::int64_t now_ms) {
  Decision decision = decideWithoutRedis(quotas, now_ms, /*count=*/false);
  return std::move(decision.quotas);
}

void RedisQuotaEngine::logRedisFailure(std::string_view operation, const std::string& tenant_id,
                                       const redis::RedisReply& reply) {
  logger_.warn("quota_redis_failed",
               {{"operation", operation},
                {"tenant", tenant_id},
                {"error", reply.isError() ? reply.text : "unexpected reply " + describe(reply)},
                {"fallback", "on_redis_error"}});
}

}  // namespace fdgw::quota
