#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "gateway/catalog/catalog_data.h"
#include "gateway/config/markup_config.h"
#include "gateway/pricing/response_pricer.h"
#include "gateway/spend/spend_ledger.h"

namespace fdgw::proxy {

// The fields of a POST /orders body that spend reservations need.
struct OrderRequest {
  std::string sku;
  std::int64_t quantity = 0;
  std::string owner_field;  // "reference_id" or "user_id"; empty when neither is a string
  std::string owner;
};

// Reads an order body that is a JSON object. Returns a message for the
// tenant, with the upstream's wording, when "sku" is not a non-empty string
// or "quantity" is not a whole number from 1 to 10. The upstream checks the
// owner fields itself.
std::variant<OrderRequest, std::string> parseOrderRequest(std::string_view body);

enum class QuoteFailure { kCatalogUnavailable, kUnknownSku, kPricingFailed };

struct QuoteError {
  QuoteFailure failure = QuoteFailure::kPricingFailed;
  std::string detail;  // for the operator's log
};

// Returns the order's total at the tenant's prices in US cents: the offer's
// marked-up unit price times the quantity. This is the total that
// pricing::priceResponse writes into the order response when the upstream
// charges the catalog's price. `catalog` may be null (no copy available).
std::variant<std::int64_t, QuoteError> quoteOrder(const catalog::CatalogData* catalog,
                                                  const std::optional<config::Markup>& markup,
                                                  const OrderRequest& order);

// Reads the order of a successful POST /orders or GET /orders/{id} response
// body at the tenant's prices, with pricing::priceResponse, so the charge is
// what the tenant's response shows. Fails when the body has no order id,
// quantity or priceable unit price.
std::variant<spend::OrderCharge, std::string> chargeOfOrderResponse(
    std::string_view upstream_body, const std::optional<config::Markup>& markup,
    const pricing::OfferLookup& lookup);

// Returns an OfferLookup over `catalog`, which may be null.
pricing::OfferLookup catalogLookup(std::shared_ptr<const catalog::CatalogData> catalog);

}  // namespace fdgw::proxy
