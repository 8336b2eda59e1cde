#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "gateway/common/clock.h"
#include "gateway/config/gateway_config.h"
#include "gateway/log/logger.h"
#include "gateway/redis/redis_reply.h"
#include "gateway/redis/redis_url.h"
#include "gateway/redis/script.h"

struct redisAsyncContext;
struct redisReply;

namespace fdgw::redis {

// An asynchronous Redis client with one connection and its own thread, which
// runs an epoll loop around hiredis's asynchronous API. Calls never block the
// caller on network I/O.
//
// Every command's `done` runs exactly once, on the client thread, unless the
// command is issued after stop(): then it runs at once on the caller's thread.
// It receives an error reply when the client is not connected, when no reply
// arrived within RedisConfig::timeout of the call, when the connection drops
// or when the client stops. A command that timed out may still have run on
// the server.
//
// The client connects on start, SELECTs the URL's database, and reconnects
// after any failure with a backoff from 100 ms doubling to 2 s. A connection
// on which a command has waited longer than the stall limit (4 × timeout, at
// least 1 s) is dropped and reopened, so a half-open socket cannot hang the
// client. Connects, failures and disconnects are logged, and the Logger limits
// repeats.
//
// Thread-safe: command(), evalScript() and connected() may be called from any
// thread, including from inside a `done` callback. stop() may be called from
// any thread except the client thread, so never from a `done` callback.
class AsyncRedis {
 public:
  using Callback = std::function<void(RedisReply)>;

  // Starts the client thread and the first connect. Throws
  // std::invalid_argument when config.url is not a valid redis:// URL and
  // std::system_error when the epoll or eventfd descriptors cannot be made.
  // `clock` supplies monotonic time for timeouts and backoff.
  AsyncRedis(config::RedisConfig config, const common::Clock& clock, log::Logger& logger);
  ~AsyncRedis();

  AsyncRedis(const AsyncRedis&) = delete;
  AsyncRedis& operator=(const AsyncRedis&) = delete;

  // Sends one command, argv[0] being its name, e.g. {"INCR", "key"}.
  void command(std::vector<std::string> argv, Callback done);

  // Runs `script` with EVALSHA and, when Redis replies NOSCRIPT, once more
  // with EVAL. The deadline of the whole exchange is one timeout.
  void evalScript(const Script& script, std::vector<std::string> keys,
                  std::vector<std::string> args, Callback done);

  // True once the connection is open and its database selected, until the
  // connection drops. A stopped (SIGSTOP) server still counts as connected
  // until the stall limit passes.
  bool connected() const { return ready_.load(); }

  // Fails every outstanding command, closes the connection and joins the
  // client thread. Idempotent, and the destructor calls it.
  void stop();

  const RedisAddress& address() const { return address_; }

 private:
  struct Submission {
    std::vector<std::string> argv;
    std::chrono::steady_clock::time_point deadline;
    Callback done;
    const Script* script = nullptr;  // set for EVALSHA with an EVAL fallback
  };
  struct InFlight {
    Callback done;
    std::chrono::steady_clock::time_point deadline;
    const Script* script = nullptr;
    std::vector<std::string> argv;  // the EVALSHA argv when `script` is set, to resend as EVAL
  };
  using Deadline = std::pair<std::chrono::steady_clock::time_point, std::uint64_t>;

  void run();
  void drainSubmissions();
  void send(Submission submission);
  void expireDeadlines();
  void checkConnection();
  void connect();
  void dropConnection(const std::string& reason);
  void scheduleReconnect();
  int pollTimeoutMs() const;
  void handleSocketEvents(std::uint32_t events);
  void wake();

  // hiredis callbacks and event hooks (static trampolines).
  static void onReply(redisAsyncContext* context, void* reply, void* privdata);
  static void onSelectReply(redisAsyncContext* context, void* reply, void* privdata);
  static void onConnect(const redisAsyncContext* context, int status);
  static void onDisconnect(const redisAsyncContext* context, int status);
  static void addRead(void* privdata);
  static void delRead(void* privdata);
  static void addWrite(void* privdata);
  static void delWrite(void* privdata);
  static void cleanup(void* privdata);

  void updateInterest();
  void completeReply(std::uint64_t id, redisReply* reply);
  std::string addressText() const;

  const config::RedisConfig config_;
  const RedisAddress address_;
  const common::Clock& clock_;
  log::Logger& logger_;
  const std::chrono::milliseconds stall_limit_;

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> ready_{false};

  std::mutex submissions_mutex_;
  std::vector<Submission> submissions_;
  bool accepting_ = true;  // guarded by submissions_mutex_

  // Client-thread state, touched only by run() and the hiredis callbacks.
  redisAsyncContext* context_ = nullptr;
  int socket_fd_ = -1;
  bool reading_ = false;
  bool writing_ = false;
  bool registered_ = false;
  std::chrono::steady_clock::time_point connect_started_;
  std::chrono::steady_clock::time_point next_connect_;
  std::chrono::milliseconds backoff_;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, InFlight> in_flight_;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
  std::size_t awaiting_replies_ = 0;  // sent on the current connection, unanswered
  // Argument arrays that send() fills for hiredis and reuses.
  std::vector<const char*> argv_pointers_;
  std::vector<std::size_t> argv_lengths_;
  std::chrono::steady_clock::time_point waiting_since_;
};

}  // namespace fdgw::redis
