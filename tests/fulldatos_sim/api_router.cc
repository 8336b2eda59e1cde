#include "api_router.h"

#include <algorithm>

#include "handlers.h"

namespace fdsim {

namespace {

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> segments;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

bool isParameter(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Matches one template; fills `params` on success. `literal_count` counts the
// literal segments, so that the most specific template can win.
bool matchTemplate(const std::vector<std::string>& pattern, const std::vector<std::string>& segments,
                   PathParams& params, int& literal_count) {
  if (pattern.size() != segments.size()) return false;
  literal_count = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (isParameter(pattern[i])) {
      if (segments[i].empty()) return false;
      params[pattern[i].substr(1, pattern[i].size() - 2)] = segments[i];
    } else if (pattern[i] == segments[i]) {
      ++literal_count;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

ApiRouter::ApiRouter() {
  const std::vector<std::pair<std::string, HandlerFunction>> table = {
      {"GET /users", listUsers},
      {"GET /users/{user_id}", getUser},
      {"PUT /users/{user_id}", updateUser},
      {"DELETE /users/{user_id}", deleteUser},
      {"POST /orders", createOrder},
      {"GET /orders", listOrders},
      {"GET /orders/{order_id}", getOrder},
      {"GET /esims", listEsims},
      {"GET /esims/{esim_id}", getEsim},
      {"GET /bundles", listBundles},
      {"GET /bundles/{bundle_id}", getBundle},
      {"POST /refund", createRefund},
      {"GET /credits/balance", getBalance},
      {"GET /credits/transactions", listTransactions},
      {"GET /status", listStatus},
      {"POST /status/check", runStatusCheck},
      {"POST /tickets", createTicket},
      {"GET /tickets", listTickets},
      {"GET /tickets/categories", listTicketCategories},
      {"GET /tickets/{ticket_id}", getTicket},
      {"GET /catalog/destinations", listDestinations},
      {"GET /catalog/bundle-offers", listBundleOffers},
      {"GET /catalog/bundle-offers/{sku}", getBundleOffer},
      {"GET /catalog/compatibility", listCompatibility},
      {"GET /analytics/sales", getSalesAnalytics},
      {"GET /analytics/top-sales", getTopSalesAnalytics},
      {"GET /analytics/usage", getUsageAnalytics},
      {"GET /analytics/channels", getChannelAnalytics},
      {"GET /analytics/export", exportAnalytics},
  };
  for (const auto& [key, handler] : table) {
    const std::size_t space = key.find(' ');
    const std::string path_template = key.substr(space + 1);
    routes_.push_back(Route{key.substr(0, space), path_template, handler, key, splitPath(path_template)});
  }
}

RouteMatch ApiRouter::match(const std::string& method, const std::string& path) const {
  std::string normalized = path;
  if (normalized.size() > 1 && normalized.back() == '/') normalized.pop_back();
  const std::vector<std::string> segments = splitPath(normalized);

  RouteMatch result;
  int best_literals = -1;
  int best_literals_any_method = -1;
  std::vector<std::string> methods_of_best_path;
  for (const Route& route : routes_) {
    PathParams params;
    int literals = 0;
    if (!matchTemplate(route.segments, segments, params, literals)) continue;

    // Track the methods of the most specific matching template for 405.
    if (literals > best_literals_any_method) {
      best_literals_any_method = literals;
      methods_of_best_path.clear();
    }
    if (literals == best_literals_any_method) methods_of_best_path.push_back(route.method);

    if (route.method == method && literals > best_literals) {
      best_literals = literals;
      result.kind = RouteMatch::Kind::kFound;
      result.route = &route;
      result.params = std::move(params);
    }
  }

  if (result.kind == RouteMatch::Kind::kFound && best_literals == best_literals_any_method) return result;
  if (best_literals_any_method < 0) return RouteMatch{};

  // A more specific template exists for this path, but not for this method:
  // for example DELETE /tickets/categories.
  RouteMatch not_allowed;
  not_allowed.kind = RouteMatch::Kind::kMethodNotAllowed;
  not_allowed.allowed_methods = std::move(methods_of_best_path);
  return not_allowed;
}

}  // namespace fdsim
