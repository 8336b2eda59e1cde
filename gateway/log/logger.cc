#include "gateway/log/logger.h"

#include <algorithm>
#include <cctype>
#include <ctime>


namespace fdgw::log {
namespace {

// Checks each lower-case marker against `name` without copying it, because
// this runs for every field of every log line.
bool isSecretName(std::string_view name) {
  const auto equalIgnoringCase = [](char text, char marker) {
    return std::tolower(static_cast<unsigned char>(text)) == marker;
  };
  for (std::string_view marker : {"secret", "password", "authorization", "api_key", "api-key"}) {
    if (std::search(name.begin(), name.end(), marker.begin(), marker.end(), equalIgnoringCase) != name.end()) {
      return true;
    }
  }
  return false;
}

void appendJson(std::string& text, const nlohmann::json& value) {
  text += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Returns whether a caller's field would replace one that emit writes itself.
bool namesFixedField(const nlohmann::json& fields) {
  for (const char* name : {"ts", "level", "event", "suppressed"}) {
    if (fields.contains(name)) return true;
  }
  return false;
}

std::string utcTimestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
  char result[40];
  std::snprintf(result, sizeof result, "%s.%03dZ", text, static_cast<int>(millis));
  return result;
}

std::string_view levelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

}  // namespace

nlohmann::json maskSecrets(nlohmann::json fields) {
  if (fields.is_object()) {
    for (auto& [name, value] : fields.items()) {
      if (isSecretName(name)) {
        value = "***";
      } else {
        value = maskSecrets(std::move(value));
      }
    }
  } else if (fields.is_array()) {
    for (auto& item : fields) item = maskSecrets(std::move(item));
  }
  return fields;
}

std::optional<Level> parseLevel(std::string_view name) {
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn") return Level::kWarn;
  if (name == "error") return Level::kError;
  return std::nullopt;
}

Logger::Logger(std::FILE* out, Level level, int max_per_second)
    : out_(out), level_(level), max_per_second_(max_per_second) {}

void Logger::setLevel(Level level) { level_ = level; }

void Logger::debug(std::string_view event, nlohmann::json fields) {
  write(Level::kDebug, event, std::move(fields));
}
void Logger::info(std::string_view event, nlohmann::json fields) {
  write(Level::kInfo, event, std::move(fields));
}
void Logger::warn(std::string_view event, nlohmann::json fields) {
  write(Level::kWarn, event, std::move(fields));
}
void Logger::error(std::string_view event, nlohmann::json fields) {
  write(Level::kError, event, std::move(fields));
}

void Logger::write(Level level, std::string_view event, nlohmann::json fields) {
  if (!enabled(level)) return;

  long suppressed = 0;
  {
    std::lock_guard lock(mutex_);
    auto& window = windows_[std::string(event)];
    const auto now = std::chrono::steady_clock::now();
    if (now - window.start >= std::chrono::seconds(1)) {
      window.start = now;
      window.written = 0;
    }
    if (window.written >= max_per_second_) {
      ++window.suppressed;
      return;
    }
    ++window.written;
    suppressed = window.suppressed;
    window.suppressed = 0;
  }
  emit(levelName(level), event, std::move(fields), suppressed);
}

void Logger::access(nlohmann::json fields) { emit("info", "request", std::move(fields), 0); }

void Logger::emit(std::string_view level_name, std::string_view event, nlohmann::json fields,
                  long suppressed) {
  if (!fields.is_object() || !namesFixedField(fields)) {
    writeLine(formatLine(level_name, event, fields, suppressed));
    return;
  }

  // A caller's field named like a fixed one replaces its value in place, as
  // assigning to an ordered_json key does.
  nlohmann::ordered_json line = nlohmann::ordered_json::object();
  line["ts"] = utcTimestamp();
  line["level"] = std::string(level_name);
  line["event"] = std::string(event);
  if (fields.is_object()) {
    const nlohmann::json masked = maskSecrets(std::move(fields));
    for (const auto& [name, value] : masked.items()) line[name] = value;
  }
  if (suppressed > 0) line["suppressed"] = suppressed;

  writeLine(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string Logger::formatLine(std::string_view level_name, std::string_view event, const nlohmann::json& fields,
                               long suppressed) {
  // Writes the text that dumping an ordered_json of the fixed fields and then
  // the masked fields gives, but builds no such object. Each value goes
  // through the same serializer, and the fields keep the sorted order of
  // nlohmann::json objects.
  std::string text = "{\"ts\":";
  text.reserve(512);
  appendJson(text, utcTimestamp());
  text += ",\"level\":";
  appendJson(text, std::string(level_name));
  text += ",\"event\":";
  appendJson(text, std::string(event));
  if (fields.is_object()) {
    for (const auto& [name, value] : fields.items()) {
      text += ',';
      appendJson(text, name);
      text += ':';
      if (isSecretName(name)) {
        text += "\"***\"";
      } else if (value.is_structured()) {
        appendJson(text, maskSecrets(value));
      } else {
        appendJson(text, value);
      }
    }
  }
  if (suppressed > 0) {
    text += ",\"suppressed\":";
    text += std::to_string(suppressed);
  }
  text += '}';
  return text;
}

void Logger::writeLine(std::string text) {
  text.push_back('\n');
  std::lock_guard lock(mutex_);
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

}  // namespace fdgw::log
