// Spend limits, wallets, refunds, reconciliation and Idempotency-Key
// through real gateway, simulator and redis-server processes.

#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <future>
#include <set>
#include <thread>

#include "gateway/common/text.h"
#include "tests/integration/harness.h"

namespace fdgw::testing {
namespace {

using Json = nlohmann::json;

const std::string kSku = "FD-MX-5GB-30D";

// Plan "open" with a 20 % markup and the spend lines given; "limited" as in
// every test gateway.
std::string plansWithSpend(const std::string& spend_lines) {
  return "plans:\n"
         "  open:\n"
         "    markup:\n"
         "      percent: 20\n" +
         spend_lines +
         "  limited:\n"
         "    routes: {deny: [status.check]}\n";
}

// Reconciliation after 1 s, checked every second, so tests wait little.
constexpr const char* kFastReconciliation =
    "spend:\n"
    "  reconcile_after_seconds: 1\n"
    "  reconcile_interval_seconds: 1\n";

// alpha's tenants.yaml lines that make it prepaid.
const std::map<std::string, std::string> kPrepaidAlpha = {
    {"alpha", "    overrides:\n      wallet: {enabled: true}\n"}};

std::string orderBody(const std::string& reference_id, int quantity = 1) {
  return Json{{"reference_id", reference_id}, {"sku", kSku}, {"quantity", quantity}}.dump();
}

// Parses a JSON amount in major units into cents.
std::int64_t cents(const Json& amount) { return std::llround(amount.get<double>() * 100); }

// The tenant's price of one unit of kSku, in cents, from the gateway's
// catalog route.
std::int64_t unitPriceCents(GatewayProcess& gateway) {
  const auto offer = gateway.call(kAlpha, "GET", "/catalog/bundle-offers/" + kSku);
  EXPECT_EQ(offer.status, 200) << offer.body;
  return cents(offer.json()["data"]["price"]["usd"]);
}

// Runs `fulldatos-gateway wallet ARGUMENTS` and returns its exit status and
// output.
std::pair<int, std::string> walletCommand(const GatewayProcess& gateway, const std::string& arguments) {
  const std::string command = std::string(FDGW_GATEWAY_BINARY) + " wallet " + arguments + " --config " +
                              gateway.configFile().string() + " 2>&1";
  std::string output;
  int status = -1;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
    status = WEXITSTATUS(::pclose(pipe));
  }
  return {status, output};
}

void topUp(const GatewayProcess& gateway, const std::string& amount) {
  const auto [status, output] =
      walletCommand(gateway, "top-up --tenant alpha --amount " + amount + " --reason 'prepaid invoice' --operator ops");
  ASSERT_EQ(status, 0) << output;
}

Json balanceOf(GatewayProcess& gateway) {
  const auto balance = gateway.call(kAlpha, "GET", "/credits/balance");
  EXPECT_EQ(balance.status, 200) << balance.body;
  return balance.json()["data"];
}

// Waits until no reservation of alpha is held any more, as reconciliation
// settles it.
Json settledBalance(GatewayProcess& gateway) {
  Json data;
  for (int i = 0; i < 200; ++i) {
    data = balanceOf(gateway);
    if (data["spend"]["day"]["reserved"] == 0) return data;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "the reservation was not settled within 20 s: " << data.dump();
  return data;
}

// Every order the simulator holds.
Json simulatorOrders(SimProcess& sim) {
  const auto orders = sim.direct("GET", "/orders?limit=500");
  EXPECT_EQ(orders.status, 200) << orders.body;
  return orders.json()["data"];
}

Json transactionsOf(GatewayProcess& gateway) {
  const auto transactions = gateway.call(kAlpha, "GET", "/credits/transactions");
  EXPECT_EQ(transactions.status, 200) << transactions.body;
  return transactions.json()["data"];
}

// A simulator and a redis-server for each test, and gateway options that
// use them.
class SpendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sim_ = std::make_unique<SimProcess>(dir_.path(), std::vector<std::string>{"--rate-limit", "0"});
    redis_ = std::make_unique<RedisProcess>(dir_.path());
  }

  // Options with plan "open" given `spend_lines` and, when `prepaid`, alpha
  // prepaid.
  GatewayOptions options(const std::string& spend_lines, bool prepaid = false) const {
    GatewayOptions options;
    options.upstream_url = sim_->baseUrl();
    options.redis_url = redis_->url();
    options.redis_timeout_ms = 1000;
    options.plans_yaml = plansWithSpend(spend_lines);
    options.extra_config = kFastReconciliation;
    if (prepaid) options.tenant_extra_yaml = kPrepaidAlpha;
    return options;
  }

  TempDir dir_;
  std::unique_ptr<SimProcess> sim_;
  std::unique_ptr<RedisProcess> redis_;
};

TEST_F(SpendTest, TwoInstancesStayWithinLimit) {
  GatewayProcess first(dir_.path(), options("    spend: {daily_usd: 100}\n"));
  GatewayProcess second(dir_.path(), options("    spend: {daily_usd: 100}\n"));
  const std::int64_t unit = unitPriceCents(first);
  ASSERT_GT(unit, 0);
  const std::int64_t fitting = 10000 / unit;
  ASSERT_GE(fitting, 1) << "the test needs a unit price below the 100 USD limit";

  std::vector<std::future<HttpResult>> results;
  for (int i = 0; i < 30; ++i) {
    GatewayProcess& gateway = i % 2 == 0 ? first : second;
    results.push_back(std::async(std::launch::async, [&gateway, i] {
      return gateway.call(kAlpha, "POST", "/orders", orderBody("limit-" + std::to_string(i)));
    }));
  }
  std::int64_t accepted = 0;
  std::int64_t accepted_cents = 0;
  std::int64_t rejected = 0;
  for (auto& result : results) {
    const HttpResult response = result.get();
    if (response.status == 201) {
      ++accepted;
      accepted_cents += cents(response.json()["data"]["total"]["usd"]);
    } else {
      EXPECT_EQ(response.status, 402) << response.body;
      EXPECT_EQ(response.json()["code"], "spend_limit_exceeded");
      ++rejected;
    }
  }

  EXPECT_LE(accepted_cents, 10000) << "the accepted orders together stay within the limit";
  EXPECT_EQ(accepted, fitting);
  EXPECT_EQ(rejected, 30 - fitting);
  EXPECT_EQ(accepted_cents, accepted * unit);
  EXPECT_EQ(static_cast<std::int64_t>(simulatorOrders(*sim_).size()), accepted)
      << "rejected orders never reached the upstream";
  const Json day = balanceOf(first)["spend"]["day"];
  EXPECT_EQ(cents(day["spent"]), accepted_cents);
  EXPECT_EQ(day["reserved"], 0);
  EXPECT_EQ(day["limit"], 100);
}

TEST_F(SpendTest, WalletChargedAndRefundedExactly) {
  GatewayProcess gateway(dir_.path(), options("", /*prepaid=*/true));
  const std::int64_t unit = unitPriceCents(gateway);
  topUp(gateway, "100");

  const auto order = gateway.call(kAlpha, "POST", "/orders", orderBody("wallet-1", 3));
  ASSERT_EQ(order.status, 201) << order.body;
  const Json placed = order.json()["data"];
  EXPECT_EQ(cents(placed["total"]["usd"]), 3 * unit);
  EXPECT_EQ(cents(balanceOf(gateway)["usd"]), 10000 - 3 * unit);

  // Refund one of the order's three eSIMs.
  const std::string esim_id = placed["esims"][0]["esim_id"];
  const auto refund = gateway.call(
      kAlpha, "POST", "/refund",
      Json{{"order_id", placed["order_id"]}, {"esim_ids", Json::array({esim_id})}}.dump());
  ASSERT_EQ(refund.status, 200) << refund.body;
  EXPECT_EQ(cents(refund.json()["data"]["amount"]["usd"]), unit);

  const Json balance = balanceOf(gateway);
  EXPECT_EQ(cents(balance["usd"]), 10000 - 2 * unit) << "the refund credits one unit at the tenant's price";
  EXPECT_EQ(cents(balance["wallet"]["balance"]), 10000 - 2 * unit);
  EXPECT_EQ(cents(balance["spend"]["day"]["spent"]), 2 * unit);
  EXPECT_TRUE(balance["mxn"].is_null());

  const Json entries = transactionsOf(gateway);
  ASSERT_EQ(entries.size(), 3u) << entries.dump();
  EXPECT_EQ(entries[0]["type"], "top_up");
  EXPECT_EQ(entries[0]["description"], "prepaid invoice");
  EXPECT_FALSE(entries[0].contains("operator")) << "operators stay internal";
  EXPECT_EQ(entries[1]["type"], "order");
  EXPECT_EQ(cents(entries[1]["amount"]), -3 * unit);
  EXPECT_EQ(entries[1]["order_id"], placed["order_id"]);
  EXPECT_EQ(cents(entries[1]["balance_after"]), 10000 - 3 * unit);
  EXPECT_EQ(entries[2]["type"], "refund");
  EXPECT_EQ(cents(entries[2]["amount"]), unit);
  EXPECT_EQ(cents(entries[2]["balance_after"]), 10000 - 2 * unit);
}

TEST_F(SpendTest, EmptyWalletIs402) {
  GatewayProcess gateway(dir_.path(), options("", /*prepaid=*/true));
  topUp(gateway, "0.50");

  const auto order = gateway.call(kAlpha, "POST", "/orders", orderBody("poor-1"), {{"accept-language", "es"}});

  ASSERT_EQ(order.status, 402) << order.body;
  EXPECT_EQ(order.json()["code"], "spend_limit_exceeded");
  EXPECT_NE(order.json()["message"].get<std::string>().find("saldo prepagado disponible de 0.50 USD"),
            std::string::npos)
      << order.body;
  EXPECT_TRUE(simulatorOrders(*sim_).empty());
  EXPECT_EQ(cents(balanceOf(gateway)["usd"]), 50);
}

TEST_F(SpendTest, UpstreamFailureReleasesHold) {
  GatewayProcess gateway(dir_.path(), options("    spend: {daily_usd: 100}\n", /*prepaid=*/true));
  unitPriceCents(gateway);  // the catalog is cached before the upstream fails
  topUp(gateway, "100");

  // A 4xx is a definite failure: released at once.
  const auto unknown_user = gateway.call(
      kAlpha, "POST", "/orders", Json{{"user_id", "usr_missing"}, {"sku", kSku}, {"quantity", 1}}.dump());
  EXPECT_EQ(unknown_user.status, 404) << unknown_user.body;
  EXPECT_EQ(balanceOf(gateway)["spend"]["day"]["reserved"], 0);

  // A 5xx may hide an order: held until reconciliation finds none.
  sim_->setFaults({{"error_rate", 1.0}});
  const auto failed = gateway.call(kAlpha, "POST", "/orders", orderBody("fail-1"));
  EXPECT_EQ(failed.status, 502) << failed.body;
  sim_->setFaults({{"error_rate", 0.0}});

  const Json balance = settledBalance(gateway);
  EXPECT_EQ(cents(balance["usd"]), 10000) << "the wallet ends where the upstream's records say";
  EXPECT_EQ(balance["spend"]["day"]["spent"], 0);
  EXPECT_TRUE(simulatorOrders(*sim_).empty());
  EXPECT_EQ(transactionsOf(gateway).size(), 1u) << "only the top-up";
  EXPECT_NE(gateway.metrics().find(R"(fdgw_spend_reconciliations_total{result="released"} 1)"), std::string::npos);
}

TEST_F(SpendTest, TimeoutChargedFromUpstreamRecords) {
  auto slow = options("    spend: {daily_usd: 100}\n", /*prepaid=*/true);
  slow.upstream_timeout_ms = 1000;
  GatewayProcess gateway(dir_.path(), slow);
  const std::int64_t unit = unitPriceCents(gateway);
  topUp(gateway, "100");

  // The simulator records the order at once and responds after 2.5 s.
  sim_->setFaults({{"latency_ms", 2500}});
  const auto timed_out = gateway.call(kAlpha, "POST", "/orders", orderBody("slow-1", 2));
  EXPECT_EQ(timed_out.status, 504) << timed_out.body;
  sim_->setFaults({{"latency_ms", 0}});

  const Json balance = settledBalance(gateway);
  const Json orders = simulatorOrders(*sim_);
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(cents(balance["usd"]), 10000 - 2 * unit) << "the order the upstream made is charged";
  EXPECT_EQ(cents(balance["spend"]["day"]["spent"]), 2 * unit);
  const Json entries = transactionsOf(gateway);
  ASSERT_EQ(entries.size(), 2u) << entries.dump();
  EXPECT_EQ(entries[1]["order_id"], orders[0]["order_id"]);
  EXPECT_EQ(cents(entries[1]["amount"]), -2 * unit);
}

TEST_F(SpendTest, SharedAccountTimeoutReconciled) {
  // On a shared account the upstream stores "alpha:<reference id>", and
  // reconciliation must look the order up under that name.
  auto shared = options("    spend: {daily_usd: 100}\n", /*prepaid=*/true);
  shared.shared = true;
  shared.upstream_timeout_ms = 1000;
  GatewayProcess gateway(dir_.path(), shared);
  const std::int64_t unit = unitPriceCents(gateway);
  topUp(gateway, "100");

  sim_->setFaults({{"latency_ms", 2500}});
  const auto timed_out = gateway.call(kAlpha, "POST", "/orders", orderBody("shared-slow-1"));
  EXPECT_EQ(timed_out.status, 504) << timed_out.body;
  sim_->setFaults({{"latency_ms", 0}});

  const Json balance = settledBalance(gateway);
  const Json orders = simulatorOrders(*sim_);
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0]["reference_id"], "alpha:shared-slow-1");
  EXPECT_EQ(cents(balance["usd"]), 10000 - unit);
  const Json entries = transactionsOf(gateway);
  ASSERT_EQ(entries.size(), 2u) << entries.dump();
  EXPECT_EQ(entries[1]["order_id"], orders[0]["order_id"]);
  EXPECT_EQ(gateway.call(kBeta, "GET", "/credits/transactions").json()["data"].size(), 0u)
      << "beta's ledger stays empty";
}

TEST_F(SpendTest, KilledGatewaySettledByOtherInstance) {
  auto shared = options("    spend: {daily_usd: 100}\n", /*prepaid=*/true);
  shared.upstream_timeout_ms = 3000;
  GatewayProcess doomed(dir_.path(), shared);
  GatewayProcess survivor(dir_.path(), shared);
  const std::int64_t unit = unitPriceCents(doomed);
  topUp(doomed, "100");

  sim_->setFaults({{"latency_ms", 1500}});
  auto pending = std::async(std::launch::async, [&doomed] {
    return doomed.call(kAlpha, "POST", "/orders", orderBody("killed-1"));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  doomed.process().signal(SIGKILL);
  EXPECT_EQ(pending.get().status, 0) << "the connection died with the gateway";
  sim_->setFaults({{"latency_ms", 0}});
  EXPECT_EQ(cents(balanceOf(survivor)["spend"]["day"]["reserved"]), unit)
      << "the killed instance's reservation is still held";

  const Json balance = settledBalance(survivor);
  const Json orders = simulatorOrders(*sim_);
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(cents(balance["usd"]), 10000 - unit);
  EXPECT_EQ(cents(balance["spend"]["day"]["spent"]), unit);
  const Json entries = transactionsOf(survivor);
  ASSERT_EQ(entries.size(), 2u) << entries.dump();
  EXPECT_EQ(entries[1]["order_id"], orders[0]["order_id"]);
}

TEST_F(SpendTest, RepeatedOrderBuysOnce) {
  GatewayProcess gateway(dir_.path(), options("    spend: {daily_usd: 1000}\n"));
  unitPriceCents(gateway);  // the catalog is cached before the upstream slows down
  sim_->setFaults({{"latency_ms", 300}});
  const Headers key = {{"idempotency-key", "order-7f3a"}};

  std::vector<std::future<HttpResult>> results;
  for (int i = 0; i < 20; ++i) {
    results.push_back(std::async(std::launch::async, [&gateway, &key] {
      return gateway.call(kAlpha, "POST", "/orders", orderBody("repeat-1"), key);
    }));
  }
  std::set<std::string> order_ids;
  int conflicts = 0;
  for (auto& result : results) {
    const HttpResult response = result.get();
    if (response.status == 201) {
      order_ids.insert(response.json()["data"]["order_id"].get<std::string>());
    } else {
      EXPECT_EQ(response.status, 409) << response.body;
      ++conflicts;
    }
  }
  EXPECT_EQ(simulatorOrders(*sim_).size(), 1u) << "20 repeats make exactly one upstream order";
  EXPECT_EQ(order_ids.size(), 1u);
  EXPECT_GE(conflicts, 1) << "repeats while the first runs get 409";

  const auto replay = gateway.call(kAlpha, "POST", "/orders", orderBody("repeat-1"), key);
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(replay.header("idempotent-replayed"), "true");
  EXPECT_EQ(replay.json()["data"]["order_id"], *order_ids.begin());

  const auto other_body = gateway.call(kAlpha, "POST", "/orders", orderBody("repeat-1", 2), key);
  EXPECT_EQ(other_body.status, 422) << other_body.body;
  EXPECT_EQ(gateway.call(kBeta, "POST", "/orders", orderBody("repeat-beta"), key).status, 201)
      << "keys are scoped per tenant";
  EXPECT_EQ(simulatorOrders(*sim_).size(), 2u);
  EXPECT_EQ(cents(balanceOf(gateway)["spend"]["day"]["spent"]), cents(replay.json()["data"]["total"]["usd"]));
}

TEST_F(SpendTest, RedisRestartKeepsWallet) {
  const int port = redis_->port();
  const std::filesystem::path data_dir = redis_->dataDir();
  GatewayProcess gateway(dir_.path(), options("    spend: {daily_usd: 100}\n", /*prepaid=*/true));
  topUp(gateway, "40");
  ASSERT_EQ(gateway.call(kAlpha, "POST", "/orders", orderBody("restart-1")).status, 201);
  const Json before = balanceOf(gateway);

  redis_->process().signal(SIGKILL);
  redis_.reset();
  Process restarted(RedisProcess::arguments(port, data_dir), {}, dir_.path() / "redis-restarted.log");

  Json after;
  for (int i = 0; i < 100; ++i) {
    const auto balance = gateway.call(kAlpha, "GET", "/credits/balance");
    if (balance.status == 200) {
      after = balance.json()["data"];
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(after["usd"], before["usd"]) << "the append-only file kept the wallet";
  EXPECT_EQ(after["spend"]["day"]["spent"], before["spend"]["day"]["spent"]);
  EXPECT_EQ(transactionsOf(gateway).size(), 2u);
}

TEST_F(SpendTest, WalletCommandsWriteLedger) {
  GatewayProcess gateway(dir_.path(), options("    spend: {daily_usd: 100}\n", /*prepaid=*/true));

  topUp(gateway, "25.50");
  const auto [adjusted, adjust_output] =
      walletCommand(gateway, "adjust --tenant alpha --amount -0.50 --reason 'bank fee' --operator ana");
  ASSERT_EQ(adjusted, 0) << adjust_output;
  EXPECT_NE(adjust_output.find("balance_usd: 25.00"), std::string::npos) << adjust_output;

  const auto [overdrawn, overdrawn_output] =
      walletCommand(gateway, "adjust --tenant alpha --amount -30 --reason mistake");
  EXPECT_EQ(overdrawn, 1) << overdrawn_output;

  const auto [shown, show_output] = walletCommand(gateway, "show --tenant alpha");
  ASSERT_EQ(shown, 0) << show_output;
  EXPECT_NE(show_output.find("prepaid: yes"), std::string::npos) << show_output;
  EXPECT_NE(show_output.find("available_usd: 25.00"), std::string::npos) << show_output;
  EXPECT_NE(show_output.find("limit_usd 100.00"), std::string::npos) << show_output;

  const auto [listed, ledger_output] = walletCommand(gateway, "ledger --tenant alpha");
  ASSERT_EQ(listed, 0) << ledger_output;
  std::vector<Json> lines;
  for (auto line : common::split(ledger_output, '\n')) {
    if (!line.empty()) lines.push_back(Json::parse(line));
  }
  ASSERT_EQ(lines.size(), 2u) << ledger_output;
  EXPECT_EQ(lines[0]["type"], "top_up");
  EXPECT_EQ(lines[0]["amount_usd"], "25.50");
  EXPECT_EQ(lines[0]["operator"], "ops");
  EXPECT_EQ(lines[1]["type"], "adjustment");
  EXPECT_EQ(lines[1]["amount_usd"], "-0.50");
  EXPECT_EQ(lines[1]["balance_after_usd"], "25.00");
  EXPECT_EQ(lines[1]["operator"], "ana");
  EXPECT_EQ(lines[1]["reason"], "bank fee");

  EXPECT_EQ(walletCommand(gateway, "show --tenant nobody").first, 2);
  EXPECT_EQ(walletCommand(gateway, "top-up --tenant alpha --amount 1").first, 2) << "a reason is required";
}

// Returns the value of the sample `series` in a /metrics text, or -1.
double sampleValue(const std::string& text, const std::string& series) {
  const auto start = text.find("\n" + series + " ");
  if (start == std::string::npos) return -1;
  return std::stod(text.substr(start + series.size() + 2));
}

TEST_F(SpendTest, SpendMetricsExported) {
  GatewayProcess gateway(dir_.path(), options("    spend: {daily_usd: 100, monthly_usd: 1000}\n"));
  const auto order = gateway.call(kAlpha, "POST", "/orders", orderBody("metrics-1"));
  ASSERT_EQ(order.status, 201) << order.body;
  const double total = order.json()["data"]["total"]["usd"].get<double>();

  const std::string text = gateway.metrics();

  EXPECT_NEAR(sampleValue(text, R"(fdgw_spend_usd{tenant="alpha",window="day"})"), total, 1e-9) << text;
  EXPECT_NEAR(sampleValue(text, R"(fdgw_spend_usd{tenant="alpha",window="month"})"), total, 1e-9);
  EXPECT_EQ(sampleValue(text, R"(fdgw_spend_limit_usd{tenant="alpha",window="day"})"), 100);
  EXPECT_EQ(sampleValue(text, R"(fdgw_spend_limit_usd{tenant="alpha",window="month"})"), 1000);
  EXPECT_EQ(text.find(R"(fdgw_spend_limit_usd{tenant="beta")"), std::string::npos)
      << "a tenant without limits exports no limit series";
  EXPECT_EQ(text.find("fdgw_redis_errors_total{"), std::string::npos) << text;
}

}  // namespace
}  // namespace fdgw::testing
