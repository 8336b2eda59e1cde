#pragma once

#include <optional>
#include <variant>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/common/list_page.h"

#include "gateway/common/routes.h"

namespace fdgw::proxy {

struct RouteMatch {
  std::size_t route_index = 0;
  std::vector<std::string> parameters;  // in template order, such as {order_id}
  std::string upstream_path;            // canonical path sent upstream
};

enum class PathProblem { kNotFound, kMalformedEscape };

// Matches a raw request target against the route table on one canonical
// form: %XX escapes are decoded once (so %2F is a separator), empty
// segments from "//" or a trailing "/" are dropped, and literal segments
// compare without regard to case. Dot segments, control characters and
// parameters outside [A-Za-z0-9._~-] (1 to 128 characters) match nothing.
class RouteMatcher {
 public:
  RouteMatcher();

  // `method` is the request method in capitals; `raw_path` is the path of
  // the request line without its query.
  std::variant<RouteMatch, PathProblem> match(std::string_view method,
                                              std::string_view raw_path) const;

 private:
  struct Template {
    std::size_t route_index;
    std::vector<std::string> segments;  // "{name}" marks a parameter
  };
  std::vector<Template> templates_;
};

// Writes %-decoded parameters as a query string in the canonical form below,
// with its '?', or "" when there are none.
std::string encodeQuery(common::QueryParameters decoded);

// Rebuilds a query string from its parameters in a canonical form: names
// sorted, every byte outside the unreserved set percent-encoded. Returns
// nullopt when a name or value has a malformed escape.
std::optional<std::string> canonicalQuery(
    const std::vector<std::pair<std::string, std::string>>& raw_parameters);

}  // namespace fdgw::proxy
