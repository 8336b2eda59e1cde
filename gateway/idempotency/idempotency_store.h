#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/common/clock.h"
#include "gateway/redis/async_redis.h"
#include "gateway/redis/script.h"

namespace fdgw::idempotency {

// How long a completed record is kept, from the first request on.
inline constexpr std::chrono::hours kRetention{24};

// A response as the first request with a key received it.
struct StoredResponse {
  int status = 200;
  std::string content_type;
  std::string body;
};

enum class BeginStatus {
  kStarted,   // no record existed: this request now owns a new one
  kReplay,    // a completed record with the same fingerprint: `stored` is set
  kRunning,   // the first request with this key has not finished
  kMismatch,  // the key was used with another route or body
  kFailed,    // Redis failed or timed out
};

struct BeginResult {
  BeginStatus status = BeginStatus::kFailed;
  std::string record_key;  // Redis key of the record
  std::optional<StoredResponse> stored;
  std::string error;  // for kFailed, for the operator's log
};

// Idempotency-Key records, scoped per tenant and shared by every gateway
// instance. An interface, so the request path can be tested with a fake.
// Every `done` runs exactly once, on any thread.
class IdempotencyStore {
 public:
  virtual ~IdempotencyStore() = default;

  // Looks up the tenant's record for `key`. When there is none, creates one
  // held by `request_id` that expires after `running_lifetime` unless it is
  // completed first, so a crashed request cannot block the key for long.
  virtual void begin(const std::string& tenant_id, std::string_view key, const std::string& fingerprint,
                     const std::string& request_id, std::chrono::milliseconds running_lifetime,
                     std::function<void(BeginResult)> done) = 0;

  // Stores `response` in a record that `request_id` holds, and keeps it
  // until kRetention after the record was created. `done` gets false when
  // the record is gone or held by another request.
  virtual void complete(const std::string& record_key, const std::string& request_id,
                        StoredResponse response, std::function<void(bool)> done) = 0;

  // Removes a record that `request_id` still holds, so a retry runs anew.
  virtual void abandon(const std::string& record_key, const std::string& request_id,
                       std::function<void(bool)> done) = 0;
};

// Returns whether an Idempotency-Key header value is usable: 1 to 255
// printable ASCII characters.
bool isValidKey(std::string_view key);

// Returns the SHA-256 (hex) of the route id and the body as canonical JSON,
// so a repeat that only reorders keys or changes whitespace matches. A body
// that is not JSON is hashed as its bytes.
std::string requestFingerprint(std::string_view route_id, std::string_view body);

// Redis key of a tenant's record: fdgw:idem:{TENANT}:SHA256(KEY).
std::string recordKey(std::string_view tenant_id, std::string_view key);

// IdempotencyStore in Redis hashes with the fields state (running or
// done), fingerprint, request_id, created_ms and, once done, status,
// content_type and body. Each operation is one Lua script. Thread-safe.
class RedisIdempotencyStore final : public IdempotencyStore {
 public:
  RedisIdempotencyStore(redis::AsyncRedis& redis, const common::Clock& clock);

  void begin(const std::string& tenant_id, std::string_view key, const std::string& fingerprint,
             const std::string& request_id, std::chrono::milliseconds running_lifetime,
             std::function<void(BeginResult)> done) override;
  void complete(const std::string& record_key, const std::string& request_id, StoredResponse response,
                std::function<void(bool)> done) override;
  void abandon(const std::string& record_key, const std::string& request_id,
               std::function<void(bool)> done) override;

 private:
  redis::AsyncRedis& redis_;
  const common::Clock& clock_;
  const redis::Script begin_script_;
  const redis::Script complete_script_;
  const redis::Script abandon_script_;
};

}  // namespace fdgw::idempotency
