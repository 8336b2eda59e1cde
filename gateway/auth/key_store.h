#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

#include "gateway/config/policies.h"

namespace fdgw::auth {

// Reason for a failed authentication. Only metrics and the operator's log
// record it, because the tenant always gets the same generic 401.
enum class AuthFailure {
  kMissingCredentials,
  kMalformedCredentials,
  kAmbiguousCredentials,  // repeated or comma-joined credential headers
  kUnknownKey,
  kWrongSecret,
  kExpiredKey,
};

std::string_view reasonName(AuthFailure failure);

// Looks up tenant API keys. Built from one policies snapshot and valid for
// as long as that snapshot lives. Thread-safe for concurrent reads.
class KeyStore {
 public:
  explicit KeyStore(const config::Policies& policies);

  // Returns the tenant that owns `key` when `secret` hashes to the stored
  // SHA-256 and the key has not expired at `now`. The secret's hash is
  // compared in constant time, and an unknown key costs the same hashing
  // work as a known one.
  std::variant<const config::Tenant*, AuthFailure> authenticate(
      std::string_view key, std::string_view secret,
      std::chrono::system_clock::time_point now) const;

 private:
  using Digest = std::array<unsigned char, 32>;
  struct Entry {
    const config::Tenant* tenant;
    Digest secret_digest;
    std::optional<std::chrono::system_clock::time_point> expires;
  };

  std::unordered_map<std::string, Entry> entries_;
};

inline constexpr std::size_t kApiKeyLength = 32;
inline constexpr std::size_t kApiSecretLength = 64;

}  // namespace fdgw::auth
