#include "money.h"

#include <cmath>
#include <cstdio>

namespace fdsim {

namespace {

// Parses "<digits>[.<digits>]" with at most `max_decimals` decimals into an
// integer scaled by 10^max_decimals. Rejects signs, exponents and overflow.
std::optional<std::int64_t> parseScaledDecimal(std::string_view text, int max_decimals) {
  if (text.empty()) return std::nullopt;

  std::int64_t whole = 0;
  std::size_t pos = 0;
  for (; pos < text.size() && text[pos] != '.'; ++pos) {
    const char c = text[pos];
    if (c < '0' || c > '9') return std::nullopt;
    if (whole > 100'000'000'000LL) return std::nullopt;
    whole = whole * 10 + (c - '0');
  }
  if (pos == 0) return std::nullopt;

  std::int64_t fraction = 0;
  int decimals = 0;
  if (pos < text.size()) {
    ++pos;
    if (pos == text.size()) return std::nullopt;
    for (; pos < text.size(); ++pos) {
      const char c = text[pos];
      if (c < '0' || c > '9' || decimals == max_decimals) return std::nullopt;
      fraction = fraction * 10 + (c - '0');
      ++decimals;
    }
  }

  std::int64_t scale = 1;
  for (int i = 0; i < max_decimals; ++i) scale *= 10;
  for (int i = decimals; i < max_decimals; ++i) fraction *= 10;
  return whole * scale + fraction;
}

}  // namespace

std::optional<ExchangeRate> ExchangeRate::parse(std::string_view text) {
  const auto scaled = parseScaledDecimal(text, 4);
  if (!scaled || *scaled <= 0) return std::nullopt;
  return ExchangeRate(*scaled);
}

std::int64_t ExchangeRate::toMxnCents(std::int64_t usd_cents) const {
  // usd_cents * scaled_ is in units of 1/10000 cent; add half a cent before
  // the division so that positive values round half up. Negative amounts are
  // converted by symmetry.
  const bool negative = usd_cents < 0;
  const std::int64_t magnitude = negative ? -usd_cents : usd_cents;
  const std::int64_t mxn = (magnitude * scaled_ + kScale / 2) / kScale;
  return negative ? -mxn : mxn;
}

std::string ExchangeRate::toString() const {
  char text[48];
  std::snprintf(text, sizeof text, "%lld.%04lld", static_cast<long long>(scaled_ / kScale),
                static_cast<long long>(scaled_ % kScale));
  std::string result(text);
  while (result.back() == '0') result.pop_back();
  if (result.back() == '.') result.pop_back();
  return result;
}

std::optional<std::int64_t> parseCents(std::string_view text) { return parseScaledDecimal(text, 2); }

std::optional<std::int64_t> centsFromJsonNumber(double value) {
  if (!std::isfinite(value) || std::fabs(value) > 1e12) return std::nullopt;
  const double scaled = value * 100.0;
  const double rounded = std::round(scaled);
  // A value such as 4.5 or 12.34 is a whole number of cents up to a tiny
  // relative error. A larger difference means a third decimal.
  if (std::fabs(scaled - rounded) > 1e-6 * std::max(1.0, std::fabs(scaled))) return std::nullopt;
  return static_cast<std::int64_t>(rounded);
}

Json centsToJson(std::int64_t cents) {
  if (cents % 100 == 0) return Json(cents / 100);
  return Json(static_cast<double>(cents) / 100.0);
}

Json moneyToJson(const Money& money) {
  Json result = Json::object();
  result["usd"] = centsToJson(money.usd_cents);
  result["mxn"] = centsToJson(money.mxn_cents);
  return result;
}

std::string formatCents(std::int64_t cents) {
  const bool negative = cents < 0;
  const std::int64_t magnitude = negative ? -cents : cents;
  char text[40];
  std::snprintf(text, sizeof text, "%s%lld.%02lld", negative ? "-" : "",
                static_cast<long long>(magnitude / 100), static_cast<long long>(magnitude % 100));
  return text;
}

}  // namespace fdsim
