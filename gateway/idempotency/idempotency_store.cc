#include "gateway/idempotency/idempotency_store.h"

#include <nlohmann/json.hpp>

#include "gateway/common/text.h"

namespace fdgw::idempotency {
namespace {

using redis::RedisReply;
using Type = redis::RedisReply::Type;

constexpr std::size_t kMaxKeyLength = 255;

// KEYS: record. ARGV: fingerprint, request id, now (Unix ms), lifetime of a
// running record (ms).
// Reply: {'started'}, {'running'}, {'mismatch'} or
//        {'done', status, content type, body}.
constexpr const char* kBeginScript = R"lua(
local record = redis.call('HMGET', KEYS[1], 'state', 'fingerprint', 'status', 'content_type', 'body')
if record[1] then
  if record[2] ~= ARGV[1] then return {'mismatch'} end
  if record[1] ~= 'done' then return {'running'} end
  return {'done', record[3] or '0', record[4] or '', record[5] or ''}
end
redis.call('HSET', KEYS[1], 'state', 'running', 'fingerprint', ARGV[1], 'request_id', ARGV[2],
           'created_ms', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {'started'}
)lua";

// KEYS: record. ARGV: request id, status, content type, body, retention (ms),
// now (Unix ms).
// Reply: 1 when stored, 0 when the record is gone or held by another request.
constexpr const char* kCompleteScript = R"lua(
local record = redis.call('HMGET', KEYS[1], 'state', 'request_id', 'created_ms')
if record[1] ~= 'running' or record[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'status', ARGV[2], 'content_type', ARGV[3], 'body', ARGV[4])
local left = tonumber(record[3]) + tonumber(ARGV[5]) - tonumber(ARGV[6])
redis.call('PEXPIRE', KEYS[1], math.max(left, 1))
return 1
)lua";

// KEYS: record. ARGV: request id. Reply: 1 when removed, else 0.
constexpr const char* kAbandonScript = R"lua(
local record = redis.call('HMGET', KEYS[1], 'state', 'request_id')
if record[1] == 'running' and record[2] == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
)lua";

std::string failureText(const RedisReply& reply) {
  return reply.isError() ? reply.text : "unexpected reply " + redis::describe(reply);
}

}  // namespace

bool isValidKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyLength) return false;
  for (char c : key) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

std::string requestFingerprint(std::string_view route_id, std::string_view body) {
  // nlohmann::json keeps object keys sorted, so dump() is canonical.
  const auto json = nlohmann::json::parse(body, nullptr, false);
  const std::string canonical = json.is_discarded() ? std::string(body) : json.dump();
  return common::sha256Hex(std::string(route_id) + "\n" + canonical);
}

std::string recordKey(std::string_view tenant_id, std::string_view key) {
  return "fdgw:idem:{" + std::string(tenant_id) + "}:" + common::sha256Hex(key);
}

RedisIdempotencyStore::RedisIdempotencyStore(redis::AsyncRedis& redis, const common::Clock& clock)
    : redis_(redis),
      clock_(clock),
      begin_script_(kBeginScript),
      complete_script_(kCompleteScript),
      abandon_script_(kAbandonScript) {}

void RedisIdempotencyStore::begin(const std::string& tenant_id, std::string_view key,
                                  const std::string& fingerprint, const std::string& request_id,
                                  std::chrono::milliseconds running_lifetime,
                                  std::function<void(BeginResult)> done) {
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count();
  std::string record = recordKey(tenant_id, key);
  redis_.evalScript(
      begin_script_, {record},
      {fingerprint, request_id, std::to_string(now_ms), std::to_string(running_lifetime.count())},
      [record, done = std::move(done)](RedisReply reply) {
        BeginResult result;
        result.record_key = record;
        if (reply.type != Type::kArray || reply.elements.empty()) {
          result.error = failureText(reply);
          done(std::move(result));
          return;
        }
        const std::string& state = reply.elements[0].text;
        if (state == "started") {
          result.status = BeginStatus::kStarted;
        } else if (state == "running") {
          result.status = BeginStatus::kRunning;
        } else if (state == "mismatch") {
          result.status = BeginStatus::kMismatch;
        } else if (state == "done" && reply.elements.size() == 4) {
          result.status = BeginStatus::kReplay;
          result.stored = StoredResponse{std::atoi(reply.elements[1].text.c_str()), reply.elements[2].text,
                                         reply.elements[3].text};
        } else {
          result.error = failureText(reply);
        }
        done(std::move(result));
      });
}

void RedisIdempotencyStore::complete(const std::string& record_key, const std::string& request_id,
                                     StoredResponse response, std::function<void(bool)> done) {
  const auto retention = std::chrono::duration_cast<std::chrono::milliseconds>(kRetention).count();
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count();
  redis_.evalScript(complete_script_, {record_key},
                    {request_id, std::to_string(response.status), std::move(response.content_type),
                     std::move(response.body), std::to_string(retention), std::to_string(now_ms)},
                    [done = std::move(done)](RedisReply reply) {
                      done(reply.type == Type::kInteger && reply.integer == 1);
                    });
}

void RedisIdempotencyStore::abandon(const std::string& record_key, const std::string& request_id,
                                    std::function<void(bool)> done) {
  redis_.evalScript(abandon_script_, {record_key}, {request_id}, [done = std::move(done)](RedisReply reply) {
    done(reply.type == Type::kInteger && reply.integer == 1);
  });
}

}  // namespace fdgw::idempotency
