#include <gtest/gtest.h>

#include <cstdio>
#include <future>
#include <memory>

#include "gateway/redis/async_redis.h"
#include "gateway/redis/redis_url.h"
#include "redis_server_fixture.h"

namespace fdgw::redis {
namespace {

using namespace std::chrono_literals;
using Type = RedisReply::Type;

constexpr auto kTimeout = 100ms;

// Runs one command and waits for its reply, failing the test after 5 s.
RedisReply run(AsyncRedis& client, std::vector<std::string> argv) {
  auto promise = std::make_shared<std::promise<RedisReply>>();
  auto future = promise->get_future();
  client.command(std::move(argv), [promise](RedisReply reply) { promise->set_value(reply); });
  if (future.wait_for(5s) != std::future_status::ready) {
    ADD_FAILURE() << "no reply within 5 s";
    return RedisReply::error("test gave up waiting");
  }
  return future.get();
}

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.start()) << "redis-server did not start";
    client_ = &connect(server_.url());
  }

  void TearDown() override {
    for (auto& client : clients_) client->stop();
    server_.kill();
  }

  AsyncRedis& connect(const std::string& url) {
    clients_.push_back(
        std::make_unique<AsyncRedis>(config::RedisConfig{url, kTimeout}, clock_, logger_));
    AsyncRedis& client = *clients_.back();
    EXPECT_TRUE(test::eventually([&] { return client.connected(); })) << "not connected to " << url;
    return client;
  }

  test::RedisServer server_;
  common::SystemClock clock_;
  std::FILE* log_sink_ = std::fopen("/dev/null", "w");
  log::Logger logger_{log_sink_};
  std::vector<std::unique_ptr<AsyncRedis>> clients_;
  AsyncRedis* client_ = nullptr;  // connected to database 0 of server_
};

TEST(RedisUrl, ParsesHostPortDatabase) {
  const auto address = parseRedisUrl("redis://127.0.0.1:6380/3");
  ASSERT_TRUE(address.has_value());
  EXPECT_EQ(address->host, "127.0.0.1");
  EXPECT_EQ(address->port, 6380);
  EXPECT_EQ(address->database, 3);

  const auto defaults = parseRedisUrl("redis://cache");
  ASSERT_TRUE(defaults.has_value());
  EXPECT_EQ(defaults->host, "cache");
  EXPECT_EQ(defaults->port, 6379);
  EXPECT_EQ(defaults->database, 0);
}

TEST(RedisUrl, RejectsInvalidUrls) {
  for (const char* url : {"", "http://127.0.0.1:6379/0", "redis://", "redis://:6379",
                          "redis://host:0", "redis://host:70000", "redis://host:6379/16",
                          "redis://host:6379/x", "redis://user:pass@host:6379/0", "rediss://host"}) {
    EXPECT_FALSE(parseRedisUrl(url).has_value()) << url;
  }
}

TEST_F(RedisClientTest, CopiesEveryReplyType) {
  EXPECT_EQ(run(*client_, {"SET", "greeting", "hola"}).type, Type::kStatus);

  const RedisReply text = run(*client_, {"GET", "greeting"});
  EXPECT_EQ(text.type, Type::kString);
  EXPECT_EQ(text.text, "hola");

  EXPECT_TRUE(run(*client_, {"GET", "missing"}).isNil());

  const RedisReply counter = run(*client_, {"INCRBY", "counter", "41"});
  EXPECT_EQ(counter.type, Type::kInteger);
  EXPECT_EQ(counter.integer, 41);

  run(*client_, {"RPUSH", "list", "a", "b"});
  const RedisReply list = run(*client_, {"LRANGE", "list", "0", "-1"});
  ASSERT_EQ(list.type, Type::kArray);
  ASSERT_EQ(list.elements.size(), 2u);
  EXPECT_EQ(list.elements[1].text, "b");

  const RedisReply error = run(*client_, {"INCR", "greeting"});
  EXPECT_TRUE(error.isError());
  EXPECT_NE(error.text.find("not an integer"), std::string::npos) << error.text;
}

TEST_F(RedisClientTest, SelectsDatabaseFromUrl) {
  AsyncRedis& database_three = connect(server_.url(3));
  ASSERT_EQ(run(database_three, {"SET", "where", "three"}).type, Type::kStatus);

  EXPECT_EQ(run(database_three, {"GET", "where"}).text, "three");
  EXPECT_TRUE(run(*client_, {"GET", "where"}).isNil());
}

TEST_F(RedisClientTest, EvalScriptFallsBackToEval) {
  const Script script("return tonumber(ARGV[1]) + #KEYS");
  ASSERT_EQ(run(*client_, {"SCRIPT", "FLUSH"}).type, Type::kStatus);

  auto promise = std::make_shared<std::promise<RedisReply>>();
  client_->evalScript(script, {"k1", "k2"}, {"40"},
                      [promise](RedisReply reply) { promise->set_value(reply); });
  auto future = promise->get_future();
  ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  const RedisReply reply = future.get();

  EXPECT_EQ(reply.type, Type::kInteger) << describe(reply);
  EXPECT_EQ(reply.integer, 42);
  const RedisReply cached = run(*client_, {"SCRIPT", "EXISTS", script.sha1()});
  ASSERT_EQ(cached.elements.size(), 1u);
  EXPECT_EQ(cached.elements[0].integer, 1) << "EVAL should have cached the script";
}

TEST_F(RedisClientTest, NotConnectedFailsAtOnce) {
  test::RedisServer unused;
  AsyncRedis client(config::RedisConfig{"redis://127.0.0.1:1/0", kTimeout}, clock_, logger_);

  const auto start = std::chrono::steady_clock::now();
  const RedisReply reply = run(client, {"PING"});
  const auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_FALSE(client.connected());
  EXPECT_TRUE(reply.isError());
  EXPECT_NE(reply.text.find("not connected"), std::string::npos) << reply.text;
  EXPECT_LT(elapsed, kTimeout);
}

TEST_F(RedisClientTest, PausedServerTimesOut) {
  server_.pause();
  const auto start = std::chrono::steady_clock::now();
  const RedisReply reply = run(*client_, {"PING"});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  server_.resume();

  EXPECT_TRUE(reply.isError());
  EXPECT_NE(reply.text.find("timed out"), std::string::npos) << reply.text;
  EXPECT_GE(elapsed, kTimeout);
  EXPECT_LT(elapsed, kTimeout + 150ms);
  EXPECT_EQ(run(*client_, {"PING"}).text, "PONG");
}

TEST_F(RedisClientTest, ReconnectsAfterRestart) {
  ASSERT_EQ(run(*client_, {"SET", "before", "1"}).type, Type::kStatus);
  const int port = server_.port();
  server_.kill();
  ASSERT_TRUE(test::eventually([&] { return !client_->connected(); }));
  EXPECT_TRUE(run(*client_, {"PING"}).isError());

  ASSERT_TRUE(server_.start(port));
  ASSERT_TRUE(test::eventually([&] { return client_->connected(); })) << "no reconnect";
  EXPECT_EQ(run(*client_, {"PING"}).text, "PONG");
}

TEST_F(RedisClientTest, StopFailsPendingCommands) {
  server_.pause();
  auto promise = std::make_shared<std::promise<RedisReply>>();
  client_->command({"PING"}, [promise](RedisReply reply) { promise->set_value(reply); });
  client_->stop();
  server_.resume();

  auto future = promise->get_future();
  ASSERT_EQ(future.wait_for(0s), std::future_status::ready) << "stop() left a command pending";
  EXPECT_TRUE(future.get().isError());
  const RedisReply after_stop = run(*client_, {"PING"});
  EXPECT_TRUE(after_stop.isError());
  EXPECT_NE(after_stop.text.find("stopped"), std::string::npos) << after_stop.text;
}

}  // namespace
}  // namespace fdgw::redis
