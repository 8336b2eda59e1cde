#include "gateway/proxy/policy_store.h"

#include "gateway/catalog/catalog_data.h"

namespace fdgw::proxy {

PolicySnapshot::PolicySnapshot(
    config::Policies policies_in,
    const std::map<std::string, std::shared_ptr<const upstream::UpstreamTarget>>& targets,
    metrics::GatewayMetrics& metrics)
    : policies(std::move(policies_in)), keys(policies) {
  for (const auto& [name, target] : targets) {
    upstreams[name] = Upstream{target, metrics.upstream(name)};
  }
  tenant_series.resize(policies.tenants.size());
  pricing_keys.resize(policies.tenants.size());
  for (const auto& [id, tenant] : policies.tenants) {
    tenant_series[tenant.index] = metrics.tenant(id);
    pricing_keys[tenant.index] = catalog::markupKey(tenant.plan.markup);
    metrics.setSpendLimit(id, "day", tenant.plan.spend.daily_usd_cents);
    metrics.setSpendLimit(id, "month", tenant.plan.spend.monthly_usd_cents);
  }
}

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
