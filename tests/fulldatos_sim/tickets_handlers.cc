// POST /tickets, GET /tickets, /tickets/{ticket_id} and /tickets/categories.

#include <array>

#include "handlers.h"
#include "serializers.h"
#include "simulator.h"

namespace fdsim {

namespace {

struct TicketCategory {
  const char* key;
  const char* name;
  const char* name_es;
};

constexpr std::array kCategories = {
    TicketCategory{"activation", "eSIM activation", "Activación de eSIM"},
    TicketCategory{"connectivity", "Connectivity", "Conectividad"},
    TicketCategory{"billing", "Billing and credits", "Facturación y créditos"},
    TicketCategory{"refunds", "Refunds", "Reembolsos"},
    TicketCategory{"api", "API integration", "Integración con la API"},
    TicketCategory{"account", "Account", "Cuenta"},
    TicketCategory{"other", "Other", "Otro"},
};

constexpr std::size_t kMaxSubjectLength = 200;
constexpr std::size_t kMaxDescriptionLength = 10000;

bool isKnownCategory(const std::string& key) {
  for (const TicketCategory& category : kCategories) {
    if (key == category.key) return true;
  }
  return false;
}

// Reads a required non-empty string of at most `max_length` bytes.
std::optional<std::string> readText(const Json& body, const char* field, std::size_t max_length,
                                    ApiResponse& error) {
  if (!body.contains(field) || !body[field].is_string() || body[field].get<std::string>().empty()) {
    error = errorResponse(400, std::string("Field ") + field + " is required and must be a non-empty string");
    return std::nullopt;
  }
  std::string text = body[field].get<std::string>();
  if (text.size() > max_length) {
    error = errorResponse(400, std::string("Field ") + field + " is longer than " + std::to_string(max_length) +
                                   " bytes");
    return std::nullopt;
  }
  return text;
}

}  // namespace

ApiResponse createTicket(Simulator& simulator, const ApiRequest& request, const PathParams&) {
  ApiResponse error;
  const auto body = parseObjectBody(request, error);
  if (!body) return error;

  const auto category_key = readText(*body, "category_key", 64, error);
  if (!category_key) return error;
  if (!isKnownCategory(*category_key)) {
    return errorResponse(400, "Unknown category_key \"" + *category_key + "\": see GET /tickets/categories");
  }
  const auto subject = readText(*body, "subject", kMaxSubjectLength, error);
  if (!subject) return error;
  const auto description = readText(*body, "description", kMaxDescriptionLength, error);
  if (!description) return error;

  std::optional<std::string> order_id;
  if (body->contains("order_id") && !(*body)["order_id"].is_null()) {
    if (!(*body)["order_id"].is_string()) return errorResponse(400, "Field order_id must be a string");
    order_id = (*body)["order_id"].get<std::string>();
  }

  Store& store = simulator.store;
  std::lock_guard lock(store.mutex);
  if (order_id && store.orders.find(*order_id) == nullptr) {
    return errorResponse(404, "Order " + *order_id + " not found");
  }
  const Ticket& ticket = store.tickets.insert(Ticket{store.ids.next("tkt_"), *category_key, *subject, *description,
                                                     order_id, "open", formatTimestamp(Clock::now())});
  return successResponse(ticketToJson(ticket), 201, "Ticket submitted");
}

// Lists tickets newest first.
ApiResponse listTickets(Simulator& simulator, const ApiRequest& request, const PathParams&) {
  ApiResponse error;
  const auto page = parsePageRequest(request, error);
  if (!page) return error;

  std::lock_guard lock(simulator.store.mutex);
  std::vector<Json> tickets;
  const auto& stored = simulator.store.tickets.items();
  for (auto it = stored.rbegin(); it != stored.rend(); ++it) tickets.push_back(ticketToJson(*it));
  return pageResponse(tickets, *page);
}

ApiResponse getTicket(Simulator& simulator, const ApiRequest&, const PathParams& params) {
  const std::string& ticket_id = params.at("ticket_id");
  std::lock_guard lock(simulator.store.mutex);
  const Ticket* ticket = simulator.store.tickets.find(ticket_id);
  if (ticket == nullptr) return errorResponse(404, "Ticket " + ticket_id + " not found");
  return successResponse(ticketToJson(*ticket));
}

ApiResponse listTicketCategories(Simulator&, const ApiRequest& request, const PathParams&) {
  ApiResponse error;
  const auto page = parsePageRequest(request, error);
  if (!page) return error;

  std::vector<Json> categories;
  for (const TicketCategory& category : kCategories) {
    categories.push_back(Json{{"category_key", category.key}, {"name", category.name}, {"name_es", category.name_es}});
  }
  return pageResponse(categories, *page);
}

}  // namespace fdsim
