#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/common/routes.h"

namespace fdgw::metrics {

// Route slot for requests that matched no route (label route="none").
inline constexpr std::size_t kNoRoute = common::kRoutes.size();
inline constexpr std::size_t kRouteSlots = common::kRoutes.size() + 1;

// The label value of a route slot: a route id, or "none".
std::string_view routeLabel(std::size_t route_slot);

// Status codes that get their own `code` label value; any other status is
// counted as "other", which keeps the label set bounded.
inline constexpr std::array<int, 20> kStatusCodes{200, 201, 202, 204, 400, 401, 402, 403, 404, 405,
                                                  408, 409, 413, 422, 429, 500, 502, 503, 504, 0};

// Outcomes of an upstream call that produced no HTTP status.
enum class UpstreamFailure { kNone, kTimeout, kConnectError, kInvalidResponse };

// Request metrics of one tenant (or of "unknown"). Series are created on
// first use and then reached through fixed slots, so the request path does
// no label look-up after the first request of each kind. Thread-safe.
class TenantSeries {
 public:
  TenantSeries(std::string tenant, prometheus::Family<prometheus::Counter>& requests,
               prometheus::Family<prometheus::Histogram>& durations);

  void recordRequest(std::size_t route_slot, int status, std::chrono::nanoseconds duration);

 private:
  static constexpr std::size_t kCodeSlots = kStatusCodes.size();

  std::string tenant_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  std::mutex create_mutex_;
  std::array<std::atomic<prometheus::Counter*>, kRouteSlots * kCodeSlots> counters_{};
  std::array<std::atomic<prometheus::Histogram*>, kRouteSlots> histograms_{};
};

// Upstream call metrics of one upstream account.
class UpstreamSeries {
 public:
  UpstreamSeries(std::string upstream, prometheus::Family<prometheus::Counter>& requests,
                 prometheus::Family<prometheus::Histogram>& durations,
                 prometheus::Family<prometheus::Gauge>& budget_remaining);

  // `status` is the HTTP status when `failure` is kNone.
  void recordCall(std::size_t route_slot, int status, UpstreamFailure failure,
                  std::chrono::nanoseconds duration);
  // Sets the budget gauge, creating its series on first use: an upstream
  // without a budget exports no series rather than a misleading 0.
  void setBudgetRemaining(double requests);

 private:
  static constexpr std::size_t kCodeSlots = kStatusCodes.size() + 3;

  std::string upstream_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  prometheus::Family<prometheus::Gauge>& budget_family_;
  std::atomic<prometheus::Gauge*> budget_remaining_{nullptr};
  std::mutex create_mutex_;
  std::array<std::atomic<prometheus::Counter*>, kRouteSlots * kCodeSlots> counters_{};
  std::array<std::atomic<prometheus::Histogram*>, kRouteSlots> histograms_{};
};

// Why an authentication failed, as counted in fdgw_auth_failures_total.
inline constexpr std::array<std::string_view, 6> kAuthFailureReasons{
    "missing", "malformed", "ambiguous", "unknown_key", "wrong_secret", "expired"};

// Outcome of one catalog lookup, as counted in
// fdgw_catalog_cache_requests_total: served from a fresh copy, served after
// waiting for a fetch, served from an expired copy because the fetch failed,
// or not served because no usable copy existed.
enum class CatalogCacheResult { kHit, kMiss, kStale, kError };

// Every metric the gateway exports, prefix fdgw_. Label values come only
// from bounded sets: configured tenant and upstream ids, route ids, quota
// names and status codes.
class GatewayMetrics {
 public:
  GatewayMetrics();

  // Returns the series of a tenant id, creating them on first call. Call
  // when a policies snapshot is built, not per request.
  std::shared_ptr<TenantSeries> tenant(const std::string& tenant_id);
  std::shared_ptr<UpstreamSeries> upstream(const std::string& upstream_name);
  // Series of requests that failed before a tenant was known.
  TenantSeries& unknownTenant() { return *unknown_tenant_; }

  void recordAuthFailure(std::string_view reason);
  // Counts one quota decision and updates that quota's limit and use
  // gauges. Quota names come from the policies, so the set stays bounded.
  void recordQuotaDecision(const std::string& tenant_id, const std::string& quota,
                           std::string_view decision, std::int64_t limit, std::int64_t used);
  void recordRedisError(std::string_view operation);
  // Counts one POST /orders by result (completed, failed, rejected) and,
  // for a completed order, adds what the tenant paid and the reseller's
  // margin, in US cents.
  void recordOrder(const std::string& tenant_id, std::string_view result,
                   std::int64_t sales_usd_cents, std::int64_t margin_usd_cents);
  // Sets fdgw_spend_usd, the committed spend at the tenant's prices of its
  // current `window` ("day" or "month"), as the last spend operation of this
  // instance saw it.
  void setSpend(const std::string& tenant_id, std::string_view window, std::int64_t usd_cents);
  // Sets fdgw_spend_limit_usd. An unlimited window (no value) exports 0 when
  // it had a limit before, and no series otherwise.
  void setSpendLimit(const std::string& tenant_id, std::string_view window,
                     std::optional<std::int64_t> usd_cents);
  // Counts one reservation settled by reconciliation, by result
  // (committed, released).
  void recordReconciliation(std::string_view result);
  void recordConfigReload(bool success);
  void recordCatalogCache(CatalogCacheResult result);
  // Counts one catalog fetch from an upstream account by outcome (success
  // or failure) in fdgw_catalog_fetches_total.
  void recordCatalogFetch(const std::string& upstream_name, bool success);
  prometheus::Gauge& inflight() { return *inflight_; }

  // Serialises every metric in the Prometheus text format.
  std::string render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& request_durations_;
  prometheus::Family<prometheus::Counter>& upstream_requests_;
  prometheus::Family<prometheus::Histogram>& upstream_durations_;
  prometheus::Family<prometheus::Gauge>& upstream_budget_;
  prometheus::Family<prometheus::Counter>& auth_failures_;
  prometheus::Family<prometheus::Counter>& config_reloads_;
  prometheus::Family<prometheus::Counter>& quota_decisions_;
  prometheus::Family<prometheus::Gauge>& quota_limits_;
  prometheus::Family<prometheus::Gauge>& quota_used_;
  prometheus::Family<prometheus::Counter>& redis_errors_;
  prometheus::Family<prometheus::Counter>& orders_;
  prometheus::Family<prometheus::Counter>& sales_;
  prometheus::Family<prometheus::Counter>& margins_;
  prometheus::Family<prometheus::Counter>& catalog_requests_;
  prometheus::Family<prometheus::Counter>& catalog_fetches_;
  prometheus::Family<prometheus::Gauge>& spend_;
  prometheus::Family<prometheus::Gauge>& spend_limits_;
  prometheus::Family<prometheus::Counter>& reconciliations_;
  std::array<prometheus::Counter*, 4> catalog_result_counters_{};
  prometheus::Gauge* inflight_;
  std::array<prometheus::Counter*, kAuthFailureReasons.size()> auth_failure_counters_{};
  prometheus::Counter* reload_success_;
  prometheus::Counter* reload_failure_;

  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<TenantSeries>> tenants_;
  std::map<std::string, std::shared_ptr<UpstreamSeries>> upstreams_;

  struct QuotaSeries {
    prometheus::Gauge* limit;
    prometheus::Gauge* used;
    std::map<std::string, prometheus::Counter*, std::less<>> decisions;
  };
  std::mutex quota_mutex_;
  std::map<std::string, QuotaSeries> quota_series_;  // key: tenant id + '\n' + quota name
  std::map<std::string, prometheus::Counter*, std::less<>> redis_error_counters_;
  std::mutex spend_mutex_;
  std::map<std::string, prometheus::Gauge*> spend_limit_gauges_;  // key: tenant id + '\n' + window
  std::shared_ptr<TenantSeries> unknown_tenant_;
};

// Histogram bounds in seconds, from half a millisecond to thirty seconds.
const prometheus::Histogram::BucketBoundaries& latencyBuckets();

}  // namespace fdgw::metrics
