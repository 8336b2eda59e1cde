// Tenant quotas enforced in Redis by real gateway processes: one limit
// shared by several instances, headers, and what happens when Redis stops.

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <future>
#include <thread>

#include "tests/integration/harness.h"

namespace fdgw::testing {
namespace {

// alpha's plan: 5 requests a minute, denied while Redis is unreachable;
// beta's plan: 5 a minute, allowed uncounted while Redis is unreachable.
const std::string kQuotaPlans =
    "plans:\n"
    "  open:\n"
    "    quotas:\n"
    "      - {name: per-minute, routes: all, limit: 5, window: 1m, on_redis_error: deny}\n"
    "  limited:\n"
    "    routes: {deny: [status.check]}\n"
    "    quotas:\n"
    "      - {name: per-minute, routes: all, limit: 5, window: 1m, on_redis_error: allow}\n";

GatewayOptions quotaOptions(const SimProcess& sim, const RedisProcess& redis) {
  GatewayOptions options;
  options.upstream_url = sim.baseUrl();
  options.redis_url = redis.url();
  options.redis_timeout_ms = 200;
  options.plans_yaml = kQuotaPlans;
  return options;
}

TEST(QuotaTest, TwoInstancesShareOneLimit) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "0"});
  RedisProcess redis(dir.path());
  GatewayProcess first(dir.path(), quotaOptions(sim, redis));
  GatewayProcess second(dir.path(), quotaOptions(sim, redis));

  std::vector<std::future<long>> results;
  for (int i = 0; i < 50; ++i) {
    GatewayProcess& gateway = i % 2 == 0 ? first : second;
    results.push_back(std::async(std::launch::async, [&gateway] {
      return gateway.call(kAlpha, "GET", "/catalog/compatibility").status;
    }));
  }
  int allowed = 0;
  int limited = 0;
  for (auto& result : results) {
    const long status = result.get();
    if (status == 200) ++allowed;
    if (status == 429) ++limited;
  }
  EXPECT_EQ(allowed, 5);
  EXPECT_EQ(limited, 45);
}

TEST(QuotaTest, HeadersOnAllowedAndRejected) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "0"});
  RedisProcess redis(dir.path());
  GatewayProcess gateway(dir.path(), quotaOptions(sim, redis));

  const auto first = gateway.call(kAlpha, "GET", "/catalog/compatibility");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.header("ratelimit-limit"), "5");
  EXPECT_EQ(first.header("ratelimit-remaining"), "4");
  EXPECT_FALSE(first.header("ratelimit-reset").empty());

  HttpResult last;
  for (int i = 0; i < 4; ++i) last = gateway.call(kAlpha, "GET", "/catalog/compatibility");
  EXPECT_EQ(last.status, 200);
  EXPECT_EQ(last.header("ratelimit-remaining"), "0");

  const auto rejected = gateway.call(kAlpha, "GET", "/catalog/compatibility");
  ASSERT_EQ(rejected.status, 429) << rejected.body;
  EXPECT_EQ(rejected.json()["code"], "rate_limited");
  EXPECT_EQ(rejected.header("ratelimit-remaining"), "0");
  EXPECT_GE(std::stoi(rejected.header("retry-after")), 1);
  // A request keeps counting for up to 1.1 windows (the sliding window's
  // bucket width), so the wait can exceed 60 s by up to 6 s.
  EXPECT_LE(std::stoi(rejected.header("retry-after")), 66);

  // The rejection consumed nothing upstream, and a second tenant has its
  // own quota.
  EXPECT_EQ(gateway.call(kBeta, "GET", "/catalog/compatibility").status, 200);
}

TEST(QuotaTest, TenantKeysShareOneQuota) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "0"});
  RedisProcess redis(dir.path());
  GatewayProcess gateway(dir.path(), quotaOptions(sim, redis));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(gateway.call(kAlpha, "GET", "/catalog/compatibility").status, 200);
  }
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(gateway.call(kAlphaSecondKey, "GET", "/catalog/compatibility").status, 200);
  }
  EXPECT_EQ(gateway.call(kAlphaSecondKey, "GET", "/catalog/compatibility").status, 429);
  EXPECT_EQ(gateway.call(kAlpha, "GET", "/catalog/compatibility").status, 429);
}

TEST(QuotaTest, UsageReportsOwnQuotas) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "0"});
  RedisProcess redis(dir.path());
  GatewayProcess gateway(dir.path(), quotaOptions(sim, redis));
  gateway.call(kAlpha, "GET", "/catalog/compatibility");
  gateway.call(kAlpha, "GET", "/catalog/compatibility");

  const auto usage = gateway.call(kAlpha, "GET", "/gateway/usage");
  ASSERT_EQ(usage.status, 200) << usage.body;
  const auto quotas = usage.json()["data"]["quotas"];
  ASSERT_EQ(quotas.size(), 1u) << usage.body;
  EXPECT_EQ(quotas[0]["name"], "per-minute");
  EXPECT_EQ(quotas[0]["limit"], 5);
  EXPECT_EQ(quotas[0]["used"], 2);
  EXPECT_EQ(quotas[0]["remaining"], 3);
  EXPECT_EQ(usage.json()["data"]["tenant"], "alpha");
}

TEST(QuotaTest, StoppedRedisUsesConfiguredBehaviour) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "0"});
  RedisProcess redis(dir.path());
  GatewayProcess gateway(dir.path(), quotaOptions(sim, redis));
  ASSERT_EQ(gateway.call(kAlpha, "GET", "/catalog/compatibility").status, 200);

  redis.process().signal(SIGSTOP);
  const auto denied = gateway.call(kAlpha, "GET", "/catalog/compatibility");
  const auto allowed = gateway.call(kBeta, "GET", "/catalog/compatibility");
  redis.process().signal(SIGCONT);

  EXPECT_EQ(denied.status, 429) << denied.body;
  EXPECT_EQ(allowed.status, 200) << allowed.body;
  EXPECT_LT(denied.seconds, 1.0);
  EXPECT_LT(allowed.seconds, 1.0);
  EXPECT_NE(gateway.metrics().find("fdgw_redis_errors_total{operation=\"quota_check\"}"),
            std::string::npos);

  // After SIGCONT the quota counts again from where it was. The check that
  // timed out may still have run in Redis once it resumed, so alpha has
  // used two or three of its five requests.
  HttpResult after;
  for (int i = 0; i < 50 && after.status != 200; ++i) {
    after = gateway.call(kAlpha, "GET", "/catalog/compatibility");
    if (after.status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(after.status, 200) << after.body;
  const std::string remaining = after.header("ratelimit-remaining");
  EXPECT_TRUE(remaining == "3" || remaining == "2") << remaining;
}

TEST(QuotaTest, KilledRedisRecovers) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "0"});
  auto redis = std::make_unique<RedisProcess>(dir.path());
  const int port = redis->port();
  const std::filesystem::path data_dir = redis->dataDir();
  GatewayProcess gateway(dir.path(), quotaOptions(sim, *redis));
  ASSERT_EQ(gateway.call(kAlpha, "GET", "/catalog/compatibility").status, 200);

  redis->process().signal(SIGKILL);
  redis.reset();
  const auto during = gateway.call(kAlpha, "GET", "/catalog/compatibility");
  EXPECT_EQ(during.status, 429);
  EXPECT_LT(during.seconds, 1.0);

  // A new Redis on the same port and files: the gateway reconnects by
  // itself, and the append-only file kept the count.
  Process restarted(RedisProcess::arguments(port, data_dir), {}, dir.path() / "redis-restarted.log");
  HttpResult recovered;
  for (int i = 0; i < 100 && recovered.status != 200; ++i) {
    recovered = gateway.call(kAlpha, "GET", "/catalog/compatibility");
    if (recovered.status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(recovered.status, 200) << recovered.body;
  EXPECT_EQ(recovered.header("ratelimit-remaining"), "3") << "the first request still counts after the restart";
  EXPECT_TRUE(gateway.process().running());
}

TEST(QuotaTest, ReloadKeepsCounts) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "0"});
  RedisProcess redis(dir.path());
  GatewayProcess gateway(dir.path(), quotaOptions(sim, redis));
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(gateway.call(kAlpha, "GET", "/catalog/compatibility").status, 200);
  }

  // A reload that changes the plan but keeps the quota keeps its count.
  std::ofstream(gateway.policiesDir() / "plans.yaml")
      << kQuotaPlans << "  spare:\n    routes: {deny: [status.check]}\n";
  gateway.process().signal(SIGHUP);
  bool reloaded = false;
  for (int i = 0; i < 100 && !reloaded; ++i) {
    reloaded = gateway.metrics().find("fdgw_config_reloads_total{result=\"success\"} 1") !=
               std::string::npos;
    if (!reloaded) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(reloaded);
  const auto fourth = gateway.call(kAlpha, "GET", "/catalog/compatibility");
  EXPECT_EQ(fourth.status, 200);
  EXPECT_EQ(fourth.header("ratelimit-remaining"), "1");
}

TEST(QuotaTest, FlushedRedisIsNoError) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "0"});
  RedisProcess redis(dir.path());
  GatewayProcess gateway(dir.path(), quotaOptions(sim, redis));
  for (int i = 0; i < 5; ++i) gateway.call(kAlpha, "GET", "/catalog/compatibility");
  ASSERT_EQ(gateway.call(kAlpha, "GET", "/catalog/compatibility").status, 429);

  // Flushing Redis (or losing it without persistence) forgets the counts;
  // the gateway keeps serving and counts again from zero.
  redis.cli("FLUSHALL");
  const auto after = gateway.call(kAlpha, "GET", "/catalog/compatibility");
  EXPECT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(after.header("ratelimit-remaining"), "4");
}

TEST(UpstreamBudgetTest, NoisyTenantsLeaveRoomForOrders) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "20"});
  RedisProcess redis(dir.path());
  GatewayOptions options;
  options.upstream_url = sim.baseUrl();
  options.redis_url = redis.url();
  options.upstream_requests_per_minute = 20;
  GatewayProcess first(dir.path(), options);
  GatewayProcess second(dir.path(), options);

  // Two noisy tenants list the catalog through two instances.
  int busy = 0;
  int alpha_ok = 0;
  int beta_ok = 0;
  for (int i = 0; i < 30; ++i) {
    const auto a = (i % 2 == 0 ? first : second).call(kAlpha, "GET", "/catalog/compatibility");
    const auto b = (i % 2 == 0 ? second : first).call(kBeta, "GET", "/catalog/compatibility");
    for (const auto* result : {&a, &b}) {
      if (result->status == 429) {
        ++busy;
        EXPECT_EQ(result->json()["code"], "upstream_busy") << result->body;
        EXPECT_GE(std::stoi(result->header("retry-after")), 1);
      }
    }
    alpha_ok += a.status == 200;
    beta_ok += b.status == 200;
  }
  // 20 a minute with 4 kept for orders and refunds: 16 for listing, shared
  // by the two active tenants.
  EXPECT_EQ(alpha_ok + beta_ok, 16);
  EXPECT_EQ(alpha_ok, 8);
  EXPECT_EQ(busy, 44);

  // A quiet tenant's order still goes through, and upstream never returned 429.
  const auto order = first.call(
      kGamma, "POST", "/orders", R"({"reference_id": "quiet-1", "sku": "FD-MX-5GB-30D", "quantity": 1})");
  EXPECT_EQ(order.status, 201) << order.body;
  EXPECT_EQ(sim.stats()["rate_limited_total"], 0);
  EXPECT_LE(sim.requestsTotal(), 20);
}

}  // namespace
}  // namespace fdgw::testing
