#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fdgw::redis {

// A Redis reply copied out of hiredis, so it outlives the connection that
// produced it. Errors raised by the client itself (not connected, timed out,
// connection lost, client stopped) are error replies too.
struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kArray, kError };

  Type type = Type::kNil;
  std::int64_t integer = 0;
  std::string text;  // the bulk string, the status text or the error message
  std::vector<RedisReply> elements;

  bool isError() const { return type == Type::kError; }
  bool isNil() const { return type == Type::kNil; }

  static RedisReply error(std::string message);
  static RedisReply fromInteger(std::int64_t value);
};

// Formats a reply for logs and test failures, e.g. `[1, "a", (nil)]`.
std::string describe(const RedisReply& reply);

}  // namespace fdgw::redis
