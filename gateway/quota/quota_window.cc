#include "gateway/quota/quota_window.h"

#include <cstdio>

namespace fdgw::quota {
namespace {

std::int64_t floorDivide(std::int64_t value, std::int64_t divisor) {
  const std::int64_t quotient = value / divisor;
  return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient;
}

std::string keyPrefix(const std::string& tenant_id, const std::string& quota_name) {
  return "fdgw:quota:{" + tenant_id + "}:" + quota_name + ":";
}

std::vector<Bucket> fixedLengthBuckets(const std::string& prefix, std::int64_t window_seconds,
                                       std::int64_t now_ms) {
  const std::int64_t bucket_ms = window_seconds * 1000 / kBucketsPerWindow;
  const std::int64_t current = floorDivide(now_ms, bucket_ms);
  const std::string window_prefix = prefix + std::to_string(window_seconds) + "s:";

  std::vector<Bucket> buckets;
  buckets.reserve(kBucketsPerWindow + 1);
  for (std::int64_t index = current - kBucketsPerWindow; index <= current; ++index) {
    // Bucket `index` is counted while the current bucket is at most
    // kBucketsPerWindow after it.
    buckets.push_back(Bucket{window_prefix + std::to_string(index * bucket_ms),
                             (index + kBucketsPerWindow + 1) * bucket_ms});
  }
  return buckets;
}

Bucket monthBucket(const std::string& prefix, std::int64_t now_ms, const TimeZone& zone) {
  const CalendarMonth month = calendarMonthAt(floorDivide(now_ms, 1000), zone);
  char label[16];
  std::snprintf(label, sizeof label, "%04d-%02d", month.year, month.month);
  return Bucket{prefix + "month:" + label, month.end * 1000};
}

}  // namespace

CountedQuota countedQuota(const std::string& tenant_id, const config::QuotaRule& rule,
                          std::int64_t now_ms, const TimeZone& zone) {
  CountedQuota quota{rule.name, rule.limit, rule.on_redis_error, {}};
  const std::string prefix = keyPrefix(tenant_id, rule.name);
  if (rule.window.kind == config::WindowKind::kCalendarMonth) {
    quota.buckets.push_back(monthBucket(prefix, now_ms, zone));
  } else {
    quota.buckets = fixedLengthBuckets(prefix, rule.window.length.count(), now_ms);
  }
  return quota;
}

BucketUsage evaluateBuckets(const CountedQuota& quota, const std::vector<std::int64_t>& counts,
                            std::int64_t now_ms) {
  BucketUsage usage;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] > 0 && usage.used == 0) usage.reset_ms = quota.buckets[i].release_ms - now_ms;
    usage.used += counts[i];
  }
  if (usage.used + 1 <= quota.limit) return usage;

  // One more request fits once enough of the oldest buckets are released.
  const std::int64_t excess = usage.used + 1 - quota.limit;
  std::int64_t freed = 0;
  usage.retry_ms = quota.buckets.back().release_ms - now_ms;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    freed += counts[i];
    if (freed >= excess) {
      usage.retry_ms = quota.buckets[i].release_ms - now_ms;
      break;
    }
  }
  return usage;
}

}  // namespace fdgw::quota
