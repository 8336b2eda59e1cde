#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gateway/config/policies.h"
#include "gateway/quota/time_zone.h"

namespace fdgw::quota {

// Sub-windows per fixed-length window. More buckets make the effective
// window closer to its nominal length but cost one Redis key each.
inline constexpr std::int64_t kBucketsPerWindow = 10;

// Extra lifetime of a bucket key past its release, so instances whose clocks
// run behind still find the count.
inline constexpr std::int64_t kKeyExpirySlackMs = 60'000;

// One counter of a quota: its Redis key and the instant (Unix milliseconds)
// at which its requests stop counting.
struct Bucket {
  std::string key;
  std::int64_t release_ms = 0;
};

// A quota with the buckets it counts at one instant, copied out of the
// plan so it does not depend on the plan object's lifetime.
struct CountedQuota {
  std::string name;
  std::int64_t limit = 0;
  config::RedisFailureMode on_redis_error = config::RedisFailureMode::kLocal;
  std::vector<Bucket> buckets;  // oldest first, and the last one takes new requests
};

// Returns the buckets `rule` counts for `tenant_id` at `now_ms`.
//
// A fixed-length window of L is split into kBucketsPerWindow buckets of
// g = L / kBucketsPerWindow, aligned to the Unix epoch. A check at time t
// counts the bucket holding t and the kBucketsPerWindow buckets before it,
// which covers all of (t - L, t]. A calendar month is one bucket from the
// month's first instant in `zone` until the next month's.
//
// Keys are `fdgw:quota:{tenant}:<quota>:<L>s:<bucket start ms>` and
// `fdgw:quota:{tenant}:<quota>:month:<YYYY-MM>`. The braces are a Redis
// Cluster hash tag, so one tenant's keys share a slot. Keys depend only on
// the tenant, the quota name and the window, so a reloaded plan keeps its
// counts unless the quota's window changes.
CountedQuota countedQuota(const std::string& tenant_id, const config::QuotaRule& rule,
                          std::int64_t now_ms, const TimeZone& zone);

// The usage of one quota given the count of each of its buckets.
struct BucketUsage {
  std::int64_t used = 0;      // requests counted
  std::int64_t reset_ms = 0;  // until the oldest non-empty bucket is released, or 0 if all are empty
  std::int64_t retry_ms = 0;  // until one more request fits, or 0 if it fits now
};

// Computes the usage of `quota` from `counts`, one per bucket in the same
// order. This mirrors the Lua script, for the in-memory fallback.
BucketUsage evaluateBuckets(const CountedQuota& quota, const std::vector<std::int64_t>& counts,
                            std::int64_t now_ms);

}  // namespace fdgw::quota
