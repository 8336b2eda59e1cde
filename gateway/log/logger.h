#pragma once

#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fdgw::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Writes one JSON object per line with the fixed fields `ts`, `level` and
// `event`, followed by the caller's fields. Thread-safe.
//
// Secrets are masked here and nowhere else: any field whose name contains
// "secret", "password", "authorization" or "api_key" is replaced by "***",
// at any depth. Repeats of one event are limited to `max_per_second` lines a
// second. The next line written for that event carries `suppressed`, the
// number of lines dropped meanwhile.
class Logger {
 public:
  explicit Logger(std::FILE* out = stderr, Level level = Level::kInfo, int max_per_second = 20);

  void setLevel(Level level);
  bool enabled(Level level) const { return level >= level_; }

  void debug(std::string_view event, nlohmann::json fields = {});
  void info(std::string_view event, nlohmann::json fields = {});
  void warn(std::string_view event, nlohmann::json fields = {});
  void error(std::string_view event, nlohmann::json fields = {});
  void write(Level level, std::string_view event, nlohmann::json fields);

  // Writes an access-log line: never rate-limited, level info.
  void access(nlohmann::json fields);

 private:
  struct RepeatWindow {
    std::chrono::steady_clock::time_point start;
    int written = 0;
    long suppressed = 0;
  };

  void emit(std::string_view level_name, std::string_view event, nlohmann::json fields,
            long suppressed);
  static std::string formatLine(std::string_view level_name, std::string_view event,
                                const nlohmann::json& fields, long suppressed);
  void writeLine(std::string text);

  std::FILE* out_;
  Level level_;
  int max_per_second_;
  std::mutex mutex_;
  std::unordered_map<std::string, RepeatWindow> windows_;
};

std::optional<Level> parseLevel(std::string_view name);

// Returns `fields` with every secret-looking field replaced by "***".
nlohmann::json maskSecrets(nlohmann::json fields);

}  // namespace fdgw::log
