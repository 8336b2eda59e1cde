// RedisIdempotencyStore against a real redis-server, and the key and
// fingerprint rules.

#include "gateway/idempotency/idempotency_store.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <future>
#include <memory>

#include "redis_server_fixture.h"

namespace fdgw::idempotency {
namespace {

using namespace std::chrono_literals;

class IdempotencyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.start()) << "redis-server did not start";
    client_ = std::make_unique<redis::AsyncRedis>(config::RedisConfig{server_.url(), 500ms}, clock_, logger_);
    ASSERT_TRUE(test::eventually([&] { return client_->connected(); }));
    store_ = std::make_unique<RedisIdempotencyStore>(*client_, clock_);
  }

  void TearDown() override {
    client_->stop();
    server_.kill();
  }

  BeginResult begin(const std::string& tenant, const std::string& key, const std::string& fingerprint,
                    const std::string& request_id, std::chrono::milliseconds lifetime = 60s) {
    return test::await<BeginResult>(
        [&](auto done) { store_->begin(tenant, key, fingerprint, request_id, lifetime, done); });
  }

  bool complete(const std::string& record, const std::string& request_id, StoredResponse response) {
    return test::await<bool>([&](auto done) { store_->complete(record, request_id, response, done); });
  }

  bool abandon(const std::string& record, const std::string& request_id) {
    return test::await<bool>([&](auto done) { store_->abandon(record, request_id, done); });
  }

  // Returns the record's time to live in milliseconds, as PTTL reports it.
  std::int64_t ttlOf(const std::string& record) {
    const auto reply = test::await<redis::RedisReply>([&](auto done) { client_->command({"PTTL", record}, done); });
    return reply.integer;
  }

  test::RedisServer server_;
  common::SystemClock clock_;
  std::FILE* log_sink_ = std::fopen("/dev/null", "w");
  log::Logger logger_{log_sink_};
  std::unique_ptr<redis::AsyncRedis> client_;
  std::unique_ptr<RedisIdempotencyStore> store_;
};

TEST_F(IdempotencyStoreTest, FirstRequestStarts) {
  const BeginResult result = begin("acme", "key-1", "fp-a", "req-1");

  EXPECT_EQ(result.status, BeginStatus::kStarted) << result.error;
  EXPECT_EQ(result.record_key, recordKey("acme", "key-1"));
  EXPECT_FALSE(result.stored.has_value());
}

TEST_F(IdempotencyStoreTest, RepeatWhileRunningReported) {
  ASSERT_EQ(begin("acme", "key-1", "fp-a", "req-1").status, BeginStatus::kStarted);

  EXPECT_EQ(begin("acme", "key-1", "fp-a", "req-2").status, BeginStatus::kRunning);
}

TEST_F(IdempotencyStoreTest, OtherBodyMismatch) {
  ASSERT_EQ(begin("acme", "key-1", "fp-a", "req-1").status, BeginStatus::kStarted);

  EXPECT_EQ(begin("acme", "key-1", "fp-b", "req-2").status, BeginStatus::kMismatch);
}

TEST_F(IdempotencyStoreTest, CompletedRecordReplays) {
  const BeginResult first = begin("acme", "key-1", "fp-a", "req-1");
  ASSERT_TRUE(complete(first.record_key, "req-1", {201, "application/json", R"({"success":true})"}));

  const BeginResult repeat = begin("acme", "key-1", "fp-a", "req-2");

  ASSERT_EQ(repeat.status, BeginStatus::kReplay);
  ASSERT_TRUE(repeat.stored.has_value());
  EXPECT_EQ(repeat.stored->status, 201);
  EXPECT_EQ(repeat.stored->content_type, "application/json");
  EXPECT_EQ(repeat.stored->body, R"({"success":true})");
  EXPECT_EQ(begin("acme", "key-1", "fp-b", "req-3").status, BeginStatus::kMismatch);
}

TEST_F(IdempotencyStoreTest, CompletedKeptForRetention) {
  const BeginResult first = begin("acme", "key-1", "fp-a", "req-1", 5s);
  EXPECT_LE(ttlOf(first.record_key), 5000);

  ASSERT_TRUE(complete(first.record_key, "req-1", {200, "application/json", "{}"}));

  const std::int64_t ttl = ttlOf(first.record_key);
  EXPECT_GT(ttl, 24 * 3600 * 1000 - 60000);
  EXPECT_LE(ttl, 24 * 3600 * 1000);
}

TEST_F(IdempotencyStoreTest, TenantsHaveOwnRecords) {
  ASSERT_EQ(begin("acme", "key-1", "fp-a", "req-1").status, BeginStatus::kStarted);

  EXPECT_EQ(begin("globo", "key-1", "fp-b", "req-2").status, BeginStatus::kStarted);
}

TEST_F(IdempotencyStoreTest, AbandonLetsRetryRun) {
  const BeginResult first = begin("acme", "key-1", "fp-a", "req-1");

  EXPECT_FALSE(abandon(first.record_key, "req-other")) << "only the holder removes its record";
  EXPECT_TRUE(abandon(first.record_key, "req-1"));

  EXPECT_EQ(begin("acme", "key-1", "fp-a", "req-2").status, BeginStatus::kStarted);
}

TEST_F(IdempotencyStoreTest, OnlyHolderCompletes) {
  const BeginResult first = begin("acme", "key-1", "fp-a", "req-1");

  EXPECT_FALSE(complete(first.record_key, "req-other", {200, "application/json", "{}"}));
  EXPECT_EQ(begin("acme", "key-1", "fp-a", "req-2").status, BeginStatus::kRunning);
}

TEST_F(IdempotencyStoreTest, CompletedRecordNotAbandoned) {
  const BeginResult first = begin("acme", "key-1", "fp-a", "req-1");
  ASSERT_TRUE(complete(first.record_key, "req-1", {200, "application/json", "{}"}));

  EXPECT_FALSE(abandon(first.record_key, "req-1"));
  EXPECT_EQ(begin("acme", "key-1", "fp-a", "req-2").status, BeginStatus::kReplay);
}

TEST_F(IdempotencyStoreTest, StoppedRedisReportsFailure) {
  server_.kill();

  const BeginResult result = begin("acme", "key-1", "fp-a", "req-1");

  EXPECT_EQ(result.status, BeginStatus::kFailed);
  EXPECT_FALSE(result.error.empty());
}

TEST(IdempotencyKey, ValidKeys) {
  EXPECT_TRUE(isValidKey("a"));
  EXPECT_TRUE(isValidKey("5f2b1c3e-8a0d-4c7e-9b61-2f9e4d3a7c10"));
  EXPECT_TRUE(isValidKey("order 42 retry"));
  EXPECT_TRUE(isValidKey(std::string(255, 'k')));
}

TEST(IdempotencyKey, InvalidKeys) {
  EXPECT_FALSE(isValidKey(""));
  EXPECT_FALSE(isValidKey(std::string(256, 'k')));
  EXPECT_FALSE(isValidKey("tab\there"));
  EXPECT_FALSE(isValidKey("ñ"));
}

TEST(IdempotencyFingerprint, IgnoresKeyOrderAndSpacing) {
  const std::string compact = requestFingerprint("orders.create", R"({"sku":"FD-MX-5GB-30D","quantity":1})");
  const std::string spaced =
      requestFingerprint("orders.create", "{ \"quantity\": 1,\n  \"sku\": \"FD-MX-5GB-30D\" }");

  EXPECT_EQ(compact, spaced);
  EXPECT_EQ(compact.size(), 64u);
}

TEST(IdempotencyFingerprint, DiffersByBodyAndRoute) {
  const std::string order = requestFingerprint("orders.create", R"({"quantity":1})");

  EXPECT_NE(order, requestFingerprint("orders.create", R"({"quantity":2})"));
  EXPECT_NE(order, requestFingerprint("tickets.create", R"({"quantity":1})"));
}

TEST(IdempotencyRecordKey, HashesTheKey) {
  // SHA-256 of "k", as `printf %s k | sha256sum` prints it.
  EXPECT_EQ(recordKey("acme", "k"), "fdgw:idem:{acme}:8254c329a92850f6d539dd376f4816ee2764517da5e0235514af433164480d7a");
}

}  // namespace
}  // namespace fdgw::idempotency
