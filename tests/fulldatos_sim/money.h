// Money in integer cents and the fixed USD to MXN exchange rate.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace fdsim {

using Json = nlohmann::ordered_json;

// An amount in both currencies, each in cents (1/100 of the major unit).
struct Money {
  std::int64_t usd_cents = 0;
  std::int64_t mxn_cents = 0;

  Money& operator+=(const Money& other) {
    usd_cents += other.usd_cents;
    mxn_cents += other.mxn_cents;
    return *this;
  }
  Money& operator-=(const Money& other) {
    usd_cents -= other.usd_cents;
    mxn_cents -= other.mxn_cents;
    return *this;
  }
  friend Money operator+(Money a, const Money& b) { return a += b; }
  friend Money operator*(Money a, std::int64_t factor) {
    a.usd_cents *= factor;
    a.mxn_cents *= factor;
    return a;
  }
  friend bool operator==(const Money&, const Money&) = default;
};

// MXN per USD, stored in units of 1/10000 so that "18.25" is exact.
class ExchangeRate {
 public:
  static constexpr std::int64_t kScale = 10000;

  explicit ExchangeRate(std::int64_t mxn_per_usd_scaled) : scaled_(mxn_per_usd_scaled) {}

  // Parses a positive decimal with at most four decimals, such as "18.25".
  static std::optional<ExchangeRate> parse(std::string_view text);

  // Converts USD cents to MXN cents, rounding half up to the cent.
  std::int64_t toMxnCents(std::int64_t usd_cents) const;

  // Returns a Money whose MXN side is derived from `usd_cents`.
  Money fromUsd(std::int64_t usd_cents) const { return Money{usd_cents, toMxnCents(usd_cents)}; }

  std::string toString() const;
  double toDouble() const { return static_cast<double>(scaled_) / kScale; }

 private:
  std::int64_t scaled_;
};

// Parses a non-negative decimal with at most two decimals ("10000", "4.5")
// into cents.
std::optional<std::int64_t> parseCents(std::string_view text);

// Converts a JSON number in major units to cents, rounding half away from
// zero. Returns nothing for values with more than two decimals.
std::optional<std::int64_t> centsFromJsonNumber(double value);

// A JSON number in major units for `cents`. nlohmann prints doubles in their
// shortest round-trip form, so 1234 cents prints as 12.34.
Json centsToJson(std::int64_t cents);

// {"usd": ..., "mxn": ...}
Json moneyToJson(const Money& money);

// Fixed two-decimal text for CSV output, such as "12.30" or "-4.50".
std::string formatCents(std::int64_t cents);

}  // namespace fdsim
