#include "gateway/redis/script.h"

#include <openssl/sha.h>

#include <array>
#include <cstdio>

namespace fdgw::redis {

Script::Script(std::string source) : source_(std::move(source)) {
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(source_.data()), source_.size(), digest.data());
  sha1_.reserve(2 * digest.size());
  for (unsigned char byte : digest) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", byte);
    sha1_ += hex;
  }
}

}  // namespace fdgw::redis
