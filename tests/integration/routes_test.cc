// Every FullDatos route called through the gateway, compared with the
// simulator's own response to the same request.

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>

#include "tests/integration/harness.h"

namespace fdgw::testing {
namespace {

// Returns today's UTC date moved by `offset_days`, as YYYY-MM-DD.
std::string isoDate(int offset_days) {
  const auto when = std::chrono::system_clock::now() + std::chrono::hours(24 * offset_days);
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &parts);
  return text;
}

class RoutesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    sim_ = new SimProcess(dir_->path(), {"--rate-limit", "0"});
    GatewayOptions options;
    options.upstream_url = sim_->baseUrl();
    gateway_ = new GatewayProcess(dir_->path(), options);
  }
  static void TearDownTestSuite() {
    delete gateway_;
    delete sim_;
    delete dir_;
  }

  // Places an order through the gateway and returns its data.
  static nlohmann::json order(const std::string& reference_id, int quantity = 1) {
    const auto result = gateway_->call(
        kAlpha, "POST", "/orders",
        nlohmann::json{{"reference_id", reference_id}, {"sku", "FD-MX-5GB-30D"},
                       {"quantity", quantity}}
            .dump());
    EXPECT_GE(result.status, 200) << result.body;
    EXPECT_LT(result.status, 300) << result.body;
    return result.json()["data"];
  }

  // Asserts that a GET through the gateway returns exactly what the
  // simulator returns for the same request. Errors keep the upstream's
  // message inside the gateway's envelope, so only the message compares.
  static void expectSameAsSimulator(const std::string& path_and_query) {
    const auto direct = sim_->direct("GET", path_and_query);
    const auto proxied = gateway_->call(kAlpha, "GET", path_and_query);
    EXPECT_EQ(proxied.status, direct.status) << path_and_query;
    if (direct.status >= 400) {
      EXPECT_EQ(proxied.json()["message"], direct.json()["message"]) << path_and_query;
      EXPECT_EQ(proxied.json()["request_id"], proxied.header("x-request-id")) << path_and_query;
      return;
    }
    EXPECT_EQ(proxied.body, direct.body) << path_and_query;
    EXPECT_EQ(proxied.header("content-type"), direct.header("content-type")) << path_and_query;
    EXPECT_FALSE(proxied.header("x-request-id").empty()) << path_and_query;
  }

  static TempDir* dir_;
  static SimProcess* sim_;
  static GatewayProcess* gateway_;
};

TempDir* RoutesTest::dir_ = nullptr;
SimProcess* RoutesTest::sim_ = nullptr;
GatewayProcess* RoutesTest::gateway_ = nullptr;

TEST_F(RoutesTest, CatalogRoutesMatchSimulator) {
  expectSameAsSimulator("/catalog/destinations");
  expectSameAsSimulator("/catalog/bundle-offers");
  expectSameAsSimulator("/catalog/bundle-offers?country=MX&limit=5");
  expectSameAsSimulator("/catalog/bundle-offers?limit=500&page=2");
  expectSameAsSimulator("/catalog/bundle-offers/FD-MX-5GB-30D");
  expectSameAsSimulator("/catalog/bundle-offers/FD-NOPE-1GB-1D");
  expectSameAsSimulator("/catalog/bundle-offers?country=MX&min_gb=3&max_days=30&profile=standard");
  expectSameAsSimulator("/catalog/compatibility");
}

TEST_F(RoutesTest, ResourceReadRoutesMatchSimulator) {
  const auto placed = order("routes-reader", 2);
  const std::string user_id = placed["user_id"];
  const std::string order_id = placed["order_id"];
  const std::string esim_id = placed["esims"][0]["esim_id"];
  ASSERT_FALSE(placed["esims"][0]["bundles"].empty()) << placed.dump();
  const std::string bundle_id = placed["esims"][0]["bundles"][0]["bundle_id"];

  expectSameAsSimulator("/users");
  expectSameAsSimulator("/users?reference_id=routes-reader");
  expectSameAsSimulator("/users/" + user_id);
  expectSameAsSimulator("/orders");
  expectSameAsSimulator("/orders?user_id=" + user_id);
  expectSameAsSimulator("/orders/" + order_id);
  expectSameAsSimulator("/esims");
  expectSameAsSimulator("/esims/" + esim_id);
  expectSameAsSimulator("/bundles");
  expectSameAsSimulator("/bundles/" + bundle_id);
  expectSameAsSimulator("/status");
  expectSameAsSimulator("/tickets/categories");
}

TEST_F(RoutesTest, AnalyticsRoutesMatchSimulator) {
  order("routes-analytics");
  const std::string range =
      "?from=" + isoDate(-180) + "&to=" + isoDate(1) + "&granularity=month";
  expectSameAsSimulator("/analytics/sales" + range);
  expectSameAsSimulator("/analytics/top-sales" + range);
  expectSameAsSimulator("/analytics/usage" + range);
  expectSameAsSimulator("/analytics/channels" + range);
  expectSameAsSimulator("/analytics/export?report=sales&format=json");
  expectSameAsSimulator("/analytics/export?report=sales&format=csv");
}

TEST_F(RoutesTest, TicketRoutesWork) {
  const auto categories = sim_->direct("GET", "/tickets/categories").json();
  ASSERT_FALSE(categories["data"].empty());
  const std::string category = categories["data"][0]["category_key"];

  const auto created = gateway_->call(
      kAlpha, "POST", "/tickets",
      nlohmann::json{{"category_key", category}, {"subject", "eSIM not activating"},
                     {"description", "The QR code is rejected."}}
          .dump());
  ASSERT_GE(created.status, 200) << created.body;
  ASSERT_LT(created.status, 300) << created.body;
  const std::string ticket_id = created.json()["data"]["ticket_id"];

  expectSameAsSimulator("/tickets");
  expectSameAsSimulator("/tickets/" + ticket_id);
}

TEST_F(RoutesTest, UserUpdateAndDeleteReachSimulator) {
  const std::string user_id = order("routes-rename")["user_id"];

  const auto updated = gateway_->call(kAlpha, "PUT", "/users/" + user_id,
                                      R"({"reference_id": "routes-renamed"})");
  EXPECT_EQ(updated.status, 200) << updated.body;
  const auto found = sim_->direct("GET", "/users?reference_id=routes-renamed").json();
  ASSERT_EQ(found["data"].size(), 1u) << found.dump();
  EXPECT_EQ(found["data"][0]["user_id"], user_id);

  const auto deleted = gateway_->call(kAlpha, "DELETE", "/users/" + user_id);
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(sim_->direct("GET", "/users/" + user_id).status, 404);
}

TEST_F(RoutesTest, RefundAndStatusCheckReachSimulator) {
  const auto placed = order("routes-refund", 2);
  const std::string order_id = placed["order_id"];
  const auto balance_before = sim_->direct("GET", "/credits/balance").json()["data"];

  const auto refunded =
      gateway_->call(kAlpha, "POST", "/refund", nlohmann::json{{"order_id", order_id}}.dump());
  ASSERT_EQ(refunded.status, 200) << refunded.body;
  EXPECT_TRUE(refunded.json()["data"].contains("refund_id")) << refunded.body;
  const auto balance_after = sim_->direct("GET", "/credits/balance").json()["data"];
  EXPECT_GT(balance_after["usd"].get<double>(), balance_before["usd"].get<double>());

  const auto checked = gateway_->call(kAlpha, "POST", "/status/check");
  EXPECT_EQ(checked.status, 200) << checked.body;
  EXPECT_TRUE(checked.json()["success"].get<bool>());
}

TEST_F(RoutesTest, UpstreamErrorsKeepTheirMessage) {
  const auto direct = sim_->direct("GET", "/orders/ord_doesnotexist");
  const auto proxied = gateway_->call(kAlpha, "GET", "/orders/ord_doesnotexist");
  ASSERT_EQ(proxied.status, 404);
  const auto body = proxied.json();
  EXPECT_EQ(body["success"], false);
  EXPECT_EQ(body["code"], "not_found");
  EXPECT_EQ(body["message"], direct.json()["message"]);
  EXPECT_EQ(body["request_id"], proxied.header("x-request-id"));

  const auto bad_order = gateway_->call(kAlpha, "POST", "/orders",
                                        R"({"reference_id": "x", "sku": "FD-MX-5GB-30D", "quantity": 99})");
  EXPECT_EQ(bad_order.status, 400) << bad_order.body;
  EXPECT_EQ(bad_order.json()["code"], "bad_request");
}

TEST_F(RoutesTest, CreditsRoutesNeverReachSimulator) {
  // The credits routes show the tenant's own wallet and ledger, kept in
  // Redis, and never the reseller's account. This gateway has no Redis.
  const long before = sim_->requestsTotal();
  for (const std::string path : {"/credits/balance", "/credits/transactions"}) {
    const auto response = gateway_->call(kAlpha, "GET", path);
    EXPECT_EQ(response.status, 500) << path << ": " << response.body;
    EXPECT_EQ(response.json()["code"], "internal") << path;
  }
  const auto mxn = gateway_->call(kAlpha, "GET", "/credits/transactions?currency=mxn");
  EXPECT_EQ(mxn.status, 200) << "wallets keep no MXN entries, so no Redis is needed";
  EXPECT_TRUE(mxn.json()["data"].empty());
  EXPECT_EQ(sim_->requestsTotal(), before);
}

TEST_F(RoutesTest, CanonicalPathsReachTheSameRoute) {
  const auto canonical = gateway_->call(kAlpha, "GET", "/catalog/bundle-offers/FD-MX-5GB-30D");
  ASSERT_EQ(canonical.status, 200);
  for (const std::string path :
       {"//catalog/bundle-offers/FD-MX-5GB-30D", "/catalog/bundle-offers/FD-MX-5GB-30D/",
        "/catalog%2Fbundle-offers/FD-MX-5GB-30D", "/Catalog/BUNDLE-OFFERS/FD-MX-5GB-30D",
        "/catalog//bundle-offers//FD-MX-5GB-30D//"}) {
    const auto variant = gateway_->call(kAlpha, "GET", path);
    EXPECT_EQ(variant.status, 200) << path;
    EXPECT_EQ(variant.body, canonical.body) << path;
  }
}

}  // namespace
}  // namespace fdgw::testing
