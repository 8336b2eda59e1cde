#include "rate_limiter.h"

namespace fdsim {

RateDecision RateLimiter::admit(const std::string& api_key, SteadyClock::time_point now) {
  if (limit_ <= 0) return {};

  std::lock_guard lock(mutex_);
  Window& window = windows_[api_key];
  if (window.count == 0 || now - window.start >= kWindow) {
    window.start = now;
    window.count = 0;
  }
  if (window.count < limit_) {
    ++window.count;
    return {};
  }

  const auto remaining = window.start + kWindow - now;
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(remaining).count();
  return RateDecision{false, static_cast<int>(seconds < 1 ? 1 : seconds)};
}

}  // namespace fdsim
