// GET /status and POST /status/check.

#include "handlers.h"
#include "serializers.h"
#include "simulator.h"

namespace fdsim {

std::vector<StatusEntry> runHealthChecks(Simulator& simulator) {
  Store& store = simulator.store;
  std::lock_guard lock(store.mutex);
  const std::string now = formatTimestamp(Clock::now());

  // Simulated latencies in milliseconds; every component is operational.
  std::vector<StatusEntry> entries;
  entries.push_back(StatusEntry{"api", "operational", static_cast<int>(store.random.between(2, 15)), now});
  entries.push_back(StatusEntry{"database", "operational", static_cast<int>(store.random.between(1, 8)), now});
  for (const std::string& provider : simulator.catalog.providerNames()) {
    entries.push_back(
        StatusEntry{"provider:" + provider, "operational", static_cast<int>(store.random.between(40, 250)), now});
  }
  store.status_entries.insert(store.status_entries.end(), entries.begin(), entries.end());
  return entries;
}

// Lists status entries newest first.
// NOTE: the upstream limits this list to the last 31 days. The simulator
// keeps every entry, which is the same for runs shorter than 31 days.
ApiResponse listStatus(Simulator& simulator, const ApiRequest& request, const PathParams&) {
  ApiResponse error;
  const auto page = parsePageRequest(request, error);
  if (!page) return error;

  std::lock_guard lock(simulator.store.mutex);
  std::vector<Json> entries;
  const auto& stored = simulator.store.status_entries;
  for (auto it = stored.rbegin(); it != stored.rend(); ++it) entries.push_back(statusEntryToJson(*it));
  return pageResponse(entries, *page);
}

ApiResponse runStatusCheck(Simulator& simulator, const ApiRequest&, const PathParams&) {
  Json data = Json::array();
  for (const StatusEntry& entry : runHealthChecks(simulator)) data.push_back(statusEntryToJson(entry));
  return successResponse(std::move(data), 200, "Health checks completed");
}

}  // namespace fdsim
