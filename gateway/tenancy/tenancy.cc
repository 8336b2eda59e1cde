#include "gateway/tenancy/tenancy.h"

#include "gateway/pricing/json_price_rewriter.h"

namespace fdgw::tenancy {
namespace {

using Json = nlohmann::ordered_json;

std::optional<std::string> ownerFromReference(const Json& value) {
  if (!value.is_string()) return std::nullopt;
  auto parts = splitReference(value.get<std::string>());
  if (!parts) return std::nullopt;
  return parts->first;
}

std::optional<std::string> stringField(const Json& item, std::string_view key) {
  const auto found = item.find(key);
  if (found == item.end() || !found->is_string()) return std::nullopt;
  return found->get<std::string>();
}

void addResource(std::vector<Resource>& out, Kind kind, const Json& item) {
  if (!item.is_object()) return;
  const auto id = stringField(item, idField(kind));
  const auto owner = ownerOf(kind, item);
  if (!id || !owner) return;
  out.push_back(Resource{kind, *id, *owner, item.dump()});
}

// An eSIM as the list routes show it: without its bundles.
void addEsim(std::vector<Resource>& out, const Json& esim) {
  if (!esim.is_object()) return;
  Json listed = esim;
  listed.erase("bundles");
  listed.erase("data_used_mb");
  listed.erase("data_remaining_mb");
  listed.erase("network");
  addResource(out, Kind::kEsim, listed);
  if (const auto bundles = esim.find("bundles"); bundles != esim.end() && bundles->is_array()) {
    for (const Json& bundle : *bundles) addResource(out, Kind::kBundle, bundle);
  }
}

void addOrder(std::vector<Resource>& out, const Json& order) {
  if (!order.is_object()) return;
  addResource(out, Kind::kOrder, order);
  // The order names its user; the user's list entry is made from it.
  const auto user_id = stringField(order, "user_id");
  const auto reference = order.find("reference_id");
  if (user_id && reference != order.end()) {
    Json user = Json::object();
    user["user_id"] = *user_id;
    user["reference_id"] = *reference;
    user["created_at"] = order.value("created_at", "");
    addResource(out, Kind::kUser, user);
    if (!out.empty() && out.back().kind == Kind::kUser) out.back().derived = true;
  }
  if (const auto esims = order.find("esims"); esims != order.end() && esims->is_array()) {
    for (const Json& esim : *esims) addEsim(out, esim);
  }
}

}  // namespace

std::string_view kindName(Kind kind) {
  switch (kind) {
    case Kind::kUser: return "user";
    case Kind::kOrder: return "order";
    case Kind::kEsim: return "esim";
    case Kind::kBundle: return "bundle";
    case Kind::kTicket: return "ticket";
  }
  return "user";
}

std::string_view collectionPath(Kind kind) {
  switch (kind) {
    case Kind::kUser: return "/users";
    case Kind::kOrder: return "/orders";
    case Kind::kEsim: return "/esims";
    case Kind::kBundle: return "/bundles";
    case Kind::kTicket: return "/tickets";
  }
  return "/users";
}

std::string_view idField(Kind kind) {
  switch (kind) {
    case Kind::kUser: return "user_id";
    case Kind::kOrder: return "order_id";
    case Kind::kEsim: return "esim_id";
    case Kind::kBundle: return "bundle_id";
    case Kind::kTicket: return "ticket_id";
  }
  return "user_id";
}

std::string namespacedReference(std::string_view tenant_id, std::string_view reference_id) {
  std::string stored(tenant_id);
  stored += ':';
  stored += reference_id;
  return stored;
}

std::optional<std::pair<std::string, std::string>> splitReference(std::string_view stored) {
  const auto colon = stored.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  return std::pair{std::string(stored.substr(0, colon)), std::string(stored.substr(colon + 1))};
}

std::string taggedSubject(std::string_view tenant_id, std::string_view subject) {
  std::string stored = "[";
  stored += tenant_id;
  stored += "] ";
  stored += subject;
  return stored;
}

std::optional<std::string> ownerOf(Kind kind, const Json& item) {
  if (!item.is_object()) return std::nullopt;
  switch (kind) {
    case Kind::kUser:
    case Kind::kOrder:
      if (const auto found = item.find("reference_id"); found != item.end()) return ownerFromReference(*found);
      return std::nullopt;
    case Kind::kEsim:
    case Kind::kBundle: {
      const auto user = item.find("user");
      if (user == item.end() || !user->is_object()) return std::nullopt;
      const auto reference = user->find("reference_id");
      return reference == user->end() ? std::nullopt : ownerFromReference(*reference);
    }
    case Kind::kTicket: {
      const auto subject = stringField(item, "subject");
      if (!subject || subject->size() < 3 || (*subject)[0] != '[') return std::nullopt;
      const auto close = subject->find("] ");
      if (close == std::string::npos || close == 1) return std::nullopt;
      return subject->substr(1, close - 1);
    }
  }
  return std::nullopt;
}

std::vector<Resource> resourcesIn(std::string_view route_id, const Json& body) {
  std::vector<Resource> out;
  if (!body.is_object()) return out;
  const auto data = body.find("data");
  if (data == body.end()) return out;

  const auto each = [&](const auto& add) {
    if (data->is_array()) {
      for (const Json& item : *data) add(item);
    } else {
      add(*data);
    }
  };
  if (route_id == "orders.create" || route_id == "orders.get" || route_id == "orders.list") {
    each([&](const Json& order) { addOrder(out, order); });
  } else if (route_id == "users.get" || route_id == "users.list" || route_id == "users.update") {
    each([&](const Json& user) {
      if (!user.is_object()) return;
      Json listed = Json::object();
      for (const char* key : {"user_id", "reference_id", "created_at"}) {
        if (user.contains(key)) listed[key] = user[key];
      }
      addResource(out, Kind::kUser, listed);
      if (const auto orders = user.find("orders"); orders != user.end() && orders->is_array()) {
        for (const Json& order : *orders) addOrder(out, order);
      }
      if (const auto esims = user.find("esims"); esims != user.end() && esims->is_array()) {
        for (const Json& esim : *esims) addEsim(out, esim);
      }
    });
  } else if (route_id == "esims.get" || route_id == "esims.list") {
    each([&](const Json& esim) { addEsim(out, esim); });
  } else if (route_id == "bundles.get" || route_id == "bundles.list") {
    each([&](const Json& bundle) { addResource(out, Kind::kBundle, bundle); });
  } else if (route_id == "tickets.create" || route_id == "tickets.get" || route_id == "tickets.list") {
    each([&](const Json& ticket) { addResource(out, Kind::kTicket, ticket); });
  }
  return out;
}

std::variant<std::string, std::string> stripNamespace(std::string_view body, std::string_view tenant_id) {
  const std::string prefix = namespacedReference(tenant_id, "");
  const std::string tag = taggedSubject(tenant_id, "");
  const std::vector<std::string> keys{"reference_id", "subject"};
  auto result = pricing::rewriteStrings(body, keys, [&](const std::string& key, const std::string& value)
                                                        -> std::optional<std::string> {
    const std::string& marker = key == "subject" ? tag : prefix;
    if (value.rfind(marker, 0) != 0) return std::nullopt;
    return value.substr(marker.size());
  });
  if (auto* error = std::get_if<pricing::PricingError>(&result)) return std::variant<std::string, std::string>(std::in_place_index<1>, error->message);
  return std::variant<std::string, std::string>(std::in_place_index<0>, std::move(std::get<std::string>(result)));
}

}  // namespace fdgw::tenancy
