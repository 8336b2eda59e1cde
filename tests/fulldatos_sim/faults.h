// Injected latency, errors and dropped connections, changeable at run time.
#pragma once

#include <cstdint>
#include <mutex>

#include "random.h"

namespace fdsim {

struct FaultSettings {
  int latency_ms = 0;       // added before every FullDatos response
  double error_rate = 0.0;  // share of requests that get a 500, 502 or 503 response
  double drop_rate = 0.0;   // share of requests whose connection is closed without a response
};

inline constexpr int kMaxLatencyMs = 600000;

// Returns an empty string when `settings` is valid, else the reason.
const char* validateFaultSettings(const FaultSettings& settings);

enum class FaultOutcome { kNone, kError, kDrop };

// Thread-safe holder of the fault settings and their random draws.
class FaultInjector {
 public:
  FaultInjector(FaultSettings initial, std::uint64_t seed) : settings_(initial), random_(seed) {}

  FaultSettings settings() const;
  void update(const FaultSettings& settings);

  // Draws once: a drop with probability drop_rate, else an error with
  // probability error_rate, else no fault.
  FaultOutcome draw();

  // One of 500, 502 and 503 with equal probability.
  int drawErrorStatus();

 private:
  mutable std::mutex mutex_;
  FaultSettings settings_;
  SplitMix64 random_;
};

}  // namespace fdsim
