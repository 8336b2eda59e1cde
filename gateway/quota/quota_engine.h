#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/policies.h"

namespace fdgw::quota {

// Outcome of one quota in a check. The names returned by outcomeName() are the
// `decision` label values of fdgw_quota_decisions_total.
enum class Outcome {
  kAllowed,       // Redis counted it, or it had room while another quota rejected the request
  kRejected,      // Redis found it full
  kFailedOpen,    // Redis failed and the quota allows without counting (on_redis_error: allow)
  kFailedClosed,  // Redis failed and the quota rejects (on_redis_error: deny)
  kLocal,         // Redis failed and this instance's memory decided (on_redis_error: local)
};

// Returns "allowed", "rejected", "failed_open", "failed_closed" or "local".
std::string_view outcomeName(Outcome outcome);

// The state of one quota after a check, or at a usage query.
struct QuotaResult {
  std::string name;
  std::int64_t limit = 0;
  std::int64_t remaining = 0;      // never negative
  std::int64_t reset_seconds = 0;  // until the oldest counted request stops counting, or 0 when none counts
  Outcome outcome = Outcome::kAllowed;
};

struct Decision {
  bool allowed = true;
  std::vector<QuotaResult> quotas;      // one per matching quota, in plan order
  std::optional<QuotaResult> tightest;  // minimum remaining, for RateLimit-* headers, or unset when no quota matched
  std::int64_t retry_after_seconds = 0;  // at least 1 when rejected
  bool redis_failed = false;            // Redis failed or timed out: count it in fdgw_redis_errors_total
};

// One request's claim on the budget of the upstream account it will call.
struct BudgetRequest {
  std::string upstream;  // the name under `upstreams` in gateway.yaml
  std::int64_t requests_per_minute = 0;
  bool priority = false;  // orders and refunds, which may use the reserve
};

struct BudgetDecision {
  bool allowed = true;
  std::int64_t remaining = 0;            // requests left in the upstream's window
  std::int64_t retry_after_seconds = 0;  // when rejected
  bool redis_failed = false;
};

// Outcome of QuotaEngine::admit().
struct Admission {
  Decision quotas;
  std::optional<BudgetDecision> budget;  // set exactly when the quotas admitted the request
};

// Per-tenant quotas, shared by every gateway instance. An interface, so the
// request path can be tested with a fake.
class QuotaEngine {
 public:
  virtual ~QuotaEngine() = default;

  // Checks and counts every quota of `plan` that matches `route_id`, for
  // `tenant_id`, in one atomic step. A rejected request consumes nothing.
  // `done` runs exactly once, on any thread (inline when no quota matches).
  virtual void check(const std::string& tenant_id, const config::Plan& plan,
                     std::string_view route_id, std::function<void(Decision)> done) = 0;

  // Checks and counts the quotas as check() does and, only when they admit
  // the request, takes one request from the upstream budget described by
  // `budget` (see UpstreamBudget::acquire), in one atomic step. A budget
  // rejection leaves the quotas counted. `done` runs exactly once, on any
  // thread.
  virtual void admit(const std::string& tenant_id, const config::Plan& plan,
                     std::string_view route_id, const BudgetRequest& budget,
                     std::function<void(Admission)> done) = 0;

  // Reports the usage of every quota of the plan without counting (for
  // GET /gateway/usage). `done` runs exactly once, on any thread.
  virtual void usage(const std::string& tenant_id, const config::Plan& plan,
                     std::function<void(std::vector<QuotaResult>)> done) = 0;
};

}  // namespace fdgw::quota
