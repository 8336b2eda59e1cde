#include "gateway/catalog/catalog_cache.h"

#include <utility>

#include "gateway/common/request_id.h"

namespace fdgw::catalog {
namespace {

// Upper bound on list pages per fetch, so a upstream that keeps reporting a
// larger total cannot keep a fetch going forever.
constexpr std::int64_t kMaxPages = 1000;

constexpr const char* kReleaseLockSource = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
)lua";

}  // namespace

DelayedTasks::DelayedTasks() : thread_([this] { run(); }) {}

DelayedTasks::~DelayedTasks() { stop(); }

void DelayedTasks::schedule(std::chrono::milliseconds delay, std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    tasks_.emplace(std::chrono::steady_clock::now() + delay, std::move(task));
  }
  wake_.notify_one();
}

void DelayedTasks::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    tasks_.clear();
  }
  wake_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void DelayedTasks::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (tasks_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto due = tasks_.begin()->first;
    if (std::chrono::steady_clock::now() < due) {
      wake_.wait_until(lock, due);
      continue;
    }
    auto task = std::move(tasks_.begin()->second);
    tasks_.erase(tasks_.begin());
    lock.unlock();
    task();
    lock.lock();
  }
}

struct CatalogCache::Fetch {
  std::shared_ptr<Entry> entry;
  std::shared_ptr<const upstream::UpstreamTarget> target;
  std::string data_key;
  std::string lock_key;
  std::string lock_token;
  bool holds_lock = false;
  std::chrono::steady_clock::time_point wait_deadline{};
  // An expired copy found in Redis, served when the fetch fails and this
  // instance has no copy of its own.
  std::shared_ptr<const CatalogData> shared_fallback;
  std::vector<Offer> offers;
  std::vector<Destination> destinations;
};

CatalogCache::CatalogCache(upstream::UpstreamClient& upstream, redis::AsyncRedis* redis,
                           const common::Clock& clock, log::Logger& logger, metrics::GatewayMetrics& metrics,
                           CatalogCacheOptions options)
    : upstream_(upstream),
      redis_(redis),
      clock_(clock),
      logger_(logger),
      metrics_(metrics),
      options_(std::move(options)),
      release_lock_(kReleaseLockSource) {}

CatalogCache::~CatalogCache() { stop(); }

void CatalogCache::stop() { timers_.stop(); }

std::shared_ptr<CatalogCache::Entry> CatalogCache::entry(const std::string& upstream_name) {
  std::lock_guard lock(entries_mutex_);
  auto& slot = entries_[upstream_name];
  if (!slot) slot = std::make_shared<Entry>();
  return slot;
}

std::int64_t CatalogCache::nowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count();
}

bool CatalogCache::isFresh(const CatalogData& data) const {
  return nowMs() - data.fetchedAtMs() < std::chrono::milliseconds(options_.ttl).count();
}

bool CatalogCache::isServable(const CatalogData& data) const {
  return nowMs() - data.fetchedAtMs() < std::chrono::milliseconds(options_.max_stale).count();
}

void CatalogCache::get(const std::shared_ptr<const upstream::UpstreamTarget>& target, Callback done) {
  auto cached = entry(target->name);
  std::unique_lock lock(cached->mutex);
  if (cached->data && isFresh(*cached->data)) {
    auto data = cached->data;
    lock.unlock();
    metrics_.recordCatalogCache(metrics::CatalogCacheResult::kHit);
    done(CatalogLookup{std::move(data), metrics::CatalogCacheResult::kHit});
    return;
  }

  // Shortly after a failed fetch, serve what is there without calling the
  // upstream again.
  if (!cached->fetching && clock_.monotonicNow() < cached->retry_at) {
    auto data = cached->data && isServable(*cached->data) ? cached->data : nullptr;
    lock.unlock();
    const auto result = data ? metrics::CatalogCacheResult::kStale : metrics::CatalogCacheResult::kError;
    metrics_.recordCatalogCache(result);
    done(CatalogLookup{std::move(data), result});
    return;
  }

  cached->waiters.push_back(std::move(done));
  if (cached->fetching) return;
  cached->fetching = true;
  lock.unlock();

  auto fetch = std::make_shared<Fetch>();
  fetch->entry = std::move(cached);
  fetch->target = target;
  fetch->data_key = options_.key_prefix + target->name;
  fetch->lock_key = fetch->data_key + ":lock";
  fetch->lock_token = common::newRequestId();
  startFetch(fetch);
}

void CatalogCache::startFetch(const std::shared_ptr<Fetch>& fetch) {
  if (redis_ != nullptr && redis_->connected()) {
    loadShared(fetch);
  } else {
    fetchUpstream(fetch);
  }
}

void CatalogCache::loadShared(const std::shared_ptr<Fetch>& fetch) {
  redis_->command({"GET", fetch->data_key}, [this, fetch](redis::RedisReply reply) {
    if (reply.isError()) {
      metrics_.recordRedisError("catalog_load");
      logger_.warn("catalog_shared_load_failed", {{"upstream", fetch->target->name}, {"error", reply.text}});
      fetchUpstream(fetch);
      return;
    }
    if (reply.type == redis::RedisReply::Type::kString) {
      auto parsed = parseSerializedCatalog(reply.text);
      if (auto* data = std::get_if<std::shared_ptr<CatalogData>>(&parsed)) {
        if (isFresh(**data)) {
          complete(fetch, std::move(*data), "");
          return;
        }
        if (isServable(**data)) fetch->shared_fallback = std::move(*data);
      } else {
        logger_.warn("catalog_shared_copy_invalid",
                     {{"upstream", fetch->target->name}, {"error", std::get<std::string>(parsed)}});
      }
    }
    lockOrWait(fetch);
  });
}

void CatalogCache::lockOrWait(const std::shared_ptr<Fetch>& fetch) {
  redis_->command({"SET", fetch->lock_key, fetch->lock_token, "NX", "PX",
                   std::to_string(options_.fetch_lock.count())},
                  [this, fetch](redis::RedisReply reply) {
                    if (reply.isError()) {
                      metrics_.recordRedisError("catalog_lock");
                      fetchUpstream(fetch);
                      return;
                    }
                    if (reply.type == redis::RedisReply::Type::kStatus) {
                      fetch->holds_lock = true;
                      fetchUpstream(fetch);
                      return;
                    }
                    // Another instance is fetching: wait for its result.
                    fetch->wait_deadline = clock_.monotonicNow() + options_.fetch_lock;
                    pollShared(fetch);
                  });
}

void CatalogCache::readFreshShared(const std::shared_ptr<Fetch>& fetch, std::function<void()> otherwise) {
  redis_->command({"GET", fetch->data_key}, [this, fetch, otherwise = std::move(otherwise)](redis::RedisReply reply) {
    if (reply.type == redis::RedisReply::Type::kString) {
      auto parsed = parseSerializedCatalog(reply.text);
      if (auto* data = std::get_if<std::shared_ptr<CatalogData>>(&parsed); data && isFresh(**data)) {
        complete(fetch, std::move(*data), "");
        return;
      }
    }
    otherwise();
  });
}

void CatalogCache::pollShared(const std::shared_ptr<Fetch>& fetch) {
  timers_.schedule(options_.poll_interval, [this, fetch] {
    readFreshShared(fetch, [this, fetch] {
      if (clock_.monotonicNow() >= fetch->wait_deadline) {
        complete(fetch, nullptr, "another gateway instance held the catalog fetch lock and stored no catalog in time");
        return;
      }
      // A lock holder whose fetch failed releases the lock without storing
      // a copy, so there is nothing left to wait for. The copy is read once
      // more in case it was stored between the two reads.
      redis_->command({"EXISTS", fetch->lock_key}, [this, fetch](redis::RedisReply exists) {
        if (exists.type != redis::RedisReply::Type::kInteger || exists.integer != 0) {
          pollShared(fetch);
          return;
        }
        readFreshShared(fetch, [this, fetch] {
          complete(fetch, nullptr, "the gateway instance that held the catalog fetch lock stored no catalog");
        });
      });
    });
  });
}

void CatalogCache::fetchUpstream(const std::shared_ptr<Fetch>& fetch) { fetchOfferPage(fetch, 1); }

void CatalogCache::requestPage(const std::shared_ptr<Fetch>& fetch, const char* path, std::int64_t page,
                               std::function<void(std::string body)> on_success) {
  upstream::UpstreamRequest call;
  call.target = fetch->target;
  call.method = "GET";
  call.path_and_query =
      std::string(path) + "?limit=" + std::to_string(options_.page_limit) + "&page=" + std::to_string(page);
  call.headers.emplace_back("accept", "application/json");
  upstream_.send(std::move(call), [this, fetch, path, page,
                                   on_success = std::move(on_success)](upstream::UpstreamResponse answer) {
    if (answer.error != upstream::TransportError::kNone || answer.status != 200) {
      metrics_.recordCatalogFetch(fetch->target->name, false);
      const std::string reason = answer.error != upstream::TransportError::kNone
                                     ? answer.error_detail
                                     : "status " + std::to_string(answer.status);
      complete(fetch, nullptr, std::string("GET ") + path + " page " + std::to_string(page) + " failed: " + reason);
      return;
    }
    on_success(std::move(answer.body));
  });
}

void CatalogCache::fetchOfferPage(const std::shared_ptr<Fetch>& fetch, std::int64_t page) {
  requestPage(fetch, "/catalog/bundle-offers", page, [this, fetch, page](std::string body) {
    auto parsed = parseOfferPage(body);
    if (auto* error = std::get_if<std::string>(&parsed)) {
      metrics_.recordCatalogFetch(fetch->target->name, false);
      complete(fetch, nullptr, *error);
      return;
    }
    auto& offers = std::get<Page<Offer>>(parsed);
    const bool page_empty = offers.items.empty();
    for (Offer& offer : offers.items) fetch->offers.push_back(std::move(offer));
    if (!page_empty && static_cast<std::int64_t>(fetch->offers.size()) < offers.total && page < kMaxPages) {
      fetchOfferPage(fetch, page + 1);
    } else {
      fetchDestinationPage(fetch, 1);
    }
  });
}

void CatalogCache::fetchDestinationPage(const std::shared_ptr<Fetch>& fetch, std::int64_t page) {
  requestPage(fetch, "/catalog/destinations", page, [this, fetch, page](std::string body) {
    auto parsed = parseDestinationPage(body);
    if (auto* error = std::get_if<std::string>(&parsed)) {
      metrics_.recordCatalogFetch(fetch->target->name, false);
      complete(fetch, nullptr, *error);
      return;
    }
    auto& destinations = std::get<Page<Destination>>(parsed);
    const bool page_empty = destinations.items.empty();
    for (Destination& destination : destinations.items) fetch->destinations.push_back(std::move(destination));
    if (!page_empty && static_cast<std::int64_t>(fetch->destinations.size()) < destinations.total &&
        page < kMaxPages) {
      fetchDestinationPage(fetch, page + 1);
      return;
    }

    metrics_.recordCatalogFetch(fetch->target->name, true);
    auto data = std::make_shared<const CatalogData>(std::move(fetch->offers), std::move(fetch->destinations),
                                                    nowMs());
    logger_.info("catalog_fetched", {{"upstream", fetch->target->name},
                                     {"offers", data->offers().size()},
                                     {"destinations", data->destinations().size()}});
    storeShared(fetch, data);
    complete(fetch, std::move(data), "");
  });
}

void CatalogCache::storeShared(const std::shared_ptr<Fetch>& fetch, const std::shared_ptr<const CatalogData>& data) {
  if (redis_ == nullptr || !redis_->connected()) return;
  const auto keep_ms = std::chrono::milliseconds(options_.max_stale).count();
  redis_->command({"SET", fetch->data_key, serializeCatalog(*data), "PX", std::to_string(keep_ms)},
                  [this, fetch](redis::RedisReply reply) {
                    if (reply.isError()) {
                      metrics_.recordRedisError("catalog_store");
                      logger_.warn("catalog_shared_store_failed",
                                   {{"upstream", fetch->target->name}, {"error", reply.text}});
                    }
                    if (!fetch->holds_lock) return;
                    redis_->evalScript(release_lock_, {fetch->lock_key}, {fetch->lock_token},
                                       [](redis::RedisReply) {});
                  });
}

void CatalogCache::complete(const std::shared_ptr<Fetch>& fetch, std::shared_ptr<const CatalogData> data,
                            const std::string& failure) {
  if (!data && fetch->holds_lock && redis_ != nullptr) {
    redis_->evalScript(release_lock_, {fetch->lock_key}, {fetch->lock_token}, [](redis::RedisReply) {});
  }

  std::vector<Callback> waiters;
  std::shared_ptr<const CatalogData> fallback;
  {
    std::lock_guard lock(fetch->entry->mutex);
    if (data) {
      fetch->entry->data = data;
    } else {
      fetch->entry->retry_at = clock_.monotonicNow() + options_.retry_interval;
      if (!fetch->entry->data && fetch->shared_fallback) fetch->entry->data = fetch->shared_fallback;
      if (fetch->entry->data && isServable(*fetch->entry->data)) fallback = fetch->entry->data;
    }
    fetch->entry->fetching = false;
    waiters.swap(fetch->entry->waiters);
  }

  if (!data) {
    logger_.warn("catalog_fetch_failed", {{"upstream", fetch->target->name},
                                          {"error", failure},
                                          {"serving_stale_copy", fallback != nullptr}});
  }
  const auto result = data       ? metrics::CatalogCacheResult::kMiss
                      : fallback ? metrics::CatalogCacheResult::kStale
                                 : metrics::CatalogCacheResult::kError;
  const auto served = data ? data : fallback;
  for (Callback& waiter : waiters) {
    metrics_.recordCatalogCache(result);
    waiter(CatalogLookup{served, result});
  }
}

}  // namespace fdgw::catalog
