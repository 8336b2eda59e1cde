#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "gateway/common/clock.h"
#include "gateway/common/error.h"
#include "gateway/log/logger.h"
#include "gateway/metrics/gateway_metrics.h"
#include "gateway/proxy/http_exchange.h"
#include "gateway/proxy/policy_store.h"
#include "gateway/proxy/route_matcher.h"
#include "gateway/quota/quota_engine.h"
#include "gateway/quota/upstream_budget.h"
#include "gateway/upstream/upstream_client.h"

namespace fdgw::proxy {

struct PipelineOptions {
  std::size_t max_body_bytes = 64 * 1024;
};

// The request path from a parsed tenant request to the tenant's response:
// route, authenticate, authorise, check quotas and the upstream budget, call
// upstream, map the upstream response, log. It
// never blocks on network I/O: the upstream call completes on the
// upstream client's thread, which then delivers the response.
class RequestPipeline {
 public:
  RequestPipeline(PolicyStore& policies, upstream::UpstreamClient& upstream,
                  const common::Clock& clock, log::Logger& logger,
                  metrics::GatewayMetrics& metrics, quota::QuotaEngine& quotas,
                  quota::UpstreamBudget& budget, PipelineOptions options);

  // Handles one request. `respond` runs exactly once, possibly after this
  // call returns and on another thread.
  void handle(IncomingRequest request, Responder respond);

  // Requests accepted by handle() whose response has not been delivered.
  long inflight() const { return inflight_.load(); }

 private:
  struct Exchange;

  void applyQuotas(std::shared_ptr<Exchange> exchange, RouteMatch match,
                   const config::Tenant& tenant, IncomingRequest request);
  // Records the quota metrics and the RateLimit-* values, and responds with
  // 429 when the quotas rejected the request. Returns whether it may go on.
  bool applyQuotaDecision(const std::shared_ptr<Exchange>& exchange, const config::Tenant& tenant,
                          const quota::Decision& decision);
  void applyBudgetDecision(std::shared_ptr<Exchange> exchange, const RouteMatch& match,
                           const config::Tenant& tenant, const PolicySnapshot::Upstream& upstream,
                           const quota::BudgetDecision& decision, IncomingRequest request);
  void serveUsage(const std::shared_ptr<Exchange>& exchange, const config::Tenant& tenant);
  void rejectRateLimited(const std::shared_ptr<Exchange>& exchange,
                         const quota::Decision& decision);
  void forward(std::shared_ptr<Exchange> exchange, const RouteMatch& match,
               const config::Tenant& tenant, const PolicySnapshot::Upstream& upstream_entry,
               IncomingRequest request);
  void reject(const std::shared_ptr<Exchange>& exchange, common::Error error);
  void recordOrder(const Exchange& exchange, const OutgoingResponse& response);
  // Honours an upstream 429: no call to that account until its Retry-After.
  void blockUpstream(const std::string& upstream_name, const upstream::UpstreamResponse& answer);
  void finish(const std::shared_ptr<Exchange>& exchange, OutgoingResponse response);

  PolicyStore& policies_;
  upstream::UpstreamClient& upstream_;
  const common::Clock& clock_;
  log::Logger& logger_;
  metrics::GatewayMetrics& metrics_;
  quota::QuotaEngine& quotas_;
  quota::UpstreamBudget& budget_;
  PipelineOptions options_;
  RouteMatcher matcher_;
  std::atomic<long> inflight_{0};
};

}  // namespace fdgw::proxy
