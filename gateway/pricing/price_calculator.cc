#include "gateway/pricing/price_calculator.h"

#include <string>
#include <utility>

namespace fdgw::pricing {

PriceCalculator::PriceCalculator(std::optional<config::Markup> markup)
    : markup_(std::move(markup)) {}

std::variant<Money, PricingError> PriceCalculator::markUp(const OfferFacts& offer,
                                                          const Money& cost) const {
  if (!markup_) return cost;

  const EffectiveFields fields = resolveFields(*markup_, offer);
  Money marked_up;
  for (const config::Currency currency : config::kCurrencies) {
    auto result = price(cost.amount(currency), currency, fields);
    if (auto* error = std::get_if<PricingError>(&result)) {
      const char* key = currency == config::Currency::kUsd ? "usd" : "mxn";
      return PricingError{"offer " + offer.sku + ", " + key + ": " + error->message};
    }
    marked_up.amount(currency) = std::get<std::int64_t>(result);
  }
  return marked_up;
}

}  // namespace fdgw::pricing
