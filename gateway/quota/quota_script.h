#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/quota/quota_window.h"
#include "gateway/redis/redis_reply.h"

namespace fdgw::quota {

// The Lua source of the quota script. One call reads every bucket of every
// quota of a request and, only when each quota has room for one more
// request, increments the newest bucket of each (with PEXPIRE until its
// release plus kKeyExpirySlackMs). It never reads the Redis clock.
//
// KEYS: every quota's bucket keys, quota by quota, oldest bucket first.
// ARGV: now_ms, count (1 to check and count, 0 to read only), quota count,
//       then per quota: limit, bucket count, and each bucket's release_ms,
//       and last the key expiry slack in milliseconds.
// Reply: {allowed (1/0), then per quota: used, reset_ms, retry_ms}, where
//        `used` includes this request when it was counted.
const std::string& quotaScriptSource();

struct ScriptCall {
  std::vector<std::string> keys;
  std::vector<std::string> args;
};

ScriptCall buildScriptCall(const std::vector<CountedQuota>& quotas, std::int64_t now_ms,
                           bool count);

struct ScriptResult {
  bool allowed = false;
  std::vector<BucketUsage> usages;  // one per quota
};

// Returns nullopt when `reply` is an error or not the shape the script returns.
std::optional<ScriptResult> parseScriptReply(const redis::RedisReply& reply,
                                             std::size_t quota_count);

}  // namespace fdgw::quota
