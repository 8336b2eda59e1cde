#include "gateway/app/gateway_app.h"

#include <csignal>
#include <cstdlib>
#include <thread>

#include "gateway/http/server.h"
#include "gateway/proxy/request_pipeline.h"
#include "gateway/proxy/spend_reconciler.h"
#include "gateway/catalog/catalog_cache.h"
#include "gateway/idempotency/idempotency_store.h"
#include "gateway/tenancy/ownership_index.h"
#include "gateway/quota/redis_quota_engine.h"
#include "gateway/quota/upstream_budget.h"
#include "gateway/redis/async_redis.h"
#include "gateway/spend/redis_spend_ledger.h"
#include "gateway/upstream/pooled_upstream_client.h"

namespace fdgw::app {
namespace {

constexpr auto kDrainTimeout = std::chrono::seconds(20);

std::chrono::milliseconds longestUpstreamTimeout(const config::GatewayConfig& config) {
  std::chrono::milliseconds longest{0};
  for (const auto& [name, upstream] : config.upstreams) longest = std::max(longest, upstream.timeout);
  return longest;
}

bool reloadPolicies(const config::GatewayConfig& config,
                    const std::map<std::string, std::shared_ptr<const upstream::UpstreamTarget>>& upstreams,
                    proxy::PolicyStore& store, metrics::GatewayMetrics& metrics,
                    log::Logger& logger) {
  try {
    auto snapshot = buildSnapshot(config, upstreams, metrics);
    const auto tenants = snapshot->policies.tenants.size();
    store.replace(std::move(snapshot));
    metrics.recordConfigReload(true);
    logger.info("policies_reloaded", {{"tenants", tenants}});
    return true;
  } catch (const config::ConfigErrors& errors) {
    metrics.recordConfigReload(false);
    std::vector<std::string> issues;
    for (const auto& issue : errors.issues()) issues.push_back(issue.describe());
    logger.error("policies_reload_rejected",
                 {{"issues", issues}, {"action", "kept the running policies; fix the files and "
                                                 "send SIGHUP again"}});
    return false;
  }
}

}  // namespace

std::map<std::string, std::shared_ptr<const upstream::UpstreamTarget>> resolveUpstreams(
    const config::GatewayConfig& config) {
  std::map<std::string, std::shared_ptr<const upstream::UpstreamTarget>> targets;
  std::vector<config::ConfigIssue> issues;
  for (const auto& [name, upstream] : config.upstreams) {
    auto target = std::make_shared<upstream::UpstreamTarget>();
    target->name = name;
    target->base_url = upstream.base_url;
    target->timeout = upstream.timeout;
    target->connect_timeout = upstream.connect_timeout;
    target->requests_per_minute = upstream.requests_per_minute;
    target->shared = upstream.shared;
    for (auto [variable, destination] : {std::pair{&upstream.api_key_env, &target->api_key},
                                         std::pair{&upstream.api_secret_env, &target->api_secret}}) {
      const char* value = std::getenv(variable->c_str());
      if (!value || !*value) {
        issues.push_back({config.file.string(), 0, 0, "upstreams." + name,
                          "environment variable " + *variable +
                              " is not set; export the FullDatos credential it names"});
      } else {
        *destination = value;
      }
    }
    targets[name] = target;
  }
  if (!issues.empty()) throw config::ConfigErrors(std::move(issues));
  return targets;
}

std::shared_ptr<const proxy::PolicySnapshot> buildSnapshot(
    const config::GatewayConfig& config,
    const std::map<std::string, std::shared_ptr<const upstream::UpstreamTarget>>& upstreams,
    metrics::GatewayMetrics& metrics) {
  return std::make_shared<proxy::PolicySnapshot>(config::loadPolicies(config.policies_dir, config),
                                                 upstreams, metrics);
}

int runGateway(const config::GatewayConfig& config, log::Logger& logger) {
  // Block the control signals in every thread; this thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  const auto upstreams = resolveUpstreams(config);
  metrics::GatewayMetrics metrics;
  proxy::PolicyStore store(buildSnapshot(config, upstreams, metrics));
  common::SystemClock clock;
  upstream::PooledUpstreamClient upstream_client(logger, config.upstream_threads);
  redis::AsyncRedis redis_client(config.redis, clock, logger);
  quota::RedisUpstreamBudget upstream_budget(redis_client, clock, logger);
  quota::RedisQuotaEngine quota_engine(redis_client, clock, logger, upstream_budget);
  catalog::CatalogCacheOptions catalog_options;
  catalog_options.ttl = config.catalog_cache.ttl;
  catalog_options.max_stale = config.catalog_cache.max_stale;
  catalog::CatalogCache catalog_cache(upstream_client, &redis_client, clock, logger, metrics,
                                      catalog_options);
  tenancy::OwnershipIndex ownership(redis_client, upstream_client, logger, metrics);
  spend::RedisSpendLedger spend_ledger(redis_client, clock, logger);
  idempotency::RedisIdempotencyStore idempotency_store(redis_client, clock);
  proxy::PipelineOptions pipeline_options;
  pipeline_options.max_body_bytes = config.http.max_body_bytes;
  pipeline_options.reconcile_after = config.spend.reconcile_after;
  proxy::RequestPipeline pipeline(store, upstream_client, clock, logger, metrics, quota_engine,
                                  upstream_budget, pipeline_options, &catalog_cache, &ownership,
                                  &spend_ledger, &idempotency_store);
  proxy::ReconcilerOptions reconciler_options;
  reconciler_options.interval = config.spend.reconcile_interval;
  // One reservation needs up to a dozen upstream calls (user, order pages),
  // so other instances wait that long before they retry it.
  reconciler_options.claim = longestUpstreamTimeout(config) * 12 + std::chrono::seconds(60);
  proxy::SpendReconciler reconciler(store, upstream_client, upstream_budget, &catalog_cache, spend_ledger,
                                    &idempotency_store, logger, metrics, reconciler_options);
  reconciler.start();

  std::atomic<bool> draining{false};
  http::Server server(
      config, pipeline, logger,
      [&draining]() -> std::string { return draining.load() ? "shutting down" : ""; },
      [&metrics]() { return metrics.render(); }, longestUpstreamTimeout(config));
  server.start();
  logger.info("started", {{"listen", config.listen.host + ":" + std::to_string(server.publicPort())},
                          {"admin_listen", config.admin_listen.host + ":" +
                                               std::to_string(server.adminPort())},
                          {"threads", config.threads},
                          {"tenants", store.current()->policies.tenants.size()},
                          {"upstreams", config.upstreams.size()}});

  while (true) {
    int received = 0;
    if (sigwait(&signals, &received) != 0) continue;
    if (received == SIGHUP) {
      reloadPolicies(config, upstreams, store, metrics, logger);
      continue;
    }
    logger.info("stopping", {{"signal", received == SIGINT ? "SIGINT" : "SIGTERM"}});
    break;
  }

  // Let requests in flight finish, then close everything.
  draining = true;
  const auto deadline = std::chrono::steady_clock::now() + kDrainTimeout;
  while (pipeline.inflight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (pipeline.inflight() > 0) {
    logger.warn("stop_with_requests_in_flight", {{"inflight", pipeline.inflight()}});
  }
  server.stop();
  reconciler.stop();
  catalog_cache.stop();
  upstream_client.stop();
  // Pending Redis callbacks use quota_engine, upstream_budget, spend_ledger,
  // idempotency_store and reconciler, which are destroyed before the client.
  redis_client.stop();
  logger.info("stopped");
  return 0;
}

}  // namespace fdgw::app
