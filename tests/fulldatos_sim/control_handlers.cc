// Test control endpoints under /__sim/. They are not part of FullDatos,
// need no credentials, and are exempt from rate limiting and faults. Their
// successful responses are plain JSON objects without the FullDatos
// envelope; errors use the envelope.

#include "server_state.h"
#include "json_log.h"
#include "simulator.h"

namespace fdsim {

namespace {

ApiResponse plainJsonResponse(const Json& body) { return ApiResponse{200, body.dump(), "application/json", {}}; }

Json faultsToJson(const FaultSettings& settings) {
  return Json{{"latency_ms", settings.latency_ms},
              {"error_rate", settings.error_rate},
              {"drop_rate", settings.drop_rate}};
}

// Applies any subset of latency_ms, error_rate and drop_rate.
ApiResponse updateFaults(ServerState& state, const ApiRequest& request) {
  ApiResponse error;
  const auto body = parseObjectBody(request, error);
  if (!body) return error;

  FaultSettings settings = state.faults.settings();
  for (const auto& [key, value] : body->items()) {
    if (key == "latency_ms") {
      if (!value.is_number_integer()) return errorResponse(400, "latency_ms must be a whole number of milliseconds");
      const auto latency = value.get<long long>();
      if (latency < 0 || latency > kMaxLatencyMs) return errorResponse(400, "latency_ms must be from 0 to 600000");
      settings.latency_ms = static_cast<int>(latency);
    } else if (key == "error_rate" || key == "drop_rate") {
      if (!value.is_number()) return errorResponse(400, key + " must be a number from 0 to 1");
      (key == "error_rate" ? settings.error_rate : settings.drop_rate) = value.get<double>();
    } else {
      return errorResponse(400, "Unknown field \"" + key + "\": expected latency_ms, error_rate or drop_rate");
    }
  }
  if (const char* reason = validateFaultSettings(settings); *reason != '\0') return errorResponse(400, reason);

  state.faults.update(settings);
  logEvent("info", "faults_changed", faultsToJson(settings));
  return plainJsonResponse(faultsToJson(settings));
}

}  // namespace

ApiResponse handleControlRequest(ServerState& state, const ApiRequest& request) {
  const std::string& path = request.path;
  if (path == "/__sim/stats" && request.method == "GET") {
    Money balance;
    {
      std::lock_guard lock(state.simulator.store.mutex);
      balance = state.simulator.store.balance;
    }
    return plainJsonResponse(state.stats.toJson(balance));
  }
  if (path == "/__sim/reset-stats" && request.method == "POST") {
    state.stats.reset();
    return plainJsonResponse(Json{{"reset", true}});
  }
  if (path == "/__sim/faults" && request.method == "GET") return plainJsonResponse(faultsToJson(state.faults.settings()));
  if (path == "/__sim/faults" && request.method == "POST") return updateFaults(state, request);

  if (path == "/__sim/stats" || path == "/__sim/reset-stats" || path == "/__sim/faults") {
    return errorResponse(405, "Method " + request.method + " is not allowed on " + path);
  }
  return errorResponse(404, "Unknown control path " + path);
}

}  // namespace fdsim
