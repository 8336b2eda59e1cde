#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "gateway/common/error.h"

namespace fdgw::common {

// Query parameters after %-decoding, sorted by name and value as the
// upstream receives them.
using QueryParameters = std::vector<std::pair<std::string, std::string>>;

// The page that a list request asks for, with the upstream's rules: "page"
// from 1 (at most 1,000,000,000) and "limit" from 1 to 500, default 50.
struct ListPage {
  std::int64_t page = 1;
  std::int64_t limit = 50;
};

inline constexpr std::int64_t kMaxListLimit = 500;

// Decodes raw query pairs and sorts them. A pair with a malformed %-escape is
// left out, because the request path rejects those before it reads a page.
QueryParameters decodeQuery(const std::vector<std::pair<std::string, std::string>>& raw);

// Reads a non-negative decimal integer of at most 18 digits, with no sign
// or other characters, or returns std::nullopt.
std::optional<std::int64_t> parseWholeNumber(const std::string& text);

// Returns the first value of `name`, or null when the query lacks it.
const std::string* firstParameter(const QueryParameters& query, std::string_view name);

// Reads "page" and "limit". Fails with a 400 bad_request error that names
// the invalid value.
std::variant<ListPage, Error> readListPage(const QueryParameters& query);

// Writes the upstream's list envelope around `items`, which are raw JSON
// values: {"success":true,"data":[...],"pagination":{"page":..,"limit":..,"total":..}}.
std::string listEnvelope(const std::vector<std::string_view>& items, const ListPage& page, std::size_t total);

}  // namespace fdgw::common
