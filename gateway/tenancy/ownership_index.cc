#include "gateway/tenancy/ownership_index.h"

#include <nlohmann/json.hpp>

namespace fdgw::tenancy {
namespace {

using Json = nlohmann::ordered_json;

// Upper bound on pages per list during a rebuild (500 items each).
constexpr std::int64_t kMaxRebuildPages = 2000;

// KEYS: owners, seq, then per resource its items hash and list zset.
// ARGV: per resource: field "<kind>:<id>", owner, id, json, and "1" when the
// JSON is derived and must not replace a stored one. The first sight of an
// id fixes its place in the tenant's list; later sights refresh its JSON.
constexpr const char* kRememberSource = R"lua(
local count = #ARGV / 5
for i = 0, count - 1 do
  local field = ARGV[i * 5 + 1]
  local owner = ARGV[i * 5 + 2]
  local id = ARGV[i * 5 + 3]
  local json = ARGV[i * 5 + 4]
  redis.call('HSET', KEYS[1], field, owner)
  if ARGV[i * 5 + 5] == '1' then
    redis.call('HSETNX', KEYS[3 + i * 2], id, json)
  else
    redis.call('HSET', KEYS[3 + i * 2], id, json)
  end
  if not redis.call('ZSCORE', KEYS[4 + i * 2], id) then
    redis.call('ZADD', KEYS[4 + i * 2], redis.call('INCR', KEYS[2]), id)
  end
end
return count
)lua";

// KEYS: list zset, items hash, built flag. ARGV: first index, last index,
// "1" for newest first. Returns {built, total, json...}.
constexpr const char* kPageSource = R"lua(
local built = redis.call('EXISTS', KEYS[3])
local total = redis.call('ZCARD', KEYS[1])
local ids
if ARGV[3] == '1' then
  ids = redis.call('ZREVRANGE', KEYS[1], ARGV[1], ARGV[2])
else
  ids = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2])
end
local result = {built, total}
if #ids > 0 then
  local items = redis.call('HMGET', KEYS[2], unpack(ids))
  for i = 1, #items do
    result[#result + 1] = items[i] or '{}'
  end
end
return result
)lua";

std::string prefix(const std::string& upstream_name) { return "fdgw:tenancy:" + upstream_name + ":"; }

std::string listKey(const std::string& upstream_name, const std::string& tenant_id, Kind kind) {
  return prefix(upstream_name) + "list:" + tenant_id + ":" + std::string(kindName(kind));
}

std::string itemsKey(const std::string& upstream_name, Kind kind) {
  return prefix(upstream_name) + "items:" + std::string(kindName(kind));
}

std::string ownerField(Kind kind, const std::string& id) { return std::string(kindName(kind)) + ":" + id; }

// Tickets are listed newest first by the upstream, everything else oldest
// first.
bool newestFirst(Kind kind) { return kind == Kind::kTicket; }

}  // namespace

struct OwnershipIndex::Rebuild {
  std::shared_ptr<const upstream::UpstreamTarget> target;
  std::int64_t resources = 0;
  // Tickets come newest first, so they are recorded after the last page, in
  // reverse, to give the oldest the first place.
  std::vector<Resource> tickets;
};

OwnershipIndex::OwnershipIndex(redis::AsyncRedis& redis, upstream::UpstreamClient& upstream, log::Logger& logger,
                               metrics::GatewayMetrics& metrics)
    : redis_(redis),
      upstream_(upstream),
      logger_(logger),
      metrics_(metrics),
      remember_script_(kRememberSource),
      page_script_(kPageSource) {}

void OwnershipIndex::remember(const std::string& upstream_name, const std::vector<Resource>& resources) {
  rememberThen(upstream_name, resources, [](bool) {});
}

void OwnershipIndex::rememberThen(const std::string& upstream_name, const std::vector<Resource>& resources,
                                  std::function<void(bool)> done) {
  if (resources.empty()) {
    done(true);
    return;
  }
  std::vector<std::string> keys{prefix(upstream_name) + "owners", prefix(upstream_name) + "seq"};
  std::vector<std::string> args;
  for (const Resource& resource : resources) {
    keys.push_back(itemsKey(upstream_name, resource.kind));
    keys.push_back(listKey(upstream_name, resource.owner, resource.kind));
    args.push_back(ownerField(resource.kind, resource.id));
    args.push_back(resource.owner);
    args.push_back(resource.id);
    args.push_back(resource.json);
    args.push_back(resource.derived ? "1" : "0");
  }
  redis_.evalScript(remember_script_, std::move(keys), std::move(args),
                    [this, done = std::move(done)](redis::RedisReply reply) {
                      if (reply.isError()) {
                        metrics_.recordRedisError("tenancy_remember");
                        logger_.warn("ownership_record_failed", {{"error", reply.text}});
                      }
                      done(!reply.isError());
                    });
}

void OwnershipIndex::rebuildTenantLists(const std::string& upstream_name, const std::string& tenant_id) {
  std::vector<std::string> command{"DEL", prefix(upstream_name) + "built"};
  for (Kind kind : kAllKinds) command.push_back(listKey(upstream_name, tenant_id, kind));
  redis_.command(std::move(command), [this](redis::RedisReply reply) {
    if (reply.isError()) metrics_.recordRedisError("tenancy_forget");
  });
}

void OwnershipIndex::checkOwner(const std::shared_ptr<const upstream::UpstreamTarget>& target,
                                const std::string& tenant_id, Kind kind, const std::string& id,
                                std::function<void(Ownership)> done) {
  redis_.command({"HGET", prefix(target->name) + "owners", ownerField(kind, id)},
                 [this, target, tenant_id, kind, id, done = std::move(done)](redis::RedisReply reply) mutable {
    if (reply.type == redis::RedisReply::Type::kString) {
      done(reply.text == tenant_id ? Ownership::kOwned : Ownership::kNotOwned);
      return;
    }
    if (reply.isError()) metrics_.recordRedisError("tenancy_owner");

    // Not indexed: the upstream's own record names the owner.
    upstream::UpstreamRequest call;
    call.target = target;
    call.method = "GET";
    call.path_and_query = std::string(collectionPath(kind)) + "/" + id;
    call.headers.emplace_back("accept", "application/json");
    upstream_.send(std::move(call), [this, target, tenant_id, kind, id,
                                     done = std::move(done)](upstream::UpstreamResponse answer) {
      if (answer.error == upstream::TransportError::kNone && answer.status == 404) {
        done(Ownership::kNotOwned);
        return;
      }
      if (answer.error != upstream::TransportError::kNone || answer.status != 200) {
        logger_.warn("ownership_lookup_failed", {{"upstream", target->name},
                                                 {"kind", kindName(kind)},
                                                 {"status", answer.status},
                                                 {"error", answer.error_detail}});
        done(Ownership::kFailed);
        return;
      }
      const Json body = Json::parse(answer.body, nullptr, false);
      const Json* data = body.is_object() && body.contains("data") ? &body["data"] : nullptr;
      const auto owner = data != nullptr ? ownerOf(kind, *data) : std::nullopt;
      if (owner) {
        Json listed = *data;
        if (kind == Kind::kEsim) {
          for (const char* key : {"bundles", "data_used_mb", "data_remaining_mb", "network"}) listed.erase(key);
        }
        if (kind == Kind::kUser) {
          for (const char* key : {"esims", "orders"}) listed.erase(key);
        }
        remember(target->name, {Resource{kind, id, *owner, listed.dump()}});
      }
      done(owner && *owner == tenant_id ? Ownership::kOwned : Ownership::kNotOwned);
    });
  });
}

void OwnershipIndex::page(const std::shared_ptr<const upstream::UpstreamTarget>& target,
                          const std::string& tenant_id, Kind kind, std::int64_t page, std::int64_t limit,
                          std::function<void(OwnedPage)> done) {
  readPage(target->name, tenant_id, kind, page, limit, std::move(done), true, target);
}

void OwnershipIndex::readPage(const std::string& upstream_name, const std::string& tenant_id, Kind kind,
                              std::int64_t page, std::int64_t limit, std::function<void(OwnedPage)> done,
                              bool rebuild_if_missing, const std::shared_ptr<const upstream::UpstreamTarget>& target) {
  const std::int64_t first = (page - 1) * limit;
  redis_.evalScript(
      page_script_,
      {listKey(upstream_name, tenant_id, kind), itemsKey(upstream_name, kind), prefix(upstream_name) + "built"},
      {std::to_string(first), std::to_string(first + limit - 1), newestFirst(kind) ? "1" : "0"},
      [this, upstream_name, tenant_id, kind, page, limit, done = std::move(done), rebuild_if_missing,
       target](redis::RedisReply reply) mutable {
        if (reply.isError() || reply.elements.size() < 2) {
          metrics_.recordRedisError("tenancy_list");
          logger_.warn("ownership_list_failed", {{"upstream", upstream_name}, {"error", reply.text}});
          done(OwnedPage{});
          return;
        }
        if (reply.elements[0].integer == 0 && rebuild_if_missing) {
          rebuild(target, [this, upstream_name, tenant_id, kind, page, limit, done = std::move(done),
                           target](bool ok) mutable {
            if (!ok) {
              done(OwnedPage{});
              return;
            }
            readPage(upstream_name, tenant_id, kind, page, limit, std::move(done), false, target);
          });
          return;
        }
        OwnedPage result;
        result.ok = true;
        result.total = reply.elements[1].integer;
        for (std::size_t i = 2; i < reply.elements.size(); ++i) result.items.push_back(reply.elements[i].text);
        done(std::move(result));
      });
}

void OwnershipIndex::rebuild(const std::shared_ptr<const upstream::UpstreamTarget>& target,
                             std::function<void(bool)> done) {
  {
    std::lock_guard lock(rebuild_mutex_);
    auto& waiters = rebuild_waiters_[target->name];
    waiters.push_back(std::move(done));
    if (waiters.size() > 1) return;  // a rebuild is already running
  }
  logger_.info("ownership_rebuild_started", {{"upstream", target->name}});
  auto state = std::make_shared<Rebuild>();
  state->target = target;
  scanPage(state, 0, 1);
}

void OwnershipIndex::scanPage(const std::shared_ptr<Rebuild>& rebuild, std::size_t kind_index, std::int64_t page) {
  if (kind_index == std::size(kAllKinds)) {
    std::vector<Resource> oldest_first(rebuild->tickets.rbegin(), rebuild->tickets.rend());
    rememberThen(rebuild->target->name, oldest_first, [this, rebuild](bool stored) {
      if (!stored) {
        finishRebuild(rebuild, false);
        return;
      }
      redis_.command({"SET", prefix(rebuild->target->name) + "built", "1"},
                     [this, rebuild](redis::RedisReply reply) { finishRebuild(rebuild, !reply.isError()); });
    });
    return;
  }
  const Kind kind = kAllKinds[kind_index];
  upstream::UpstreamRequest call;
  call.target = rebuild->target;
  call.method = "GET";
  call.path_and_query = std::string(collectionPath(kind)) + "?limit=500&page=" + std::to_string(page);
  call.headers.emplace_back("accept", "application/json");
  upstream_.send(std::move(call), [this, rebuild, kind_index, kind, page](upstream::UpstreamResponse answer) {
    if (answer.error != upstream::TransportError::kNone || answer.status != 200) {
      logger_.warn("ownership_rebuild_failed", {{"upstream", rebuild->target->name},
                                                {"kind", kindName(kind)},
                                                {"status", answer.status},
                                                {"error", answer.error_detail}});
      finishRebuild(rebuild, false);
      return;
    }
    const Json body = Json::parse(answer.body, nullptr, false);
    std::string route = std::string(collectionPath(kind)).substr(1) + ".list";
    auto resources = resourcesIn(route, body);
    rebuild->resources += static_cast<std::int64_t>(resources.size());
    if (kind == Kind::kTicket) {
      rebuild->tickets.insert(rebuild->tickets.end(), resources.begin(), resources.end());
      resources.clear();
    }
    const bool more = body.is_object() && body.contains("data") && body["data"].is_array() &&
                      !body["data"].empty() && body.contains("pagination") &&
                      page * 500 < body["pagination"].value("total", 0L) && page < kMaxRebuildPages;
    rememberThen(rebuild->target->name, resources, [this, rebuild, kind_index, page, more](bool stored) {
      if (!stored) {
        finishRebuild(rebuild, false);
        return;
      }
      if (more) {
        scanPage(rebuild, kind_index, page + 1);
      } else {
        scanPage(rebuild, kind_index + 1, 1);
      }
    });
  });
}

void OwnershipIndex::finishRebuild(const std::shared_ptr<Rebuild>& rebuild, bool ok) {
  std::vector<std::function<void(bool)>> waiters;
  {
    std::lock_guard lock(rebuild_mutex_);
    waiters.swap(rebuild_waiters_[rebuild->target->name]);
  }
  logger_.info("ownership_rebuild_finished",
               {{"upstream", rebuild->target->name}, {"ok", ok}, {"resources", rebuild->resources}});
  for (auto& waiter : waiters) waiter(ok);
}

}  // namespace fdgw::tenancy
