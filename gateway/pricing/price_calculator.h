#pragma once

#include <optional>
#include <variant>

#include "gateway/config/markup_config.h"
#include "gateway/pricing/markup.h"
#include "gateway/pricing/money.h"

namespace fdgw::pricing {

// Applies one tenant's markup to offer prices in both currencies. Immutable
// after construction, so one instance may serve concurrent requests.
class PriceCalculator {
 public:
  // Without a markup, every price passes through unchanged.
  explicit PriceCalculator(std::optional<config::Markup> markup);

  // Returns the tenant's price for `offer` given its upstream `cost`.
  // USD and MXN are each computed from their own cost with that currency's
  // fields. Fails as price() does for either currency.
  std::variant<Money, PricingError> markUp(const OfferFacts& offer, const Money& cost) const;

 private:
  std::optional<config::Markup> markup_;
};

}  // namespace fdgw::pricing
