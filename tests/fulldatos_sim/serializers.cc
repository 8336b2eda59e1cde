#include "serializers.h"

#include "simulator.h"

namespace fdsim {

namespace {

constexpr const char* kSmdpHost = "smdp.fulldatos-sim.test";

Json optionalString(const std::optional<std::string>& value) { return value ? Json(*value) : Json(nullptr); }

}  // namespace

Json userToJson(const User& user) {
  return Json{{"user_id", user.id}, {"reference_id", user.reference_id}, {"created_at", user.created_at}};
}

Json userRefToJson(const Store& store, const std::string& user_id) {
  const User* user = store.users.find(user_id);
  return Json{{"user_id", user_id}, {"reference_id", user != nullptr ? Json(user->reference_id) : Json(nullptr)}};
}

Json bundleToJson(const Store& store, const Bundle& bundle) {
  const Esim* esim = store.esims.find(bundle.esim_id);
  Json result = Json::object();
  result["bundle_id"] = bundle.id;
  result["sku"] = bundle.sku;
  result["esim_id"] = bundle.esim_id;
  result["iccid"] = esim != nullptr ? Json(esim->iccid) : Json(nullptr);
  result["user"] = esim != nullptr ? userRefToJson(store, esim->user_id) : Json(nullptr);
  result["status"] = bundle.status;
  result["data_total_mb"] = bundle.data_total_mb ? Json(*bundle.data_total_mb) : Json(nullptr);
  result["data_used_mb"] = bundle.data_used_mb;
  result["validity_days"] = bundle.validity_days;
  result["activated_at"] = bundle.activated_at;
  result["expires_at"] = bundle.expires_at;
  result["price"] = moneyToJson(bundle.price);
  return result;
}

Json esimToJson(const Store& store, const Esim& esim, bool with_bundles) {
  Json result = Json::object();
  result["esim_id"] = esim.id;
  result["iccid"] = esim.iccid;
  result["status"] = esim.status;
  result["activation_code"] = std::string("LPA:1$") + kSmdpHost + "$" + esim.matching_id;
  result["qr_code_url"] = std::string("https://") + kSmdpHost + "/qr/" + esim.matching_id + ".png";
  result["user"] = userRefToJson(store, esim.user_id);
  result["order_id"] = esim.order_id;
  result["created_at"] = esim.created_at;
  if (with_bundles) {
    Json bundles = Json::array();
    for (const std::string& bundle_id : esim.bundle_ids) {
      if (const Bundle* bundle = store.bundles.find(bundle_id)) bundles.push_back(bundleToJson(store, *bundle));
    }
    result["bundles"] = std::move(bundles);
  }
  return result;
}

Json esimDetailToJson(const Simulator& simulator, const Esim& esim) {
  const Store& store = simulator.store;
  Json result = esimToJson(store, esim, true);

  // Usage of the bundles that are still active. Remaining data is null when
  // one of them is unlimited.
  std::int64_t used_mb = 0;
  std::int64_t remaining_mb = 0;
  bool unlimited = false;
  const Bundle* first_bundle = nullptr;
  for (const std::string& bundle_id : esim.bundle_ids) {
    const Bundle* bundle = store.bundles.find(bundle_id);
    if (bundle == nullptr) continue;
    if (first_bundle == nullptr) first_bundle = bundle;
    if (bundle->status != "active") continue;
    used_mb += bundle->data_used_mb;
    if (bundle->data_total_mb) {
      remaining_mb += *bundle->data_total_mb - bundle->data_used_mb;
    } else {
      unlimited = true;
    }
  }
  result["data_used_mb"] = used_mb;
  result["data_remaining_mb"] = unlimited ? Json(nullptr) : Json(remaining_mb);

  // The network is the first one of the first bundle's offer.
  Json network = nullptr;
  if (first_bundle != nullptr && esim.status == "active") {
    const Offer* offer = simulator.catalog.find(first_bundle->sku);
    if (offer != nullptr && !offer->networks.empty()) {
      const Network& first = offer->networks.front();
      network = Json{{"country", first.country},
                     {"operator", first.operator_name},
                     {"technology", first.technologies.empty() ? Json(nullptr) : Json(first.technologies.back())}};
    }
  }
  result["network"] = std::move(network);
  return result;
}

Json transactionToJson(const Transaction& transaction) {
  Json result = Json::object();
  result["transaction_id"] = transaction.id;
  result["type"] = transaction.type;
  result["currency"] = transaction.currency;
  result["amount"] = centsToJson(transaction.amount_cents);
  result["balance_after"] = centsToJson(transaction.balance_after_cents);
  result["order_id"] = optionalString(transaction.order_id);
  result["created_at"] = transaction.created_at;
  return result;
}

Json orderToJson(const Store& store, const Order& order) {
  const User* user = store.users.find(order.user_id);
  Json result = Json::object();
  result["order_id"] = order.id;
  result["status"] = order.status;
  result["user_id"] = order.user_id;
  result["reference_id"] = user != nullptr ? Json(user->reference_id) : Json(nullptr);
  result["sku"] = order.sku;
  result["quantity"] = order.quantity;
  result["unit_price"] = moneyToJson(order.unit_price);
  result["total"] = moneyToJson(order.total);

  Json esims = Json::array();
  for (const std::string& esim_id : order.esim_ids) {
    if (const Esim* esim = store.esims.find(esim_id)) esims.push_back(esimToJson(store, *esim, true));
  }
  result["esims"] = std::move(esims);

  Json transactions = Json::array();
  for (const std::string& transaction_id : order.transaction_ids) {
    if (const Transaction* transaction = store.transactions.find(transaction_id)) {
      transactions.push_back(transactionToJson(*transaction));
    }
  }
  result["transactions"] = std::move(transactions);
  result["channel"] = order.channel;
  result["process"] = order.process;
  result["created_at"] = order.created_at;
  return result;
}

Json ticketToJson(const Ticket& ticket) {
  Json result = Json::object();
  result["ticket_id"] = ticket.id;
  result["category_key"] = ticket.category_key;
  result["subject"] = ticket.subject;
  result["description"] = ticket.description;
  result["order_id"] = optionalString(ticket.order_id);
  result["status"] = ticket.status;
  result["created_at"] = ticket.created_at;
  return result;
}

Json statusEntryToJson(const StatusEntry& entry) {
  return Json{{"component", entry.component},
              {"status", entry.status},
              {"latency_ms", entry.latency_ms},
              {"checked_at", entry.checked_at}};
}

}  // namespace fdsim
