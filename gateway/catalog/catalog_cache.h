#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/catalog/catalog_data.h"
#include "gateway/common/clock.h"
#include "gateway/log/logger.h"
#include "gateway/metrics/gateway_metrics.h"
#include "gateway/redis/async_redis.h"
#include "gateway/redis/script.h"
#include "gateway/upstream/upstream_client.h"

namespace fdgw::catalog {

struct CatalogCacheOptions {
  // Age after which a copy is fetched again.
  std::chrono::seconds ttl{300};
  // Age up to which a copy is still served while the upstream fails.
  std::chrono::seconds max_stale{3600};
  // Pause after a failed fetch during which lookups get the stale copy
  // without another attempt.
  std::chrono::seconds retry_interval{10};
  // How long one instance may hold the shared fetch lock; other instances
  // wait for its result at most this long.
  std::chrono::milliseconds fetch_lock{30000};
  // How often a waiting instance looks for the lock holder's result.
  std::chrono::milliseconds poll_interval{100};
  // Prefix of the Redis keys, followed by the upstream name.
  std::string key_prefix = "fdgw:catalog:";
  // Largest page the upstream serves; the cache fetches pages of this size.
  int page_limit = 500;
};

// One lookup's outcome. `data` is null only when `result` is kError.
struct CatalogLookup {
  std::shared_ptr<const CatalogData> data;
  metrics::CatalogCacheResult result = metrics::CatalogCacheResult::kError;
};

// Runs callbacks after a delay on one background thread.
class DelayedTasks {
 public:
  DelayedTasks();
  ~DelayedTasks();
  DelayedTasks(const DelayedTasks&) = delete;
  DelayedTasks& operator=(const DelayedTasks&) = delete;

  void schedule(std::chrono::milliseconds delay, std::function<void()> task);
  // Runs no more tasks and joins the thread. Pending tasks are dropped.
  void stop();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

// Delivers the catalog of an upstream account. An interface, so the request
// path can be tested with a fixed catalog.
class CatalogSource {
 public:
  using Callback = std::function<void(CatalogLookup)>;

  virtual ~CatalogSource() = default;

  // Delivers the catalog of `target`'s account to `done`, exactly once.
  virtual void get(const std::shared_ptr<const upstream::UpstreamTarget>& target, Callback done) = 0;
};

// The bundle-offer catalog and destinations of each upstream account, kept
// in memory and shared between gateway instances through Redis.
//
// A copy younger than the TTL is served from memory. An older one is fetched
// again by one request while the others of this instance wait for it
// (single flight). Across instances, the first one to take a Redis lock
// fetches from the upstream and stores the result in Redis; the others wait
// for that result and load it, so the upstream receives one fetch per TTL
// whatever the number of instances. Without Redis, each instance fetches on
// its own. When a fetch fails, the last good copy is served until it is
// max_stale old; the failure is logged and counted.
//
// Thread-safe. Callbacks run on the caller's thread for a fresh copy and on
// an upstream, Redis or timer thread otherwise, and must not block.
class CatalogCache final : public CatalogSource {
 public:
  // `redis` may be null, for a single instance without sharing.
  CatalogCache(upstream::UpstreamClient& upstream, redis::AsyncRedis* redis, const common::Clock& clock,
               log::Logger& logger, metrics::GatewayMetrics& metrics, CatalogCacheOptions options);
  ~CatalogCache();

  void get(const std::shared_ptr<const upstream::UpstreamTarget>& target, Callback done) override;

  // Stops the timer thread. Fetches in progress still complete.
  void stop();

 private:
  struct Entry {
    std::mutex mutex;
    std::shared_ptr<const CatalogData> data;
    bool fetching = false;
    std::vector<Callback> waiters;
    std::chrono::steady_clock::time_point retry_at{};
  };
  struct Fetch;

  std::shared_ptr<Entry> entry(const std::string& upstream_name);
  std::int64_t nowMs() const;
  bool isFresh(const CatalogData& data) const;
  bool isServable(const CatalogData& data) const;

  void startFetch(const std::shared_ptr<Fetch>& fetch);
  void loadShared(const std::shared_ptr<Fetch>& fetch);
  void lockOrWait(const std::shared_ptr<Fetch>& fetch);
  void pollShared(const std::shared_ptr<Fetch>& fetch);
  // Completes the fetch with the copy in Redis when it is fresh, and calls
  // `otherwise` when there is none.
  void readFreshShared(const std::shared_ptr<Fetch>& fetch, std::function<void()> otherwise);
  void fetchUpstream(const std::shared_ptr<Fetch>& fetch);
  // Sends GET `path` for one page and passes the body of a 200 response to
  // `on_success`; any other outcome fails the fetch.
  void requestPage(const std::shared_ptr<Fetch>& fetch, const char* path, std::int64_t page,
                   std::function<void(std::string body)> on_success);
  void fetchOfferPage(const std::shared_ptr<Fetch>& fetch, std::int64_t page);
  void fetchDestinationPage(const std::shared_ptr<Fetch>& fetch, std::int64_t page);
  void storeShared(const std::shared_ptr<Fetch>& fetch, const std::shared_ptr<const CatalogData>& data);
  void complete(const std::shared_ptr<Fetch>& fetch, std::shared_ptr<const CatalogData> data,
                const std::string& failure);

  upstream::UpstreamClient& upstream_;
  redis::AsyncRedis* redis_;
  const common::Clock& clock_;
  log::Logger& logger_;
  metrics::GatewayMetrics& metrics_;
  const CatalogCacheOptions options_;
  const redis::Script release_lock_;
  DelayedTasks timers_;

  std::mutex entries_mutex_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;
};

}  // namespace fdgw::catalog
