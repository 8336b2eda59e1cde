// POST /refund with its four modes:
//   {"esim_id"}                 every bundle of the eSIM that is not refunded yet
//   {"esim_id", "bundle_ids"}   the listed bundles of that eSIM
//   {"order_id"}                every bundle of the order that is not refunded yet
//   {"order_id", "esim_ids"}    every bundle of the listed eSIMs of that order
// Ids that the request lists explicitly must not be refunded already (409).
// The whole-eSIM and whole-order modes skip refunded bundles and return 409
// only when nothing is left to refund.

#include <set>

#include "handlers.h"
#include "serializers.h"
#include "simulator.h"

namespace fdsim {

namespace {

struct RefundRequest {
  std::optional<std::string> esim_id;
  std::optional<std::string> order_id;
  std::optional<std::vector<std::string>> bundle_ids;
  std::optional<std::vector<std::string>> esim_ids;
};

bool isPresent(const Json& body, const char* field) { return body.contains(field) && !body[field].is_null(); }

// Reads a non-empty array of distinct non-empty strings.
std::optional<std::vector<std::string>> readIdList(const Json& value) {
  if (!value.is_array() || value.empty()) return std::nullopt;
  std::vector<std::string> ids;
  std::set<std::string> seen;
  for (const Json& item : value) {
    if (!item.is_string() || item.get<std::string>().empty() || !seen.insert(item.get<std::string>()).second) {
      return std::nullopt;
    }
    ids.push_back(item.get<std::string>());
  }
  return ids;
}

std::optional<RefundRequest> parseRefundRequest(const Json& body, ApiResponse& error) {
  const bool by_esim = isPresent(body, "esim_id");
  const bool by_order = isPresent(body, "order_id");
  if (by_esim && by_order) {
    error = errorResponse(400, "Provide either esim_id or order_id, not both");
    return std::nullopt;
  }
  if (!by_esim && !by_order) {
    error = errorResponse(400, "Provide esim_id or order_id");
    return std::nullopt;
  }

  const char* id_field = by_esim ? "esim_id" : "order_id";
  const char* list_field = by_esim ? "bundle_ids" : "esim_ids";
  const char* foreign_list = by_esim ? "esim_ids" : "bundle_ids";
  if (!body[id_field].is_string() || body[id_field].get<std::string>().empty()) {
    error = errorResponse(400, std::string("Field ") + id_field + " must be a non-empty string");
    return std::nullopt;
  }
  if (isPresent(body, foreign_list)) {
    error = errorResponse(400, std::string("Field ") + foreign_list + " is only valid with " +
                                   (by_esim ? "order_id" : "esim_id"));
    return std::nullopt;
  }

  RefundRequest refund;
  (by_esim ? refund.esim_id : refund.order_id) = body[id_field].get<std::string>();
  if (isPresent(body, list_field)) {
    auto ids = readIdList(body[list_field]);
    if (!ids) {
      error = errorResponse(400, std::string("Field ") + list_field + " must be a non-empty array of distinct ids");
      return std::nullopt;
    }
    (by_esim ? refund.bundle_ids : refund.esim_ids) = std::move(ids);
  }
  return refund;
}

// Appends the bundles of `esim` that are not refunded yet.
void collectOpenBundles(Store& store, const Esim& esim, std::vector<Bundle*>& bundles) {
  for (const std::string& bundle_id : esim.bundle_ids) {
    Bundle* bundle = store.bundles.find(bundle_id);
    if (bundle != nullptr && bundle->status != "refunded") bundles.push_back(bundle);
  }
}

// Finds the bundles to refund, or fills `error` with a 404 or 409 response.
std::optional<std::vector<Bundle*>> selectBundles(Store& store, const RefundRequest& refund, ApiResponse& error) {
  std::vector<Bundle*> bundles;
  if (refund.esim_id) {
    const Esim* esim = store.esims.find(*refund.esim_id);
    if (esim == nullptr) {
      error = errorResponse(404, "eSIM " + *refund.esim_id + " not found");
      return std::nullopt;
    }
    if (!refund.bundle_ids) {
      collectOpenBundles(store, *esim, bundles);
      if (bundles.empty()) error = errorResponse(409, "eSIM " + esim->id + " has no bundles left to refund");
      return bundles.empty() ? std::nullopt : std::optional(bundles);
    }
    for (const std::string& bundle_id : *refund.bundle_ids) {
      Bundle* bundle = store.bundles.find(bundle_id);
      if (bundle == nullptr || bundle->esim_id != esim->id) {
        error = errorResponse(404, "Bundle " + bundle_id + " not found on eSIM " + esim->id);
        return std::nullopt;
      }
      if (bundle->status == "refunded") {
        error = errorResponse(409, "Bundle " + bundle_id + " is already refunded");
        return std::nullopt;
      }
      bundles.push_back(bundle);
    }
    return bundles;
  }

  const Order* order = store.orders.find(*refund.order_id);
  if (order == nullptr) {
    error = errorResponse(404, "Order " + *refund.order_id + " not found");
    return std::nullopt;
  }
  if (!refund.esim_ids) {
    for (const std::string& esim_id : order->esim_ids) {
      if (const Esim* esim = store.esims.find(esim_id)) collectOpenBundles(store, *esim, bundles);
    }
    if (bundles.empty()) error = errorResponse(409, "Order " + order->id + " has no bundles left to refund");
    return bundles.empty() ? std::nullopt : std::optional(bundles);
  }
  for (const std::string& esim_id : *refund.esim_ids) {
    const Esim* esim = store.esims.find(esim_id);
    if (esim == nullptr || esim->order_id != order->id) {
      error = errorResponse(404, "eSIM " + esim_id + " not found in order " + order->id);
      return std::nullopt;
    }
    const std::size_t before = bundles.size();
    collectOpenBundles(store, *esim, bundles);
    if (bundles.size() == before) {
      error = errorResponse(409, "eSIM " + esim_id + " is already refunded");
      return std::nullopt;
    }
  }
  return bundles;
}

}  // namespace

ApiResponse createRefund(Simulator& simulator, const ApiRequest& request, const PathParams&) {
  ApiResponse error;
  const auto body = parseObjectBody(request, error);
  if (!body) return error;
  const auto refund = parseRefundRequest(*body, error);
  if (!refund) return error;

  Store& store = simulator.store;
  std::lock_guard lock(store.mutex);
  const auto bundles = selectBundles(store, *refund, error);
  if (!bundles) return error;

  // Every selected bundle belongs to one eSIM, and so to one order.
  const std::string now = formatTimestamp(Clock::now());
  const std::string order_id = bundles->front()->order_id;
  Money amount;
  Json items = Json::array();
  for (Bundle* bundle : *bundles) {
    bundle->status = "refunded";
    amount += bundle->price;
    items.push_back(Json{{"bundle_id", bundle->id},
                         {"esim_id", bundle->esim_id},
                         {"sku", bundle->sku},
                         {"amount", moneyToJson(bundle->price)}});
  }
  for (Bundle* bundle : *bundles) {
    Esim* esim = store.esims.find(bundle->esim_id);
    if (esim == nullptr) continue;
    std::vector<Bundle*> open;
    collectOpenBundles(store, *esim, open);
    if (open.empty()) esim->status = "refunded";
  }

  // Copies, because the second insert may move the first.
  const Transaction usd = store.recordTransaction("refund", "usd", amount.usd_cents, order_id, now);
  const Transaction mxn = store.recordTransaction("refund", "mxn", amount.mxn_cents, order_id, now);
  Json transactions = Json::array({transactionToJson(usd), transactionToJson(mxn)});
  if (Order* order = store.orders.find(order_id)) {
    order->transaction_ids.push_back(usd.id);
    order->transaction_ids.push_back(mxn.id);
  }

  Json data = Json::object();
  data["refund_id"] = store.ids.next("rfd_");
  data["order_id"] = order_id;
  data["amount"] = moneyToJson(amount);
  data["items"] = std::move(items);
  data["transactions"] = std::move(transactions);
  data["created_at"] = now;
  return successResponse(std::move(data), 200, "Refund completed");
}

}  // namespace fdsim
