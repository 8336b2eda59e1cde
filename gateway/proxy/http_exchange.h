#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fdgw::proxy {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// A tenant's request as the HTTP adapter received it.
struct IncomingRequest {
  std::string method;    // in capitals
  std::string raw_path;  // path of the request line, still percent-encoded
  std::vector<std::pair<std::string, std::string>> query;  // raw names and values
  HeaderList headers;    // names in lowercase
  std::string body;
  std::string client_address;

  // Returns the value of a header, or nullptr when absent.
  const std::string* header(std::string_view lowercase_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lowercase_name) return &value;
    }
    return nullptr;
  }
};

struct OutgoingResponse {
  int status = 200;
  std::string content_type = "application/json";
  HeaderList headers;  // extra headers, such as X-Request-Id and Retry-After
  std::string body;
};

// Delivers the response to the client. Called exactly once per request, on
// any thread.
using Responder = std::function<void(OutgoingResponse)>;

}  // namespace fdgw::proxy
