#pragma once

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "gateway/log/logger.h"
#include "gateway/upstream/upstream_client.h"

namespace fdgw::upstream {

struct CurlClientOptions {
  std::size_t max_response_bytes = 64 * 1024 * 1024;
  long max_cached_connections = 1024;
};

// An UpstreamClient over one libcurl multi handle driven by a dedicated
// thread with epoll (curl_multi_socket_action), so the cost of each event
// does not grow with the number of transfers in flight. Connections are
// kept alive and reused across requests and tenants. Requires
// curl_global_init to have run.
class CurlUpstreamClient final : public UpstreamClient {
 public:
  CurlUpstreamClient(log::Logger& logger, CurlClientOptions options = {});
  ~CurlUpstreamClient() override;

  CurlUpstreamClient(const CurlUpstreamClient&) = delete;
  CurlUpstreamClient& operator=(const CurlUpstreamClient&) = delete;

  void send(UpstreamRequest request, UpstreamCompletion done) override;

  // Completes every transfer still in flight with kShuttingDown and joins
  // the thread. Later sends complete at once with kShuttingDown.
  void stop();

 private:
  struct Transfer;

  void run();
  void startPending();
  void collectFinished();
  void drainWakeups();

  static int onSocket(CURL* easy, curl_socket_t socket, int what, void* context, void* socket_data);
  static int onTimer(CURLM* multi, long timeout_ms, void* context);
  void complete(std::unique_ptr<Transfer> transfer);

  static std::size_t onBody(char* data, std::size_t size, std::size_t count, void* context);
  static std::size_t onHeader(char* data, std::size_t size, std::size_t count, void* context);

  // Returns an easy handle from idle_handles_, or a new one.
  CURL* takeHandle();
  // Resets the finished transfer's easy handle and keeps it for reuse, or
  // frees it when idle_handles_ is full or the client is stopping.
  void releaseHandle(Transfer& transfer);

  log::Logger& logger_;
  CurlClientOptions options_;
  CURLM* multi_;
  int epoll_fd_;
  int wakeup_fd_;  // eventfd written by send() and stop()
  // When libcurl next wants CURL_SOCKET_TIMEOUT; unset means never.
  std::optional<std::chrono::steady_clock::time_point> timer_deadline_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Transfer>> pending_;  // guarded by mutex_
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> active_;  // client thread only
  // Easy handles of finished transfers, reset. Reusing one saves the
  // allocations of curl_easy_init and curl_easy_cleanup on every request.
  // Client thread only, and freed by the destructor.
  std::vector<CURL*> idle_handles_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace fdgw::upstream
