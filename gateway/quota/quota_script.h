#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/quota/quota_window.h"
#include "gateway/redis/redis_reply.h"
#include "gateway/redis/script.h"

namespace fdgw::quota {

// The admission script: one atomic Redis call that checks and counts every
// quota of a request and, only when they all admit it, takes one request
// from its upstream budget. It never reads the Redis clock.
//
// Quotas: the script reads every bucket of every quota and, only when each
// quota has room for one more request, increments the newest bucket of each
// (with PEXPIRE until its release plus the expiry slack).
//
// Upstream budget: the rules of RedisUpstreamBudget. An account blocked
// after an upstream 429 rejects. Otherwise the tenant becomes active, and
// the request is admitted when the account's window has room and, unless it
// has priority, when the reserve and the tenant's share of the rest allow it.
// Quotas that admitted the request stay counted when the budget rejects it.
//
// KEYS: every quota's bucket keys, quota by quota, oldest bucket first, then
//       the budget's key prefix (fdgw:budget:{UPSTREAM}) when it takes budget.
// ARGV: now_ms, count (1 to check and count, 0 to read only), key expiry
//       slack in milliseconds, quota count, take_budget (1 or 0), then per
//       quota: limit, bucket count and each bucket's release_ms, then, when
//       it takes budget: limit, reserve, tenant id, priority (1 or 0).
// Reply: {allowed (1/0), then per quota: used, reset_ms, retry_ms}, where
//        `used` includes this request when it was counted. When it takes
//        budget and the quotas admitted the request, the reply ends with the
//        budget's allowed (1/0), remaining and retry_ms.
const redis::Script& admissionScript();

// One request's claim on its upstream budget, as the script receives it.
struct BudgetCall {
  std::string key_prefix;  // fdgw:budget:{UPSTREAM}
  std::int64_t limit = 0;
  std::int64_t reserve = 0;  // requests of the limit that only priority requests may use
  std::string tenant_id;
  bool priority = false;
};

struct ScriptCall {
  std::vector<std::string> keys;
  std::vector<std::string> args;
};

// Builds the call for `quotas` and, when `budget` is set, the upstream
// budget. A call that takes budget must also count (`count` true).
ScriptCall buildScriptCall(const std::vector<CountedQuota>& quotas, std::int64_t now_ms,
                           bool count, const BudgetCall* budget = nullptr);

// The budget step's part of the reply.
struct BudgetResult {
  bool allowed = false;
  std::int64_t remaining = 0;  // requests left in the upstream's window, may be negative
  std::int64_t retry_ms = 0;   // when rejected
};

struct ScriptResult {
  bool allowed = false;             // every quota had room
  std::vector<BucketUsage> usages;  // one per quota
  std::optional<BudgetResult> budget;  // set when the call took budget and the quotas admitted the request
};

// Returns nullopt when `reply` is an error or not the shape the script
// returns for a call with `quota_count` quotas that took budget or not.
std::optional<ScriptResult> parseScriptReply(const redis::RedisReply& reply,
                                             std::size_t quota_count, bool took_budget);

}  // namespace fdgw::quota
