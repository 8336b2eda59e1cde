#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fdgw::common {

std::string_view trim(std::string_view text);
std::vector<std::string_view> split(std::string_view text, char separator);
bool equalsIgnoreCase(std::string_view left, std::string_view right);
std::string toLower(std::string_view text);

// Decodes %XX escapes once. Returns nullopt on a truncated or non-hex escape.
std::optional<std::string> percentDecode(std::string_view text);

// Returns the SHA-256 digest of `data` as 64 lowercase hex characters.
std::string sha256Hex(std::string_view data);

// Compares two byte strings in time that depends only on their lengths.
bool constantTimeEquals(std::string_view left, std::string_view right);

}  // namespace fdgw::common
