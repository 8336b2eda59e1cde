// GET /credits/balance and GET /credits/transactions.

#include "handlers.h"
#include "serializers.h"
#include "simulator.h"

namespace fdsim {

ApiResponse getBalance(Simulator& simulator, const ApiRequest&, const PathParams&) {
  std::lock_guard lock(simulator.store.mutex);
  return successResponse(moneyToJson(simulator.store.balance));
}

// Lists transactions oldest first; "currency" (usd or mxn) filters.
ApiResponse listTransactions(Simulator& simulator, const ApiRequest& request, const PathParams&) {
  ApiResponse error;
  const auto page = parsePageRequest(request, error);
  if (!page) return error;
  const auto currency = queryValue(request, "currency");
  if (currency && *currency != "usd" && *currency != "mxn") {
    return errorResponse(400, "Invalid currency \"" + *currency + "\": expected usd or mxn");
  }

  std::lock_guard lock(simulator.store.mutex);
  std::vector<const Transaction*> matching;
  for (const Transaction& transaction : simulator.store.transactions.items()) {
    if (!currency || transaction.currency == *currency) matching.push_back(&transaction);
  }
  Json page_items = Json::array();
  const auto [begin, end] = pageRange(*page, matching.size());
  for (std::size_t i = begin; i < end; ++i) page_items.push_back(transactionToJson(*matching[i]));
  return pageSliceResponse(std::move(page_items), *page, matching.size());
}

}  // namespace fdsim
