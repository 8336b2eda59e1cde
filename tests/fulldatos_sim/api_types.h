// Request and response values passed between the HTTP layer and the
// handlers, and helpers for the FullDatos envelope.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "money.h"

namespace fdsim {

// A copy of everything a handler needs from the HTTP request, so that it can
// outlive Pistache's request object.
struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::map<std::string, std::string> query;  // percent-decoded
  std::string api_key;
  std::string api_secret;
  std::string body;
};

struct ApiResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// Values captured by "{name}" segments of the matched path template.
using PathParams = std::map<std::string, std::string>;

// {"success": true, ["message": ...,] "data": ...}
ApiResponse successResponse(Json data, int status = 200, const std::string& message = "");

// {"success": false, "message": ...}
ApiResponse errorResponse(int status, const std::string& message);

// Page and limit of a list request.
struct PageRequest {
  std::size_t page = 1;
  std::size_t limit = 50;
};

inline constexpr std::size_t kDefaultPageLimit = 50;
inline constexpr std::size_t kMaxPageLimit = 500;

// Reads "page" (from 1) and "limit" (1 to 500, default 50). On invalid
// values returns nothing and fills `error` with a 400 response.
std::optional<PageRequest> parsePageRequest(const ApiRequest& request, ApiResponse& error);

// Index range [first, second) of the requested page within `total` items.
std::pair<std::size_t, std::size_t> pageRange(const PageRequest& page, std::size_t total);

// A list response whose "data" is `page_items`, already cut to the page, of
// `total` matching items.
ApiResponse pageSliceResponse(Json page_items, const PageRequest& page, std::size_t total);

// A list response: the requested page of `items` as "data" and
// "pagination": {"page", "limit", "total"} beside it.
ApiResponse pageResponse(const std::vector<Json>& items, const PageRequest& page);
ApiResponse pageResponse(const std::vector<const Json*>& items, const PageRequest& page);

// Parses a request body that must be a JSON object. On failure returns
// nothing and fills `error` with a 400 response.
std::optional<Json> parseObjectBody(const ApiRequest& request, ApiResponse& error);

// Returns the query value of `name`, or nothing when absent.
std::optional<std::string> queryValue(const ApiRequest& request, const std::string& name);

// Parses a non-negative decimal integer without sign or spaces.
std::optional<long long> parseInteger(const std::string& text);

// Parses a non-negative decimal number such as "2" or "0.5".
std::optional<double> parseNumber(const std::string& text);

// Decodes %XX escapes and '+' as a space in a query component.
std::string percentDecode(const std::string& text);

// Splits "a=1&b=2" into a map of decoded names and values.
std::map<std::string, std::string> parseQueryString(const std::string& query);

}  // namespace fdsim
