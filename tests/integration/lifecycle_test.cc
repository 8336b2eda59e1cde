// Start-up, configuration checks, policy reloads and an unreachable
// upstream, each against a real gateway process.

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <thread>

#include "gateway/common/text.h"
#include "tests/integration/harness.h"

namespace fdgw::testing {
namespace {

int runCheckConfig(const std::filesystem::path& config, const std::filesystem::path& log) {
  Process check({FDGW_GATEWAY_BINARY, "--check-config", "--config", config.string()}, {}, log);
  for (int i = 0; i < 500 && check.running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return check.stop();
}

TEST(LifecycleTest, UpstreamDownIs502) {
  TempDir dir;
  GatewayOptions options;
  options.upstream_url = "http://127.0.0.1:" + std::to_string(freePort());
  GatewayProcess gateway(dir.path(), options);

  const auto result = gateway.call(kAlpha, "GET", "/orders");
  ASSERT_EQ(result.status, 502) << result.body;
  const auto body = result.json();
  EXPECT_EQ(body["success"], false);
  EXPECT_EQ(body["code"], "upstream_unavailable");
  EXPECT_EQ(body["request_id"], result.header("x-request-id"));
  EXPECT_EQ(result.body.find("127.0.0.1"), std::string::npos) << "internal detail leaked";
}

TEST(LifecycleTest, CheckConfigAcceptsSamples) {
  TempDir dir;
  EXPECT_EQ(runCheckConfig(std::filesystem::path(FDGW_SOURCE_DIR) / "config/local.yaml",
                           dir.path() / "check.log"),
            0);
  EXPECT_EQ(runCheckConfig(std::filesystem::path(FDGW_SOURCE_DIR) / "config/gateway.yaml",
                           dir.path() / "check.log"),
            0);
}

TEST(LifecycleTest, CheckConfigReportsFileLineAndKey) {
  TempDir dir;
  writeTestPolicies(dir.path() / "policies");
  std::ofstream(dir.path() / "gateway.yaml") << "listen: 127.0.0.1:8080\n"
                                                "admin_listen: 127.0.0.1:8090\n"
                                                "threads: 010\n"
                                                "upstreams:\n"
                                                "  main: {base_url: http://127.0.0.1:9, api_key_env: K, api_secret_env: S}\n"
                                                "policies: policies\n";
  const auto log = dir.path() / "check.log";
  EXPECT_EQ(runCheckConfig(dir.path() / "gateway.yaml", log), 2);
  std::ifstream in(log);
  const std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(output.find("gateway.yaml:3:10: threads: must be a decimal integer without leading "
                        "zeros, got \"010\""),
            std::string::npos)
      << output;
}

TEST(LifecycleTest, BrokenYamlDoesNotStart) {
  TempDir dir;
  writeTestPolicies(dir.path() / "policies");
  std::ofstream(dir.path() / "policies" / "plans.yaml") << "plans:\n  open: {routes: [\n";
  std::ofstream(dir.path() / "gateway.yaml") << "listen: 127.0.0.1:" << freePort() << "\n"
                                             << "admin_listen: 127.0.0.1:" << freePort() << "\n"
                                             << "upstreams:\n"
                                             << "  main: {base_url: http://127.0.0.1:9, api_key_env: K, api_secret_env: S}\n"
                                             << "policies: policies\n";
  Process gateway({FDGW_GATEWAY_BINARY, "--config", (dir.path() / "gateway.yaml").string()},
                  {{"K", kSimKey}, {"S", kSimSecret}}, dir.path() / "gateway.log");
  for (int i = 0; i < 500 && gateway.running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(gateway.stop(), 2);
  EXPECT_NE(gateway.log().find("plans.yaml:"), std::string::npos) << gateway.log();
}

TEST(LifecycleTest, SighupReloadsPoliciesAndKeepsGoodOnes) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "0"});
  GatewayOptions options;
  options.upstream_url = sim.baseUrl();
  GatewayProcess gateway(dir.path(), options);
  ASSERT_EQ(gateway.call(kAlpha, "GET", "/catalog/compatibility").status, 200);

  // Deny a route to alpha's plan and reload.
  const auto plans = gateway.policiesDir() / "plans.yaml";
  std::ofstream(plans) << "plans:\n  open:\n    routes: {deny: [catalog.compatibility]}\n"
                          "  limited:\n    routes: {deny: [status.check]}\n";
  gateway.process().signal(SIGHUP);
  bool denied = false;
  for (int i = 0; i < 100 && !denied; ++i) {
    denied = gateway.call(kAlpha, "GET", "/catalog/compatibility").status == 403;
    if (!denied) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(denied);

  // A broken file is rejected and the running policies stay.
  std::ofstream(plans) << "plans:\n  open: {routes: {deny: [no.such.route]}}\n";
  gateway.process().signal(SIGHUP);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(gateway.process().running());
  EXPECT_EQ(gateway.call(kAlpha, "GET", "/catalog/compatibility").status, 403);
  EXPECT_EQ(gateway.call(kAlpha, "GET", "/catalog/destinations").status, 200);
  EXPECT_NE(gateway.process().log().find("policies_reload_rejected"), std::string::npos);
}

TEST(LifecycleTest, SigtermStopsCleanly) {
  TempDir dir;
  GatewayOptions options;
  options.upstream_url = "http://127.0.0.1:" + std::to_string(freePort());
  GatewayProcess gateway(dir.path(), options);
  EXPECT_EQ(gateway.process().stop(), 0);
  EXPECT_NE(gateway.process().log().find("\"event\":\"stopped\""), std::string::npos);
}

}  // namespace
}  // namespace fdgw::testing
