// POST /orders, GET /orders and GET /orders/{order_id}.

#include "handlers.h"
#include "random.h"
#include "serializers.h"
#include "simulator.h"

namespace fdsim {

namespace {

constexpr int kMaxQuantity = 10;
constexpr const char* kDefaultChannel = "api";
constexpr const char* kDefaultProcess = "standard";
constexpr std::int64_t kMegabytesPerGigabyte = 1024;

// The validated fields of an order request.
struct OrderRequest {
  std::optional<std::string> reference_id;
  std::optional<std::string> user_id;
  std::string sku;
  int quantity = 0;
  std::string channel = kDefaultChannel;
  std::string process = kDefaultProcess;
};

std::optional<OrderRequest> parseOrderRequest(const Json& body, ApiResponse& error) {
  OrderRequest order;
  const bool has_reference = body.contains("reference_id") && !body["reference_id"].is_null();
  const bool has_user = body.contains("user_id") && !body["user_id"].is_null();
  if (has_reference == has_user) {
    error = errorResponse(400, "Provide exactly one of reference_id or user_id");
    return std::nullopt;
  }
  const char* owner_field = has_reference ? "reference_id" : "user_id";
  if (!body[owner_field].is_string() || body[owner_field].get<std::string>().empty()) {
    error = errorResponse(400, std::string("Field ") + owner_field + " must be a non-empty string");
    return std::nullopt;
  }
  (has_reference ? order.reference_id : order.user_id) = body[owner_field].get<std::string>();

  if (!body.contains("sku") || !body["sku"].is_string() || body["sku"].get<std::string>().empty()) {
    error = errorResponse(400, "Field sku is required and must be a non-empty string");
    return std::nullopt;
  }
  order.sku = body["sku"].get<std::string>();

  if (!body.contains("quantity") || !body["quantity"].is_number_integer() || body["quantity"].get<long long>() < 1 ||
      body["quantity"].get<long long>() > kMaxQuantity) {
    error = errorResponse(400, "Field quantity is required and must be a whole number from 1 to 10");
    return std::nullopt;
  }
  order.quantity = body["quantity"].get<int>();

  for (const auto& [field, target] : {std::pair{"channel", &order.channel}, std::pair{"process", &order.process}}) {
    if (!body.contains(field) || body[field].is_null()) continue;
    if (!body[field].is_string() || body[field].get<std::string>().empty()) {
      error = errorResponse(400, std::string("Field ") + field + " must be a non-empty string");
      return std::nullopt;
    }
    *target = body[field].get<std::string>();
  }
  return order;
}

// Creates one eSIM with one bundle of `offer` for `order`.
void provisionEsim(Store& store, const Offer& offer, Order& order, Clock::time_point now_time) {
  const std::string now = formatTimestamp(now_time);
  Esim esim;
  esim.id = store.ids.next("esm_");
  esim.iccid = store.newIccid();
  esim.matching_id = store.ids.nextMatchingId();
  esim.status = "active";
  esim.user_id = order.user_id;
  esim.order_id = order.id;
  esim.created_at = now;

  Bundle bundle;
  bundle.id = store.ids.next("bdl_");
  bundle.sku = offer.sku;
  bundle.esim_id = esim.id;
  bundle.order_id = order.id;
  bundle.status = "active";
  if (offer.data_gb) {
    bundle.data_total_mb = static_cast<std::int64_t>(*offer.data_gb * kMegabytesPerGigabyte);
  }
  // Usage is a fixed share of the allowance derived from the bundle id, so
  // repeated reads return the same bytes.
  const std::uint64_t usage_seed = hashText(bundle.id.c_str());
  const std::int64_t usage_base = bundle.data_total_mb ? *bundle.data_total_mb : 8 * kMegabytesPerGigabyte;
  bundle.data_used_mb = static_cast<std::int64_t>(usage_seed % 41) * usage_base / 100;
  bundle.validity_days = offer.validity_days;
  bundle.activated_at = now;
  bundle.expires_at = formatTimestamp(now_time + std::chrono::hours(24) * offer.validity_days);
  bundle.price = offer.price;

  esim.bundle_ids.push_back(bundle.id);
  order.esim_ids.push_back(esim.id);
  store.bundles.insert(std::move(bundle));
  store.esims.insert(std::move(esim));
}

}  // namespace

ApiResponse createOrder(Simulator& simulator, const ApiRequest& request, const PathParams&) {
  ApiResponse error;
  const auto body = parseObjectBody(request, error);
  if (!body) return error;
  const auto order_request = parseOrderRequest(*body, error);
  if (!order_request) return error;

  const Offer* offer = simulator.catalog.find(order_request->sku);
  if (offer == nullptr) return errorResponse(404, "Bundle offer " + order_request->sku + " not found");
  if (!offer->isActive()) return errorResponse(422, "Bundle offer " + offer->sku + " is inactive");

  Store& store = simulator.store;
  std::lock_guard lock(store.mutex);
  if (order_request->user_id && store.users.find(*order_request->user_id) == nullptr) {
    return errorResponse(404, "User " + *order_request->user_id + " not found");
  }

  const Money total = offer->price * order_request->quantity;
  if (total.usd_cents > store.balance.usd_cents || total.mxn_cents > store.balance.mxn_cents) {
    return errorResponse(402, "Insufficient credit balance: the order costs " + formatCents(total.usd_cents) +
                                  " USD (" + formatCents(total.mxn_cents) + " MXN) and the balance is " +
                                  formatCents(store.balance.usd_cents) + " USD (" +
                                  formatCents(store.balance.mxn_cents) + " MXN)");
  }

  // Every check has passed: from here on the order succeeds.
  const Clock::time_point now_time = Clock::now();
  const std::string now = formatTimestamp(now_time);
  std::string user_id;
  if (order_request->user_id) {
    user_id = *order_request->user_id;
  } else {
    const auto existing = store.user_id_by_reference.find(*order_request->reference_id);
    user_id = existing != store.user_id_by_reference.end() ? existing->second
                                                            : store.createUser(*order_request->reference_id, now).id;
  }

  Order order;
  order.id = store.ids.next("ord_");
  order.status = "completed";
  order.user_id = user_id;
  order.sku = offer->sku;
  order.quantity = order_request->quantity;
  order.unit_price = offer->price;
  order.total = total;
  order.channel = order_request->channel;
  order.process = order_request->process;
  order.created_at = now;
  for (int i = 0; i < order.quantity; ++i) provisionEsim(store, *offer, order, now_time);
  order.transaction_ids.push_back(store.recordTransaction("order", "usd", -total.usd_cents, order.id, now).id);
  order.transaction_ids.push_back(store.recordTransaction("order", "mxn", -total.mxn_cents, order.id, now).id);

  const Order& stored = store.orders.insert(std::move(order));
  return successResponse(orderToJson(store, stored), 201, "Order completed");
}

ApiResponse listOrders(Simulator& simulator, const ApiRequest& request, const PathParams&) {
  ApiResponse error;
  const auto page = parsePageRequest(request, error);
  if (!page) return error;
  const auto user_id = queryValue(request, "user_id");

  Store& store = simulator.store;
  std::lock_guard lock(store.mutex);
  std::vector<const Order*> matching;
  for (const Order& order : store.orders.items()) {
    if (!user_id || order.user_id == *user_id) matching.push_back(&order);
  }
  // Serialize only the requested page, because an order carries its eSIMs.
  Json page_items = Json::array();
  const auto [begin, end] = pageRange(*page, matching.size());
  for (std::size_t i = begin; i < end; ++i) page_items.push_back(orderToJson(store, *matching[i]));
  return pageSliceResponse(std::move(page_items), *page, matching.size());
}

ApiResponse getOrder(Simulator& simulator, const ApiRequest&, const PathParams& params) {
  const std::string& order_id = params.at("order_id");
  Store& store = simulator.store;
  std::lock_guard lock(store.mutex);
  const Order* order = store.orders.find(order_id);
  if (order == nullptr) return errorResponse(404, "Order " + order_id + " not found");
  return successResponse(orderToJson(store, *order));
}

}  // namespace fdsim
