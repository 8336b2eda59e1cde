#include "gateway/spend/usd_amount.h"

#include <cstdio>

namespace fdgw::spend {
namespace {

// Ten digits of dollars keep every wallet change far from int64 overflow.
constexpr std::size_t kMaxDollarDigits = 10;

}  // namespace

std::optional<std::int64_t> parseUsdAmount(std::string_view text, bool allow_negative) {
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    if (!allow_negative) return std::nullopt;
    negative = true;
    text.remove_prefix(1);
  }
  const auto point = text.find('.');
  const std::string_view dollars = text.substr(0, point);
  const std::string_view cents =
      point == std::string_view::npos ? std::string_view() : text.substr(point + 1);
  if (dollars.empty() || dollars.size() > kMaxDollarDigits) return std::nullopt;
  if (point != std::string_view::npos && (cents.empty() || cents.size() > 2)) return std::nullopt;
  for (std::string_view part : {dollars, cents}) {
    for (char c : part) {
      if (c < '0' || c > '9') return std::nullopt;
    }
  }

  std::int64_t value = 0;
  for (char c : dollars) value = value * 10 + (c - '0');
  value *= 100;
  if (cents.size() >= 1) value += (cents[0] - '0') * 10;
  if (cents.size() == 2) value += cents[1] - '0';
  return negative ? -value : value;
}

std::string formatUsd(std::int64_t cents) {
  const bool negative = cents < 0;
  const std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(cents) : static_cast<std::uint64_t>(cents);
  char text[32];
  std::snprintf(text, sizeof text, "%s%llu.%02llu", negative ? "-" : "",
                static_cast<unsigned long long>(magnitude / 100),
                static_cast<unsigned long long>(magnitude % 100));
  return text;
}

}  // namespace fdgw::spend
