#pragma once

#include <string>

namespace fdgw::redis {

// A Lua script run with EVALSHA. Its SHA-1 is computed once here, so the
// first call needs no SCRIPT LOAD round trip. AsyncRedis::evalScript falls
// back to EVAL (which also caches the script in Redis) on NOSCRIPT.
class Script {
 public:
  explicit Script(std::string source);

  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }  // lowercase hex

 private:
  std::string source_;
  std::string sha1_;
};

}  // namespace fdgw::redis
