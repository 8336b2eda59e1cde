#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace fdgw::upstream {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One FullDatos account as the client reaches it. The credentials were read
// from the environment at start-up.
struct UpstreamTarget {
  std::string name;
  std::string base_url;  // without a trailing slash
  std::string api_key;
  std::string api_secret;
  std::chrono::milliseconds timeout{15000};
  std::chrono::milliseconds connect_timeout{3000};
  std::int64_t requests_per_minute = 100;  // the account's own rate limit
  // Several tenants share the account, so the gateway keeps them apart.
  bool shared = false;
};

struct UpstreamRequest {
  std::shared_ptr<const UpstreamTarget> target;
  std::string method;          // GET, POST, PUT or DELETE
  std::string path_and_query;  // starts with '/'
  HeaderList headers;          // sent as given, after the account's credentials
  std::string body;
};

enum class TransportError {
  kNone,
  kConnectFailed,  // no connection, reset, or an empty reply
  kTimeout,
  kInvalidResponse,  // malformed HTTP, or larger than the response limit
  kShuttingDown,
};

struct UpstreamResponse {
  TransportError error = TransportError::kNone;
  std::string error_detail;  // for the operator's log only
  int status = 0;
  HeaderList headers;  // names in lowercase
  std::string body;    // decoded when the upstream compressed it
  std::chrono::microseconds elapsed{0};

  const std::string* header(std::string_view lowercase_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lowercase_name) return &value;
    }
    return nullptr;
  }
};

using UpstreamCompletion = std::function<void(UpstreamResponse)>;

// Sends requests to FullDatos without blocking the caller. `done` runs
// exactly once, on the client's own thread, and must not block.
class UpstreamClient {
 public:
  virtual ~UpstreamClient() = default;
  virtual void send(UpstreamRequest request, UpstreamCompletion done) = 0;
};

}  // namespace fdgw::upstream
