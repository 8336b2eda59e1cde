#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "gateway/auth/key_store.h"
#include "gateway/config/policies.h"
#include "gateway/metrics/gateway_metrics.h"
#include "gateway/upstream/upstream_client.h"

namespace fdgw::proxy {

// Everything a request needs from configuration, frozen at one load.
// Requests hold a shared_ptr to the snapshot they started with, so a reload
// never changes the rules under a request in flight.
struct PolicySnapshot {
  struct Upstream {
    std::shared_ptr<const upstream::UpstreamTarget> target;
    std::shared_ptr<metrics::UpstreamSeries> series;
  };

  PolicySnapshot(config::Policies policies_in,
                 const std::map<std::string, std::shared_ptr<const upstream::UpstreamTarget>>& targets,
                 metrics::GatewayMetrics& metrics);

  config::Policies policies;
  auth::KeyStore keys;  // points into `policies`
  std::map<std::string, Upstream> upstreams;
  // Indexed by config::Tenant::index.
  std::vector<std::shared_ptr<metrics::TenantSeries>> tenant_series;
  // catalog::markupKey of each tenant's markup, indexed by config::Tenant::index.
  std::vector<std::string> pricing_keys;
};

// Holds the current snapshot and swaps it atomically on reload.
class PolicyStore {
 public:
  explicit PolicyStore(std::shared_ptr<const PolicySnapshot> initial);

  std::shared_ptr<const PolicySnapshot> current() const;
  void replace(std::shared_ptr<const PolicySnapshot> next);

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const PolicySnapshot> current_;
};

}  // namespace fdgw::proxy
