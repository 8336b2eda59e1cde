#include "json_log.h"

#include <iostream>
#include <mutex>

#include "ids.h"

namespace fdsim {

void logEvent(std::string_view level, std::string_view event,
              const nlohmann::ordered_json& fields) {
  nlohmann::ordered_json line;
  line["ts"] = formatTimestamp(std::chrono::system_clock::now());
  line["level"] = level;
  line["event"] = event;
  for (const auto& [key, value] : fields.items()) {
    line[key] = value;
  }

  static std::mutex output_mutex;
  const std::string text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  std::lock_guard lock(output_mutex);
  std::cerr << text << '\n' << std::flush;
}

}  // namespace fdsim
