#include "gateway/proxy/policy_store.h"

namespace fdgw::proxy {

PolicySnapshot::PolicySnapshot(
    config::Policies policies_in,
    std::map<std::string, std::shared_ptr<const upstream::UpstreamTarget>> targets)
    : policies(std::move(policies_in)), keys(policies), upstreams(std::move(targets)) {}

PolicyStore::PolicyStore(std::shared_ptr<const PolicySnapshot> initial)
    : current_(std::move(initial)) {}

std::shared_ptr<const PolicySnapshot> PolicyStore::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void PolicyStore::replace(std::shared_ptr<const PolicySnapshot> next) {
  std::lock_guard lock(mutex_);
  current_ = std::move(next);
}

}  // namespace fdgw::proxy
