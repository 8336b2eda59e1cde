#include "gateway/redis/redis_url.h"

#include <charconv>

namespace fdgw::redis {
namespace {

// Parses a whole decimal number in [minimum, maximum].
std::optional<int> parseNumber(std::string_view text, int minimum, int maximum) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value < minimum || value > maximum) return std::nullopt;
  return value;
}

}  // namespace

std::optional<RedisAddress> parseRedisUrl(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) return std::nullopt;
  url.remove_prefix(kScheme.size());

  RedisAddress address;
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) {
    const std::string_view database = url.substr(slash + 1);
    if (!database.empty()) {
      const auto number = parseNumber(database, 0, 15);
      if (!number) return std::nullopt;
      address.database = *number;
    }
  }

  if (authority.find('@') != std::string_view::npos) return std::nullopt;
  const auto colon = authority.rfind(':');
  if (colon != std::string_view::npos) {
    const auto port = parseNumber(authority.substr(colon + 1), 1, 65535);
    if (!port) return std::nullopt;
    address.port = *port;
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) return std::nullopt;
  address.host = std::string(authority);
  return address;
}

}  // namespace fdgw::redis
