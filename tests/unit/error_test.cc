#include "gateway/common/error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace fdgw::common {
namespace {

TEST(PreferredLanguage, SpanishRankedFirst) {
  EXPECT_EQ(preferredLanguage("es-MX,es;q=0.9,en;q=0.8"), Language::kSpanish);
}

TEST(PreferredLanguage, EnglishRankedFirst) {
  EXPECT_EQ(preferredLanguage("en-US,es;q=0.5"), Language::kEnglish);
}

TEST(PreferredLanguage, EmptyHeaderIsEnglish) {
  EXPECT_EQ(preferredLanguage(""), Language::kEnglish);
}

TEST(PreferredLanguage, WeightsDecideOverOrder) {
  EXPECT_EQ(preferredLanguage("en;q=0.5, es;q=0.8"), Language::kSpanish);
  EXPECT_EQ(preferredLanguage("es;q=0.4, fr"), Language::kEnglish);
}

TEST(PreferredLanguage, TagCaseIgnored) {
  EXPECT_EQ(preferredLanguage("ES-mx"), Language::kSpanish);
  EXPECT_EQ(preferredLanguage("Es"), Language::kSpanish);
}

TEST(PreferredLanguage, TieIsEnglish) {
  EXPECT_EQ(preferredLanguage("es, en"), Language::kEnglish);
}

TEST(PreferredLanguage, ZeroWeightSpanishIsEnglish) {
  EXPECT_EQ(preferredLanguage("es;q=0"), Language::kEnglish);
}

TEST(PreferredLanguage, EstonianTagNotSpanish) {
  // "est" (Estonian in ISO 639-3) shares the first two letters only.
  EXPECT_EQ(preferredLanguage("est"), Language::kEnglish);
}

TEST(PreferredLanguage, WildcardIsEnglish) {
  EXPECT_EQ(preferredLanguage("*"), Language::kEnglish);
}

struct CodeCase {
  ErrorCode code;
  int status;
  std::string_view name;
};

TEST(ErrorCodes, StatusAndName) {
  const CodeCase cases[] = {
      {ErrorCode::kBadRequest, 400, "bad_request"},
      {ErrorCode::kUnauthorized, 401, "unauthorized"},
      {ErrorCode::kSpendLimitExceeded, 402, "spend_limit_exceeded"},
      {ErrorCode::kForbidden, 403, "forbidden"},
      {ErrorCode::kNotFound, 404, "not_found"},
      {ErrorCode::kPayloadTooLarge, 413, "payload_too_large"},
      {ErrorCode::kRateLimited, 429, "rate_limited"},
      {ErrorCode::kUpstreamBusy, 429, "upstream_busy"},
      {ErrorCode::kInternal, 500, "internal"},
      {ErrorCode::kUpstreamUnavailable, 502, "upstream_unavailable"},
      {ErrorCode::kUpstreamTimeout, 504, "upstream_timeout"},
  };
  for (const auto& expected : cases) {
    SCOPED_TRACE(std::string(expected.name));
    EXPECT_EQ(httpStatus(expected.code), expected.status);
    EXPECT_EQ(codeName(expected.code), expected.name);
  }
}

TEST(ErrorCodes, EveryCodeHasBothMessages) {
  for (int raw = 0; raw <= static_cast<int>(ErrorCode::kUpstreamTimeout); ++raw) {
    const auto code = static_cast<ErrorCode>(raw);
    SCOPED_TRACE(std::string(codeName(code)));
    EXPECT_FALSE(defaultMessage(code, Language::kEnglish).empty());
    EXPECT_FALSE(defaultMessage(code, Language::kSpanish).empty());
    EXPECT_NE(defaultMessage(code, Language::kEnglish), defaultMessage(code, Language::kSpanish));
  }
}

TEST(ErrorEnvelope, HasTheFourFields) {
  const Error error{ErrorCode::kRateLimited, "Slow down.", "quota requests-per-minute"};

  const auto body = nlohmann::json::parse(errorEnvelope(error, "req-42", Language::kEnglish));

  ASSERT_TRUE(body.is_object());
  EXPECT_EQ(body.size(), 4u);
  EXPECT_EQ(body["success"], false);
  EXPECT_EQ(body["message"], "Slow down.");
  EXPECT_EQ(body["code"], "rate_limited");
  EXPECT_EQ(body["request_id"], "req-42");
}

TEST(ErrorEnvelope, EmptyMessageUsesDefault) {
  const Error error{ErrorCode::kNotFound, "", ""};

  const auto english = nlohmann::json::parse(errorEnvelope(error, "r1", Language::kEnglish));
  const auto spanish = nlohmann::json::parse(errorEnvelope(error, "r1", Language::kSpanish));

  EXPECT_EQ(english["message"], "Resource not found.");
  EXPECT_EQ(spanish["message"], "Recurso no encontrado.");
}

TEST(ErrorEnvelope, DetailNeverInBody) {
  const Error error{ErrorCode::kInternal, "", "redis ECONNREFUSED 10.0.0.5:6379"};

  const std::string body = errorEnvelope(error, "r2", Language::kEnglish);

  EXPECT_EQ(body.find("ECONNREFUSED"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(body)["message"], "Internal error.");
}

TEST(ErrorEnvelope, InvalidUtf8StaysValidJson) {
  const Error error{ErrorCode::kBadRequest, std::string("bad \xff byte"), ""};

  const std::string body = errorEnvelope(error, "r3", Language::kEnglish);

  const auto parsed = nlohmann::json::parse(body, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << body;
  EXPECT_EQ(parsed["code"], "bad_request");
}

}  // namespace
}  // namespace fdgw::common
