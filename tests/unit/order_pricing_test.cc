// Order bodies, order totals at the tenant's prices and the time format of
// the credits routes.

#include "gateway/proxy/order_pricing.h"

#include <gtest/gtest.h>

#include "gateway/proxy/spend_views.h"

namespace fdgw::proxy {
namespace {

using Json = nlohmann::json;

std::shared_ptr<catalog::CatalogData> oneOffer(const std::string& sku, pricing::Money cost) {
  catalog::Offer offer;
  offer.facts.sku = sku;
  offer.facts.countries = {"US"};
  offer.cost = cost;
  return std::make_shared<catalog::CatalogData>(std::vector<catalog::Offer>{offer},
                                                std::vector<catalog::Destination>{}, 0);
}

config::Markup percentMarkup(std::int64_t percent) {
  config::Markup markup;
  markup.base.percent_ten_thousandths = percent * 10000;
  return markup;
}

TEST(OrderRequest, ReadsSkuQuantityAndOwner) {
  const auto parsed = parseOrderRequest(R"({"user_id":"usr_1","sku":"FD-US-1GB-7D","quantity":3})");

  ASSERT_TRUE(std::holds_alternative<OrderRequest>(parsed));
  const auto& order = std::get<OrderRequest>(parsed);
  EXPECT_EQ(order.sku, "FD-US-1GB-7D");
  EXPECT_EQ(order.quantity, 3);
  EXPECT_EQ(order.owner_field, "user_id");
  EXPECT_EQ(order.owner, "usr_1");
}

TEST(OrderRequest, RejectsMissingSku) {
  for (const char* body : {R"({"quantity":1})", R"({"sku":"","quantity":1})", R"({"sku":7,"quantity":1})"}) {
    const auto parsed = parseOrderRequest(body);
    ASSERT_TRUE(std::holds_alternative<std::string>(parsed)) << body;
    EXPECT_EQ(std::get<std::string>(parsed), "Field sku is required and must be a non-empty string");
  }
}

TEST(OrderRequest, OwnerLeftToUpstream) {
  const auto parsed = parseOrderRequest(R"({"sku":"FD-US-1GB-7D","quantity":1})");

  ASSERT_TRUE(std::holds_alternative<OrderRequest>(parsed));
  EXPECT_TRUE(std::get<OrderRequest>(parsed).owner_field.empty());
}

TEST(QuoteOrder, MarkedUpUnitTimesQuantity) {
  const auto catalog = oneOffer("FD-US-1GB-7D", {450, 8213});
  OrderRequest order{"FD-US-1GB-7D", 4, "reference_id", "c1"};

  const auto total = quoteOrder(catalog.get(), percentMarkup(10), order);

  ASSERT_TRUE(std::holds_alternative<std::int64_t>(total));
  EXPECT_EQ(std::get<std::int64_t>(total), 4 * 495) << "4.50 + 10 % = 4.95 per unit";
}

TEST(QuoteOrder, WithoutMarkupUpstreamPrice) {
  const auto catalog = oneOffer("FD-US-1GB-7D", {450, 8213});
  OrderRequest order{"FD-US-1GB-7D", 2, "reference_id", "c1"};

  EXPECT_EQ(std::get<std::int64_t>(quoteOrder(catalog.get(), std::nullopt, order)), 900);
}

TEST(QuoteOrder, UnknownSkuAndMissingCatalog) {
  const auto catalog = oneOffer("FD-US-1GB-7D", {450, 8213});
  OrderRequest order{"FD-XX-1GB-7D", 1, "reference_id", "c1"};

  const auto unknown = quoteOrder(catalog.get(), std::nullopt, order);
  ASSERT_TRUE(std::holds_alternative<QuoteError>(unknown));
  EXPECT_EQ(std::get<QuoteError>(unknown).failure, QuoteFailure::kUnknownSku);

  const auto missing = quoteOrder(nullptr, std::nullopt, order);
  ASSERT_TRUE(std::holds_alternative<QuoteError>(missing));
  EXPECT_EQ(std::get<QuoteError>(missing).failure, QuoteFailure::kCatalogUnavailable);
}

TEST(OrderCharge, MatchesPricedResponse) {
  const auto catalog = oneOffer("FD-US-1GB-7D", {450, 8213});
  const std::string body = Json{{"success", true},
                                {"data",
                                 {{"order_id", "ord_9"},
                                  {"sku", "FD-US-1GB-7D"},
                                  {"quantity", 4},
                                  {"unit_price", {{"usd", 4.5}, {"mxn", 82.13}}},
                                  {"total", {{"usd", 18}, {"mxn", 328.52}}}}}}
                               .dump();

  const auto charge = chargeOfOrderResponse(body, percentMarkup(10), catalogLookup(catalog));

  ASSERT_TRUE(std::holds_alternative<spend::OrderCharge>(charge)) << std::get<std::string>(charge);
  EXPECT_EQ(std::get<spend::OrderCharge>(charge).order_id, "ord_9");
  EXPECT_EQ(std::get<spend::OrderCharge>(charge).unit_cents, 495);
  EXPECT_EQ(std::get<spend::OrderCharge>(charge).quantity, 4);
  const OrderRequest order{"FD-US-1GB-7D", 4, "user_id", "usr_1"};
  EXPECT_EQ(std::get<std::int64_t>(quoteOrder(catalog.get(), percentMarkup(10), order)),
            495 * 4)
      << "the held total equals the committed one when the upstream charges the catalog price";
}

TEST(OrderCharge, RejectsOrderWithoutId) {
  const std::string body =
      R"({"success":true,"data":{"sku":"FD-US-1GB-7D","quantity":1,"unit_price":{"usd":4.5,"mxn":82.13},"total":{"usd":4.5,"mxn":82.13}}})";

  const auto charge = chargeOfOrderResponse(body, std::nullopt, catalogLookup(nullptr));

  ASSERT_TRUE(std::holds_alternative<std::string>(charge));
  EXPECT_EQ(std::get<std::string>(charge), "the order has no string \"order_id\"");
}

TEST(Timestamp, RoundTripsMilliseconds) {
  EXPECT_EQ(formatTimestamp(1798761600123), "2027-01-01T00:00:00.123Z");
  EXPECT_EQ(parseTimestamp("2027-01-01T00:00:00.123Z"), 1798761600123);
  EXPECT_EQ(parseTimestamp("2027-01-01T00:00:00Z"), 1798761600000);
}

TEST(Timestamp, RejectsOtherText) {
  for (const char* text : {"", "2027-01-01", "2027-01-01T00:00:00", "2027-01-01T00:00:00+01:00",
                           "2027-01-01T00:00:00.12Z", "yesterday"}) {
    EXPECT_FALSE(parseTimestamp(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace fdgw::proxy
