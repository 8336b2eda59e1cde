#include "faults.h"

#include <cmath>

namespace fdsim {

const char* validateFaultSettings(const FaultSettings& settings) {
  if (settings.latency_ms < 0 || settings.latency_ms > kMaxLatencyMs) return "latency_ms must be from 0 to 600000";
  if (!(settings.error_rate >= 0.0 && settings.error_rate <= 1.0)) return "error_rate must be from 0 to 1";
  if (!(settings.drop_rate >= 0.0 && settings.drop_rate <= 1.0)) return "drop_rate must be from 0 to 1";
  if (settings.error_rate + settings.drop_rate > 1.0 + 1e-9) return "error_rate plus drop_rate must not exceed 1";
  return "";
}

FaultSettings FaultInjector::settings() const {
  std::lock_guard lock(mutex_);
  return settings_;
}

void FaultInjector::update(const FaultSettings& settings) {
  std::lock_guard lock(mutex_);
  settings_ = settings;
}

FaultOutcome FaultInjector::draw() {
  std::lock_guard lock(mutex_);
  const double value = random_.unit();
  if (value < settings_.drop_rate) return FaultOutcome::kDrop;
  if (value < settings_.drop_rate + settings_.error_rate) return FaultOutcome::kError;
  return FaultOutcome::kNone;
}

int FaultInjector::drawErrorStatus() {
  constexpr int kStatuses[] = {500, 502, 503};
  std::lock_guard lock(mutex_);
  return kStatuses[random_.next() % 3];
}

}  // namespace fdsim
