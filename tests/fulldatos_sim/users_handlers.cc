// GET /users, GET, PUT and DELETE /users/{user_id}.

#include <algorithm>
#include <unordered_set>

#include "handlers.h"
#include "serializers.h"
#include "simulator.h"

namespace fdsim {

ApiResponse listUsers(Simulator& simulator, const ApiRequest& request, const PathParams&) {
  ApiResponse error;
  const auto page = parsePageRequest(request, error);
  if (!page) return error;
  const auto reference_id = queryValue(request, "reference_id");

  Store& store = simulator.store;
  std::lock_guard lock(store.mutex);
  std::vector<Json> users;
  for (const User& user : store.users.items()) {
    if (reference_id && user.reference_id != *reference_id) continue;
    users.push_back(userToJson(user));
  }
  return pageResponse(users, *page);
}

ApiResponse getUser(Simulator& simulator, const ApiRequest&, const PathParams& params) {
  const std::string& user_id = params.at("user_id");
  Store& store = simulator.store;
  std::lock_guard lock(store.mutex);
  const User* user = store.users.find(user_id);
  if (user == nullptr) return errorResponse(404, "User " + user_id + " not found");

  Json data = userToJson(*user);
  Json esims = Json::array();
  for (const Esim& esim : store.esims.items()) {
    if (esim.user_id == user_id) esims.push_back(esimToJson(store, esim, false));
  }
  Json orders = Json::array();
  for (const Order& order : store.orders.items()) {
    if (order.user_id == user_id) orders.push_back(orderToJson(store, order));
  }
  data["esims"] = std::move(esims);
  data["orders"] = std::move(orders);
  return successResponse(std::move(data));
}

ApiResponse updateUser(Simulator& simulator, const ApiRequest& request, const PathParams& params) {
  ApiResponse error;
  const auto body = parseObjectBody(request, error);
  if (!body) return error;
  if (!body->contains("reference_id") || !(*body)["reference_id"].is_string() ||
      (*body)["reference_id"].get<std::string>().empty()) {
    return errorResponse(400, "Field reference_id is required and must be a non-empty string");
  }
  const std::string new_reference = (*body)["reference_id"].get<std::string>();

  const std::string& user_id = params.at("user_id");
  Store& store = simulator.store;
  std::lock_guard lock(store.mutex);
  User* user = store.users.find(user_id);
  if (user == nullptr) return errorResponse(404, "User " + user_id + " not found");

  const auto owner = store.user_id_by_reference.find(new_reference);
  if (owner != store.user_id_by_reference.end() && owner->second != user_id) {
    return errorResponse(409, "Reference id " + new_reference + " already belongs to another user");
  }
  store.user_id_by_reference.erase(user->reference_id);
  user->reference_id = new_reference;
  store.user_id_by_reference[new_reference] = user_id;
  return successResponse(userToJson(*user), 200, "User updated");
}

// Removes the user with its orders, eSIMs and bundles. Credit transactions
// stay, because they are the organization's ledger.
ApiResponse deleteUser(Simulator& simulator, const ApiRequest&, const PathParams& params) {
  const std::string user_id = params.at("user_id");
  Store& store = simulator.store;
  std::lock_guard lock(store.mutex);
  const User* user = store.users.find(user_id);
  if (user == nullptr) return errorResponse(404, "User " + user_id + " not found");

  std::unordered_set<std::string> esim_ids;
  for (const Esim& esim : store.esims.items()) {
    if (esim.user_id == user_id) esim_ids.insert(esim.id);
  }
  store.bundles.eraseIf([&](const Bundle& bundle) { return esim_ids.contains(bundle.esim_id); });
  store.esims.eraseIf([&](const Esim& esim) { return esim.user_id == user_id; });
  store.orders.eraseIf([&](const Order& order) { return order.user_id == user_id; });
  store.user_id_by_reference.erase(user->reference_id);
  store.users.eraseIf([&](const User& candidate) { return candidate.id == user_id; });
  return successResponse(Json{{"user_id", user_id}}, 200, "User deleted");
}

}  // namespace fdsim
