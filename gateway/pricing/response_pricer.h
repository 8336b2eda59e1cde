#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gateway/pricing/markup.h"
#include "gateway/pricing/money.h"
#include "gateway/pricing/price_calculator.h"

namespace fdgw::pricing {

// Returns the catalog facts of the offer with `sku`, or null when the
// catalog has no such offer (then only the plan's base fields and SKU
// overrides can apply).
using OfferLookup = std::function<const OfferFacts*(std::string_view sku)>;

// Returns whether responses of the route carry prices that markup changes,
// outside the catalog routes (which the catalog cache prices).
bool routeShowsPrices(std::string_view route_id);

// Rewrites a successful upstream response body of `route_id` so that every
// price shows the tenant's price:
// - an order's "unit_price" is the offer's tenant price, and its "total" is
//   that unit price times "quantity";
// - a bundle's "price" and a refund item's "amount" are the tenant price of
//   their "sku", and a refund's "amount" is the sum of its items';
// - in the "transactions" of orders and refunds, which are entries of the
//   reseller's own ledger, an order's "amount" becomes minus the order's
//   tenant total and a refund's "amount" the refund's tenant amount, in the
//   entry's "currency". Every "balance_after" and any amount that cannot be
//   priced become null, because they show the reseller's figures.
// Bytes outside those values are kept as the upstream sent them. Fails on
// invalid JSON or when a price cannot be computed.
std::variant<std::string, PricingError> priceResponse(std::string_view route_id, std::string_view body,
                                                      const PriceCalculator& calculator,
                                                      const OfferLookup& lookup);

}  // namespace fdgw::pricing
