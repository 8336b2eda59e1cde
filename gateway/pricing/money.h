#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "gateway/config/markup_config.h"

namespace fdgw::pricing {

// Largest amount the gateway accepts or produces, in minor units:
// 9,999,999,999,999.99, the same bound the policy YAML puts on amounts. Up to
// this size an amount has at most 15 significant digits, so the nearest
// double prints back as the same decimal text.
inline constexpr std::int64_t kMaxMinorUnits = 999'999'999'999'999;

// Both currencies use two decimals: 100 cents per dollar, 100 centavos per peso.
inline constexpr std::int64_t kMinorUnitsPerMajorUnit = 100;

// A pricing failure. `message` names the value that failed. It is meant for
// the operator's log, not for tenants, because it may contain upstream data.
struct PricingError {
  std::string message;
};

// An amount in both currencies, as the upstream sends every price:
// {"usd": 4.5, "mxn": 81.9}. Amounts are integer minor units.
struct Money {
  std::int64_t usd = 0;  // cents
  std::int64_t mxn = 0;  // centavos

  std::int64_t amount(config::Currency currency) const;
  std::int64_t& amount(config::Currency currency);

  bool operator==(const Money&) const = default;
};

// Converts one JSON number in major units, such as 4.5 or 12, to minor units.
// A floating-point number is read from its shortest round-trip decimal text,
// so 19.99 becomes 1999 exactly. Rejects non-numbers, negative amounts,
// amounts with more than two decimals and amounts above kMaxMinorUnits.
// NOTE: nlohmann::json keeps only the double, so text with more than 15
// significant digits, such as 19.999999999999999999, reads as 20 and passes.
std::variant<std::int64_t, PricingError> parseMinorUnits(const nlohmann::json& number);

// Converts minor units to a JSON number in major units that serialises with
// at most two decimals and no trailing zeros: 2399 -> 23.99, 450 -> 4.5,
// 1200 -> 12 (an integer). The text is exact for amounts within
// ±kMaxMinorUnits.
nlohmann::json minorUnitsToJson(std::int64_t minor_units);

// Reads a money object. Both "usd" and "mxn" are required, other keys are
// ignored, and an error names the currency key that failed.
std::variant<Money, PricingError> parseMoney(const nlohmann::json& object);

// Writes {"usd": ..., "mxn": ...} with minorUnitsToJson for each amount.
nlohmann::json moneyToJson(const Money& money);

}  // namespace fdgw::pricing
