#include "gateway/redis/redis_reply.h"

namespace fdgw::redis {

RedisReply RedisReply::error(std::string message) {
  RedisReply reply;
  reply.type = Type::kError;
  reply.text = std::move(message);
  return reply;
}

RedisReply RedisReply::fromInteger(std::int64_t value) {
  RedisReply reply;
  reply.type = Type::kInteger;
  reply.integer = value;
  return reply;
}

std::string describe(const RedisReply& reply) {
  switch (reply.type) {
    case RedisReply::Type::kNil: return "(nil)";
    case RedisReply::Type::kInteger: return std::to_string(reply.integer);
    case RedisReply::Type::kString: return "\"" + reply.text + "\"";
    case RedisReply::Type::kStatus: return reply.text;
    case RedisReply::Type::kError: return "(error) " + reply.text;
    case RedisReply::Type::kArray: {
      std::string text = "[";
      for (std::size_t i = 0; i < reply.elements.size(); ++i) {
        if (i > 0) text += ", ";
        text += describe(reply.elements[i]);
      }
      return text + "]";
    }
  }
  return "(unknown)";
}

}  // namespace fdgw::redis
