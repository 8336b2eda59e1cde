#pragma once

#include <optional>
#include <string_view>

#include "gateway/common/error.h"
#include "gateway/proxy/http_exchange.h"
#include "gateway/upstream/upstream_client.h"

namespace fdgw::proxy {

// The tenant's view of one upstream response. `error` is set when the
// response became a gateway error, and its detail is for the operator's log.
struct MappedResponse {
  OutgoingResponse response;
  std::optional<common::Error> error;
};

// Maps an upstream response to the tenant's response:
// - 2xx passes through byte for byte with its Content-Type;
// - 400, 404, 409 and 422 concern the tenant's own request, so they keep the
//   upstream's message inside the gateway's envelope;
// - 429 becomes upstream_busy with the upstream's Retry-After;
// - anything else (401, 402, 403, 5xx, transport failures) concerns the
//   reseller's account and becomes a generic upstream_unavailable or
//   upstream_timeout.
MappedResponse mapUpstreamResponse(const upstream::UpstreamResponse& answer,
                                   std::string_view request_id, common::Language language);

// Builds an error response in the envelope, with Retry-After for 429. The
// caller adds X-Request-Id.
OutgoingResponse errorResponse(const common::Error& error, std::string_view request_id,
                               common::Language language, int retry_after_seconds = 0);

}  // namespace fdgw::proxy
