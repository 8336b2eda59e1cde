#include "gateway/pricing/money.h"

#include <array>
#include <charconv>
#include <cmath>
#include <string_view>
#include <utility>

namespace fdgw::pricing {
namespace {

constexpr std::int64_t kMaxMajorUnits = kMaxMinorUnits / kMinorUnitsPerMajorUnit;

constexpr std::array<std::pair<config::Currency, std::string_view>, 2> kCurrencyKeys{{
    {config::Currency::kUsd, "usd"},
    {config::Currency::kMxn, "mxn"},
}};

PricingError invalidAmount(const nlohmann::json& number, std::string_view problem) {
  return PricingError{"amount " + number.dump() + " " + std::string(problem)};
}

bool isDigits(std::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Reads fixed-notation text without a sign ("19.99", "12", "0.000001") into
// minor units. `number` is only used for error messages.
std::variant<std::int64_t, PricingError> minorUnitsFromText(std::string_view text,
                                                            const nlohmann::json& number) {
  const std::size_t point = text.find('.');
  const std::string_view whole = text.substr(0, point);
  const std::string_view fraction =
      point == std::string_view::npos ? std::string_view() : text.substr(point + 1);

  if (whole.empty() || !isDigits(whole) || !isDigits(fraction)) {
    return invalidAmount(number, "is not a plain decimal number");
  }
  if (fraction.size() > 2) return invalidAmount(number, "has more than two decimals");
  // The caller's range check leaves at most 13 whole digits. This guard keeps
  // the conversion below from overflowing if that check ever changes.
  if (whole.size() > 13) return invalidAmount(number, "exceeds the maximum 9999999999999.99");

  std::int64_t units = 0;
  for (char c : whole) units = units * 10 + (c - '0');
  units *= kMinorUnitsPerMajorUnit;
  if (fraction.size() >= 1) units += (fraction[0] - '0') * 10;
  if (fraction.size() == 2) units += fraction[1] - '0';
  return units;
}

std::variant<std::int64_t, PricingError> parseFloatingPoint(const nlohmann::json& number) {
  const double value = number.get<double>();
  if (!std::isfinite(value)) return invalidAmount(number, "is not finite");
  if (value < 0) return invalidAmount(number, "is negative");
  if (value == 0) return std::int64_t{0};  // also -0.0
  if (value >= static_cast<double>(kMaxMajorUnits + 1)) {
    return invalidAmount(number, "exceeds the maximum 9999999999999.99");
  }

  // Without a precision, std::to_chars writes the shortest text that reads
  // back as the same double, which is the decimal the upstream wrote whenever
  // that decimal had at most 15 significant digits.
  std::array<char, 64> buffer{};
  const auto [end, error] =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::fixed);
  if (error != std::errc()) return invalidAmount(number, "could not be converted to decimal text");
  return minorUnitsFromText(std::string_view(buffer.data(), end - buffer.data()), number);
}

// Writes minor units as decimal text in major units without trailing zeros
// in the fraction: -2399 -> "-23.99", 450 -> "4.5", 1200 -> "12".
std::string decimalText(std::int64_t minor_units) {
  const bool negative = minor_units < 0;
  // Unsigned arithmetic keeps the magnitude of INT64_MIN representable.
  const std::uint64_t magnitude =
      negative ? 0 - static_cast<std::uint64_t>(minor_units) : static_cast<std::uint64_t>(minor_units);
  const std::uint64_t whole = magnitude / kMinorUnitsPerMajorUnit;
  const std::uint64_t cents = magnitude % kMinorUnitsPerMajorUnit;

  std::string text = negative ? "-" : "";
  text += std::to_string(whole);
  if (cents != 0) {
    text += '.';
    text += static_cast<char>('0' + cents / 10);
    if (cents % 10 != 0) text += static_cast<char>('0' + cents % 10);
  }
  return text;
}

}  // namespace

std::int64_t Money::amount(config::Currency currency) const {
  return currency == config::Currency::kUsd ? usd : mxn;
}

std::int64_t& Money::amount(config::Currency currency) {
  return currency == config::Currency::kUsd ? usd : mxn;
}

std::variant<std::int64_t, PricingError> parseMinorUnits(const nlohmann::json& number) {
  if (number.is_number_float()) return parseFloatingPoint(number);

  if (number.is_number_unsigned()) {
    const auto value = number.get<std::uint64_t>();
    if (value > static_cast<std::uint64_t>(kMaxMajorUnits)) {
      return invalidAmount(number, "exceeds the maximum 9999999999999.99");
    }
    return static_cast<std::int64_t>(value) * kMinorUnitsPerMajorUnit;
  }

  if (number.is_number_integer()) {
    const auto value = number.get<std::int64_t>();
    if (value < 0) return invalidAmount(number, "is negative");
    if (value > kMaxMajorUnits) return invalidAmount(number, "exceeds the maximum 9999999999999.99");
    return value * kMinorUnitsPerMajorUnit;
  }

  return PricingError{"expected a JSON number for an amount, got " + std::string(number.type_name())};
}

nlohmann::json minorUnitsToJson(std::int64_t minor_units) {
  if (minor_units % kMinorUnitsPerMajorUnit == 0) {
    return nlohmann::json(minor_units / kMinorUnitsPerMajorUnit);
  }

  // The double nearest to the decimal text. nlohmann::json serialises a
  // double as its shortest round-trip text, which for amounts within
  // kMaxMinorUnits (at most 15 significant digits) is this same text.
  const std::string text = decimalText(minor_units);
  double value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return nlohmann::json(value);
}

std::variant<Money, PricingError> parseMoney(const nlohmann::json& object) {
  if (!object.is_object()) {
    return PricingError{"expected a money object such as {\"usd\": 4.5, \"mxn\": 81.9}, got " +
                        std::string(object.type_name())};
  }

  Money money;
  for (const auto& [currency, key] : kCurrencyKeys) {
    const auto field = object.find(key);
    if (field == object.end()) {
      return PricingError{"money object is missing \"" + std::string(key) + "\""};
    }
    auto amount = parseMinorUnits(*field);
    if (auto* error = std::get_if<PricingError>(&amount)) {
      return PricingError{std::string(key) + ": " + error->message};
    }
    money.amount(currency) = std::get<std::int64_t>(amount);
  }
  return money;
}

nlohmann::json moneyToJson(const Money& money) {
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [currency, key] : kCurrencyKeys) {
    object[std::string(key)] = minorUnitsToJson(money.amount(currency));
  }
  return object;
}

}  // namespace fdgw::pricing
