#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "gateway/catalog/catalog_cache.h"
#include "gateway/common/clock.h"
#include "gateway/common/error.h"
#include "gateway/idempotency/idempotency_store.h"
#include "gateway/log/logger.h"
#include "gateway/metrics/gateway_metrics.h"
#include "gateway/proxy/http_exchange.h"
#include "gateway/proxy/order_pricing.h"
#include "gateway/proxy/policy_store.h"
#include "gateway/proxy/route_matcher.h"
#include "gateway/quota/quota_engine.h"
#include "gateway/quota/upstream_budget.h"
#include "gateway/spend/spend_ledger.h"
#include "gateway/tenancy/ownership_index.h"
#include "gateway/upstream/upstream_client.h"

namespace fdgw::proxy {

struct PipelineOptions {
  std::size_t max_body_bytes = 64 * 1024;
  // Wait after an order's upstream deadline, or after an unknown outcome,
  // before reconciliation settles its reservation (spend.reconcile_after_seconds).
  std::chrono::milliseconds reconcile_after{60000};
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
                  quota::UpstreamBudget& budget, PipelineOptions options,
                  catalog::CatalogSource* catalog = nullptr,
                  tenancy::OwnershipIndex* ownership = nullptr, spend::SpendLedger* spend = nullptr,
                  idempotency::IdempotencyStore* idempotency = nullptr);

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
  // Serves a catalog route from the catalog cache, with the tenant's markup.
  void serveCatalog(const std::shared_ptr<Exchange>& exchange, const RouteMatch& match,
                    const config::Tenant& tenant, std::shared_ptr<IncomingRequest> request);
  // Keeps tenants of a shared upstream account apart before the upstream
  // call: serves lists from the ownership index, checks every id the
  // request names, and puts reference ids into the tenant's namespace. Calls
  // forward() with the rewritten request when the call may go ahead.
  void isolate(std::shared_ptr<Exchange> exchange, const RouteMatch& match, const config::Tenant& tenant,
               const PolicySnapshot::Upstream& upstream_entry, IncomingRequest request);
  // Checks that the tenant owns every id in `ids`, one after the other, then
  // runs `next`. A foreign or unknown id ends the request with 404.
  void requireOwnership(std::shared_ptr<Exchange> exchange, const config::Tenant& tenant,
                        const PolicySnapshot::Upstream& upstream_entry,
                        std::vector<std::pair<tenancy::Kind, std::string>> ids, std::function<void()> next);
  // Serves a list route from the ownership index.
  void serveOwnedList(const std::shared_ptr<Exchange>& exchange, const config::Tenant& tenant,
                      const PolicySnapshot::Upstream& upstream_entry, tenancy::Kind kind,
                      const IncomingRequest& request);
  // Applies ownership, namespaces and markup to a successful upstream
  // response, then finishes the request.
  void deliverSuccess(const std::shared_ptr<Exchange>& exchange, const config::Tenant& tenant,
                      const PolicySnapshot::Upstream& upstream_entry, OutgoingResponse response);
  // Delivers a successful response with every price at the tenant's price
  // (unchanged without markup or on a route without prices).
  void finishPriced(const std::shared_ptr<Exchange>& exchange, const config::Tenant& tenant,
                    const PolicySnapshot::Upstream& upstream_entry, OutgoingResponse response);
  void rejectRateLimited(const std::shared_ptr<Exchange>& exchange,
                         const quota::Decision& decision);
  void forward(std::shared_ptr<Exchange> exchange, const RouteMatch& match,
               const config::Tenant& tenant, const PolicySnapshot::Upstream& upstream_entry,
               IncomingRequest request);
  void reject(const std::shared_ptr<Exchange>& exchange, common::Error error);

  // Spend and idempotency steps, in request_pipeline.cc after the request
  // path's own steps.
  //
  // Takes the Idempotency-Key record of POST /orders, /refund and /tickets,
  // or replays the first response to a repeat, then calls forward().
  void claimIdempotencyKey(std::shared_ptr<Exchange> exchange, const RouteMatch& match,
                           const config::Tenant& tenant, const PolicySnapshot::Upstream& upstream_entry,
                           IncomingRequest request);
  // Holds an order's total at the tenant's prices against its spend limits
  // and wallet, then calls forward() again. forward() calls it after tenant
  // isolation, so the reservation keeps the reference id that the upstream
  // receives.
  void reserveSpend(std::shared_ptr<Exchange> exchange, const RouteMatch& match,
                    const config::Tenant& tenant, const PolicySnapshot::Upstream& upstream_entry,
                    IncomingRequest request);
  void placeReservation(std::shared_ptr<Exchange> exchange, const RouteMatch& match,
                        const config::Tenant& tenant, const PolicySnapshot::Upstream& upstream_entry,
                        std::shared_ptr<IncomingRequest> request, const OrderRequest& order,
                        std::int64_t amount_cents);
  // Sends the upstream call. An order's reservation is settled, and a
  // refund credited, before `done` receives the response.
  void sendUpstream(const std::shared_ptr<Exchange>& exchange, const config::Tenant& tenant,
                    const PolicySnapshot::Upstream& upstream_entry, upstream::UpstreamRequest call,
                    upstream::UpstreamCompletion done);
  void settleOrder(const std::shared_ptr<Exchange>& exchange, const config::Tenant& tenant,
                   const PolicySnapshot::Upstream& upstream_entry, const upstream::UpstreamResponse& answer,
                   std::function<void()> next);
  void commitOrder(const std::shared_ptr<Exchange>& exchange, spend::OrderCharge charge,
                   std::function<void()> next);
  void deferOrder(const std::shared_ptr<Exchange>& exchange, std::function<void()> next);
  void creditRefund(const std::shared_ptr<Exchange>& exchange, const config::Tenant& tenant,
                    const upstream::UpstreamResponse& answer, std::function<void()> next);
  // Serves /credits/balance and /credits/transactions from the tenant's own
  // wallet and ledger.
  void serveCredits(const std::shared_ptr<Exchange>& exchange, const config::Tenant& tenant,
                    const IncomingRequest& request);
  // Stores or removes the Idempotency-Key record before the response leaves.
  void settleIdempotency(const std::shared_ptr<Exchange>& exchange, OutgoingResponse response);
  void recordSpendState(const std::string& tenant_id, const spend::SpendState& state);
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
  catalog::CatalogSource* catalog_;
  tenancy::OwnershipIndex* ownership_;
  spend::SpendLedger* spend_;
  idempotency::IdempotencyStore* idempotency_;
  RouteMatcher matcher_;
  std::atomic<long> inflight_{0};
};

}  // namespace fdgw::proxy
