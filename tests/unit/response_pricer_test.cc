// Markup on the prices inside order, bundle, eSIM and refund responses.

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "gateway/pricing/response_pricer.h"

namespace fdgw::pricing {
namespace {

using Json = nlohmann::json;

// 20 % on everything, 10 % for offers covering the US.
config::Markup sampleMarkup() {
  config::Markup markup;
  markup.base.percent_ten_thousandths = 200000;
  config::MarkupOverride us;
  us.match.countries = {"US"};
  us.fields.percent_ten_thousandths = 100000;
  markup.overrides.push_back(us);
  return markup;
}

const OfferFacts kUsOffer{"FD-US-5GB-30D", {"US"}, "", "standard"};

const OfferLookup kLookup = [](std::string_view sku) -> const OfferFacts* {
  return sku == kUsOffer.sku ? &kUsOffer : nullptr;
};

const std::string kOrder = R"({"success":true,"message":"Order completed","data":{"order_id":"ord_1","status":"completed","sku":"FD-US-5GB-30D","quantity":3,"unit_price":{"usd":10,"mxn":182.5},"total":{"usd":30,"mxn":547.5},"esims":[{"esim_id":"esm_1","iccid":"89520135699072894338","bundles":[{"bundle_id":"bdl_1","sku":"FD-US-5GB-30D","price":{"usd":10,"mxn":182.5},"note":"se\u00f1al"}]}],"transactions":[{"transaction_id":"txn_1","type":"order","currency":"usd","amount":-30,"balance_after":970,"order_id":"ord_1"},{"transaction_id":"txn_2","type":"order","currency":"mxn","amount":-547.5,"balance_after":17702.5,"order_id":"ord_1"},{"transaction_id":"txn_3","type":"refund","currency":"usd","amount":10,"balance_after":980,"order_id":"ord_1"}],"serial":12345678901234567890}})";

std::string priced(std::string_view route, const std::string& body) {
  const PriceCalculator calculator(sampleMarkup());
  auto result = priceResponse(route, body, calculator, kLookup);
  if (auto* error = std::get_if<PricingError>(&result)) return "error: " + error->message;
  return std::get<std::string>(result);
}

TEST(ResponsePricer, OrderUnitPriceAndTotal) {
  const Json order = Json::parse(priced("orders.create", kOrder))["data"];
  // 10 * 1.10 = 11.00 and 182.5 * 1.10 = 200.75; the total is three units.
  EXPECT_EQ(order["unit_price"], (Json{{"usd", 11}, {"mxn", 200.75}}));
  EXPECT_EQ(order["total"], (Json{{"usd", 33}, {"mxn", 602.25}}));
  EXPECT_EQ(order["esims"][0]["bundles"][0]["price"], (Json{{"usd", 11}, {"mxn", 200.75}}));
}

TEST(ResponsePricer, OrderLedgerShowsTenantAmounts) {
  const Json transactions = Json::parse(priced("orders.get", kOrder))["data"]["transactions"];
  EXPECT_EQ(transactions[0]["amount"].dump(), "-33");
  EXPECT_EQ(transactions[1]["amount"].dump(), "-602.25");
  // A refund entry inside an order cannot be tied to its items.
  EXPECT_TRUE(transactions[2]["amount"].is_null());
  for (const Json& entry : transactions) EXPECT_TRUE(entry["balance_after"].is_null());
}

TEST(ResponsePricer, KeepsOtherBytes) {
  const std::string body = priced("orders.create", kOrder);
  EXPECT_NE(body.find(R"("note":"se\u00f1al")"), std::string::npos);
  EXPECT_NE(body.find(R"("serial":12345678901234567890)"), std::string::npos);
  EXPECT_EQ(body.substr(0, 60), kOrder.substr(0, 60));
}

TEST(ResponsePricer, OrderListUsesEachOrdersSku) {
  std::string list = R"({"success":true,"data":[)" + Json::parse(kOrder)["data"].dump() + R"(,{"order_id":"ord_2","sku":"FD-XX-1GB-7D","quantity":1,"unit_price":{"usd":10,"mxn":182.5},"total":{"usd":10,"mxn":182.5}}]})";
  const Json orders = Json::parse(priced("orders.list", list))["data"];
  EXPECT_EQ(orders[0]["unit_price"]["usd"], 11);
  // An offer the catalog lacks gets the base 20 %.
  EXPECT_EQ(orders[1]["unit_price"], (Json{{"usd", 12}, {"mxn", 219}}));
  EXPECT_EQ(orders[1]["total"], (Json{{"usd", 12}, {"mxn", 219}}));
}

TEST(ResponsePricer, RefundSumsItsItems) {
  const std::string refund = R"({"success":true,"data":{"refund_id":"rfd_1","order_id":"ord_1","amount":{"usd":20,"mxn":365},"items":[{"bundle_id":"bdl_1","sku":"FD-US-5GB-30D","amount":{"usd":10,"mxn":182.5}},{"bundle_id":"bdl_2","sku":"FD-XX-1GB-7D","amount":{"usd":10,"mxn":182.5}}],"transactions":[{"type":"refund","currency":"usd","amount":20,"balance_after":1000},{"type":"refund","currency":"mxn","amount":365,"balance_after":18250}]}})";
  const Json data = Json::parse(priced("refunds.create", refund))["data"];
  EXPECT_EQ(data["items"][0]["amount"], (Json{{"usd", 11}, {"mxn", 200.75}}));
  EXPECT_EQ(data["items"][1]["amount"], (Json{{"usd", 12}, {"mxn", 219}}));
  EXPECT_EQ(data["amount"], (Json{{"usd", 23}, {"mxn", 419.75}}));
  EXPECT_EQ(data["transactions"][0]["amount"], 23);
  EXPECT_EQ(data["transactions"][1]["amount"], 419.75);
  EXPECT_TRUE(data["transactions"][1]["balance_after"].is_null());
}

TEST(ResponsePricer, BundlesAndEsims) {
  const std::string bundles = R"({"success":true,"data":[{"bundle_id":"bdl_1","sku":"FD-US-5GB-30D","price":{"usd":10,"mxn":182.5}}],"pagination":{"page":1,"limit":50,"total":1}})";
  EXPECT_EQ(Json::parse(priced("bundles.list", bundles))["data"][0]["price"]["usd"], 11);
  const std::string esim = R"({"success":true,"data":{"esim_id":"esm_1","bundles":[{"sku":"FD-US-5GB-30D","price":{"usd":10,"mxn":182.5}}]}})";
  EXPECT_EQ(Json::parse(priced("esims.get", esim))["data"]["bundles"][0]["price"]["mxn"], 200.75);
}

TEST(ResponsePricer, OtherRoutesPassThrough) {
  EXPECT_FALSE(routeShowsPrices("tickets.list"));
  EXPECT_TRUE(routeShowsPrices("users.get"));
  EXPECT_EQ(priced("tickets.list", "not json"), "not json");
}

TEST(ResponsePricer, InvalidBodyFails) {
  EXPECT_EQ(priced("orders.get", R"({"data":{"unit_price":)").rfind("error: ", 0), 0u);
  // A priced object without its SKU cannot be priced, so nothing leaks.
  EXPECT_EQ(priced("bundles.get", R"({"data":{"price":{"usd":1,"mxn":2}}})").rfind("error: ", 0), 0u);
}

}  // namespace
}  // namespace fdgw::pricing
