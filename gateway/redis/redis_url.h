#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fdgw::redis {

// The parts of a `redis://host:port/db` URL. Port defaults to 6379 and the
// database to 0. Credentials and TLS (`rediss://`) are not supported.
struct RedisAddress {
  std::string host;
  int port = 6379;
  int database = 0;
};

// Parses `url`, or returns nullopt when it is not of the form
// redis://host[:port][/db] with port 1..65535 and db 0..15.
std::optional<RedisAddress> parseRedisUrl(std::string_view url);

}  // namespace fdgw::redis
