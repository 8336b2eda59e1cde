// State shared by the Pistache handler clones of one server.
#pragma once

#include <memory>
#include <vector>

#include "api_router.h"
#include "delayed_sender.h"
#include "faults.h"
#include "options.h"
#include "rate_limiter.h"
#include "stats.h"

namespace fdsim {

struct Simulator;

struct ServerState {
  ServerState(Simulator& simulator_in, const Options& options)
      : simulator(simulator_in),
        credentials(options.credentials),
        rate_limiter(options.rate_limit_per_minute),
        faults(options.faults, options.seed ^ 0x5EEDFA17ULL),
        access_log(options.access_log) {}

  // Returns true when `key` and `secret` match a configured pair.
  bool isAuthorized(const std::string& key, const std::string& secret) const;

  Simulator& simulator;
  const ApiRouter router;
  const std::vector<Credential> credentials;
  RateLimiter rate_limiter;
  FaultInjector faults;
  Stats stats;
  DelayedSender sender;
  ConnectionTracker connections;
  const bool access_log;
};

// Handles a request under /__sim/: stats, reset-stats and faults.
ApiResponse handleControlRequest(ServerState& state, const ApiRequest& request);

}  // namespace fdsim
