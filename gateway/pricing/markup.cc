#include "gateway/pricing/markup.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>

namespace fdgw::pricing {
namespace {

// 128-bit intermediates: a cost of at most 10^15 times (10^6 + percent), with
// percent below 2^63, stays below 10^34, far within 2^127. __extension__
// silences -Wpedantic about the non-standard type.
__extension__ typedef __int128 Wide;

// Intermediate amounts are counted in millionths of a minor unit. A percent
// has four decimals, so percent / 100 has six, and cost * (1 + percent / 100)
// is always a whole number of millionths. So no remainder is dropped before
// the final rounding step.
constexpr Wide kScale = 1'000'000;

std::size_t indexOf(config::Currency currency) {
  return static_cast<std::size_t>(currency);
}

template <typename T>
void inheritUnset(config::PerCurrency<T>& values, const config::PerCurrency<T>& base) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!values[i]) values[i] = base[i];
  }
}

bool coversAnyCountry(const std::vector<std::string>& listed, const OfferFacts& offer) {
  return std::any_of(offer.countries.begin(), offer.countries.end(), [&](const std::string& country) {
    return std::find(listed.begin(), listed.end(), country) != listed.end();
  });
}

// Rejects values that the policy YAML cannot produce but a struct built in
// code could, because the arithmetic below assumes non-negative amounts.
std::optional<PricingError> validateFields(config::Currency currency, const EffectiveFields& fields) {
  const std::size_t index = indexOf(currency);
  if (fields.percent_ten_thousandths.value_or(0) < 0) {
    return PricingError{"markup percent must not be negative"};
  }
  if (fields.fixed[index].value_or(0) < 0) return PricingError{"markup fixed must not be negative"};
  if (fields.min_margin[index].value_or(0) < 0) {
    return PricingError{"markup min_margin must not be negative"};
  }
  if (fields.price[index].value_or(0) < 0) return PricingError{"markup price must not be negative"};

  const auto& rounding = fields.rounding[index];
  if (!rounding) return std::nullopt;
  if (rounding->mode == config::RoundingMode::kEnding) {
    if (rounding->amount < 0 || rounding->amount >= kMinorUnitsPerMajorUnit) {
      return PricingError{"rounding ending must be from 0 to 0.99, got " +
                          std::to_string(rounding->amount) + " minor units"};
    }
  } else if (rounding->amount <= 0) {
    return PricingError{"rounding step must be greater than 0, got " +
                        std::to_string(rounding->amount) + " minor units"};
  }
  return std::nullopt;
}

// Rounds a non-negative amount in millionths of a minor unit to whole minor
// units by `rounding`, or half up to one minor unit (0.01) without a rule.
Wide roundScaled(Wide scaled, const std::optional<config::Rounding>& rounding) {
  if (!rounding) return (scaled + kScale / 2) / kScale;

  if (rounding->mode == config::RoundingMode::kEnding) {
    // Smallest n + ending >= value with n a whole number of major units.
    const Wide ending = rounding->amount;
    const Wide major = kMinorUnitsPerMajorUnit;
    if (scaled <= ending * kScale) return ending;
    const Wide excess = scaled - ending * kScale;
    const Wide whole_units = (excess + major * kScale - 1) / (major * kScale);
    return whole_units * major + ending;
  }

  const Wide step = rounding->amount;
  const Wide scaled_step = step * kScale;
  if (rounding->mode == config::RoundingMode::kUp) {
    return (scaled + scaled_step - 1) / scaled_step * step;
  }
  // kScale is even, so half a step is a whole number of millionths and an
  // exact tie rounds up.
  return (scaled + scaled_step / 2) / scaled_step * step;
}

// The amount by which a rounded price below the floor moves up.
Wide stepAbove(const std::optional<config::Rounding>& rounding) {
  if (!rounding) return 1;
  if (rounding->mode == config::RoundingMode::kEnding) return kMinorUnitsPerMajorUnit;
  return rounding->amount;
}

std::variant<std::int64_t, PricingError> checkedResult(Wide minor_units) {
  if (minor_units > kMaxMinorUnits) {
    return PricingError{"marked-up price exceeds the maximum amount 9999999999999.99"};
  }
  return static_cast<std::int64_t>(minor_units);
}

}  // namespace

bool matchesOffer(const config::MarkupMatch& match, const OfferFacts& offer) {
  // NOTE: config::MarkupMatch stores `countries: []` and an absent key alike
  // as an empty list, so an empty list in YAML matches every offer here.
  if (!match.countries.empty() && !coversAnyCountry(match.countries, offer)) return false;
  if (match.sku && *match.sku != offer.sku) return false;
  if (match.region && *match.region != offer.region) return false;
  if (match.profile && *match.profile != offer.profile) return false;
  return true;
}

EffectiveFields resolveFields(const config::Markup& markup, const OfferFacts& offer) {
  const auto winner =
      std::find_if(markup.overrides.begin(), markup.overrides.end(),
                   [&](const config::MarkupOverride& entry) { return matchesOffer(entry.match, offer); });
  if (winner == markup.overrides.end()) return markup.base;

  EffectiveFields fields = winner->fields;
  if (!fields.percent_ten_thousandths) {
    fields.percent_ten_thousandths = markup.base.percent_ten_thousandths;
  }
  inheritUnset(fields.fixed, markup.base.fixed);
  inheritUnset(fields.min_margin, markup.base.min_margin);
  inheritUnset(fields.rounding, markup.base.rounding);
  inheritUnset(fields.price, markup.base.price);
  return fields;
}

std::variant<std::int64_t, PricingError> price(std::int64_t cost_minor_units,
                                               config::Currency currency,
                                               const EffectiveFields& fields) {
  if (cost_minor_units < 0 || cost_minor_units > kMaxMinorUnits) {
    return PricingError{"cost " + std::to_string(cost_minor_units) +
                        " minor units is outside 0 to 999999999999999"};
  }
  if (auto error = validateFields(currency, fields)) return *error;

  const std::size_t index = indexOf(currency);
  const Wide cost = cost_minor_units;
  const Wide floor = cost + fields.min_margin[index].value_or(0);

  // A fixed price replaces the formula and its rounding, but not the floor.
  if (const auto& fixed_price = fields.price[index]) {
    return checkedResult(std::max<Wide>(*fixed_price, floor));
  }

  const Wide percent = fields.percent_ten_thousandths.value_or(0);
  const Wide fixed = fields.fixed[index].value_or(0);
  const Wide raw = cost * (kScale + percent) + fixed * kScale;
  const Wide raised = std::max(raw, floor * kScale);

  // Only half-up rounding to a step can land below the floor, and by less
  // than half a step, so one step up always reaches it.
  const auto& rounding = fields.rounding[index];
  Wide rounded = roundScaled(raised, rounding);
  if (rounded < floor) rounded += stepAbove(rounding);
  return checkedResult(rounded);
}

}  // namespace fdgw::pricing
