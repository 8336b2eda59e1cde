#include "gateway/proxy/response_mapping.h"

#include <nlohmann/json.hpp>

namespace fdgw::proxy {
namespace {

constexpr int kDefaultRetryAfterSeconds = 60;
constexpr std::size_t kMaxPassedMessageLength = 500;

// Reads Retry-After as whole seconds; an HTTP date or garbage yields the
// default, and values are capped at one hour.
int retryAfterSeconds(const upstream::UpstreamResponse& answer) {
  const std::string* value = answer.header("retry-after");
  if (!value || value->empty() || value->size() > 6) return kDefaultRetryAfterSeconds;
  for (char c : *value) {
    if (c < '0' || c > '9') return kDefaultRetryAfterSeconds;
  }
  return std::min(std::max(std::stoi(*value), 1), 3600);
}

std::string upstreamMessage(const std::string& body) {
  const auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("message") && parsed["message"].is_string()) {
    std::string message = parsed["message"].get<std::string>();
    if (message.size() > kMaxPassedMessageLength) message.resize(kMaxPassedMessageLength);
    return message;
  }
  return "";
}

std::string transportDetail(const upstream::UpstreamResponse& answer) {
  switch (answer.error) {
    case upstream::TransportError::kConnectFailed: return "connection failed: " + answer.error_detail;
    case upstream::TransportError::kTimeout: return "timed out: " + answer.error_detail;
    case upstream::TransportError::kInvalidResponse: return "invalid response: " + answer.error_detail;
    case upstream::TransportError::kShuttingDown: return answer.error_detail;
    case upstream::TransportError::kNone: break;
  }
  return "";
}

}  // namespace

OutgoingResponse errorResponse(const common::Error& error, std::string_view request_id,
                               common::Language language, int retry_after_seconds) {
  OutgoingResponse response;
  response.status = common::httpStatus(error.code);
  response.content_type = "application/json";
  response.body = common::errorEnvelope(error, request_id, language);
  if (response.status == 429 || retry_after_seconds > 0) {
    response.headers.emplace_back(
        "Retry-After",
        std::to_string(retry_after_seconds > 0 ? retry_after_seconds : kDefaultRetryAfterSeconds));
  }
  return response;
}

MappedResponse mapUpstreamResponse(const upstream::UpstreamResponse& answer,
                                   std::string_view request_id, common::Language language) {
  if (answer.error != upstream::TransportError::kNone) {
    common::Error error;
    error.code = answer.error == upstream::TransportError::kTimeout
                     ? common::ErrorCode::kUpstreamTimeout
                     : common::ErrorCode::kUpstreamUnavailable;
    error.detail = transportDetail(answer);
    return {errorResponse(error, request_id, language), error};
  }

  const int status = answer.status;
  if (status >= 200 && status < 300) {
    OutgoingResponse response;
    response.status = status;
    const std::string* content_type = answer.header("content-type");
    response.content_type = content_type ? *content_type : "application/json";
    response.body = answer.body;
    return {std::move(response), std::nullopt};
  }

  common::Error error;
  switch (status) {
    case 400: error.code = common::ErrorCode::kBadRequest; break;
    case 404: error.code = common::ErrorCode::kNotFound; break;
    case 409: error.code = common::ErrorCode::kConflict; break;
    case 422: error.code = common::ErrorCode::kUnprocessable; break;
    case 429: error.code = common::ErrorCode::kUpstreamBusy; break;
    default: error.code = common::ErrorCode::kUpstreamUnavailable; break;
  }
  const std::string message = upstreamMessage(answer.body);
  error.detail = "upstream answered " + std::to_string(status) +
                 (message.empty() ? std::string() : ": " + message);
  const bool tenant_caused = status == 400 || status == 404 || status == 409 || status == 422;
  if (tenant_caused) error.message = message;

  const int retry_after = status == 429 ? retryAfterSeconds(answer) : 0;
  return {errorResponse(error, request_id, language, retry_after), error};
}

}  // namespace fdgw::proxy
