#include "gateway/common/error.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "gateway/common/text.h"

namespace fdgw::common {
namespace {

struct ErrorDescription {
  int status;
  std::string_view name;
  std::string_view english;
  std::string_view spanish;
};

const ErrorDescription& describe(ErrorCode code) {
  static const ErrorDescription kBadRequest{400, "bad_request", "The request is invalid.",
                                            "La solicitud no es válida."};
  static const ErrorDescription kUnauthorized{
      401, "unauthorized", "Invalid or missing API credentials.",
      "Credenciales de API inválidas o ausentes."};
  static const ErrorDescription kSpend{402, "spend_limit_exceeded",
                                       "The order exceeds the account's spend limit.",
                                       "El pedido supera el límite de gasto de la cuenta."};
  static const ErrorDescription kForbidden{403, "forbidden",
                                           "This API key may not use this endpoint.",
                                           "Esta clave de API no puede usar este endpoint."};
  static const ErrorDescription kNotFound{404, "not_found", "Resource not found.",
                                          "Recurso no encontrado."};
  static const ErrorDescription kTimeout{408, "request_timeout",
                                         "The request was not received in time.",
                                         "La solicitud no se recibió a tiempo."};
  static const ErrorDescription kConflict{409, "conflict",
                                          "The request conflicts with the resource's state.",
                                          "La solicitud entra en conflicto con el recurso."};
  static const ErrorDescription kTooLarge{413, "payload_too_large",
                                          "The request body is too large.",
                                          "El cuerpo de la solicitud es demasiado grande."};
  static const ErrorDescription kUnprocessable{422, "unprocessable",
                                               "The request cannot be processed.",
                                               "La solicitud no se puede procesar."};
  static const ErrorDescription kRateLimited{429, "rate_limited",
                                             "Too many requests; retry later.",
                                             "Demasiadas solicitudes; reintente más tarde."};
  static const ErrorDescription kBusy{429, "upstream_busy",
                                      "The provider is busy; retry later.",
                                      "El proveedor está ocupado; reintente más tarde."};
  static const ErrorDescription kInternal{500, "internal", "Internal error.", "Error interno."};
  static const ErrorDescription kUnavailable{502, "upstream_unavailable",
                                             "The provider is unavailable; retry later.",
                                             "El proveedor no está disponible; reintente más tarde."};
  static const ErrorDescription kUpstreamTimeout{
      504, "upstream_timeout", "The provider did not answer in time.",
      "El proveedor no respondió a tiempo."};

  switch (code) {
    case ErrorCode::kBadRequest: return kBadRequest;
    case ErrorCode::kUnauthorized: return kUnauthorized;
    case ErrorCode::kSpendLimitExceeded: return kSpend;
    case ErrorCode::kForbidden: return kForbidden;
    case ErrorCode::kNotFound: return kNotFound;
    case ErrorCode::kRequestTimeout: return kTimeout;
    case ErrorCode::kConflict: return kConflict;
    case ErrorCode::kPayloadTooLarge: return kTooLarge;
    case ErrorCode::kUnprocessable: return kUnprocessable;
    case ErrorCode::kRateLimited: return kRateLimited;
    case ErrorCode::kUpstreamBusy: return kBusy;
    case ErrorCode::kInternal: return kInternal;
    case ErrorCode::kUpstreamUnavailable: return kUnavailable;
    case ErrorCode::kUpstreamTimeout: return kUpstreamTimeout;
  }
  return kInternal;
}

// Parses the q value of one Accept-Language entry; a missing or malformed
// q counts as 1.0 or 0 respectively, as RFC 9110 weights do.
double qualityOf(std::string_view parameters) {
  const auto q = parameters.find("q=");
  if (q == std::string_view::npos) return 1.0;
  const std::string value(trim(parameters.substr(q + 2)));
  char* end = nullptr;
  const double parsed = std::strtod(value.c_str(), &end);
  if (end == value.c_str()) return 0.0;
  return parsed;
}

}  // namespace

int httpStatus(ErrorCode code) { return describe(code).status; }

std::string_view codeName(ErrorCode code) { return describe(code).name; }

std::string_view defaultMessage(ErrorCode code, Language language) {
  const auto& description = describe(code);
  return language == Language::kSpanish ? description.spanish : description.english;
}

std::string errorEnvelope(const Error& error, std::string_view request_id, Language language) {
  nlohmann::ordered_json body = nlohmann::ordered_json::object();
  body["success"] = false;
  body["message"] = error.message.empty() ? std::string(defaultMessage(error.code, language))
                                          : error.message;
  body["code"] = std::string(codeName(error.code));
  body["request_id"] = std::string(request_id);
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Language preferredLanguage(std::string_view accept_language) {
  double best_spanish = 0.0;
  double best_other = 0.0;
  for (std::string_view entry : split(accept_language, ',')) {
    entry = trim(entry);
    if (entry.empty()) continue;
    const auto semicolon = entry.find(';');
    const std::string_view tag = trim(entry.substr(0, semicolon));
    const double quality =
        semicolon == std::string_view::npos ? 1.0 : qualityOf(entry.substr(semicolon + 1));
    const bool spanish = tag.size() >= 2 && equalsIgnoreCase(tag.substr(0, 2), "es") &&
                         (tag.size() == 2 || tag[2] == '-');
    if (spanish) {
      best_spanish = std::max(best_spanish, quality);
    } else {
      best_other = std::max(best_other, quality);
    }
  }
  return best_spanish > 0.0 && best_spanish > best_other ? Language::kSpanish
                                                         : Language::kEnglish;
}

}  // namespace fdgw::common
