#include "api_types.h"

#include <cctype>
#include <algorithm>
#include <charconv>

namespace fdsim {

ApiResponse successResponse(Json data, int status, const std::string& message) {
  Json envelope = Json::object();
  envelope["success"] = true;
  if (!message.empty()) envelope["message"] = message;
  envelope["data"] = std::move(data);
  return ApiResponse{status, envelope.dump(), "application/json", {}};
}

ApiResponse errorResponse(int status, const std::string& message) {
  Json envelope = Json::object();
  envelope["success"] = false;
  envelope["message"] = message;
  return ApiResponse{status, envelope.dump(), "application/json", {}};
}

std::optional<PageRequest> parsePageRequest(const ApiRequest& request, ApiResponse& error) {
  PageRequest page;
  if (const auto text = queryValue(request, "page")) {
    const auto value = parseInteger(*text);
    if (!value || *value < 1 || *value > 1'000'000'000) {
      error = errorResponse(400, "Invalid page \"" + *text + "\": expected a whole number from 1");
      return std::nullopt;
    }
    page.page = static_cast<std::size_t>(*value);
  }
  if (const auto text = queryValue(request, "limit")) {
    const auto value = parseInteger(*text);
    if (!value || *value < 1 || *value > static_cast<long long>(kMaxPageLimit)) {
      error = errorResponse(400, "Invalid limit \"" + *text + "\": expected a whole number from 1 to 500");
      return std::nullopt;
    }
    page.limit = static_cast<std::size_t>(*value);
  }
  return page;
}

std::pair<std::size_t, std::size_t> pageRange(const PageRequest& page, std::size_t total) {
  const std::size_t begin = std::min(total, (page.page - 1) * page.limit);
  return {begin, std::min(total, begin + page.limit)};
}

ApiResponse pageSliceResponse(Json page_items, const PageRequest& page, std::size_t total) {
  Json envelope = Json::object();
  envelope["success"] = true;
  envelope["data"] = std::move(page_items);
  envelope["pagination"] = Json{{"page", page.page}, {"limit", page.limit}, {"total", total}};
  return ApiResponse{200, envelope.dump(), "application/json", {}};
}

namespace {

template <typename Item, typename Copy>
ApiResponse buildPage(const std::vector<Item>& items, const PageRequest& page, Copy copy) {
  Json data = Json::array();
  const auto [begin, end] = pageRange(page, items.size());
  for (std::size_t i = begin; i < end; ++i) data.push_back(copy(items[i]));
  return pageSliceResponse(std::move(data), page, items.size());
}

}  // namespace

ApiResponse pageResponse(const std::vector<Json>& items, const PageRequest& page) {
  return buildPage(items, page, [](const Json& item) { return item; });
}

ApiResponse pageResponse(const std::vector<const Json*>& items, const PageRequest& page) {
  return buildPage(items, page, [](const Json* item) { return *item; });
}

std::optional<Json> parseObjectBody(const ApiRequest& request, ApiResponse& error) {
  Json body = Json::parse(request.body, nullptr, false);
  if (body.is_discarded()) {
    error = errorResponse(400, "Request body is not valid JSON");
    return std::nullopt;
  }
  if (!body.is_object()) {
    error = errorResponse(400, "Request body must be a JSON object");
    return std::nullopt;
  }
  return body;
}

std::optional<std::string> queryValue(const ApiRequest& request, const std::string& name) {
  const auto found = request.query.find(name);
  if (found == request.query.end()) return std::nullopt;
  return found->second;
}

std::optional<long long> parseInteger(const std::string& text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

std::optional<double> parseNumber(const std::string& text) {
  if (text.empty() || text.size() > 32 || !std::isdigit(static_cast<unsigned char>(text.front()))) {
    return std::nullopt;
  }
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string percentDecode(const std::string& text) {
  std::string result;
  result.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      result.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      result.push_back(static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      result.push_back(c);
    }
  }
  return result;
}

std::map<std::string, std::string> parseQueryString(const std::string& query) {
  std::map<std::string, std::string> result;
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string pair = query.substr(start, end - start);
    if (!pair.empty()) {
      const std::size_t equals = pair.find('=');
      const std::string name = percentDecode(pair.substr(0, equals));
      const std::string value = equals == std::string::npos ? "" : percentDecode(pair.substr(equals + 1));
      // The first occurrence of a repeated name wins.
      result.emplace(name, value);
    }
    start = end + 1;
  }
  return result;
}

}  // namespace fdsim
