#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace fdgw::common {

// One proxied FullDatos endpoint. `id` is the stable route id used in
// policies and as the `route` metric label; `path` is the template with
// `{name}` parameters.
struct RouteSpec {
  std::string_view id;
  std::string_view method;
  std::string_view path;
};

inline constexpr std::array<RouteSpec, 29> kRoutes{{
    {"users.list", "GET", "/users"},
    {"users.get", "GET", "/users/{user_id}"},
    {"users.update", "PUT", "/users/{user_id}"},
    {"users.delete", "DELETE", "/users/{user_id}"},
    {"orders.create", "POST", "/orders"},
    {"orders.list", "GET", "/orders"},
    {"orders.get", "GET", "/orders/{order_id}"},
    {"esims.list", "GET", "/esims"},
    {"esims.get", "GET", "/esims/{esim_id}"},
    {"bundles.list", "GET", "/bundles"},
    {"bundles.get", "GET", "/bundles/{bundle_id}"},
    {"refunds.create", "POST", "/refund"},
    {"credits.balance", "GET", "/credits/balance"},
    {"credits.transactions", "GET", "/credits/transactions"},
    {"status.list", "GET", "/status"},
    {"status.check", "POST", "/status/check"},
    {"tickets.create", "POST", "/tickets"},
    {"tickets.list", "GET", "/tickets"},
    {"tickets.get", "GET", "/tickets/{ticket_id}"},
    {"tickets.categories", "GET", "/tickets/categories"},
    {"catalog.destinations", "GET", "/catalog/destinations"},
    {"catalog.offers.list", "GET", "/catalog/bundle-offers"},
    {"catalog.offers.get", "GET", "/catalog/bundle-offers/{sku}"},
    {"catalog.compatibility", "GET", "/catalog/compatibility"},
    {"analytics.sales", "GET", "/analytics/sales"},
    {"analytics.top_sales", "GET", "/analytics/top-sales"},
    {"analytics.usage", "GET", "/analytics/usage"},
    {"analytics.channels", "GET", "/analytics/channels"},
    {"analytics.export", "GET", "/analytics/export"},
}};

// Index of a route id in kRoutes, or nullopt when the id is unknown.
inline std::optional<std::size_t> routeIndex(std::string_view id) {
  for (std::size_t i = 0; i < kRoutes.size(); ++i) {
    if (kRoutes[i].id == id) return i;
  }
  return std::nullopt;
}

}  // namespace fdgw::common
