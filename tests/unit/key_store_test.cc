#include "gateway/auth/key_store.h"

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <optional>
#include <string>
#include <variant>

#include "gateway/common/text.h"

namespace fdgw::auth {
namespace {

using std::chrono::system_clock;
using namespace std::chrono_literals;

// Keys are 32 characters and secrets 64, as issued to tenants.
const std::string kAcmeKey1 = "acmekey1000000000000000000000001";
const std::string kAcmeKey2 = "acmekey2000000000000000000000002";
const std::string kBetaKey = "betakey0000000000000000000000003";
const std::string kAcmeSecret1(64, 'a');
const std::string kAcmeSecret2(64, 'b');
const std::string kBetaSecret(64, 'c');

// 2027-06-30T00:00:00Z.
const system_clock::time_point kBetaExpiry = system_clock::from_time_t(1814313600);
const system_clock::time_point kNow = kBetaExpiry - 24h;

config::TenantKey makeKey(const std::string& key, const std::string& secret,
                          std::optional<system_clock::time_point> expires = std::nullopt) {
  return {key, common::sha256Hex(secret), expires};
}

config::Policies makePolicies() {
  config::Policies policies;

  config::Tenant acme;
  acme.id = "acme";
  acme.keys = {makeKey(kAcmeKey1, kAcmeSecret1), makeKey(kAcmeKey2, kAcmeSecret2)};
  policies.tenants["acme"] = acme;

  config::Tenant beta;
  beta.id = "beta";
  beta.keys = {makeKey(kBetaKey, kBetaSecret, kBetaExpiry)};
  policies.tenants["beta"] = beta;
  return policies;
}

class KeyStoreTest : public ::testing::Test {
 protected:
  std::variant<const config::Tenant*, AuthFailure> authenticate(
      std::string_view key, std::string_view secret, system_clock::time_point now = kNow) {
    return store_.authenticate(key, secret, now);
  }

  // Returns the id of the authenticated tenant, or "" on failure.
  std::string tenantOf(std::string_view key, std::string_view secret,
                       system_clock::time_point now = kNow) {
    const auto outcome = authenticate(key, secret, now);
    const auto* tenant = std::get_if<const config::Tenant*>(&outcome);
    return tenant ? (*tenant)->id : "";
  }

  std::optional<AuthFailure> failureOf(std::string_view key, std::string_view secret,
                                       system_clock::time_point now = kNow) {
    const auto outcome = authenticate(key, secret, now);
    const auto* failure = std::get_if<AuthFailure>(&outcome);
    return failure ? std::optional(*failure) : std::nullopt;
  }

  config::Policies policies_ = makePolicies();
  KeyStore store_{policies_};
};

TEST_F(KeyStoreTest, ValidKeyReturnsTenant) {
  const auto outcome = authenticate(kAcmeKey1, kAcmeSecret1);

  ASSERT_TRUE(std::holds_alternative<const config::Tenant*>(outcome));
  EXPECT_EQ(std::get<const config::Tenant*>(outcome), &policies_.tenants.at("acme"));
}

TEST_F(KeyStoreTest, EveryKeyOfTenantWorks) {
  EXPECT_EQ(tenantOf(kAcmeKey1, kAcmeSecret1), "acme");
  EXPECT_EQ(tenantOf(kAcmeKey2, kAcmeSecret2), "acme");
  EXPECT_EQ(tenantOf(kBetaKey, kBetaSecret), "beta");
}

TEST_F(KeyStoreTest, SecretOfOtherKeyRejected) {
  EXPECT_EQ(failureOf(kAcmeKey1, kAcmeSecret2), AuthFailure::kWrongSecret);
  EXPECT_EQ(failureOf(kAcmeKey2, kAcmeSecret1), AuthFailure::kWrongSecret);
  EXPECT_EQ(failureOf(kBetaKey, kAcmeSecret1), AuthFailure::kWrongSecret);
}

TEST_F(KeyStoreTest, MissingCredentials) {
  EXPECT_EQ(failureOf("", kAcmeSecret1), AuthFailure::kMissingCredentials);
  EXPECT_EQ(failureOf(kAcmeKey1, ""), AuthFailure::kMissingCredentials);
  EXPECT_EQ(failureOf("", ""), AuthFailure::kMissingCredentials);
}

TEST_F(KeyStoreTest, WrongLengthsMalformed) {
  EXPECT_EQ(failureOf(kAcmeKey1.substr(0, 31), kAcmeSecret1), AuthFailure::kMalformedCredentials);
  EXPECT_EQ(failureOf(kAcmeKey1 + "1", kAcmeSecret1), AuthFailure::kMalformedCredentials);
  EXPECT_EQ(failureOf(kAcmeKey1, kAcmeSecret1.substr(0, 63)), AuthFailure::kMalformedCredentials);
  EXPECT_EQ(failureOf(kAcmeKey1, kAcmeSecret1 + "a"), AuthFailure::kMalformedCredentials);
}

TEST_F(KeyStoreTest, NonPrintableBytesMalformed) {
  std::string key_with_space = kAcmeKey1;
  key_with_space[10] = ' ';
  std::string secret_with_tab = kAcmeSecret1;
  secret_with_tab[0] = '\t';
  std::string secret_with_high_byte = kAcmeSecret1;
  secret_with_high_byte[63] = '\xe9';

  EXPECT_EQ(failureOf(key_with_space, kAcmeSecret1), AuthFailure::kMalformedCredentials);
  EXPECT_EQ(failureOf(kAcmeKey1, secret_with_tab), AuthFailure::kMalformedCredentials);
  EXPECT_EQ(failureOf(kAcmeKey1, secret_with_high_byte), AuthFailure::kMalformedCredentials);
}

TEST_F(KeyStoreTest, UnknownKey) {
  EXPECT_EQ(failureOf("zzzzkey0000000000000000000000009", kAcmeSecret1), AuthFailure::kUnknownKey);
}

TEST_F(KeyStoreTest, KeyComparedWithCase) {
  std::string upper = kAcmeKey1;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));

  EXPECT_EQ(failureOf(upper, kAcmeSecret1), AuthFailure::kUnknownKey);
}

TEST_F(KeyStoreTest, WrongSecret) {
  std::string almost = kAcmeSecret1;
  almost[63] = 'b';

  EXPECT_EQ(failureOf(kAcmeKey1, almost), AuthFailure::kWrongSecret);
}

TEST_F(KeyStoreTest, ValidBeforeExpiry) {
  EXPECT_EQ(tenantOf(kBetaKey, kBetaSecret, kBetaExpiry - 1s), "beta");
}

TEST_F(KeyStoreTest, ExpiredAtExpiry) {
  EXPECT_EQ(failureOf(kBetaKey, kBetaSecret, kBetaExpiry), AuthFailure::kExpiredKey);
}

TEST_F(KeyStoreTest, ExpiredAfterExpiry) {
  EXPECT_EQ(failureOf(kBetaKey, kBetaSecret, kBetaExpiry + 1s), AuthFailure::kExpiredKey);
  EXPECT_EQ(failureOf(kBetaKey, kBetaSecret, kBetaExpiry + 24h * 365), AuthFailure::kExpiredKey);
}

TEST_F(KeyStoreTest, ExpiredKeyWithWrongSecret) {
  // Without the right secret a caller must not learn that the key expired.
  EXPECT_EQ(failureOf(kBetaKey, kAcmeSecret1, kBetaExpiry + 1s), AuthFailure::kWrongSecret);
}

TEST_F(KeyStoreTest, KeyWithoutExpiryNeverExpires) {
  EXPECT_EQ(tenantOf(kAcmeKey1, kAcmeSecret1, kBetaExpiry + 24h * 365 * 50), "acme");
}

TEST(KeyStore, EmptyPoliciesRejectEveryKey) {
  const config::Policies empty;
  const KeyStore store(empty);

  const auto outcome = store.authenticate(kAcmeKey1, kAcmeSecret1, kNow);

  ASSERT_TRUE(std::holds_alternative<AuthFailure>(outcome));
  EXPECT_EQ(std::get<AuthFailure>(outcome), AuthFailure::kUnknownKey);
}

TEST(AuthFailureReason, MetricLabels) {
  EXPECT_EQ(reasonName(AuthFailure::kMissingCredentials), "missing");
  EXPECT_EQ(reasonName(AuthFailure::kMalformedCredentials), "malformed");
  EXPECT_EQ(reasonName(AuthFailure::kAmbiguousCredentials), "ambiguous");
  EXPECT_EQ(reasonName(AuthFailure::kUnknownKey), "unknown_key");
  EXPECT_EQ(reasonName(AuthFailure::kWrongSecret), "wrong_secret");
  EXPECT_EQ(reasonName(AuthFailure::kExpiredKey), "expired");
}

}  // namespace
}  // namespace fdgw::auth
