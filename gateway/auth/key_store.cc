#include "gateway/auth/key_store.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace fdgw::auth {
namespace {

int hexValue(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

bool isPrintableToken(std::string_view text) {
  for (char c : text) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

}  // namespace

std::string_view reasonName(AuthFailure failure) {
  switch (failure) {
    case AuthFailure::kMissingCredentials: return "missing";
    case AuthFailure::kMalformedCredentials: return "malformed";
    case AuthFailure::kAmbiguousCredentials: return "ambiguous";
    case AuthFailure::kUnknownKey: return "unknown_key";
    case AuthFailure::kWrongSecret: return "wrong_secret";
    case AuthFailure::kExpiredKey: return "expired";
  }
  return "unknown";
}

KeyStore::KeyStore(const config::Policies& policies) {
  for (const auto& [id, tenant] : policies.tenants) {
    for (const auto& key : tenant.keys) {
      Entry entry{&tenant, {}, key.expires};
      // Validation guarantees 64 lowercase hex characters.
      for (std::size_t i = 0; i < entry.secret_digest.size(); ++i) {
        entry.secret_digest[i] = static_cast<unsigned char>(
            hexValue(key.secret_sha256[2 * i]) * 16 + hexValue(key.secret_sha256[2 * i + 1]));
      }
      entries_.emplace(key.key, entry);
    }
  }
}

std::variant<const config::Tenant*, AuthFailure> KeyStore::authenticate(
    std::string_view key, std::string_view secret,
    std::chrono::system_clock::time_point now) const {
  if (key.empty() || secret.empty()) return AuthFailure::kMissingCredentials;
  if (key.size() != kApiKeyLength || secret.size() != kApiSecretLength ||
      !isPrintableToken(key) || !isPrintableToken(secret)) {
    return AuthFailure::kMalformedCredentials;
  }

  Digest presented{};
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), presented.data());

  static const Digest kDecoy{};
  const auto found = entries_.find(std::string(key));
  const Digest& expected = found == entries_.end() ? kDecoy : found->second.secret_digest;
  const bool secret_matches =
      CRYPTO_memcmp(presented.data(), expected.data(), presented.size()) == 0;

  if (found == entries_.end()) return AuthFailure::kUnknownKey;
  if (!secret_matches) return AuthFailure::kWrongSecret;
  if (found->second.expires && now >= *found->second.expires) return AuthFailure::kExpiredKey;
  return found->second.tenant;
}

}  // namespace fdgw::auth
