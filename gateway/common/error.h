#pragma once

#include <string>
#include <string_view>

namespace fdgw::common {

// Stable error codes of the tenant-facing envelope. Each maps to one HTTP
// status; the code string is part of the public interface.
enum class ErrorCode {
  kBadRequest,
  kUnauthorized,
  kSpendLimitExceeded,
  kForbidden,
  kNotFound,
  kRequestTimeout,
  kConflict,
  kPayloadTooLarge,
  kUnprocessable,
  kRateLimited,
  kUpstreamBusy,
  kInternal,
  kUpstreamUnavailable,
  kUpstreamTimeout,
};

enum class Language { kEnglish, kSpanish };

int httpStatus(ErrorCode code);
std::string_view codeName(ErrorCode code);

// Generic tenant-facing message for a code, used when the error carries no
// message of its own.
std::string_view defaultMessage(ErrorCode code, Language language);

// A failure on the request path. `message` is what the tenant may read
// (empty means the code's default message); `detail` is for the operator's
// log only and never leaves the process.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::string detail;
};

// Serialises the tenant-facing envelope:
// {"success": false, "message": ..., "code": ..., "request_id": ...}.
std::string errorEnvelope(const Error& error, std::string_view request_id, Language language);

// Picks Spanish when the Accept-Language header ranks a Spanish tag above
// every other tag, and English otherwise.
Language preferredLanguage(std::string_view accept_language);

}  // namespace fdgw::common
