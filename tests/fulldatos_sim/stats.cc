#include "stats.h"

namespace fdsim {

void Stats::countRequest(const std::string& route_key) {
  std::lock_guard lock(mutex_);
  ++requests_total_;
  if (!route_key.empty()) ++by_route_[route_key];
}

void Stats::countRateLimited() {
  std::lock_guard lock(mutex_);
  ++rate_limited_total_;
}

void Stats::countErrorInjected() {
  std::lock_guard lock(mutex_);
  ++errors_injected_total_;
}

void Stats::countDropped() {
  std::lock_guard lock(mutex_);
  ++dropped_total_;
}

void Stats::reset() {
  std::lock_guard lock(mutex_);
  requests_total_ = 0;
  by_route_.clear();
  rate_limited_total_ = 0;
  errors_injected_total_ = 0;
  dropped_total_ = 0;
}

Json Stats::toJson(const Money& balance) const {
  std::lock_guard lock(mutex_);
  Json by_route = Json::object();
  for (const auto& [route, count] : by_route_) by_route[route] = count;
  Json result = Json::object();
  result["requests_total"] = requests_total_;
  result["by_route"] = std::move(by_route);
  result["rate_limited_total"] = rate_limited_total_;
  result["errors_injected_total"] = errors_injected_total_;
  result["dropped_total"] = dropped_total_;
  result["balance"] = moneyToJson(balance);
  return result;
}

}  // namespace fdsim
