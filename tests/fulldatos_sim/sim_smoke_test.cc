// In-process checks of money, routing, rate limiting, the generated catalog
// and the order and refund flow. The HTTP layer is covered by the
// integration tests, which start the fulldatos-sim binary.

#include <gtest/gtest.h>

#include "api_router.h"
#include "catalog_generator.h"
#include "handlers.h"
#include "rate_limiter.h"
#include "simulator.h"

namespace fdsim {
namespace {

const ExchangeRate kRate(182500);  // 18.25 MXN per USD

Json parseBody(const ApiResponse& response) { return Json::parse(response.body); }

TEST(Money, MxnRoundsHalfUp) {
  EXPECT_EQ(kRate.toMxnCents(450), 8213);  // 4.5 USD * 18.25 = 82.125 MXN
  EXPECT_EQ(kRate.toMxnCents(100), 1825);
  EXPECT_EQ(kRate.toMxnCents(-450), -8213);
}

TEST(Money, JsonHasAtMostTwoDecimals) {
  EXPECT_EQ(centsToJson(1234).dump(), "12.34");
  EXPECT_EQ(centsToJson(450).dump(), "4.5");
  EXPECT_EQ(centsToJson(8190).dump(), "81.9");
  EXPECT_EQ(centsToJson(1000000).dump(), "10000");
  EXPECT_EQ(centsToJson(-1548).dump(), "-15.48");
}

TEST(Money, ParsesDecimalText) {
  EXPECT_EQ(parseCents("10000"), 1000000);
  EXPECT_EQ(parseCents("4.5"), 450);
  EXPECT_FALSE(parseCents("4.555"));
  EXPECT_FALSE(parseCents("-1"));
  EXPECT_EQ(ExchangeRate::parse("18.25")->toString(), "18.25");
  EXPECT_FALSE(ExchangeRate::parse("0"));
}

TEST(ApiRouter, MatchesTemplatesAndMethods) {
  const ApiRouter router;
  EXPECT_EQ(router.routes().size(), 29u);

  const RouteMatch categories = router.match("GET", "/tickets/categories");
  ASSERT_EQ(categories.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(categories.route->key, "GET /tickets/categories");

  const RouteMatch order = router.match("GET", "/orders/ord_1/");
  ASSERT_EQ(order.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(order.params.at("order_id"), "ord_1");

  EXPECT_EQ(router.match("DELETE", "/orders").kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(router.match("GET", "/v2/orders").kind, RouteMatch::Kind::kPathNotFound);
}

TEST(RateLimiter, RejectsOverLimitUntilWindowEnds) {
  RateLimiter limiter(2);
  const auto start = RateLimiter::SteadyClock::now();
  EXPECT_TRUE(limiter.admit("key", start).allowed);
  EXPECT_TRUE(limiter.admit("key", start).allowed);

  const RateDecision rejected = limiter.admit("key", start + std::chrono::seconds(10));
  EXPECT_FALSE(rejected.allowed);
  EXPECT_EQ(rejected.retry_after_seconds, 50);
  EXPECT_TRUE(limiter.admit("other", start).allowed);
  EXPECT_TRUE(limiter.admit("key", start + std::chrono::seconds(60)).allowed);
}

TEST(CatalogGenerator, DefaultCatalogShape) {
  const Catalog catalog(generateCatalog(1, 1200, kRate));
  EXPECT_EQ(catalog.size(), 1200u);
  EXPECT_GE(catalog.destinations().size(), 120u);
  ASSERT_NE(catalog.find("FD-MX-5GB-30D"), nullptr);
  EXPECT_TRUE(catalog.find("FD-MX-5GB-30D")->isActive());
  EXPECT_NE(catalog.find("FD-EU-10GB-30D"), nullptr);
  EXPECT_NE(catalog.find("FD-US-UL-ESS-7D"), nullptr);
  OfferFilter inactive;
  inactive.status = "inactive";
  EXPECT_FALSE(catalog.filter(inactive).empty());
}

TEST(CatalogGenerator, SameSeedSameOffers) {
  const Catalog first(generateCatalog(7, 300, kRate));
  const Catalog second(generateCatalog(7, 300, kRate));
  ASSERT_EQ(first.size(), second.size());
  const auto first_offers = first.filter({});
  const auto second_offers = second.filter({});
  for (std::size_t i = 0; i < first_offers.size(); ++i) EXPECT_EQ(*first_offers[i], *second_offers[i]);
}

TEST(OrderFlow, OrderThenRefundRestoresBalance) {
  Simulator simulator(Catalog(generateCatalog(1, 200, kRate)), kRate, 1, kRate.fromUsd(10000));
  const Money initial = simulator.store.balance;

  ApiRequest order_request;
  order_request.body = R"({"reference_id": "customer-1", "sku": "FD-MX-5GB-30D", "quantity": 2})";
  const ApiResponse created = createOrder(simulator, order_request, {});
  ASSERT_EQ(created.status, 201) << created.body;
  const Json order = parseBody(created)["data"];
  EXPECT_EQ(order["esims"].size(), 2u);

  ApiRequest refund_request;
  refund_request.body = Json{{"order_id", order["order_id"]}}.dump();
  const ApiResponse refunded = createRefund(simulator, refund_request, {});
  ASSERT_EQ(refunded.status, 200) << refunded.body;
  EXPECT_EQ(parseBody(refunded)["data"]["amount"], order["total"]);
  EXPECT_EQ(simulator.store.balance, initial);

  EXPECT_EQ(createRefund(simulator, refund_request, {}).status, 409);
}

TEST(OrderFlow, InsufficientBalanceProvisionsNothing) {
  Simulator simulator(Catalog(generateCatalog(1, 200, kRate)), kRate, 1, kRate.fromUsd(100));
  ApiRequest request;
  request.body = R"({"reference_id": "customer-1", "sku": "FD-MX-5GB-30D", "quantity": 1})";
  EXPECT_EQ(createOrder(simulator, request, {}).status, 402);
  EXPECT_TRUE(simulator.store.esims.items().empty());
  EXPECT_TRUE(simulator.store.users.items().empty());
}

}  // namespace
}  // namespace fdsim
