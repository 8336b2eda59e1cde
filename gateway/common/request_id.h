#pragma once

#include <string>
#include <string_view>

namespace fdgw::common {

// Returns a new random request id: 32 lowercase hex characters.
std::string newRequestId();

// True when a client-supplied X-Request-Id may be reused as is: 1 to 128
// characters from [A-Za-z0-9._:-], so it is safe in headers and logs.
bool isSaneRequestId(std::string_view id);

}  // namespace fdgw::common
