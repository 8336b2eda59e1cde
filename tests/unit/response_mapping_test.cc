#include "gateway/proxy/response_mapping.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace fdgw::proxy {
namespace {

using common::Language;
using upstream::TransportError;
using upstream::UpstreamResponse;

constexpr char kRequestId[] = "req-7f3a";
constexpr char kUnavailableEnglish[] = "The provider is unavailable; retry later.";

UpstreamResponse upstreamResponse(int status, std::string body, upstream::HeaderList headers = {}) {
  UpstreamResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

UpstreamResponse transportFailure(TransportError error, std::string detail) {
  UpstreamResponse response;
  response.error = error;
  response.error_detail = std::move(detail);
  return response;
}

nlohmann::json envelopeOf(const OutgoingResponse& response) {
  const auto body = nlohmann::json::parse(response.body, nullptr, false);
  EXPECT_FALSE(body.is_discarded()) << response.body;
  return body;
}

// Returns the value of an extra response header, or "" when absent.
std::string headerOf(const OutgoingResponse& response, std::string_view name) {
  for (const auto& [header, value] : response.headers) {
    if (header == name) return value;
  }
  return "";
}

TEST(MapUpstreamResponse, SuccessBodyPassesByteForByte) {
  const std::string body = "{ \"success\":true,\n \"data\": {\"price\": 9.990, \"name\": \"M\xc3\xa9xico\"} }";

  const auto mapped = mapUpstreamResponse(
      upstreamResponse(200, body, {{"content-type", "application/json; charset=utf-8"}}), kRequestId,
      Language::kEnglish);

  EXPECT_EQ(mapped.response.status, 200);
  EXPECT_EQ(mapped.response.body, body);
  EXPECT_EQ(mapped.response.content_type, "application/json; charset=utf-8");
  EXPECT_FALSE(mapped.error.has_value());
}

TEST(MapUpstreamResponse, SuccessKeepsStatus) {
  const auto mapped = mapUpstreamResponse(upstreamResponse(201, "{}", {{"content-type", "application/json"}}),
                                          kRequestId, Language::kEnglish);

  EXPECT_EQ(mapped.response.status, 201);
  EXPECT_EQ(mapped.response.body, "{}");
}

TEST(MapUpstreamResponse, SuccessWithoutContentType) {
  const auto mapped = mapUpstreamResponse(upstreamResponse(200, "[]"), kRequestId, Language::kEnglish);

  EXPECT_EQ(mapped.response.content_type, "application/json");
}

struct PassedErrorCase {
  int status;
  std::string code;
};

TEST(MapUpstreamResponse, TenantErrorsKeepUpstreamMessage) {
  const PassedErrorCase cases[] = {
      {400, "bad_request"}, {404, "not_found"}, {409, "conflict"}, {422, "unprocessable"}};
  for (const auto& expected : cases) {
    SCOPED_TRACE(expected.status);

    const auto mapped = mapUpstreamResponse(
        upstreamResponse(expected.status, R"({"success":false,"message":"ICCID 8952 is not valid"})"),
        kRequestId, Language::kEnglish);

    EXPECT_EQ(mapped.response.status, expected.status);
    EXPECT_EQ(mapped.response.content_type, "application/json");
    const auto body = envelopeOf(mapped.response);
    EXPECT_EQ(body.size(), 4u);
    EXPECT_EQ(body["success"], false);
    EXPECT_EQ(body["message"], "ICCID 8952 is not valid");
    EXPECT_EQ(body["code"], expected.code);
    EXPECT_EQ(body["request_id"], kRequestId);
    ASSERT_TRUE(mapped.error.has_value());
  }
}

TEST(MapUpstreamResponse, TenantErrorWithoutMessageUsesDefault) {
  const auto mapped = mapUpstreamResponse(upstreamResponse(404, "<html>Not Found</html>"), kRequestId,
                                          Language::kEnglish);

  EXPECT_EQ(mapped.response.status, 404);
  EXPECT_EQ(envelopeOf(mapped.response)["message"], "Resource not found.");
}

TEST(MapUpstreamResponse, TenantErrorMessageNotStringUsesDefault) {
  const auto mapped = mapUpstreamResponse(upstreamResponse(400, R"({"message":{"field":"iccid"}})"),
                                          kRequestId, Language::kEnglish);

  EXPECT_EQ(envelopeOf(mapped.response)["message"], "The request is invalid.");
}

TEST(MapUpstreamResponse, LongUpstreamMessageCut) {
  const std::string long_message(2000, 'x');
  const nlohmann::json upstream_body = {{"success", false}, {"message", long_message}};

  const auto mapped =
      mapUpstreamResponse(upstreamResponse(422, upstream_body.dump()), kRequestId, Language::kEnglish);

  EXPECT_EQ(envelopeOf(mapped.response)["message"], std::string(500, 'x'));
}

TEST(MapUpstreamResponse, AccountErrorsBecomeUnavailable) {
  const std::string secret_message = "API key acct_live_91 is suspended for unpaid invoice";
  for (int status : {401, 402, 403, 500, 503}) {
    SCOPED_TRACE(status);

    const auto mapped = mapUpstreamResponse(
        upstreamResponse(status, R"({"success":false,"message":")" + secret_message + R"("})"), kRequestId,
        Language::kEnglish);

    EXPECT_EQ(mapped.response.status, 502);
    const auto body = envelopeOf(mapped.response);
    EXPECT_EQ(body["code"], "upstream_unavailable");
    EXPECT_EQ(body["message"], kUnavailableEnglish);
    EXPECT_EQ(body["request_id"], kRequestId);
    EXPECT_EQ(mapped.response.body.find("acct_live_91"), std::string::npos);
    ASSERT_TRUE(mapped.error.has_value());
    EXPECT_NE(mapped.error->detail.find(secret_message), std::string::npos)
        << "the operator's detail should keep the upstream message: " << mapped.error->detail;
  }
}

TEST(MapUpstreamResponse, UnexpectedStatusBecomesUnavailable) {
  for (int status : {301, 408, 418, 504}) {
    SCOPED_TRACE(status);

    const auto mapped = mapUpstreamResponse(upstreamResponse(status, ""), kRequestId, Language::kEnglish);

    EXPECT_EQ(mapped.response.status, 502);
    EXPECT_EQ(envelopeOf(mapped.response)["code"], "upstream_unavailable");
  }
}

TEST(MapUpstreamResponse, UpstreamRateLimitBecomesBusy) {
  const auto mapped = mapUpstreamResponse(
      upstreamResponse(429, R"({"message":"Too many requests for account acct_live_91"})",
             {{"retry-after", "17"}}),
      kRequestId, Language::kEnglish);

  EXPECT_EQ(mapped.response.status, 429);
  const auto body = envelopeOf(mapped.response);
  EXPECT_EQ(body["code"], "upstream_busy");
  EXPECT_EQ(body["message"], "The provider is busy; retry later.");
  EXPECT_EQ(headerOf(mapped.response, "Retry-After"), "17");
  EXPECT_EQ(mapped.response.body.find("acct_live_91"), std::string::npos);
}

TEST(MapUpstreamResponse, RetryAfterDefaultsToSixty) {
  const upstream::HeaderList cases[] = {
      {},
      {{"retry-after", ""}},
      {{"retry-after", "soon"}},
      {{"retry-after", "Wed, 21 Oct 2026 07:28:00 GMT"}},
      {{"retry-after", "-5"}},
      {{"retry-after", "2.5"}},
  };
  for (const auto& headers : cases) {
    SCOPED_TRACE(headers.empty() ? "absent" : headers[0].second);

    const auto mapped = mapUpstreamResponse(upstreamResponse(429, "", headers), kRequestId,
                                            Language::kEnglish);

    EXPECT_EQ(mapped.response.status, 429);
    EXPECT_EQ(headerOf(mapped.response, "Retry-After"), "60");
  }
}

TEST(MapUpstreamResponse, RetryAfterKeptWithinOneHour) {
  const auto zero = mapUpstreamResponse(upstreamResponse(429, "", {{"retry-after", "0"}}), kRequestId,
                                        Language::kEnglish);
  const auto large = mapUpstreamResponse(upstreamResponse(429, "", {{"retry-after", "86400"}}), kRequestId,
                                         Language::kEnglish);

  EXPECT_EQ(headerOf(zero.response, "Retry-After"), "1");
  EXPECT_EQ(headerOf(large.response, "Retry-After"), "3600");
}

TEST(MapUpstreamResponse, TimeoutBecomes504) {
  const auto mapped = mapUpstreamResponse(
      transportFailure(TransportError::kTimeout, "no response after 15000 ms"), kRequestId,
      Language::kEnglish);

  EXPECT_EQ(mapped.response.status, 504);
  const auto body = envelopeOf(mapped.response);
  EXPECT_EQ(body["code"], "upstream_timeout");
  EXPECT_EQ(body["message"], "The provider did not answer in time.");
  EXPECT_EQ(mapped.response.body.find("15000"), std::string::npos);
  ASSERT_TRUE(mapped.error.has_value());
  EXPECT_NE(mapped.error->detail.find("15000"), std::string::npos);
}

TEST(MapUpstreamResponse, ConnectFailureBecomes502) {
  const auto mapped = mapUpstreamResponse(
      transportFailure(TransportError::kConnectFailed, "Connection refused 10.1.2.3:443"),
      kRequestId, Language::kEnglish);

  EXPECT_EQ(mapped.response.status, 502);
  const auto body = envelopeOf(mapped.response);
  EXPECT_EQ(body["code"], "upstream_unavailable");
  EXPECT_EQ(body["message"], kUnavailableEnglish);
  EXPECT_EQ(mapped.response.body.find("10.1.2.3"), std::string::npos);
}

TEST(MapUpstreamResponse, InvalidResponseBecomes502) {
  const auto mapped = mapUpstreamResponse(
      transportFailure(TransportError::kInvalidResponse, "response over 8 MiB"), kRequestId,
      Language::kEnglish);

  EXPECT_EQ(mapped.response.status, 502);
  EXPECT_EQ(envelopeOf(mapped.response)["code"], "upstream_unavailable");
}

TEST(MapUpstreamResponse, SpanishMessages) {
  const auto unavailable = mapUpstreamResponse(upstreamResponse(503, ""), kRequestId, Language::kSpanish);
  const auto timeout = mapUpstreamResponse(transportFailure(TransportError::kTimeout, ""),
                                           kRequestId, Language::kSpanish);
  const auto busy = mapUpstreamResponse(upstreamResponse(429, ""), kRequestId, Language::kSpanish);

  EXPECT_EQ(envelopeOf(unavailable.response)["message"],
            "El proveedor no está disponible; reintente más tarde.");
  EXPECT_EQ(envelopeOf(timeout.response)["message"], "El proveedor no respondió a tiempo.");
  EXPECT_EQ(envelopeOf(busy.response)["message"], "El proveedor está ocupado; reintente más tarde.");
}

TEST(MapUpstreamResponse, SpanishKeepsUpstreamTenantMessage) {
  const auto mapped = mapUpstreamResponse(upstreamResponse(400, R"({"message":"Invalid bundle"})"),
                                          kRequestId, Language::kSpanish);

  EXPECT_EQ(envelopeOf(mapped.response)["message"], "Invalid bundle");
}

TEST(ErrorResponse, RateLimitedCarriesRetryAfter) {
  const auto response = errorResponse({common::ErrorCode::kRateLimited, "", ""}, kRequestId,
                                      Language::kEnglish, 12);

  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(headerOf(response, "Retry-After"), "12");
  EXPECT_EQ(envelopeOf(response)["code"], "rate_limited");
}

TEST(ErrorResponse, NoRetryAfterOutside429) {
  const auto response =
      errorResponse({common::ErrorCode::kForbidden, "", ""}, kRequestId, Language::kEnglish);

  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(headerOf(response, "Retry-After"), "");
}

}  // namespace
}  // namespace fdgw::proxy
