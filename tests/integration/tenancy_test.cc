// Tenants sharing one upstream account: tenant beta, with its own valid key,
// tries every route against tenant alpha's resources, and ownership survives
// a restart and a flushed Redis.

#include <gtest/gtest.h>

#include <string>

#include "tests/integration/harness.h"

namespace fdgw::testing {
namespace {

using Json = nlohmann::json;

const Headers kJson{{"content-type", "application/json"}};

GatewayOptions sharedOptions(const SimProcess& sim, const RedisProcess& redis) {
  GatewayOptions options;
  options.upstream_url = sim.baseUrl();
  options.redis_url = redis.url();
  options.shared = true;
  return options;
}

std::string firstSku(SimProcess& sim) {
  return sim.direct("GET", "/catalog/bundle-offers?limit=1&status=active").json()["data"][0]["sku"];
}

// The resources that one order made, as shown to its tenant.
struct CreatedOrder {
  std::string order_id;
  std::string user_id;
  std::string esim_id;
  std::string bundle_id;
  Json order;
};

CreatedOrder placeOrder(GatewayProcess& gateway, const TestTenant& tenant, const Json& request) {
  const HttpResult result = gateway.call(tenant, "POST", "/orders", request.dump(), kJson);
  if (result.status != 201) throw std::runtime_error("order failed: " + std::to_string(result.status) + result.body);
  const Json data = result.json()["data"];
  return CreatedOrder{data["order_id"], data["user_id"], data["esims"][0]["esim_id"],
                      data["esims"][0]["bundles"][0]["bundle_id"], data};
}

long upstreamPosts(SimProcess& sim) {
  const Json by_route = sim.stats()["by_route"];
  long posts = 0;
  for (const auto& [route, count] : by_route.items()) {
    if (route.rfind("POST", 0) == 0 || route.rfind("PUT", 0) == 0 || route.rfind("DELETE", 0) == 0) {
      posts += count.get<long>();
    }
  }
  return posts;
}

TEST(TenancyTest, ForeignTenantReachesNothing) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "0"});
  RedisProcess redis(dir.path());
  GatewayProcess gateway(dir.path(), sharedOptions(sim, redis));
  const std::string sku = firstSku(sim);

  const CreatedOrder first =
      placeOrder(gateway, kAlpha, {{"reference_id", "customer-1"}, {"sku", sku}, {"quantity", 1}});
  EXPECT_EQ(first.order["reference_id"], "customer-1");
  placeOrder(gateway, kAlpha, {{"user_id", first.user_id}, {"sku", sku}, {"quantity", 1}});
  const HttpResult ticket = gateway.call(
      kAlpha, "POST", "/tickets",
      Json{{"category_key", "billing"}, {"subject", "Invoice"}, {"description", "Please"}, {"order_id", first.order_id}}
          .dump(),
      kJson);
  ASSERT_EQ(ticket.status, 201) << ticket.body;
  EXPECT_EQ(ticket.json()["data"]["subject"], "Invoice");
  const std::string ticket_id = ticket.json()["data"]["ticket_id"];

  const Json balance_before = sim.stats()["balance"];
  const long posts_before = upstreamPosts(sim);
  const HttpResult unknown = gateway.call(kBeta, "GET", "/orders/ord_0000000000000000");
  ASSERT_EQ(unknown.status, 404);

  struct Attempt {
    std::string method;
    std::string path;
    Json body;
  };
  const std::vector<Attempt> single_items = {
      {"GET", "/users/" + first.user_id, nullptr},
      {"PUT", "/users/" + first.user_id, {{"reference_id", "stolen"}}},
      {"DELETE", "/users/" + first.user_id, nullptr},
      {"GET", "/orders/" + first.order_id, nullptr},
      {"GET", "/esims/" + first.esim_id, nullptr},
      {"GET", "/bundles/" + first.bundle_id, nullptr},
      {"GET", "/tickets/" + ticket_id, nullptr},
      {"POST", "/refund", {{"esim_id", first.esim_id}}},
      {"POST", "/refund", {{"esim_id", first.esim_id}, {"bundle_ids", {first.bundle_id}}}},
      {"POST", "/refund", {{"order_id", first.order_id}}},
      {"POST", "/refund", {{"order_id", first.order_id}, {"esim_ids", {first.esim_id}}}},
      {"POST", "/orders", {{"user_id", first.user_id}, {"sku", sku}, {"quantity", 1}}},
      {"POST", "/tickets", {{"category_key", "billing"}, {"subject", "x"}, {"description", "y"}, {"order_id", first.order_id}}},
  };
  for (const Attempt& attempt : single_items) {
    const HttpResult result = gateway.call(kBeta, attempt.method, attempt.path,
                                           attempt.body.is_null() ? "" : attempt.body.dump(), kJson);
    EXPECT_EQ(result.status, 404) << attempt.method << " " << attempt.path << ": " << result.body;
    EXPECT_EQ(result.json()["code"], "not_found") << attempt.path;
    EXPECT_EQ(result.json()["message"], unknown.json()["message"]) << attempt.path;
  }

  for (const std::string& path : std::vector<std::string>{"/users", "/orders", "/esims", "/bundles", "/tickets",
                                 "/orders?user_id=" + first.user_id, "/users?reference_id=customer-1"}) {
    const HttpResult result = gateway.call(kBeta, "GET", path);
    ASSERT_EQ(result.status, 200) << path << ": " << result.body;
    EXPECT_TRUE(result.json()["data"].empty()) << path << ": " << result.body;
    EXPECT_EQ(result.json()["pagination"]["total"], 0) << path;
  }
  EXPECT_EQ(gateway.call(kBeta, "GET", "/analytics/sales").status, 403);
  // The credits routes show beta's own ledger, which alpha's orders are not in.
  const HttpResult beta_ledger = gateway.call(kBeta, "GET", "/credits/transactions");
  ASSERT_EQ(beta_ledger.status, 200) << beta_ledger.body;
  EXPECT_TRUE(beta_ledger.json()["data"].empty()) << beta_ledger.body;
  const HttpResult beta_balance = gateway.call(kBeta, "GET", "/credits/balance");
  ASSERT_EQ(beta_balance.status, 200) << beta_balance.body;
  EXPECT_EQ(beta_balance.json()["data"]["spend"]["day"]["spent"], 0) << beta_balance.body;

  // Nothing changed upstream, and alpha still reads all of its own data.
  EXPECT_EQ(sim.stats()["balance"], balance_before);
  EXPECT_EQ(upstreamPosts(sim), posts_before);
  const HttpResult own_order = gateway.call(kAlpha, "GET", "/orders/" + first.order_id);
  EXPECT_EQ(own_order.status, 200);
  EXPECT_EQ(own_order.json()["data"]["reference_id"], "customer-1");
  const Json own_orders = gateway.call(kAlpha, "GET", "/orders").json();
  EXPECT_EQ(own_orders["pagination"]["total"], 2);
  EXPECT_EQ(gateway.call(kAlpha, "GET", "/tickets").json()["data"][0]["subject"], "Invoice");
  const Json own_users = gateway.call(kAlpha, "GET", "/users").json();
  ASSERT_EQ(own_users["pagination"]["total"], 1);
  EXPECT_EQ(own_users["data"][0]["reference_id"], "customer-1");
  EXPECT_EQ(gateway.call(kAlpha, "GET", "/esims").json()["pagination"]["total"], 2);
  EXPECT_EQ(gateway.call(kAlpha, "GET", "/bundles?limit=1&page=2").json()["data"].size(), 1u);
}

TEST(TenancyTest, SameReferenceInTwoTenants) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "0"});
  RedisProcess redis(dir.path());
  GatewayProcess gateway(dir.path(), sharedOptions(sim, redis));
  const std::string sku = firstSku(sim);

  const CreatedOrder alpha = placeOrder(gateway, kAlpha, {{"reference_id", "customer-1"}, {"sku", sku}, {"quantity", 1}});
  const CreatedOrder beta = placeOrder(gateway, kBeta, {{"reference_id", "customer-1"}, {"sku", sku}, {"quantity", 1}});
  EXPECT_NE(alpha.user_id, beta.user_id);
  EXPECT_EQ(beta.order["reference_id"], "customer-1");

  for (const auto& [tenant, user_id] : {std::pair{kAlpha, alpha.user_id}, std::pair{kBeta, beta.user_id}}) {
    const Json found = gateway.call(tenant, "GET", "/users?reference_id=customer-1").json();
    ASSERT_EQ(found["data"].size(), 1u) << tenant.id;
    EXPECT_EQ(found["data"][0]["user_id"], user_id);
    EXPECT_EQ(found["data"][0]["reference_id"], "customer-1");
  }
  // Upstream, the two references are kept apart.
  const Json upstream_users = sim.direct("GET", "/users").json()["data"];
  ASSERT_EQ(upstream_users.size(), 2u);
  EXPECT_NE(upstream_users[0]["reference_id"], upstream_users[1]["reference_id"]);

  // A reference id with a '%' stays one exact filter, for its own tenant
  // only.
  placeOrder(gateway, kAlpha, {{"reference_id", "50%off"}, {"sku", sku}, {"quantity", 1}});
  const Json percent = gateway.call(kAlpha, "GET", "/users?reference_id=50%25off").json();
  ASSERT_EQ(percent["data"].size(), 1u) << percent.dump();
  EXPECT_EQ(percent["data"][0]["reference_id"], "50%off");
  const Json foreign_percent = gateway.call(kBeta, "GET", "/users?reference_id=50%25off").json();
  EXPECT_TRUE(foreign_percent["data"].empty()) << foreign_percent.dump();

  // Renaming a customer keeps it in the tenant's namespace.
  const HttpResult renamed = gateway.call(kAlpha, "PUT", "/users/" + alpha.user_id,
                                          Json{{"reference_id", "customer-2"}}.dump(), kJson);
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(gateway.call(kAlpha, "GET", "/users/" + alpha.user_id).json()["data"]["reference_id"], "customer-2");
}

TEST(TenancyTest, OwnershipSurvivesRestartAndFlush) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "0"});
  RedisProcess redis(dir.path());
  const std::string sku = firstSku(sim);
  CreatedOrder created;
  {
    GatewayProcess gateway(dir.path(), sharedOptions(sim, redis));
    created = placeOrder(gateway, kAlpha, {{"reference_id", "kept"}, {"sku", sku}, {"quantity", 2}});
    placeOrder(gateway, kBeta, {{"reference_id", "other"}, {"sku", sku}, {"quantity", 1}});
    for (const std::string subject : {"first", "second"}) {
      const Json ticket{{"category_key", "billing"}, {"subject", subject}, {"description", "d"}};
      ASSERT_EQ(gateway.call(kAlpha, "POST", "/tickets", ticket.dump(), kJson).status, 201);
    }
  }
  ASSERT_NE(redis.cli("FLUSHALL").find("OK"), std::string::npos);

  GatewayProcess second(dir.path(), sharedOptions(sim, redis));
  const Json orders = second.call(kAlpha, "GET", "/orders").json();
  ASSERT_EQ(orders["pagination"]["total"], 1) << orders.dump();
  EXPECT_EQ(orders["data"][0]["order_id"], created.order_id);
  EXPECT_EQ(orders["data"][0]["reference_id"], "kept");
  EXPECT_EQ(second.call(kAlpha, "GET", "/esims").json()["pagination"]["total"], 2);
  EXPECT_EQ(second.call(kBeta, "GET", "/orders/" + created.order_id).status, 404);
  EXPECT_EQ(second.call(kBeta, "POST", "/refund", Json{{"order_id", created.order_id}}.dump(), kJson).status, 404);
  EXPECT_EQ(second.call(kAlpha, "GET", "/orders/" + created.order_id).status, 200);
  // Tickets keep the upstream's order, newest first.
  const Json tickets = second.call(kAlpha, "GET", "/tickets").json()["data"];
  ASSERT_EQ(tickets.size(), 2u);
  EXPECT_EQ(tickets[0]["subject"], "second");
  EXPECT_EQ(tickets[1]["subject"], "first");
}

TEST(TenancyTest, DedicatedAccountPassesThrough) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "0"});
  RedisProcess redis(dir.path());
  GatewayOptions options = sharedOptions(sim, redis);
  options.shared = false;
  GatewayProcess gateway(dir.path(), options);
  const CreatedOrder created =
      placeOrder(gateway, kAlpha, {{"reference_id", "plain"}, {"sku", firstSku(sim)}, {"quantity", 1}});
  EXPECT_EQ(sim.direct("GET", "/users/" + created.user_id).json()["data"]["reference_id"], "plain");
  EXPECT_EQ(gateway.call(kAlpha, "GET", "/credits/balance").status, 200);
}

}  // namespace
}  // namespace fdgw::testing
