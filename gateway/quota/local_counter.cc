#include "gateway/quota/local_counter.h"

namespace fdgw::quota {
namespace {

constexpr std::int64_t kSweepIntervalMs = 10'000;

}  // namespace

LocalCounter::Result LocalCounter::check(const std::vector<const CountedQuota*>& quotas,
                                         std::int64_t now_ms, bool count) {
  std::lock_guard lock(mutex_);
  sweep(now_ms);

  Result result;
  for (const CountedQuota* quota : quotas) {
    std::vector<std::int64_t> counts;
    counts.reserve(quota->buckets.size());
    for (const auto& bucket : quota->buckets) {
      const auto found = buckets_.find(bucket.key);
      counts.push_back(found == buckets_.end() ? 0 : found->second.count);
    }
    BucketUsage usage = evaluateBuckets(*quota, counts, now_ms);
    if (usage.retry_ms > 0) result.allowed = false;
    result.usages.push_back(usage);
  }
  if (!count || !result.allowed) return result;

  for (std::size_t i = 0; i < quotas.size(); ++i) {
    const Bucket& newest = quotas[i]->buckets.back();
    Entry& entry = buckets_[newest.key];
    entry.count += 1;
    entry.release_ms = newest.release_ms;
    BucketUsage& usage = result.usages[i];
    if (usage.used == 0) usage.reset_ms = newest.release_ms - now_ms;
    usage.used += 1;
  }
  return result;
}

void LocalCounter::sweep(std::int64_t now_ms) {
  if (now_ms - last_sweep_ms_ < kSweepIntervalMs) return;
  last_sweep_ms_ = now_ms;
  std::erase_if(buckets_, [now_ms](const auto& item) { return item.second.release_ms <= now_ms; });
}

}  // namespace fdgw::quota
