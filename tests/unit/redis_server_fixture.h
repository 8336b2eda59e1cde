#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace fdgw::test {

// A redis-server child process on a loopback port with an append-only file
// (fsync every second) in a temporary folder, as the gateway's Redis should
// run. The test that starts it ends it by its pid, and kill() removes the
// folder.
class RedisServer {
 public:
  RedisServer() = default;
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  ~RedisServer() { kill(); }

  // Starts the server on `port`, or on a free port when 0, and waits until it
  // accepts connections. Returns false when it did not within 5 s.
  bool start(int port = 0) {
    port_ = port != 0 ? port : freePort();
    const std::string port_text = std::to_string(port_);
    char folder[] = "/tmp/fdgw-redis-XXXXXX";
    if (mkdtemp(folder) == nullptr) return false;
    data_dir_ = folder;
    pid_ = fork();
    if (pid_ == 0) {
      // The server's start-up banner and warnings would bury the test output.
      const int null_fd = open("/dev/null", O_WRONLY);
      dup2(null_fd, STDOUT_FILENO);
      dup2(null_fd, STDERR_FILENO);
      execl("/usr/bin/redis-server", "redis-server", "--port", port_text.c_str(), "--bind",
            "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--dir",
            data_dir_.c_str(), "--loglevel", "warning", static_cast<char*>(nullptr));
      _exit(127);
    }
    if (pid_ < 0) return false;
    return waitUntilAccepting(std::chrono::seconds(5));
  }

  void pause() const { ::kill(pid_, SIGSTOP); }
  void resume() const { ::kill(pid_, SIGCONT); }

  // Kills the server (SIGKILL) and reaps it. Safe to call twice.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    std::error_code ignored;
    std::filesystem::remove_all(data_dir_, ignored);
  }

  int port() const { return port_; }
  std::string url(int database = 0) const {
    return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(database);
  }

 private:
  static int freePort() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    close(fd);
    return ntohs(address.sin_port);
  }

  // Polls with TCP connects: the server is a separate process, so there is
  // no clock to fake here.
  bool waitUntilAccepting(std::chrono::milliseconds limit) const {
    const auto give_up = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < give_up) {
      const int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      address.sin_port = htons(static_cast<std::uint16_t>(port_));
      const bool accepted = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
      close(fd);
      if (accepted) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  pid_t pid_ = -1;
  int port_ = 0;
  std::string data_dir_;
};

// Polls `condition` every 10 ms until it is true or `limit` passes, for state
// that changes on another thread or process in real time.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Returns the value of `future`, or a default value and a test failure when
// it is not ready within 5 s.
template <typename Value>
Value waitFor(std::future<Value>& future) {
  if (future.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    ADD_FAILURE() << "no result within 5 s";
    return Value{};
  }
  return future.get();
}

// Calls `operation` with a callback and waits for the value it delivers, as
// waitFor does.
template <typename Value, typename Operation>
Value await(Operation operation) {
  auto promise = std::make_shared<std::promise<Value>>();
  auto future = promise->get_future();
  operation([promise](Value value) { promise->set_value(std::move(value)); });
  return waitFor(future);
}

}  // namespace fdgw::test
