#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "gateway/config/markup_config.h"
#include "gateway/pricing/money.h"

namespace fdgw::pricing {

// The attributes of a bundle offer that markup overrides can match on.
struct OfferFacts {
  std::string sku;
  std::vector<std::string> countries;  // ISO 3166 alpha-2 codes that the offer covers
  std::string region;                  // empty when the offer has none
  std::string profile;                 // such as "unlimited-plus", or empty when the offer has none
};

// Markup fields after override resolution. A field that is still unset takes
// its default: 0 percent, no fixed amount, no minimum margin, rounding half up
// to 0.01 and no fixed price.
using EffectiveFields = config::MarkupFields;

// Returns whether `offer` satisfies every key that `match` sets. `countries`
// is satisfied when the offer covers at least one listed country, and `sku`,
// `region` and `profile` compare exactly. A match without keys matches every offer.
bool matchesOffer(const config::MarkupMatch& match, const OfferFacts& offer);

// Resolves the fields for `offer`. The first override that matches the offer
// wins, and each field it leaves unset (per currency for amounts and rounding)
// comes from the plan's base fields. Without a matching override the base
// fields apply.
EffectiveFields resolveFields(const config::Markup& markup, const OfferFacts& offer);

// Prices one currency from its cost, in minor units, with exact integer
// arithmetic. The floor is cost + min_margin, and a successful result is never
// below it. With a fixed price, the result is max(price, floor). Otherwise
// raw = cost * (1 + percent / 100) + fixed is raised to the floor if lower and
// rounded by the currency's rule, or half up to 0.01 without one. A rounded
// result below the floor moves up one rounding step, which is one whole unit
// for an ending rule.
// Fails when the cost is negative or above kMaxMinorUnits, when the result
// would exceed kMaxMinorUnits, when percent, fixed, min_margin or price is
// negative, or when a rounding rule is out of range (a step of 0 or less, or
// an ending outside 0 to 0.99).
std::variant<std::int64_t, PricingError> price(std::int64_t cost_minor_units,
                                               config::Currency currency,
                                               const EffectiveFields& fields);

}  // namespace fdgw::pricing
