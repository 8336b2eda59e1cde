// Counters reported by GET /__sim/stats.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "money.h"

namespace fdsim {

// Thread-safe counters of FullDatos-path requests and fault decisions.
class Stats {
 public:
  // Counts one request; `route_key` is "GET /orders/{order_id}" or empty
  // for a path that matches no route.
  void countRequest(const std::string& route_key);
  void countRateLimited();
  void countErrorInjected();
  void countDropped();
  void reset();

  Json toJson(const Money& balance) const;

 private:
  mutable std::mutex mutex_;
  std::uint64_t requests_total_ = 0;
  std::map<std::string, std::uint64_t> by_route_;
  std::uint64_t rate_limited_total_ = 0;
  std::uint64_t errors_injected_total_ = 0;
  std::uint64_t dropped_total_ = 0;
};

}  // namespace fdsim
