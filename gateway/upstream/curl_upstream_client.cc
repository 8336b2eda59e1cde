#include "gateway/upstream/curl_upstream_client.h"

#include <algorithm>
#include <cctype>

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
    : logger_(logger), options_(options), multi_(curl_multi_init()) {
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, options_.max_cached_connections);
  thread_ = std::thread([this] { run(); });
}

CurlUpstreamClient::~CurlUpstreamClient() {
  stop();
  curl_multi_cleanup(multi_);
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
  curl_multi_wakeup(multi_);
}

void CurlUpstreamClient::stop() {
  if (stopping_.exchange(true)) {
    if (thread_.joinable()) thread_.join();
    return;
  }
  curl_multi_wakeup(multi_);
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

    CURL* easy = curl_easy_init();
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

void CurlUpstreamClient::complete(std::unique_ptr<Transfer> transfer) {
  transfer->response.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - transfer->started);
  try {
    transfer->done(std::move(transfer->response));
  } catch (const std::exception& error) {
    logger_.error("upstream_completion_failed", {{"error", error.what()}});
  }
}

void CurlUpstreamClient::run() {
  while (!stopping_.load()) {
    startPending();
    int running = 0;
    curl_multi_perform(multi_, &running);
    collectFinished();
    curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
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
