// Requests-per-minute limit per API key.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace fdsim {

struct RateDecision {
  bool allowed = true;
  int retry_after_seconds = 0;  // set when not allowed: whole seconds until the window ends, at least 1
};

// Fixed 60-second windows per key: a window opens at the key's first request
// after the previous window ended and admits `limit` requests. Rejected
// requests do not count. A limit of 0 disables limiting. Thread-safe.
class RateLimiter {
 public:
  using SteadyClock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kWindow{60};

  explicit RateLimiter(int limit) : limit_(limit) {}

  RateDecision admit(const std::string& api_key, SteadyClock::time_point now = SteadyClock::now());

 private:
  struct Window {
    SteadyClock::time_point start;
    int count = 0;
  };

  const int limit_;
  std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;
};

}  // namespace fdsim
