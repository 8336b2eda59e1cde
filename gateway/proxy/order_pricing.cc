#include "gateway/proxy/order_pricing.h"

#include "gateway/pricing/money.h"
#include "gateway/pricing/price_calculator.h"

namespace fdgw::proxy {
namespace {

// The upstream accepts 1 to 10 units per order.
constexpr std::int64_t kMaxQuantity = 10;

}  // namespace

std::variant<OrderRequest, std::string> parseOrderRequest(std::string_view body) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object()) return std::string("The request body must be a JSON object.");

  OrderRequest order;
  const auto sku = json.find("sku");
  if (sku == json.end() || !sku->is_string() || sku->get<std::string>().empty()) {
    return std::string("Field sku is required and must be a non-empty string");
  }
  order.sku = sku->get<std::string>();

  const auto quantity = json.find("quantity");
  if (quantity == json.end() || !quantity->is_number_integer() || quantity->get<std::int64_t>() < 1 ||
      quantity->get<std::int64_t>() > kMaxQuantity) {
    return std::string("Field quantity is required and must be a whole number from 1 to 10");
  }
  order.quantity = quantity->get<std::int64_t>();

  for (const char* field : {"reference_id", "user_id"}) {
    const auto owner = json.find(field);
    if (owner != json.end() && owner->is_string()) {
      order.owner_field = field;
      order.owner = owner->get<std::string>();
      break;
    }
  }
  return order;
}

std::variant<std::int64_t, QuoteError> quoteOrder(const catalog::CatalogData* catalog,
                                                  const std::optional<config::Markup>& markup,
                                                  const OrderRequest& order) {
  if (catalog == nullptr) {
    return QuoteError{QuoteFailure::kCatalogUnavailable, "no copy of the catalog could be fetched"};
  }
  const auto index = catalog->findOffer(order.sku);
  if (!index) return QuoteError{QuoteFailure::kUnknownSku, "no offer " + order.sku + " in the catalog"};

  const catalog::Offer& offer = catalog->offers()[*index];
  const auto price = pricing::PriceCalculator(markup).markUp(offer.facts, offer.cost);
  if (const auto* error = std::get_if<pricing::PricingError>(&price)) {
    return QuoteError{QuoteFailure::kPricingFailed, "offer " + order.sku + ": " + error->message};
  }
  const std::int64_t unit = std::get<pricing::Money>(price).usd;
  if (unit > pricing::kMaxMinorUnits / order.quantity) {
    return QuoteError{QuoteFailure::kPricingFailed, "the order total exceeds the largest supported amount"};
  }
  return unit * order.quantity;
}

std::variant<spend::OrderCharge, std::string> chargeOfOrderResponse(
    std::string_view upstream_body, const std::optional<config::Markup>& markup,
    const pricing::OfferLookup& lookup) {
  const pricing::PriceCalculator calculator(markup);
  auto priced = pricing::priceResponse("orders.create", upstream_body, calculator, lookup);
  if (const auto* error = std::get_if<pricing::PricingError>(&priced)) return error->message;

  const auto body = nlohmann::json::parse(std::get<std::string>(priced), nullptr, false);
  if (!body.is_object() || !body.contains("data") || !body["data"].is_object()) {
    return std::string("the order response has no \"data\" object");
  }
  const auto& order = body["data"];
  if (!order.contains("order_id") || !order["order_id"].is_string()) {
    return std::string("the order has no string \"order_id\"");
  }
  if (!order.contains("quantity") || !order["quantity"].is_number_integer() ||
      order["quantity"].get<std::int64_t>() < 1) {
    return std::string("the order has no valid \"quantity\"");
  }
  if (!order.contains("unit_price")) return std::string("the order has no \"unit_price\"");
  const auto unit = pricing::parseMoney(order["unit_price"]);
  if (const auto* error = std::get_if<pricing::PricingError>(&unit)) return "unit_price: " + error->message;

  spend::OrderCharge charge;
  charge.order_id = order["order_id"].get<std::string>();
  charge.unit_cents = std::get<pricing::Money>(unit).usd;
  charge.quantity = order["quantity"].get<std::int64_t>();
  return charge;
}

pricing::OfferLookup catalogLookup(std::shared_ptr<const catalog::CatalogData> catalog) {
  return [catalog = std::move(catalog)](std::string_view sku) -> const pricing::OfferFacts* {
    if (!catalog) return nullptr;
    const auto index = catalog->findOffer(sku);
    return index ? &catalog->offers()[*index].facts : nullptr;
  };
}

}  // namespace fdgw::proxy
