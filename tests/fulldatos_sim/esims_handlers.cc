// GET /esims, /esims/{esim_id}, /bundles and /bundles/{bundle_id}.

#include "handlers.h"
#include "serializers.h"
#include "simulator.h"

namespace fdsim {

namespace {

// Serializes the requested page of `table` with `toJson`.
template <typename T, typename ToJson>
ApiResponse listPage(Simulator& simulator, const ApiRequest& request, const Table<T>& table, ToJson toJson) {
  ApiResponse error;
  const auto page = parsePageRequest(request, error);
  if (!page) return error;

  std::lock_guard lock(simulator.store.mutex);
  const auto& items = table.items();
  Json page_items = Json::array();
  const auto [begin, end] = pageRange(*page, items.size());
  for (std::size_t i = begin; i < end; ++i) page_items.push_back(toJson(items[i]));
  return pageSliceResponse(std::move(page_items), *page, items.size());
}

}  // namespace

ApiResponse listEsims(Simulator& simulator, const ApiRequest& request, const PathParams&) {
  const Store& store = simulator.store;
  return listPage(simulator, request, store.esims, [&](const Esim& esim) { return esimToJson(store, esim, false); });
}

ApiResponse getEsim(Simulator& simulator, const ApiRequest&, const PathParams& params) {
  const std::string& esim_id = params.at("esim_id");
  std::lock_guard lock(simulator.store.mutex);
  const Esim* esim = simulator.store.esims.find(esim_id);
  if (esim == nullptr) return errorResponse(404, "eSIM " + esim_id + " not found");
  return successResponse(esimDetailToJson(simulator, *esim));
}

ApiResponse listBundles(Simulator& simulator, const ApiRequest& request, const PathParams&) {
  const Store& store = simulator.store;
  return listPage(simulator, request, store.bundles, [&](const Bundle& bundle) { return bundleToJson(store, bundle); });
}

ApiResponse getBundle(Simulator& simulator, const ApiRequest&, const PathParams& params) {
  const std::string& bundle_id = params.at("bundle_id");
  std::lock_guard lock(simulator.store.mutex);
  const Bundle* bundle = simulator.store.bundles.find(bundle_id);
  if (bundle == nullptr) return errorResponse(404, "Bundle " + bundle_id + " not found");
  return successResponse(bundleToJson(simulator.store, *bundle));
}

}  // namespace fdsim
