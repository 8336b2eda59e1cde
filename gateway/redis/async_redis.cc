#include "gateway/redis/async_redis.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <iterator>
#include <stdexcept>
#include <system_error>

namespace fdgw::redis {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kWakeTag = 0;
constexpr std::uint64_t kSocketTag = 1;
constexpr std::chrono::milliseconds kFirstBackoff = 100ms;
constexpr std::chrono::milliseconds kMaxBackoff = 2000ms;
constexpr std::chrono::milliseconds kMaxPollWait = 1000ms;

RedisAddress parseAddressOrThrow(const std::string& url) {
  auto address = parseRedisUrl(url);
  if (!address) {
    throw std::invalid_argument("invalid Redis URL \"" + url +
                                "\"; expected redis://host:port/db with db 0..15");
  }
  return *address;
}

RedisReply copyReply(const redisReply& source) {
  RedisReply reply;
  switch (source.type) {
    case REDIS_REPLY_STRING:
      reply.type = RedisReply::Type::kString;
      reply.text.assign(source.str, source.len);
      break;
    case REDIS_REPLY_STATUS:
      reply.type = RedisReply::Type::kStatus;
      reply.text.assign(source.str, source.len);
      break;
    case REDIS_REPLY_ERROR:
      reply.type = RedisReply::Type::kError;
      reply.text.assign(source.str, source.len);
      break;
    case REDIS_REPLY_INTEGER:
      reply.type = RedisReply::Type::kInteger;
      reply.integer = source.integer;
      break;
    case REDIS_REPLY_ARRAY:
      reply.type = RedisReply::Type::kArray;
      reply.elements.reserve(source.elements);
      for (std::size_t i = 0; i < source.elements; ++i) {
        reply.elements.push_back(copyReply(*source.element[i]));
      }
      break;
    default:
      reply.type = RedisReply::Type::kNil;
      break;
  }
  return reply;
}

std::vector<std::string> scriptArgv(std::string command, std::string script_id,
                                    std::vector<std::string>& keys,
                                    std::vector<std::string>& args) {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back(std::move(command));
  argv.push_back(std::move(script_id));
  argv.push_back(std::to_string(keys.size()));
  argv.insert(argv.end(), std::make_move_iterator(keys.begin()),
              std::make_move_iterator(keys.end()));
  argv.insert(argv.end(), std::make_move_iterator(args.begin()),
              std::make_move_iterator(args.end()));
  return argv;
}

AsyncRedis* clientOf(const redisAsyncContext* context) {
  return static_cast<AsyncRedis*>(context->data);
}

}  // namespace

AsyncRedis::AsyncRedis(config::RedisConfig config, const common::Clock& clock,
                       log::Logger& logger)
    : config_(std::move(config)),
      address_(parseAddressOrThrow(config_.url)),
      clock_(clock),
      logger_(logger),
      stall_limit_(std::max<std::chrono::milliseconds>(1000ms, 4 * config_.timeout)),
      backoff_(kFirstBackoff) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    const int error = errno;
    close(epoll_fd_);
    throw std::system_error(error, std::generic_category(), "eventfd");
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeTag;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event);

  next_connect_ = clock_.monotonicNow();
  thread_ = std::thread([this] { run(); });
}

AsyncRedis::~AsyncRedis() {
  stop();
  close(wake_fd_);
  close(epoll_fd_);
}

void AsyncRedis::stop() {
  stopping_.store(true);
  wake();
  if (thread_.joinable()) thread_.join();
}

void AsyncRedis::command(std::vector<std::string> argv, Callback done) {
  Submission submission{std::move(argv), clock_.monotonicNow() + config_.timeout,
                        std::move(done), nullptr};
  {
    std::lock_guard lock(submissions_mutex_);
    if (accepting_) {
      submissions_.push_back(std::move(submission));
      submission.done = nullptr;
    }
  }
  if (submission.done) {
    submission.done(RedisReply::error("Redis client stopped"));
    return;
  }
  wake();
}

void AsyncRedis::evalScript(const Script& script, std::vector<std::string> keys,
                            std::vector<std::string> args, Callback done) {
  Submission submission{scriptArgv("EVALSHA", script.sha1(), keys, args),
                        clock_.monotonicNow() + config_.timeout, std::move(done), &script};
  {
    std::lock_guard lock(submissions_mutex_);
    if (accepting_) {
      submissions_.push_back(std::move(submission));
      submission.done = nullptr;
    }
  }
  if (submission.done) {
    submission.done(RedisReply::error("Redis client stopped"));
    return;
  }
  wake();
}

void AsyncRedis::wake() {
  const std::uint64_t one = 1;
  // A failed write means the counter is already non-zero, so the loop wakes anyway.
  [[maybe_unused]] const auto written = write(wake_fd_, &one, sizeof one);
}

void AsyncRedis::run() {
  // hiredis writes with write(2), so a peer that closed the socket would
  // raise SIGPIPE. Blocked on this thread, it turns into EPIPE instead.
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);

  std::array<epoll_event, 8> events{};
  while (!stopping_.load()) {
    checkConnection();
    const int count = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                                 pollTimeoutMs());
    for (int i = 0; i < count; ++i) {
      if (events[i].data.u64 == kWakeTag) {
        std::uint64_t value = 0;
        [[maybe_unused]] const auto read_bytes = read(wake_fd_, &value, sizeof value);
      } else {
        handleSocketEvents(events[i].events);
      }
    }
    drainSubmissions();
    expireDeadlines();
  }

  // Shutdown: freeing the context runs every pending reply callback with no
  // reply, which fails those commands.
  if (context_ != nullptr) redisAsyncFree(context_);
  std::vector<Submission> unsent;
  {
    std::lock_guard lock(submissions_mutex_);
    accepting_ = false;
    unsent.swap(submissions_);
  }
  for (auto& submission : unsent) submission.done(RedisReply::error("Redis client stopped"));
  auto remaining = std::move(in_flight_);
  in_flight_.clear();
  for (auto& [id, entry] : remaining) entry.done(RedisReply::error("Redis client stopped"));
}

void AsyncRedis::drainSubmissions() {
  std::vector<Submission> batch;
  {
    std::lock_guard lock(submissions_mutex_);
    batch.swap(submissions_);
  }
  for (auto& submission : batch) send(std::move(submission));
}

void AsyncRedis::send(Submission submission) {
  if (!ready_.load() || context_ == nullptr) {
    submission.done(RedisReply::error("not connected to Redis at " + addressText()));
    return;
  }

  const std::uint64_t id = next_id_++;
  InFlight entry{std::move(submission.done), submission.deadline, submission.script, {}};

  // hiredis copies the arguments into its output buffer, so the pointer
  // arrays are reused from command to command.
  argv_pointers_.clear();
  argv_lengths_.clear();
  for (const auto& part : submission.argv) {
    argv_pointers_.push_back(part.data());
    argv_lengths_.push_back(part.size());
  }
  const int status = redisAsyncCommandArgv(context_, &AsyncRedis::onReply,
                                           reinterpret_cast<void*>(id),
                                           static_cast<int>(argv_pointers_.size()),
                                           argv_pointers_.data(), argv_lengths_.data());
  if (status != REDIS_OK) {
    entry.done(RedisReply::error("failed to queue command for Redis at " + addressText()));
    return;
  }
  if (submission.script != nullptr) entry.argv = std::move(submission.argv);

  if (awaiting_replies_++ == 0) waiting_since_ = clock_.monotonicNow();
  deadlines_.emplace(entry.deadline, id);
  in_flight_.emplace(id, std::move(entry));
}

void AsyncRedis::completeReply(std::uint64_t id, redisReply* reply) {
  if (awaiting_replies_ > 0) --awaiting_replies_;
  if (reply != nullptr) waiting_since_ = clock_.monotonicNow();

  auto found = in_flight_.find(id);
  if (found == in_flight_.end()) return;  // already failed by its deadline
  InFlight entry = std::move(found->second);
  in_flight_.erase(found);

  if (reply == nullptr) {
    entry.done(RedisReply::error(stopping_.load() ? "Redis client stopped"
                                                  : "connection to Redis at " + addressText() +
                                                        " lost"));
    return;
  }
  RedisReply copy = copyReply(*reply);
  if (entry.script != nullptr && copy.isError() && copy.text.starts_with("NOSCRIPT")) {
    // EVAL runs the script and caches it, so the next EVALSHA succeeds.
    std::vector<std::string> argv = std::move(entry.argv);
    argv[0] = "EVAL";
    argv[1] = entry.script->source();
    send(Submission{std::move(argv), entry.deadline, std::move(entry.done), nullptr});
    return;
  }
  entry.done(std::move(copy));
}

void AsyncRedis::expireDeadlines() {
  const auto now = clock_.monotonicNow();
  while (!deadlines_.empty() && deadlines_.top().first <= now) {
    const std::uint64_t id = deadlines_.top().second;
    deadlines_.pop();
    auto found = in_flight_.find(id);
    if (found == in_flight_.end()) continue;
    Callback done = std::move(found->second.done);
    in_flight_.erase(found);
    done(RedisReply::error("Redis command timed out after " +
                           std::to_string(config_.timeout.count()) + " ms"));
  }
}

void AsyncRedis::checkConnection() {
  const auto now = clock_.monotonicNow();
  if (context_ == nullptr) {
    if (now >= next_connect_) connect();
    return;
  }
  if (!ready_.load() && now - connect_started_ > stall_limit_) {
    dropConnection("connect and SELECT did not finish within " +
                   std::to_string(stall_limit_.count()) + " ms");
  } else if (ready_.load() && awaiting_replies_ > 0 && now - waiting_since_ > stall_limit_) {
    dropConnection("no reply within " + std::to_string(stall_limit_.count()) + " ms");
  }
}

void AsyncRedis::connect() {
  connect_started_ = clock_.monotonicNow();
  redisAsyncContext* context = redisAsyncConnect(address_.host.c_str(), address_.port);
  if (context == nullptr || context->err != 0) {
    logger_.warn("redis_connect_failed",
                 {{"address", addressText()},
                  {"error", context != nullptr ? context->errstr : "out of memory"},
                  {"retry_in_ms", backoff_.count()}});
    if (context != nullptr) redisAsyncFree(context);
    scheduleReconnect();
    return;
  }

  context_ = context;
  socket_fd_ = context->c.fd;
  context->data = this;
  context->ev.data = this;
  context->ev.addRead = &AsyncRedis::addRead;
  context->ev.delRead = &AsyncRedis::delRead;
  context->ev.addWrite = &AsyncRedis::addWrite;
  context->ev.delWrite = &AsyncRedis::delWrite;
  context->ev.cleanup = &AsyncRedis::cleanup;
  // Set after the hooks, because setting the connect callback registers write interest.
  redisAsyncSetConnectCallback(context, &AsyncRedis::onConnect);
  redisAsyncSetDisconnectCallback(context, &AsyncRedis::onDisconnect);
}

void AsyncRedis::dropConnection(const std::string& reason) {
  logger_.warn("redis_connection_dropped", {{"address", addressText()},
                                            {"reason", reason},
                                            {"retry_in_ms", backoff_.count()}});
  redisAsyncFree(context_);  // fails pending commands, then cleanup() resets our state
}

void AsyncRedis::scheduleReconnect() {
  next_connect_ = clock_.monotonicNow() + backoff_;
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
}

int AsyncRedis::pollTimeoutMs() const {
  const auto now = clock_.monotonicNow();
  auto wake_at = now + kMaxPollWait;
  if (!deadlines_.empty()) wake_at = std::min(wake_at, deadlines_.top().first);
  if (context_ == nullptr) {
    wake_at = std::min(wake_at, next_connect_);
  } else if (!ready_.load()) {
    wake_at = std::min(wake_at, connect_started_ + stall_limit_);
  } else if (awaiting_replies_ > 0) {
    wake_at = std::min(wake_at, waiting_since_ + stall_limit_);
  }
  if (wake_at <= now) return 0;
  // Rounded up, so the loop does not wake just before a deadline and spin.
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake_at - now);
  return static_cast<int>(wait.count());
}

void AsyncRedis::handleSocketEvents(std::uint32_t events) {
  redisAsyncContext* context = context_;
  if (context == nullptr) return;
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) redisAsyncHandleRead(context);
  // The read may have closed and freed the context.
  if (context_ != context) return;
  if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) redisAsyncHandleWrite(context);
}

std::string AsyncRedis::addressText() const {
  return address_.host + ":" + std::to_string(address_.port);
}

// hiredis callbacks. They run on the client thread, inside
// redisAsyncHandleRead/Write or redisAsyncFree.

void AsyncRedis::onReply(redisAsyncContext* context, void* reply, void* privdata) {
  clientOf(context)->completeReply(reinterpret_cast<std::uintptr_t>(privdata),
                                   static_cast<redisReply*>(reply));
}

void AsyncRedis::onConnect(const redisAsyncContext* context, int status) {
  AsyncRedis* self = clientOf(context);
  if (status != REDIS_OK) {
    self->logger_.warn("redis_connect_failed", {{"address", self->addressText()},
                                                {"error", context->errstr},
                                                {"retry_in_ms", self->backoff_.count()}});
    return;  // hiredis frees the context next, which calls cleanup()
  }
  auto* writable = const_cast<redisAsyncContext*>(context);
  redisAsyncCommand(writable, &AsyncRedis::onSelectReply, nullptr, "SELECT %d",
                    self->address_.database);
}

void AsyncRedis::onSelectReply(redisAsyncContext* context, void* reply, void*) {
  AsyncRedis* self = clientOf(context);
  if (reply == nullptr) return;  // the connection closed before the SELECT reply arrived
  const auto* select = static_cast<redisReply*>(reply);
  if (select->type == REDIS_REPLY_ERROR) {
    self->logger_.error("redis_select_failed", {{"address", self->addressText()},
                                                {"database", self->address_.database},
                                                {"error", std::string(select->str, select->len)}});
    redisAsyncDisconnect(context);
    return;
  }
  self->ready_.store(true);
  self->backoff_ = kFirstBackoff;
  self->logger_.info("redis_connected",
                     {{"address", self->addressText()}, {"database", self->address_.database}});
}

void AsyncRedis::onDisconnect(const redisAsyncContext* context, int status) {
  AsyncRedis* self = clientOf(context);
  // A disconnect we asked for was logged where it was decided.
  if (status == REDIS_OK) return;
  self->logger_.warn("redis_disconnected", {{"address", self->addressText()},
                                            {"error", context->errstr},
                                            {"retry_in_ms", self->backoff_.count()}});
}

void AsyncRedis::addRead(void* privdata) {
  auto* self = static_cast<AsyncRedis*>(privdata);
  self->reading_ = true;
  self->updateInterest();
}

void AsyncRedis::delRead(void* privdata) {
  auto* self = static_cast<AsyncRedis*>(privdata);
  self->reading_ = false;
  self->updateInterest();
}

void AsyncRedis::addWrite(void* privdata) {
  auto* self = static_cast<AsyncRedis*>(privdata);
  self->writing_ = true;
  self->updateInterest();
}

void AsyncRedis::delWrite(void* privdata) {
  auto* self = static_cast<AsyncRedis*>(privdata);
  self->writing_ = false;
  self->updateInterest();
}

void AsyncRedis::cleanup(void* privdata) {
  auto* self = static_cast<AsyncRedis*>(privdata);
  if (self->registered_) epoll_ctl(self->epoll_fd_, EPOLL_CTL_DEL, self->socket_fd_, nullptr);
  self->registered_ = false;
  self->reading_ = false;
  self->writing_ = false;
  self->socket_fd_ = -1;
  self->context_ = nullptr;
  self->ready_.store(false);
  if (!self->stopping_.load()) self->scheduleReconnect();
}

void AsyncRedis::updateInterest() {
  if (socket_fd_ < 0) return;
  epoll_event event{};
  event.events = (reading_ ? EPOLLIN : 0u) | (writing_ ? EPOLLOUT : 0u);
  event.data.u64 = kSocketTag;
  epoll_ctl(epoll_fd_, registered_ ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, socket_fd_, &event);
  registered_ = true;
}

}  // namespace fdgw::redis
