#include "gateway/common/text.h"

#include <gtest/gtest.h>

#include <string>

#include "gateway/common/request_id.h"

namespace fdgw::common {
namespace {

TEST(PercentDecode, DecodesEscapes) {
  EXPECT_EQ(percentDecode("a%20b"), "a b");
  EXPECT_EQ(percentDecode("%41%42c"), "ABc");
}

TEST(PercentDecode, AcceptsBothHexCases) {
  EXPECT_EQ(percentDecode("%2f%2F"), "//");
}

TEST(PercentDecode, DecodesOnlyOnce) {
  EXPECT_EQ(percentDecode("%252F"), "%2F");
}

TEST(PercentDecode, PlainTextUnchanged) {
  EXPECT_EQ(percentDecode("/orders/ord_1a2b"), "/orders/ord_1a2b");
  EXPECT_EQ(percentDecode(""), "");
}

TEST(PercentDecode, NulByteDecoded) {
  const auto decoded = percentDecode("a%00b");
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, std::string("a\0b", 3));
}

TEST(PercentDecode, MalformedEscapeRejected) {
  EXPECT_EQ(percentDecode("%zz"), std::nullopt);
  EXPECT_EQ(percentDecode("a%g1"), std::nullopt);
  EXPECT_EQ(percentDecode("a%4"), std::nullopt);
  EXPECT_EQ(percentDecode("100%"), std::nullopt);
  EXPECT_EQ(percentDecode("%"), std::nullopt);
}

TEST(Sha256Hex, KnownDigests) {
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(ConstantTimeEquals, ComparesBytes) {
  EXPECT_TRUE(constantTimeEquals("secret", "secret"));
  EXPECT_TRUE(constantTimeEquals("", ""));
  EXPECT_FALSE(constantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(constantTimeEquals("Secret", "secret"));
}

TEST(ConstantTimeEquals, DifferentLengthsDiffer) {
  EXPECT_FALSE(constantTimeEquals("secret", "secrets"));
  EXPECT_FALSE(constantTimeEquals("", "a"));
}

TEST(Split, KeepsEmptyParts) {
  const auto parts = split("/a//b/", '/');
  ASSERT_EQ(parts.size(), 5u);
  EXPECT_EQ(parts[0], "");
  EXPECT_EQ(parts[1], "a");
  EXPECT_EQ(parts[2], "");
  EXPECT_EQ(parts[3], "b");
  EXPECT_EQ(parts[4], "");
}

TEST(Trim, RemovesSpacesAndTabs) {
  EXPECT_EQ(trim(" \tes-MX \t"), "es-MX");
  EXPECT_EQ(trim("   "), "");
}

TEST(SaneRequestId, AcceptsPlainIds) {
  EXPECT_TRUE(isSaneRequestId("abc-123"));
  EXPECT_TRUE(isSaneRequestId("req:1.2_3"));
  EXPECT_TRUE(isSaneRequestId("A"));
  EXPECT_TRUE(isSaneRequestId(std::string(128, 'x')));
}

TEST(SaneRequestId, RejectsUnsafeIds) {
  EXPECT_FALSE(isSaneRequestId(""));
  EXPECT_FALSE(isSaneRequestId(std::string(129, 'x')));
  EXPECT_FALSE(isSaneRequestId("has space"));
  EXPECT_FALSE(isSaneRequestId("a/b"));
  EXPECT_FALSE(isSaneRequestId("line\nbreak"));
  EXPECT_FALSE(isSaneRequestId("quote\"d"));
  EXPECT_FALSE(isSaneRequestId("caf\xc3\xa9"));
}

TEST(NewRequestId, IsThirtyTwoLowercaseHex) {
  const std::string id = newRequestId();

  ASSERT_EQ(id.size(), 32u);
  for (char c : id) {
    EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
  }
  EXPECT_TRUE(isSaneRequestId(id));
}

TEST(NewRequestId, DiffersEachCall) {
  EXPECT_NE(newRequestId(), newRequestId());
}

}  // namespace
}  // namespace fdgw::common
