#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace fdgw::tenancy {

// The kinds of upstream resources that belong to one tenant.
enum class Kind { kUser, kOrder, kEsim, kBundle, kTicket };

inline constexpr Kind kAllKinds[] = {Kind::kUser, Kind::kOrder, Kind::kEsim, Kind::kBundle, Kind::kTicket};

// "user", "order", "esim", "bundle" or "ticket".
std::string_view kindName(Kind kind);
// The upstream collection path, such as "/orders".
std::string_view collectionPath(Kind kind);
// The id field of a resource, such as "order_id".
std::string_view idField(Kind kind);

// The reference id stored upstream for a tenant's own reference id:
// "<tenant id>:<reference id>". Tenant ids never contain ':', so the first
// ':' separates the two parts.
std::string namespacedReference(std::string_view tenant_id, std::string_view reference_id);

// Splits a stored reference id into tenant id and the tenant's reference id,
// or std::nullopt when it has no tenant part.
std::optional<std::pair<std::string, std::string>> splitReference(std::string_view stored);

// The ticket subject stored upstream: "[<tenant id>] <subject>".
std::string taggedSubject(std::string_view tenant_id, std::string_view subject);

// Returns the tenant that owns `item`, read from what the upstream stores:
// the namespaced reference id of a user, order, eSIM or bundle, or the tag in
// a ticket's subject. std::nullopt when the item belongs to no tenant.
std::optional<std::string> ownerOf(Kind kind, const nlohmann::ordered_json& item);

// One resource as the ownership index keeps it.
struct Resource {
  Kind kind = Kind::kUser;
  std::string id;
  std::string owner;
  std::string json;  // the upstream's object, as shown by the list routes
  // Set for an entry made up from another resource (a user from its order),
  // which must not replace the upstream's own entry.
  bool derived = false;
};

// Collects the resources that a successful upstream response of `route_id`
// shows: an order with its user, eSIMs and bundles, a user, an eSIM, a
// bundle, a ticket, or the items of a list. Items that belong to no tenant are
// left out.
std::vector<Resource> resourcesIn(std::string_view route_id, const nlohmann::ordered_json& body);

// Rewrites a response body for `tenant_id`: every "reference_id" loses its
// namespace and every ticket "subject" its tag. Fails on invalid JSON.
std::variant<std::string, std::string> stripNamespace(std::string_view body, std::string_view tenant_id);

}  // namespace fdgw::tenancy
