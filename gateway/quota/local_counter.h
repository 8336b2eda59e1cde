#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "gateway/quota/quota_window.h"

namespace fdgw::quota {

// This instance's in-memory stand-in for Redis, for quotas with
// on_redis_error: local. Same buckets and limits as in Redis, but each
// instance counts only its own requests, so N instances together may allow
// up to N × limit while Redis is down. Thread-safe.
class LocalCounter {
 public:
  struct Result {
    bool allowed = true;
    std::vector<BucketUsage> usages;  // one per quota, where `used` includes a counted request
  };

  // Checks `quotas` together and, when `count` is true and every one has
  // room, counts one request in each. Counts nothing otherwise.
  Result check(const std::vector<const CountedQuota*>& quotas, std::int64_t now_ms, bool count);

 private:
  struct Entry {
    std::int64_t count = 0;
    std::int64_t release_ms = 0;
  };

  void sweep(std::int64_t now_ms);

  std::mutex mutex_;
  std::unordered_map<std::string, Entry> buckets_;
  std::int64_t last_sweep_ms_ = 0;
};

}  // namespace fdgw::quota
