#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

#include "gateway/log/logger.h"
#include "gateway/metrics/gateway_metrics.h"
#include "gateway/redis/async_redis.h"
#include "gateway/redis/script.h"
#include "gateway/tenancy/tenancy.h"
#include "gateway/upstream/upstream_client.h"

namespace fdgw::tenancy {

// Outcome of an ownership check.
enum class Ownership { kOwned, kNotOwned, kFailed };

// One page of a tenant's own items, in upstream order.
struct OwnedPage {
  bool ok = false;         // false when Redis or the rebuild failed
  std::int64_t total = 0;  // the tenant's items of that kind
  std::vector<std::string> items;
};

// Owners of each user, order, eSIM, bundle and ticket of a shared
// upstream account, kept in Redis with each item's last seen JSON and a
// per-tenant list in upstream order.
//
// Redis keys, per upstream account <u>:
//   fdgw:tenancy:<u>:owners           hash  "<kind>:<id>" -> tenant id
//   fdgw:tenancy:<u>:items:<kind>     hash  id -> last seen JSON
//   fdgw:tenancy:<u>:list:<t>:<kind>  zset  ids of tenant <t>, by first sight
//   fdgw:tenancy:<u>:seq              counter that orders first sights
//   fdgw:tenancy:<u>:built            set once the index was rebuilt
//
// Everything here can be rebuilt from the upstream, because ownership is
// written into the upstream's own data as namespaced reference ids and
// ticket subject tags. A missing owner is looked up with one upstream GET of
// the item, and a missing list is rebuilt by one scan of the account.
//
// Thread-safe. Callbacks run on a Redis or upstream client thread.
class OwnershipIndex {
 public:
  OwnershipIndex(redis::AsyncRedis& redis, upstream::UpstreamClient& upstream, log::Logger& logger,
                 metrics::GatewayMetrics& metrics);

  // Records resources seen in an upstream response. Fire and forget. A
  // resource that this instance stored with the same owner and JSON less
  // than kRewriteAfter ago is skipped, so repeated reads of an unchanged item
  // cost no Redis call.
  void remember(const std::string& upstream_name, const std::vector<Resource>& resources);

  // Records resources and calls `done` once Redis stored them.
  void rememberThen(const std::string& upstream_name, const std::vector<Resource>& resources,
                    std::function<void(bool stored)> done);

  // Drops the tenant's lists and the built flag, so the next list request
  // rebuilds them from the upstream. Fire and forget.
  void rebuildTenantLists(const std::string& upstream_name, const std::string& tenant_id);

  // Checks whether `tenant_id` owns the item. An item the index lacks is read
  // from the upstream once (GET <collection>/<id>) and recorded; an upstream
  // 404 means not owned.
  void checkOwner(const std::shared_ptr<const upstream::UpstreamTarget>& target, const std::string& tenant_id,
                  Kind kind, const std::string& id, std::function<void(Ownership)> done);

  // Returns one page of the tenant's items. When the index was never built
  // (a new account, or Redis lost its data), it is first rebuilt by reading
  // every list of the upstream account once.
  void page(const std::shared_ptr<const upstream::UpstreamTarget>& target, const std::string& tenant_id,
            Kind kind, std::int64_t page, std::int64_t limit, std::function<void(OwnedPage)> done);

 private:
  struct Rebuild;

  void readPage(const std::string& upstream_name, const std::string& tenant_id, Kind kind, std::int64_t page,
                std::int64_t limit, std::function<void(OwnedPage)> done, bool rebuild_if_missing,
                const std::shared_ptr<const upstream::UpstreamTarget>& target);
  void rebuild(const std::shared_ptr<const upstream::UpstreamTarget>& target, std::function<void(bool)> done);
  void scanPage(const std::shared_ptr<Rebuild>& rebuild, std::size_t kind_index, std::int64_t page);
  void finishRebuild(const std::shared_ptr<Rebuild>& rebuild, bool ok);

  redis::AsyncRedis& redis_;
  upstream::UpstreamClient& upstream_;
  log::Logger& logger_;
  metrics::GatewayMetrics& metrics_;
  const redis::Script remember_script_;
  const redis::Script page_script_;

  // Last write of this instance per "<upstream>/<kind>:<id>": a hash of owner
  // and JSON, and its time. Bounded by kMaxRecent entries.
  struct Recent {
    std::size_t hash = 0;
    std::chrono::steady_clock::time_point stored;
  };
  static constexpr std::size_t kMaxRecent = 100000;
  static constexpr std::chrono::seconds kRewriteAfter{60};
  std::vector<Resource> withoutRecent(const std::string& upstream_name, const std::vector<Resource>& resources);

  std::mutex recent_mutex_;
  std::unordered_map<std::string, Recent> recent_;

  std::mutex rebuild_mutex_;
  // Callers waiting for the rebuild in progress, by upstream name.
  std::map<std::string, std::vector<std::function<void(bool)>>> rebuild_waiters_;
};

}  // namespace fdgw::tenancy
