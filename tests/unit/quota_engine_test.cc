#include "gateway/quota/redis_quota_engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <future>
#include <memory>
#include <set>

#include "redis_server_fixture.h"

namespace fdgw::quota {
namespace {

using namespace std::chrono_literals;
using config::RedisFailureMode;

constexpr auto kTimeout = 100ms;
// 2025-03-10T12:00:00Z, a whole minute, so the 6 s buckets of a 1m window
// start on it.
constexpr std::int64_t kStartSeconds = 1741608000;

// Wall-clock time set by the test. Monotonic time stays real.
class FakeClock final : public common::Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(now_ms_.load()));
  }
  std::chrono::steady_clock::time_point monotonicNow() const override {
    return std::chrono::steady_clock::now();
  }
  void setSeconds(std::int64_t unix_seconds) { now_ms_ = unix_seconds * 1000; }
  void advance(std::chrono::milliseconds step) { now_ms_ += step.count(); }

 private:
  std::atomic<std::int64_t> now_ms_{kStartSeconds * 1000};
};

config::QuotaRule rule(std::string name, std::int64_t limit, std::chrono::seconds window,
                       RedisFailureMode on_redis_error = RedisFailureMode::kLocal,
                       std::set<std::string> routes = {}) {
  config::QuotaRule quota;
  quota.name = std::move(name);
  quota.limit = limit;
  quota.window = config::QuotaWindow{config::WindowKind::kFixedLength, window};
  quota.on_redis_error = on_redis_error;
  quota.all_routes = routes.empty();
  quota.routes = std::move(routes);
  return quota;
}

config::QuotaRule monthlyRule(std::string name, std::int64_t limit) {
  config::QuotaRule quota = rule(std::move(name), limit, 0s);
  quota.window.kind = config::WindowKind::kCalendarMonth;
  return quota;
}

config::Plan planWith(std::vector<config::QuotaRule> quotas, std::string time_zone = "UTC") {
  config::Plan plan;
  plan.name = "test";
  plan.time_zone = std::move(time_zone);
  plan.quotas = std::move(quotas);
  return plan;
}

// Unix seconds of a UTC civil time.
std::int64_t utcSeconds(int year, int month, int day, int hour, int minute, int second) {
  std::tm parts{};
  parts.tm_year = year - 1900;
  parts.tm_mon = month - 1;
  parts.tm_mday = day;
  parts.tm_hour = hour;
  parts.tm_min = minute;
  parts.tm_sec = second;
  return static_cast<std::int64_t>(timegm(&parts));
}

class QuotaEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.start()) << "redis-server did not start";
    engine_ = &addInstance();
  }

  void TearDown() override {
    // Stop the clients first: stopping fails pending checks, which call into the engines.
    for (auto& client : clients_) client->stop();
    server_.kill();
  }

  // Adds one gateway instance: its own Redis client and engine.
  RedisQuotaEngine& addInstance() {
    clients_.push_back(std::make_unique<redis::AsyncRedis>(
        config::RedisConfig{server_.url(), kTimeout}, system_clock_, logger_));
    redis::AsyncRedis& client = *clients_.back();
    EXPECT_TRUE(test::eventually([&] { return client.connected(); }));
    budgets_.push_back(std::make_unique<RedisUpstreamBudget>(client, clock_, logger_));
    engines_.push_back(
        std::make_unique<RedisQuotaEngine>(client, clock_, logger_, *budgets_.back()));
    return *engines_.back();
  }

  Decision check(const config::Plan& plan, std::string_view route = "users.list",
                 QuotaEngine* engine = nullptr) {
    auto promise = std::make_shared<std::promise<Decision>>();
    auto future = promise->get_future();
    (engine != nullptr ? engine : engine_)
        ->check(kTenant, plan, route, [promise](Decision decision) { promise->set_value(decision); });
    return test::waitFor(future);
  }

  Admission admit(const config::Plan& plan, const BudgetRequest& budget,
                  std::string_view route = "users.list", const std::string& tenant = "") {
    auto promise = std::make_shared<std::promise<Admission>>();
    auto future = promise->get_future();
    engine_->admit(tenant.empty() ? kTenant : tenant, plan, route, budget,
                   [promise](Admission admission) { promise->set_value(std::move(admission)); });
    return test::waitFor(future);
  }

  // Sends one command on the first instance's connection and returns the reply.
  redis::RedisReply redisCommand(std::vector<std::string> argv) {
    auto promise = std::make_shared<std::promise<redis::RedisReply>>();
    auto future = promise->get_future();
    clients_.front()->command(std::move(argv), [promise](redis::RedisReply reply) {
      promise->set_value(std::move(reply));
    });
    return test::waitFor(future);
  }

  // Returns the `calls` of one command in INFO commandstats, or 0 when absent.
  std::int64_t commandCalls(const std::string& command) {
    const std::string stats = redisCommand({"INFO", "commandstats"}).text;
    const std::string marker = "cmdstat_" + command + ":calls=";
    const auto found = stats.find(marker);
    return found == std::string::npos ? 0 : std::stoll(stats.substr(found + marker.size()));
  }

  std::vector<QuotaResult> usage(const config::Plan& plan) {
    auto promise = std::make_shared<std::promise<std::vector<QuotaResult>>>();
    auto future = promise->get_future();
    engine_->usage(kTenant, plan, [promise](std::vector<QuotaResult> results) {
      promise->set_value(std::move(results));
    });
    return test::waitFor(future);
  }

  // Waits until checks are decided by Redis again, after a failure.
  bool recovers(const config::Plan& plan) {
    return test::eventually([&] { return !check(plan).redis_failed; });
  }

  const std::string kTenant = "acme-travel";
  test::RedisServer server_;
  common::SystemClock system_clock_;
  FakeClock clock_;
  std::FILE* log_sink_ = std::fopen("/dev/null", "w");
  log::Logger logger_{log_sink_};
  std::vector<std::unique_ptr<redis::AsyncRedis>> clients_;
  std::vector<std::unique_ptr<RedisUpstreamBudget>> budgets_;
  std::vector<std::unique_ptr<RedisQuotaEngine>> engines_;
  RedisQuotaEngine* engine_ = nullptr;
};

TEST(QuotaOutcome, NamesAreMetricLabels) {
  EXPECT_EQ(outcomeName(Outcome::kAllowed), "allowed");
  EXPECT_EQ(outcomeName(Outcome::kRejected), "rejected");
  EXPECT_EQ(outcomeName(Outcome::kFailedOpen), "failed_open");
  EXPECT_EQ(outcomeName(Outcome::kFailedClosed), "failed_closed");
  EXPECT_EQ(outcomeName(Outcome::kLocal), "local");
}

TEST_F(QuotaEngineTest, FivePerMinuteLimit) {
  const auto plan = planWith({rule("requests-per-minute", 5, 60s)});

  // One request every 6 s, so each lands in its own bucket.
  for (int request = 1; request <= 5; ++request) {
    const Decision decision = check(plan);
    ASSERT_TRUE(decision.allowed) << "request " << request;
    ASSERT_EQ(decision.quotas.size(), 1u);
    EXPECT_EQ(decision.quotas[0].outcome, Outcome::kAllowed);
    EXPECT_EQ(decision.quotas[0].limit, 5);
    EXPECT_EQ(decision.quotas[0].remaining, 5 - request);
    ASSERT_TRUE(decision.tightest.has_value());
    EXPECT_EQ(decision.tightest->remaining, 5 - request);
    EXPECT_EQ(decision.retry_after_seconds, 0);
    clock_.advance(6s);
  }

  // Now 30 s in. The first request (bucket 0..6 s) stops counting at 66 s.
  for (int rejection = 1; rejection <= 3; ++rejection) {
    const Decision decision = check(plan);
    EXPECT_FALSE(decision.allowed) << "rejection " << rejection;
    EXPECT_EQ(decision.quotas[0].outcome, Outcome::kRejected);
    EXPECT_EQ(decision.quotas[0].remaining, 0);
    EXPECT_EQ(decision.retry_after_seconds, 36);
    EXPECT_GE(decision.retry_after_seconds, 1);
  }

  clock_.setSeconds(kStartSeconds + 66);
  const Decision freed = check(plan);
  EXPECT_TRUE(freed.allowed) << "one slot should have freed";
  EXPECT_EQ(freed.quotas[0].remaining, 0);
  const Decision next = check(plan);
  EXPECT_FALSE(next.allowed) << "rejected requests must not have been counted";
  EXPECT_EQ(next.quotas[0].remaining, 0);
  EXPECT_EQ(next.retry_after_seconds, 6);
}

TEST_F(QuotaEngineTest, RejectedOrderCountsNothing) {
  const auto plan = planWith({rule("requests-per-minute", 10, 60s),
                              rule("orders-per-day", 2, 86400s, RedisFailureMode::kLocal,
                                   {"orders.create"})});

  EXPECT_TRUE(check(plan, "orders.create").allowed);
  EXPECT_TRUE(check(plan, "orders.create").allowed);
  const Decision third = check(plan, "orders.create");

  EXPECT_FALSE(third.allowed);
  ASSERT_EQ(third.quotas.size(), 2u);
  EXPECT_EQ(third.quotas[0].name, "requests-per-minute");
  EXPECT_EQ(third.quotas[0].outcome, Outcome::kAllowed);
  EXPECT_EQ(third.quotas[0].remaining, 8);
  EXPECT_EQ(third.quotas[1].name, "orders-per-day");
  EXPECT_EQ(third.quotas[1].outcome, Outcome::kRejected);
  EXPECT_EQ(third.quotas[1].remaining, 0);
  ASSERT_TRUE(third.tightest.has_value());
  EXPECT_EQ(third.tightest->name, "orders-per-day");
  EXPECT_GE(third.retry_after_seconds, 86400);

  const auto usages = usage(plan);
  ASSERT_EQ(usages.size(), 2u);
  EXPECT_EQ(usages[0].remaining, 8) << "the rejected order used the route-wide quota";
  EXPECT_EQ(usages[1].remaining, 0);
}

TEST_F(QuotaEngineTest, UnmatchedRouteNotCounted) {
  const auto plan =
      planWith({rule("orders-per-day", 2, 86400s, RedisFailureMode::kLocal, {"orders.create"})});

  const Decision decision = check(plan, "users.list");

  EXPECT_TRUE(decision.allowed);
  EXPECT_TRUE(decision.quotas.empty());
  EXPECT_FALSE(decision.tightest.has_value());
  const auto usages = usage(plan);
  ASSERT_EQ(usages.size(), 1u);
  EXPECT_EQ(usages[0].remaining, 2);
  EXPECT_EQ(usages[0].reset_seconds, 0);
}

TEST_F(QuotaEngineTest, BoundaryBurstRejected) {
  const auto plan = planWith({rule("requests-per-minute", 5, 60s)});

  clock_.setSeconds(kStartSeconds + 55);
  for (int request = 0; request < 5; ++request) {
    EXPECT_TRUE(check(plan).allowed) << "request at " << 55 + request << " s";
    clock_.advance(1s);
  }
  for (int request = 0; request < 5; ++request) {
    EXPECT_FALSE(check(plan).allowed) << "request at " << 60 + request << " s, past the boundary";
    clock_.advance(1s);
  }
}

TEST_F(QuotaEngineTest, NoSpanExceedsLimit) {
  const auto plan = planWith({rule("requests-per-minute", 5, 60s)});

  // A request every 700 ms for 5 minutes, so requests fall on every phase
  // of the buckets and windows.
  std::vector<std::int64_t> admitted_ms;
  std::int64_t now_ms = kStartSeconds * 1000 + 300;
  for (int request = 0; request < 430; ++request) {
    clock_.setSeconds(0);
    clock_.advance(std::chrono::milliseconds(now_ms));
    if (check(plan).allowed) admitted_ms.push_back(now_ms);
    now_ms += 700;
  }

  for (std::size_t first = 0; first < admitted_ms.size(); ++first) {
    std::size_t in_span = 0;
    for (std::size_t other = first; other < admitted_ms.size(); ++other) {
      if (admitted_ms[other] < admitted_ms[first] + 60'000) ++in_span;
    }
    EXPECT_LE(in_span, 5u) << "60 s span from " << admitted_ms[first] << " ms";
  }
  // A request counts for at most 66 s, so 300 s must admit at least 5 × 4.
  EXPECT_GE(admitted_ms.size(), 20u);
}

TEST_F(QuotaEngineTest, CalendarMonthWindows) {
  const auto plan = planWith({monthlyRule("orders-per-month", 1)});

  clock_.setSeconds(utcSeconds(2025, 1, 31, 23, 59, 59));
  const Decision last_second = check(plan);
  EXPECT_TRUE(last_second.allowed);
  EXPECT_EQ(last_second.quotas[0].reset_seconds, 1);
  const Decision over = check(plan);
  EXPECT_FALSE(over.allowed);
  EXPECT_EQ(over.retry_after_seconds, 1);

  clock_.setSeconds(utcSeconds(2025, 2, 1, 0, 0, 0));
  const Decision next_month = check(plan);
  EXPECT_TRUE(next_month.allowed) << "February starts a new window";
  EXPECT_EQ(next_month.quotas[0].reset_seconds, 28 * 86400);
}

TEST_F(QuotaEngineTest, CalendarMonthInTimeZone) {
  // Mexico City is UTC-6 all year since 2022.
  const auto plan = planWith({monthlyRule("orders-per-month", 1)}, "America/Mexico_City");

  clock_.setSeconds(utcSeconds(2025, 2, 1, 5, 59, 59));  // January 31, 23:59:59 local
  const Decision january = check(plan);
  EXPECT_TRUE(january.allowed);
  EXPECT_EQ(january.quotas[0].reset_seconds, 1);

  clock_.setSeconds(utcSeconds(2025, 2, 1, 6, 0, 0));  // February 1, 00:00 local
  const Decision february = check(plan);
  EXPECT_TRUE(february.allowed);
  EXPECT_EQ(february.quotas[0].reset_seconds, 28 * 86400);
}

TEST_F(QuotaEngineTest, TwoInstancesShareLimit) {
  RedisQuotaEngine& second = addInstance();
  const auto plan = planWith({rule("requests-per-minute", 5, 60s)});

  std::vector<std::future<Decision>> results;
  for (int request = 0; request < 50; ++request) {
    auto promise = std::make_shared<std::promise<Decision>>();
    results.push_back(promise->get_future());
    QuotaEngine& engine = request % 2 == 0 ? static_cast<QuotaEngine&>(*engine_) : second;
    engine.check(kTenant, plan, "users.list",
                 [promise](Decision decision) { promise->set_value(decision); });
  }

  int allowed = 0;
  for (auto& result : results) {
    const Decision decision = test::waitFor(result);
    EXPECT_FALSE(decision.redis_failed);
    if (decision.allowed) ++allowed;
  }
  EXPECT_EQ(allowed, 5);
}

TEST_F(QuotaEngineTest, PausedRedisAppliesFallback) {
  const auto deny = planWith({rule("deny-quota", 5, 60s, RedisFailureMode::kDeny)});
  const auto allow = planWith({rule("allow-quota", 5, 60s, RedisFailureMode::kAllow)});
  const auto local = planWith({rule("local-quota", 2, 60s, RedisFailureMode::kLocal)});
  const auto bound = kTimeout + 150ms;

  server_.pause();
  auto timed = [&](const config::Plan& plan) {
    const auto start = std::chrono::steady_clock::now();
    Decision decision = check(plan);
    EXPECT_LT(std::chrono::steady_clock::now() - start, bound) << plan.quotas[0].name;
    return decision;
  };

  const Decision denied = timed(deny);
  EXPECT_FALSE(denied.allowed);
  EXPECT_TRUE(denied.redis_failed);
  EXPECT_EQ(denied.quotas[0].outcome, Outcome::kFailedClosed);
  EXPECT_GE(denied.retry_after_seconds, 1);

  const Decision opened = timed(allow);
  EXPECT_TRUE(opened.allowed);
  EXPECT_EQ(opened.quotas[0].outcome, Outcome::kFailedOpen);

  const Decision first_local = timed(local);
  EXPECT_TRUE(first_local.allowed);
  EXPECT_EQ(first_local.quotas[0].outcome, Outcome::kLocal);
  EXPECT_EQ(first_local.quotas[0].remaining, 1);
  EXPECT_TRUE(timed(local).allowed);
  const Decision over_local = timed(local);
  EXPECT_FALSE(over_local.allowed) << "the local window keeps the limit of 2";
  EXPECT_EQ(over_local.quotas[0].outcome, Outcome::kLocal);
  EXPECT_GE(over_local.retry_after_seconds, 1);

  server_.resume();
  ASSERT_TRUE(recovers(allow)) << "checks did not return to Redis after SIGCONT";
  const Decision after = check(deny);
  EXPECT_TRUE(after.allowed);
  EXPECT_EQ(after.quotas[0].outcome, Outcome::kAllowed);
}

TEST_F(QuotaEngineTest, RestartedRedisResumesCounting) {
  const auto plan = planWith({rule("requests-per-minute", 5, 60s, RedisFailureMode::kAllow)});
  EXPECT_EQ(check(plan).quotas[0].remaining, 4);

  const int port = server_.port();
  server_.kill();
  const Decision during = check(plan);
  EXPECT_TRUE(during.redis_failed);
  EXPECT_EQ(during.quotas[0].outcome, Outcome::kFailedOpen);

  ASSERT_TRUE(server_.start(port));
  ASSERT_TRUE(recovers(plan)) << "no reconnect to the restarted Redis";
  // `recovers` counted one request in the new, empty server.
  const Decision resumed = check(plan);
  EXPECT_EQ(resumed.quotas[0].outcome, Outcome::kAllowed);
  EXPECT_EQ(resumed.quotas[0].remaining, 3);
}

TEST_F(QuotaEngineTest, ReloadedPlanKeepsCounts) {
  auto plan = std::make_unique<config::Plan>(planWith({rule("requests-per-minute", 5, 60s)}));
  EXPECT_TRUE(check(*plan).allowed);
  EXPECT_TRUE(check(*plan).allowed);

  plan = std::make_unique<config::Plan>(planWith({rule("requests-per-minute", 3, 60s)}));
  const Decision decision = check(*plan);

  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.quotas[0].remaining, 0);
  EXPECT_FALSE(check(*plan).allowed);
}

TEST_F(QuotaEngineTest, AdmitIsOneScriptCall) {
  const auto plan = planWith({rule("requests-per-minute", 5, 60s)});
  const BudgetRequest budget{"main", 100, false};
  // The first call loads the script with EVAL after NOSCRIPT.
  ASSERT_TRUE(admit(plan, budget).quotas.allowed);
  const std::int64_t evalsha_before = commandCalls("evalsha");
  const std::int64_t eval_before = commandCalls("eval");

  const Admission admission = admit(plan, budget);

  EXPECT_EQ(commandCalls("evalsha") - evalsha_before, 1);
  EXPECT_EQ(commandCalls("eval") - eval_before, 0);
  EXPECT_TRUE(admission.quotas.allowed);
  EXPECT_FALSE(admission.quotas.redis_failed);
  ASSERT_EQ(admission.quotas.quotas.size(), 1u);
  EXPECT_EQ(admission.quotas.quotas[0].remaining, 3);
  ASSERT_TRUE(admission.budget.has_value());
  EXPECT_TRUE(admission.budget->allowed);
  EXPECT_FALSE(admission.budget->redis_failed);
  EXPECT_EQ(admission.budget->remaining, 98);
}

TEST_F(QuotaEngineTest, QuotaRejectionTakesNoBudget) {
  const auto plan = planWith({rule("requests-per-minute", 1, 60s)});
  const BudgetRequest budget{"main", 100, false};
  ASSERT_TRUE(admit(plan, budget).quotas.allowed);

  const Admission rejected = admit(plan, budget);

  EXPECT_FALSE(rejected.quotas.allowed);
  EXPECT_EQ(rejected.quotas.quotas[0].outcome, Outcome::kRejected);
  EXPECT_FALSE(rejected.budget.has_value());
  const Admission next = admit(planWith({}), budget);
  ASSERT_TRUE(next.budget.has_value());
  EXPECT_EQ(next.budget->remaining, 98) << "the rejected request took budget";
}

TEST_F(QuotaEngineTest, BudgetRejectionKeepsQuotaCounted) {
  const auto plan = planWith({rule("requests-per-minute", 10, 60s)});
  // A limit under 5 has no reserve, so one tenant may use all of it.
  const BudgetRequest budget{"main", 1, false};
  const Admission first = admit(plan, budget);
  ASSERT_TRUE(first.budget.has_value());
  EXPECT_TRUE(first.budget->allowed);
  EXPECT_EQ(first.budget->remaining, 0);

  const Admission second = admit(plan, budget);

  EXPECT_TRUE(second.quotas.allowed);
  EXPECT_EQ(second.quotas.quotas[0].remaining, 8);
  ASSERT_TRUE(second.budget.has_value());
  EXPECT_FALSE(second.budget->allowed);
  EXPECT_GE(second.budget->retry_after_seconds, 1);
  EXPECT_LE(second.budget->retry_after_seconds, 66);
  const auto usages = usage(plan);
  ASSERT_EQ(usages.size(), 1u);
  EXPECT_EQ(usages[0].remaining, 8) << "the quotas count a request that the budget rejects";
}

TEST_F(QuotaEngineTest, AdmitWithoutQuotasTakesBudget) {
  const Admission admission = admit(planWith({}), BudgetRequest{"main", 100, false});

  EXPECT_TRUE(admission.quotas.allowed);
  EXPECT_TRUE(admission.quotas.quotas.empty());
  EXPECT_FALSE(admission.quotas.tightest.has_value());
  ASSERT_TRUE(admission.budget.has_value());
  EXPECT_TRUE(admission.budget->allowed);
  EXPECT_EQ(admission.budget->remaining, 99);
}

TEST_F(QuotaEngineTest, BudgetReserveForPriority) {
  const auto plan = planWith({});
  // 10 a minute keeps a reserve of 2 for priority requests.
  const BudgetRequest listing{"main", 10, false};
  const BudgetRequest order{"main", 10, true};
  for (int request = 1; request <= 8; ++request) {
    ASSERT_TRUE(admit(plan, listing).budget->allowed) << "listing request " << request;
  }
  EXPECT_FALSE(admit(plan, listing).budget->allowed) << "listing must leave the reserve";

  EXPECT_TRUE(admit(plan, order).budget->allowed);
  const Admission last = admit(plan, order);
  EXPECT_TRUE(last.budget->allowed);
  EXPECT_EQ(last.budget->remaining, 0);
  EXPECT_FALSE(admit(plan, order).budget->allowed) << "the whole limit is spent";
}

TEST_F(QuotaEngineTest, BudgetSharedByActiveTenants) {
  const auto plan = planWith({});
  // 10 a minute leaves 8 for listing, 4 for each of two active tenants.
  const BudgetRequest listing{"main", 10, false};
  int alpha = 0;
  int beta = 0;
  for (int round = 0; round < 6; ++round) {
    alpha += admit(plan, listing, "users.list", "alpha").budget->allowed;
    beta += admit(plan, listing, "users.list", "beta").budget->allowed;
  }
  EXPECT_EQ(alpha, 4);
  EXPECT_EQ(beta, 4);
}

TEST_F(QuotaEngineTest, BlockedUpstreamRejects) {
  const auto plan = planWith({rule("requests-per-minute", 5, 60s)});
  budgets_.front()->block("main", 30);

  const Admission admission = admit(plan, BudgetRequest{"main", 100, true});

  EXPECT_TRUE(admission.quotas.allowed);
  ASSERT_TRUE(admission.budget.has_value());
  EXPECT_FALSE(admission.budget->allowed);
  EXPECT_FALSE(admission.budget->redis_failed);
  EXPECT_EQ(admission.budget->retry_after_seconds, 30);
  EXPECT_TRUE(admit(plan, BudgetRequest{"other", 100, false}).budget->allowed)
      << "a block concerns one upstream only";
}

TEST_F(QuotaEngineTest, AcquireAloneTakesBudget) {
  auto promise = std::make_shared<std::promise<BudgetDecision>>();
  auto future = promise->get_future();
  budgets_.front()->acquire("main", 100, kTenant, false,
                            [promise](BudgetDecision decision) { promise->set_value(decision); });
  const BudgetDecision decision = test::waitFor(future);

  EXPECT_TRUE(decision.allowed);
  EXPECT_FALSE(decision.redis_failed);
  EXPECT_EQ(decision.remaining, 99);
  const Admission next = admit(planWith({}), BudgetRequest{"main", 100, false});
  EXPECT_EQ(next.budget->remaining, 98) << "acquire and admit share one budget";
}

TEST_F(QuotaEngineTest, PausedRedisFallsBackForBoth) {
  const auto local = planWith({rule("local-quota", 2, 60s, RedisFailureMode::kLocal)});
  const auto deny = planWith({rule("deny-quota", 5, 60s, RedisFailureMode::kDeny)});
  const BudgetRequest budget{"main", 100, false};

  server_.pause();
  const Admission admitted = admit(local, budget);
  const Admission denied = admit(deny, budget);
  const Admission unquoted = admit(planWith({}), budget);
  server_.resume();

  EXPECT_TRUE(admitted.quotas.allowed);
  EXPECT_TRUE(admitted.quotas.redis_failed);
  EXPECT_EQ(admitted.quotas.quotas[0].outcome, Outcome::kLocal);
  ASSERT_TRUE(admitted.budget.has_value());
  EXPECT_TRUE(admitted.budget->allowed);
  EXPECT_TRUE(admitted.budget->redis_failed);
  EXPECT_EQ(admitted.budget->remaining, 99);

  EXPECT_FALSE(denied.quotas.allowed);
  EXPECT_EQ(denied.quotas.quotas[0].outcome, Outcome::kFailedClosed);
  EXPECT_FALSE(denied.budget.has_value()) << "a quota that fails closed takes no budget";

  EXPECT_FALSE(unquoted.quotas.redis_failed) << "no quota was checked";
  ASSERT_TRUE(unquoted.budget.has_value());
  EXPECT_TRUE(unquoted.budget->redis_failed);
  EXPECT_EQ(unquoted.budget->remaining, 98) << "the local window counted the first request";
}

TEST(QuotaTimeZone, MonthBoundsAcrossDaylightSaving) {
  TimeZoneCache zones;
  const auto madrid = zones.find("Europe/Madrid");
  ASSERT_NE(madrid, nullptr);

  const CalendarMonth march = calendarMonthAt(utcSeconds(2025, 3, 15, 12, 0, 0), *madrid);

  EXPECT_EQ(march.year, 2025);
  EXPECT_EQ(march.month, 3);
  EXPECT_EQ(march.start, utcSeconds(2025, 2, 28, 23, 0, 0));  // CET, UTC+1
  EXPECT_EQ(march.end, utcSeconds(2025, 3, 31, 22, 0, 0));    // CEST, UTC+2
}

TEST(QuotaTimeZone, UnknownZoneNotFound) {
  TimeZoneCache zones;
  EXPECT_EQ(zones.find("Mars/Olympus_Mons"), nullptr);
  EXPECT_EQ(zones.find("../../etc/passwd"), nullptr);
  EXPECT_NE(zones.find("UTC"), nullptr);
}

}  // namespace
}  // namespace fdgw::quota
