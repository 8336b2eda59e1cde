#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fdgw::spend {

// Parses a USD amount written in dollars with at most two decimals, such as
// "25", "25.5" or "-3.25", into cents. A leading '-' is accepted only when
// `allow_negative`. Returns nullopt for any other text and for amounts
// above 9,999,999,999.99 in magnitude.
std::optional<std::int64_t> parseUsdAmount(std::string_view text, bool allow_negative);

// Writes cents as dollars with two decimals: 2550 -> "25.50", -5 -> "-0.05".
std::string formatUsd(std::int64_t cents);

}  // namespace fdgw::spend
