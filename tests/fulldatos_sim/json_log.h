// JSON-lines logging to stderr for the simulator.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace fdsim {

// Writes one JSON object per line to stderr with the fields "ts" (ISO 8601
// UTC), "level", "event" and then `fields`. Thread-safe.
void logEvent(std::string_view level, std::string_view event,
              const nlohmann::ordered_json& fields = nlohmann::ordered_json::object());

}  // namespace fdsim
