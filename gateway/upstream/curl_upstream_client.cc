#include "gateway/upstream/curl_upstream_client.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace fdgw::upstream {

struct CurlUpstreamClient::Transfer {
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  UpstreamRequest request;
  UpstreamCompletion done;
  UpstreamResponse response;
  std::size_t max_body = 0;
  bool body_too_large = false;
  std::chrono::steady_clock::time_point started;

  ~Transfer() {
    if (header_list) curl_slist_free_all(header_list);
    if (easy) curl_easy_cleanup(easy);
  }
};

namespace {

// Idle easy handles kept per client. Each keeps libcurl's per-handle state
// and buffers, so the cap bounds that memory once a burst of transfers ends.
constexpr std::size_t kMaxIdleHandles = 64;

TransportError classify(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: return TransportError::kTimeout;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
      return TransportError::kConnectFailed;
    default: return TransportError::kInvalidResponse;
  }
}

}  // namespace

CurlUpstreamClient::CurlUpstreamClient(log::Logger& logger, CurlClientOptions options)
    : logger_(logger),
      options_(options),
      multi_(curl_multi_init()),
      epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)),
      wakeup_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!multi_ || epoll_fd_ < 0 || wakeup_fd_ < 0) {
    throw std::runtime_error("cannot create the upstream client's event loop");
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = wakeup_fd_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wakeup_fd_, &event);

  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, options_.max_cached_connections);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlUpstreamClient::onSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlUpstreamClient::onTimer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  thread_ = std::thread([this] { run(); });
}

CurlUpstreamClient::~CurlUpstreamClient() {
  stop();
  for (CURL* easy : idle_handles_) curl_easy_cleanup(easy);
  curl_multi_cleanup(multi_);
  ::close(wakeup_fd_);
  ::close(epoll_fd_);
}

int CurlUpstreamClient::onSocket(CURL* /*easy*/, curl_socket_t socket, int what, void* context,
                                 void* socket_data) {
  auto* client = static_cast<CurlUpstreamClient*>(context);
  if (what == CURL_POLL_REMOVE) {
    ::epoll_ctl(client->epoll_fd_, EPOLL_CTL_DEL, socket, nullptr);
    curl_multi_assign(client->multi_, socket, nullptr);
    return 0;
  }
  epoll_event event{};
  event.data.fd = socket;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) event.events |= EPOLLIN;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) event.events |= EPOLLOUT;
  // socket_data marks a socket already registered with epoll.
  if (socket_data) {
    ::epoll_ctl(client->epoll_fd_, EPOLL_CTL_MOD, socket, &event);
  } else {
    ::epoll_ctl(client->epoll_fd_, EPOLL_CTL_ADD, socket, &event);
    curl_multi_assign(client->multi_, socket, client);
  }
  return 0;
}

int CurlUpstreamClient::onTimer(CURLM* /*multi*/, long timeout_ms, void* context) {
  auto* client = static_cast<CurlUpstreamClient*>(context);
  if (timeout_ms < 0) {
    client->timer_deadline_.reset();
  } else {
    client->timer_deadline_ =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  return 0;
}

void CurlUpstreamClient::drainWakeups() {
  std::uint64_t count = 0;
  while (::read(wakeup_fd_, &count, sizeof count) > 0) {
  }
}

void CurlUpstreamClient::send(UpstreamRequest request, UpstreamCompletion done) {
  if (stopping_.load()) {
    UpstreamResponse response;
    response.error = TransportError::kShuttingDown;
    response.error_detail = "the gateway is shutting down";
    done(std::move(response));
    return;
  }
  auto transfer = std::make_unique<Transfer>();
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  transfer->started = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(std::move(transfer));
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(wakeup_fd_, &one, sizeof one);
}

void CurlUpstreamClient::stop() {
  if (stopping_.exchange(true)) {
    if (thread_.joinable()) thread_.join();
    return;
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(wakeup_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();

  // A send that raced with the flag may have queued after the thread's
  // last look at the queue.
  std::vector<std::unique_ptr<Transfer>> late;
  {
    std::lock_guard lock(mutex_);
    late.swap(pending_);
  }
  for (auto& transfer : late) {
    transfer->response.error = TransportError::kShuttingDown;
    transfer->response.error_detail = "the gateway is shutting down";
    complete(std::move(transfer));
  }
}

std::size_t CurlUpstreamClient::onBody(char* data, std::size_t size, std::size_t count,
                                       void* context) {
  auto* transfer = static_cast<Transfer*>(context);
  const std::size_t bytes = size * count;
  if (transfer->response.body.size() + bytes > transfer->max_body) {
    transfer->body_too_large = true;
    return 0;  // makes libcurl abort the transfer with CURLE_WRITE_ERROR
  }
  transfer->response.body.append(data, bytes);
  return bytes;
}

std::size_t CurlUpstreamClient::onHeader(char* data, std::size_t size, std::size_t count,
                                         void* context) {
  auto* transfer = static_cast<Transfer*>(context);
  const std::size_t bytes = size * count;
  std::string_view line(data, bytes);
  if (line.rfind("HTTP/", 0) == 0) {
    transfer->response.headers.clear();  // a new response, after 1xx or a redirect
    return bytes;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return bytes;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  transfer->response.headers.emplace_back(std::move(name), std::string(value));
  return bytes;
}

void CurlUpstreamClient::startPending() {
  std::vector<std::unique_ptr<Transfer>> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(pending_);
  }
  for (auto& transfer : batch) {
    transfer->max_body = options_.max_response_bytes;
    const auto& request = transfer->request;
    const auto& target = *request.target;

    CURL* easy = takeHandle();
    transfer->easy = easy;
    const std::string url = target.base_url + request.path_and_query;
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");  // offer gzip and decode it
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(target.timeout.count()));
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(target.connect_timeout.count()));
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &CurlUpstreamClient::onBody);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &CurlUpstreamClient::onHeader);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, transfer.get());
    curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());

    if (request.method == "GET") {
      curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
    }

    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, ("x-api-key: " + target.api_key).c_str());
    headers = curl_slist_append(headers, ("x-api-secret: " + target.api_secret).c_str());
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    for (const auto& [name, value] : request.headers) {
      headers = curl_slist_append(headers, (name + ": " + value).c_str());
    }
    transfer->header_list = headers;
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);

    const CURLMcode added = curl_multi_add_handle(multi_, easy);
    if (added != CURLM_OK) {
      transfer->response.error = TransportError::kConnectFailed;
      transfer->response.error_detail = curl_multi_strerror(added);
      complete(std::move(transfer));
      continue;
    }
    active_.emplace(easy, std::move(transfer));
  }
}

void CurlUpstreamClient::collectFinished() {
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
    if (message->msg != CURLMSG_DONE) continue;
    CURL* easy = message->easy_handle;
    const CURLcode result = message->data.result;
    curl_multi_remove_handle(multi_, easy);
    auto found = active_.find(easy);
    if (found == active_.end()) continue;
    auto transfer = std::move(found->second);
    active_.erase(found);

    if (result == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      transfer->response.status = static_cast<int>(status);
    } else if (transfer->body_too_large) {
      transfer->response.error = TransportError::kInvalidResponse;
      transfer->response.error_detail = "response body larger than " +
                                        std::to_string(options_.max_response_bytes) + " bytes";
    } else {
      transfer->response.error = classify(result);
      transfer->response.error_detail = curl_easy_strerror(result);
    }
    complete(std::move(transfer));
  }
}

CURL* CurlUpstreamClient::takeHandle() {
  if (idle_handles_.empty()) return curl_easy_init();
  CURL* easy = idle_handles_.back();
  idle_handles_.pop_back();
  return easy;
}

void CurlUpstreamClient::releaseHandle(Transfer& transfer) {
  if (transfer.easy == nullptr || stopping_.load() || idle_handles_.size() >= kMaxIdleHandles) {
    return;  // the Transfer destructor frees the handle
  }
  curl_easy_reset(transfer.easy);
  idle_handles_.push_back(transfer.easy);
  transfer.easy = nullptr;
}

void CurlUpstreamClient::complete(std::unique_ptr<Transfer> transfer) {
  releaseHandle(*transfer);
  transfer->response.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - transfer->started);
  try {
    transfer->done(std::move(transfer->response));
  } catch (const std::exception& error) {
    logger_.error("upstream_completion_failed", {{"error", error.what()}});
  }
}

void CurlUpstreamClient::run() {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  int running = 0;
  while (!stopping_.load()) {
    int wait_ms = 1000;
    if (timer_deadline_) {
      const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
          *timer_deadline_ - std::chrono::steady_clock::now());
      wait_ms = static_cast<int>(std::clamp<long>(remaining.count(), 0, 1000));
    }
    const int ready = ::epoll_wait(epoll_fd_, events, kMaxEvents, wait_ms);
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wakeup_fd_) {
        drainWakeups();
        startPending();
        continue;
      }
      int flags = 0;
      if (events[i].events & EPOLLIN) flags |= CURL_CSELECT_IN;
      if (events[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
      if (events[i].events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
      curl_multi_socket_action(multi_, fd, flags, &running);
    }
    if (timer_deadline_ && std::chrono::steady_clock::now() >= *timer_deadline_) {
      timer_deadline_.reset();
      curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    collectFinished();
  }

  // Shutting down: fail everything still queued or in flight.
  startPending();
  for (auto& [easy, transfer] : active_) {
    curl_multi_remove_handle(multi_, easy);
    transfer->response = UpstreamResponse{};
    transfer->response.error = TransportError::kShuttingDown;
    transfer->response.error_detail = "the gateway is shutting down";
    complete(std::move(transfer));
  }
  active_.clear();
}

}  // namespace fdgw::upstream
