#include "gateway/common/list_page.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "gateway/common/text.h"

namespace fdgw::common {
namespace {

constexpr std::int64_t kMaxPage = 1'000'000'000;

Error invalid(std::string message) { return Error{ErrorCode::kBadRequest, std::move(message), ""}; }

}  // namespace

std::optional<std::int64_t> parseWholeNumber(const std::string& text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

QueryParameters decodeQuery(const std::vector<std::pair<std::string, std::string>>& raw) {
  QueryParameters query;
  for (const auto& [raw_name, raw_value] : raw) {
    auto name = percentDecode(raw_name);
    auto value = percentDecode(raw_value);
    if (name && value) query.emplace_back(std::move(*name), std::move(*value));
  }
  std::sort(query.begin(), query.end());
  return query;
}

const std::string* firstParameter(const QueryParameters& query, std::string_view name) {
  for (const auto& [key, value] : query) {
    if (key == name) return &value;
  }
  return nullptr;
}

std::variant<ListPage, Error> readListPage(const QueryParameters& query) {
  ListPage page;
  if (const std::string* text = firstParameter(query, "page")) {
    const auto value = parseWholeNumber(*text);
    if (!value || *value < 1 || *value > kMaxPage) {
      return invalid("Invalid page \"" + *text + "\": expected a whole number from 1");
    }
    page.page = *value;
  }
  if (const std::string* text = firstParameter(query, "limit")) {
    const auto value = parseWholeNumber(*text);
    if (!value || *value < 1 || *value > kMaxListLimit) {
      return invalid("Invalid limit \"" + *text + "\": expected a whole number from 1 to 500");
    }
    page.limit = *value;
  }
  return page;
}

std::string listEnvelope(const std::vector<std::string_view>& items, const ListPage& page, std::size_t total) {
  std::size_t size = 80;
  for (std::string_view item : items) size += item.size() + 1;
  std::string body;
  body.reserve(size);
  body += R"({"success":true,"data":[)";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) body += ',';
    body += items[i];
  }
  body += R"(],"pagination":{"page":)" + std::to_string(page.page) + R"(,"limit":)" + std::to_string(page.limit) +
          R"(,"total":)" + std::to_string(total) + "}}";
  return body;
}

}  // namespace fdgw::common
