#include "gateway/metrics/gateway_metrics.h"

#include <prometheus/text_serializer.h>

namespace fdgw::metrics {
namespace {

std::size_t statusSlot(int status) {
  for (std::size_t i = 0; i + 1 < kStatusCodes.size(); ++i) {
    if (kStatusCodes[i] == status) return i;
  }
  return kStatusCodes.size() - 1;  // "other"
}

std::string statusLabel(std::size_t slot) {
  return kStatusCodes[slot] == 0 ? "other" : std::to_string(kStatusCodes[slot]);
}

// Returns the series in `slot`, creating it under `mutex` on first use.
template <typename Metric, typename Create>
Metric& resolve(std::atomic<Metric*>& slot, std::mutex& mutex, Create create) {
  Metric* metric = slot.load(std::memory_order_acquire);
  if (metric) return *metric;
  std::lock_guard lock(mutex);
  metric = slot.load(std::memory_order_relaxed);
  if (!metric) {
    metric = &create();
    slot.store(metric, std::memory_order_release);
  }
  return *metric;
}

}  // namespace

std::string_view routeLabel(std::size_t route_slot) {
  return route_slot < common::kRoutes.size() ? common::kRoutes[route_slot].id : "none";
}

const prometheus::Histogram::BucketBoundaries& latencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  return kBuckets;
}

TenantSeries::TenantSeries(std::string tenant, prometheus::Family<prometheus::Counter>& requests,
                           prometheus::Family<prometheus::Histogram>& durations)
    : tenant_(std::move(tenant)), requests_(requests), durations_(durations) {}

void TenantSeries::recordRequest(std::size_t route_slot, int status,
                                 std::chrono::nanoseconds duration) {
  route_slot = std::min(route_slot, kNoRoute);
  const std::size_t code_slot = statusSlot(status);
  auto& counter = resolve(counters_[route_slot * kCodeSlots + code_slot], create_mutex_, [&]() -> auto& {
    return requests_.Add({{"tenant", tenant_},
                          {"route", std::string(routeLabel(route_slot))},
                          {"code", statusLabel(code_slot)}});
  });
  counter.Increment();
  auto& histogram = resolve(histograms_[route_slot], create_mutex_, [&]() -> auto& {
    return durations_.Add({{"tenant", tenant_}, {"route", std::string(routeLabel(route_slot))}},
                          latencyBuckets());
  });
  histogram.Observe(std::chrono::duration<double>(duration).count());
}

UpstreamSeries::UpstreamSeries(std::string upstream,
                               prometheus::Family<prometheus::Counter>& requests,
                               prometheus::Family<prometheus::Histogram>& durations,
                               prometheus::Family<prometheus::Gauge>& budget_remaining)
    : upstream_(std::move(upstream)),
      requests_(requests),
      durations_(durations),
      budget_family_(budget_remaining) {}

void UpstreamSeries::setBudgetRemaining(double requests) {
  auto& gauge = resolve(budget_remaining_, create_mutex_, [&]() -> auto& {
    return budget_family_.Add({{"upstream", upstream_}});
  });
  gauge.Set(requests);
}

void UpstreamSeries::recordCall(std::size_t route_slot, int status, UpstreamFailure failure,
                                std::chrono::nanoseconds duration) {
  route_slot = std::min(route_slot, kNoRoute);
  std::size_t code_slot = statusSlot(status);
  std::string code = statusLabel(code_slot);
  switch (failure) {
    case UpstreamFailure::kNone: break;
    case UpstreamFailure::kTimeout: code_slot = kStatusCodes.size(); code = "timeout"; break;
    case UpstreamFailure::kConnectError: code_slot = kStatusCodes.size() + 1; code = "connect_error"; break;
    case UpstreamFailure::kInvalidResponse: code_slot = kStatusCodes.size() + 2; code = "invalid_response"; break;
  }
  auto& counter = resolve(counters_[route_slot * kCodeSlots + code_slot], create_mutex_, [&]() -> auto& {
    return requests_.Add(
        {{"upstream", upstream_}, {"route", std::string(routeLabel(route_slot))}, {"code", code}});
  });
  counter.Increment();
  auto& histogram = resolve(histograms_[route_slot], create_mutex_, [&]() -> auto& {
    return durations_.Add({{"upstream", upstream_}, {"route", std::string(routeLabel(route_slot))}},
                          latencyBuckets());
  });
  histogram.Observe(std::chrono::duration<double>(duration).count());
}

GatewayMetrics::GatewayMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("fdgw_requests_total")
                    .Help("Tenant requests answered, by tenant, route id and HTTP status")
                    .Register(*registry_)),
      request_durations_(prometheus::BuildHistogram()
                             .Name("fdgw_request_duration_seconds")
                             .Help("Time from a parsed request to its response being queued")
                             .Register(*registry_)),
      upstream_requests_(prometheus::BuildCounter()
                             .Name("fdgw_upstream_requests_total")
                             .Help("Calls to FullDatos, by upstream, route id and status or failure")
                             .Register(*registry_)),
      upstream_durations_(prometheus::BuildHistogram()
                              .Name("fdgw_upstream_duration_seconds")
                              .Help("Duration of calls to FullDatos, queueing included")
                              .Register(*registry_)),
      upstream_budget_(prometheus::BuildGauge()
                           .Name("fdgw_upstream_budget_remaining")
                           .Help("Requests left in the upstream account's current minute")
                           .Register(*registry_)),
      auth_failures_(prometheus::BuildCounter()
                         .Name("fdgw_auth_failures_total")
                         .Help("Rejected tenant credentials, by reason")
                         .Register(*registry_)),
      config_reloads_(prometheus::BuildCounter()
                          .Name("fdgw_config_reloads_total")
                          .Help("Policy reloads on SIGHUP, by result")
                          .Register(*registry_)),
      quota_decisions_(prometheus::BuildCounter()
                           .Name("fdgw_quota_decisions_total")
                           .Help("Quota checks by tenant, quota and decision")
                           .Register(*registry_)),
      quota_limits_(prometheus::BuildGauge()
                        .Name("fdgw_quota_limit")
                        .Help("A tenant quota's limit per window")
                        .Register(*registry_)),
      quota_used_(prometheus::BuildGauge()
                      .Name("fdgw_quota_used")
                      .Help("Requests counted in a tenant quota's current window, as last seen")
                      .Register(*registry_)),
      redis_errors_(prometheus::BuildCounter()
                        .Name("fdgw_redis_errors_total")
                        .Help("Redis calls that failed or timed out, by operation")
                        .Register(*registry_)),
      orders_(prometheus::BuildCounter()
                  .Name("fdgw_orders_total")
                  .Help("POST /orders requests by tenant and result")
                  .Register(*registry_)),
      sales_(prometheus::BuildCounter()
                 .Name("fdgw_sales_usd_total")
                 .Help("Value of completed orders at the tenant's prices, USD")
                 .Register(*registry_)),
      margins_(prometheus::BuildCounter()
                   .Name("fdgw_margin_usd_total")
                   .Help("Tenant price minus wholesale cost of completed orders, USD")
                   .Register(*registry_)),
      catalog_requests_(prometheus::BuildCounter()
                            .Name("fdgw_catalog_cache_requests_total")
                            .Help("Catalog lookups by result: hit, miss, stale or error")
                            .Register(*registry_)),
      catalog_fetches_(prometheus::BuildCounter()
                           .Name("fdgw_catalog_fetches_total")
                           .Help("Catalog fetches from an upstream account by result")
                           .Register(*registry_)),
      spend_(prometheus::BuildGauge()
                 .Name("fdgw_spend_usd")
                 .Help("Committed order spend at the tenant's prices in the current day or month, USD")
                 .Register(*registry_)),
      spend_limits_(prometheus::BuildGauge()
                        .Name("fdgw_spend_limit_usd")
                        .Help("A tenant's spend limit per day or month, USD; 0 when it was removed")
                        .Register(*registry_)),
      reconciliations_(prometheus::BuildCounter()
                           .Name("fdgw_spend_reconciliations_total")
                           .Help("Spend reservations settled from the upstream's order records, by result")
                           .Register(*registry_)) {
  inflight_ = &prometheus::BuildGauge()
                   .Name("fdgw_inflight_requests")
                   .Help("Tenant requests accepted and not yet answered")
                   .Register(*registry_)
                   .Add({});
  for (std::size_t i = 0; i < kAuthFailureReasons.size(); ++i) {
    auth_failure_counters_[i] =
        &auth_failures_.Add({{"reason", std::string(kAuthFailureReasons[i])}});
  }
  catalog_result_counters_ = {&catalog_requests_.Add({{"result", "hit"}}),
                              &catalog_requests_.Add({{"result", "miss"}}),
                              &catalog_requests_.Add({{"result", "stale"}}),
                              &catalog_requests_.Add({{"result", "error"}})};
  reload_success_ = &config_reloads_.Add({{"result", "success"}});
  reload_failure_ = &config_reloads_.Add({{"result", "failure"}});
  unknown_tenant_ = std::make_shared<TenantSeries>("unknown", requests_, request_durations_);
}

std::shared_ptr<TenantSeries> GatewayMetrics::tenant(const std::string& tenant_id) {
  std::lock_guard lock(mutex_);
  auto& series = tenants_[tenant_id];
  if (!series) series = std::make_shared<TenantSeries>(tenant_id, requests_, request_durations_);
  return series;
}

std::shared_ptr<UpstreamSeries> GatewayMetrics::upstream(const std::string& upstream_name) {
  std::lock_guard lock(mutex_);
  auto& series = upstreams_[upstream_name];
  if (!series) {
    series = std::make_shared<UpstreamSeries>(upstream_name, upstream_requests_,
                                              upstream_durations_, upstream_budget_);
  }
  return series;
}

void GatewayMetrics::recordAuthFailure(std::string_view reason) {
  for (std::size_t i = 0; i < kAuthFailureReasons.size(); ++i) {
    if (kAuthFailureReasons[i] == reason) {
      auth_failure_counters_[i]->Increment();
      return;
    }
  }
}

void GatewayMetrics::recordQuotaDecision(const std::string& tenant_id, const std::string& quota,
                                         std::string_view decision, std::int64_t limit,
                                         std::int64_t used) {
  std::lock_guard lock(quota_mutex_);
  auto [entry, created] = quota_series_.try_emplace(tenant_id + '\n' + quota);
  QuotaSeries& series = entry->second;
  if (created) {
    series.limit = &quota_limits_.Add({{"tenant", tenant_id}, {"quota", quota}});
    series.used = &quota_used_.Add({{"tenant", tenant_id}, {"quota", quota}});
  }
  auto counter = series.decisions.find(decision);
  if (counter == series.decisions.end()) {
    counter = series.decisions
                  .emplace(std::string(decision),
                           &quota_decisions_.Add({{"tenant", tenant_id},
                                                  {"quota", quota},
                                                  {"decision", std::string(decision)}}))
                  .first;
  }
  counter->second->Increment();
  series.limit->Set(static_cast<double>(limit));
  series.used->Set(static_cast<double>(used));
}

void GatewayMetrics::recordRedisError(std::string_view operation) {
  std::lock_guard lock(quota_mutex_);
  auto counter = redis_error_counters_.find(operation);
  if (counter == redis_error_counters_.end()) {
    counter = redis_error_counters_
                  .emplace(std::string(operation),
                           &redis_errors_.Add({{"operation", std::string(operation)}}))
                  .first;
  }
  counter->second->Increment();
}

void GatewayMetrics::recordOrder(const std::string& tenant_id, std::string_view result,
                                 std::int64_t sales_usd_cents, std::int64_t margin_usd_cents) {
  // Orders are rare next to other requests, so a label look-up here costs
  // little.
  orders_.Add({{"tenant", tenant_id}, {"result", std::string(result)}}).Increment();
  auto& sales = sales_.Add({{"tenant", tenant_id}});
  auto& margin = margins_.Add({{"tenant", tenant_id}});
  if (sales_usd_cents > 0) sales.Increment(static_cast<double>(sales_usd_cents) / 100.0);
  if (margin_usd_cents > 0) margin.Increment(static_cast<double>(margin_usd_cents) / 100.0);
}

void GatewayMetrics::setSpend(const std::string& tenant_id, std::string_view window,
                              std::int64_t usd_cents) {
  // Family::Add returns the existing series for known labels.
  spend_.Add({{"tenant", tenant_id}, {"window", std::string(window)}})
      .Set(static_cast<double>(usd_cents) / 100.0);
}

void GatewayMetrics::setSpendLimit(const std::string& tenant_id, std::string_view window,
                                   std::optional<std::int64_t> usd_cents) {
  std::lock_guard lock(spend_mutex_);
  const std::string key = tenant_id + '\n' + std::string(window);
  auto gauge = spend_limit_gauges_.find(key);
  if (gauge == spend_limit_gauges_.end()) {
    if (!usd_cents) return;
    gauge = spend_limit_gauges_
                .emplace(key, &spend_limits_.Add({{"tenant", tenant_id}, {"window", std::string(window)}}))
                .first;
  }
  gauge->second->Set(usd_cents ? static_cast<double>(*usd_cents) / 100.0 : 0.0);
}

void GatewayMetrics::recordReconciliation(std::string_view result) {
  reconciliations_.Add({{"result", std::string(result)}}).Increment();
}

void GatewayMetrics::recordConfigReload(bool success) {
  (success ? reload_success_ : reload_failure_)->Increment();
}

void GatewayMetrics::recordCatalogCache(CatalogCacheResult result) {
  catalog_result_counters_[static_cast<std::size_t>(result)]->Increment();
}

void GatewayMetrics::recordCatalogFetch(const std::string& upstream_name, bool success) {
  // Fetches happen once per cache lifetime, so a label look-up costs little.
  catalog_fetches_.Add({{"upstream", upstream_name}, {"result", success ? "success" : "failure"}})
      .Increment();
}

std::string GatewayMetrics::render() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace fdgw::metrics
