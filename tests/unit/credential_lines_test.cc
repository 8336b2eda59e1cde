#include "gateway/http/credential_parser.h"

#include <gtest/gtest.h>

namespace fdgw::http {
namespace {

TEST(CredentialHeaderLines, KeepsEveryRepeat) {
  const auto lines = credentialHeaderLines(
      "Host: gw\r\nX-Api-Key: first\r\nx-api-secret:  s1 \r\nx-api-key: second\r\nAccept: */*\r\n");

  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], (std::pair<std::string, std::string>{"x-api-key", "first"}));
  EXPECT_EQ(lines[1], (std::pair<std::string, std::string>{"x-api-secret", "s1"}));
  EXPECT_EQ(lines[2], (std::pair<std::string, std::string>{"x-api-key", "second"}));
}

TEST(CredentialHeaderLines, IgnoresOtherHeaders) {
  EXPECT_TRUE(credentialHeaderLines("Host: gw\r\nx-api-keys: no\r\nx-api: no\r\n").empty());
  EXPECT_TRUE(credentialHeaderLines("").empty());
}

}  // namespace
}  // namespace fdgw::http
