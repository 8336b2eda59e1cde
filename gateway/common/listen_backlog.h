#pragma once

#include <cstdint>

namespace fdgw::common {

// Sets the accept backlog of this process's listening TCP socket bound to
// `port`, by calling listen() on it again (Linux applies the new value to a
// socket that is already listening). Returns false when no such socket is
// found or listen() fails.
//
// Pistache 0.0.5's Endpoint::init ignores Options::backlog and listens with
// a backlog of 128, so a burst of new connections overflows the accept
// queue and clients wait a full SYN retransmission (one second).
bool raiseListenBacklog(std::uint16_t port, int backlog);

}  // namespace fdgw::common
