#include "http_server.h"

#include <sys/socket.h>

#include <pistache/http.h>
#include <pistache/peer.h>

#include "gateway/common/listen_backlog.h"
#include "json_log.h"
#include "simulator.h"

namespace fdsim {

namespace {

using namespace Pistache;

constexpr std::size_t kMaxRequestBytes = 1024 * 1024;
constexpr int kListenBacklog = 4096;

// A response waiting on the timer thread for its injected latency.
struct PendingReply {
  PendingReply(Http::ResponseWriter writer_in, ApiResponse response_in)
      : writer(std::move(writer_in)), response(std::move(response_in)) {}

  Http::ResponseWriter writer;
  ApiResponse response;
};

// A response header with a run-time name. Pistache 0.0.5 writes only typed
// headers into responses and ignores raw ones, so Retry-After, Allow and
// Content-Disposition go through this class.
class NamedHeader final : public Http::Header::Header {
 public:
  NamedHeader(std::string name, std::string value) : name_(std::move(name)), value_(std::move(value)) {}

  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& stream) const override { stream << value_; }
  std::uint64_t hash() const override { return Http::Header::detail::hash(name_.c_str()); }

 private:
  std::string name_;
  std::string value_;
};

ApiRequest copyRequest(const Http::Request& request) {
  ApiRequest copy;
  copy.method = Http::methodString(request.method());
  copy.path = request.resource();
  const auto& query = request.query();
  for (auto it = query.parameters_begin(); it != query.parameters_end(); ++it) {
    copy.query.emplace(it->first, percentDecode(it->second));
  }
  if (const auto key = request.headers().tryGetRaw("x-api-key")) copy.api_key = key->value();
  if (const auto secret = request.headers().tryGetRaw("x-api-secret")) copy.api_secret = secret->value();
  copy.body = request.body();
  return copy;
}

// True when the client asked to close the connection after this response.
bool wantsClose(const Http::Request& request) {
  const auto connection = request.headers().tryGet<Http::Header::Connection>();
  if (connection) return connection->control() == Http::ConnectionControl::Close;
  return request.version() == Http::Version::Http10;
}

// Queues `response` on the connection. With `close_after`, the sending side
// of the socket is shut down once the response is written, because
// Pistache 0.0.5 keeps the connection open even after "Connection: close".
void sendResponse(Http::ResponseWriter& writer, const ApiResponse& response, bool close_after) {
  try {
    for (const auto& [name, value] : response.headers) writer.headers().add(std::make_shared<NamedHeader>(name, value));
    std::weak_ptr<Tcp::Peer> peer = writer.getPeer();
    writer
        .send(static_cast<Http::Code>(response.status), response.body,
              Http::Mime::MediaType::fromString(response.content_type))
        .then(
            [peer, close_after](ssize_t) {
              // NOTE: for a delayed response this can run on the timer thread;
              // the weak pointer skips peers that Pistache already removed.
              if (const auto locked = peer.lock(); locked && close_after) ::shutdown(locked->fd(), SHUT_WR);
            },
            Async::IgnoreException);
  } catch (const std::exception& error) {
    // The client disconnected before the response could be queued.
    logEvent("warn", "send_failed", Json{{"status", response.status}, {"error", error.what()}});
  }
}

// Logs one access line when --access-log is set. Status 0 is a dropped
// connection, -1 a client that left before its delayed response.
void logAccess(const ServerState& state, const ApiRequest& request, int status) {
  if (!state.access_log) return;
  logEvent("info", "request",
           Json{{"method", request.method},
                {"path", request.path},
                {"status", status},
                {"api_key_prefix", request.api_key.substr(0, 6)}});
}

class RequestHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(RequestHandler)

  explicit RequestHandler(std::shared_ptr<ServerState> state) : state_(std::move(state)) {}

  void onRequest(const Http::Request& request, Http::ResponseWriter writer) override;

  void onDisconnection(const std::shared_ptr<Tcp::Peer>& peer) override {
    state_->connections.markDisconnected(peer->getID());
    Http::Handler::onDisconnection(peer);
  }

 private:
  // Runs authentication, rate limiting, fault injection and the route
  // handler. Sets `drop` when the connection must be closed instead.
  ApiResponse answer(const ApiRequest& request, bool& drop);

  std::shared_ptr<ServerState> state_;
};

ApiResponse RequestHandler::answer(const ApiRequest& request, bool& drop) {
  ServerState& state = *state_;
  const RouteMatch match = state.router.match(request.method, request.path);
  state.stats.countRequest(match.route != nullptr ? match.route->key : "");

  if (match.kind == RouteMatch::Kind::kPathNotFound) return errorResponse(404, "Path " + request.path + " not found");
  if (match.kind == RouteMatch::Kind::kMethodNotAllowed) {
    std::string allowed;
    for (const std::string& method : match.allowed_methods) allowed += (allowed.empty() ? "" : ", ") + method;
    ApiResponse response =
        errorResponse(405, "Method " + request.method + " is not allowed on " + request.path + "; allowed: " + allowed);
    response.headers.emplace_back("Allow", allowed);
    return response;
  }

  if (!state.isAuthorized(request.api_key, request.api_secret)) {
    return errorResponse(401, "Invalid or missing API credentials: send x-api-key and x-api-secret");
  }

  const RateDecision decision = state.rate_limiter.admit(request.api_key);
  if (!decision.allowed) {
    state.stats.countRateLimited();
    ApiResponse response = errorResponse(429, "Rate limit exceeded: retry after " +
                                                  std::to_string(decision.retry_after_seconds) + " seconds");
    response.headers.emplace_back("Retry-After", std::to_string(decision.retry_after_seconds));
    return response;
  }

  // Faulted requests change no state.
  switch (state.faults.draw()) {
    case FaultOutcome::kDrop:
      state.stats.countDropped();
      drop = true;
      return {};
    case FaultOutcome::kError: {
      state.stats.countErrorInjected();
      const int status = state.faults.drawErrorStatus();
      return errorResponse(status, status == 503 ? "Service temporarily unavailable (simulated fault)"
                                                 : "Upstream provider error (simulated fault)");
    }
    case FaultOutcome::kNone:
      break;
  }

  try {
    return match.route->handler(state.simulator, request, match.params);
  } catch (const std::exception& error) {
    logEvent("error", "handler_failed", Json{{"route", match.route->key}, {"error", error.what()}});
    return errorResponse(500, "Internal simulator error");
  }
}

void RequestHandler::onRequest(const Http::Request& request, Http::ResponseWriter writer) {
  const auto received_at = DelayedSender::SteadyClock::now();
  const ApiRequest api_request = copyRequest(request);
  const bool close_after = wantsClose(request);

  // Pistache 0.0.5 sends "Connection: Close" when an HTTP/1.1 request has
  // no Connection header, although HTTP/1.1 connections persist by default.
  if (request.version() == Http::Version::Http11 && !request.headers().has<Http::Header::Connection>()) {
    writer.headers().remove<Http::Header::Connection>();
    writer.headers().add<Http::Header::Connection>(Http::ConnectionControl::KeepAlive);
  }

  if (api_request.path.rfind("/__sim/", 0) == 0) {
    const ApiResponse response = handleControlRequest(*state_, api_request);
    logAccess(*state_, api_request, response.status);
    sendResponse(writer, response, close_after);
    return;
  }

  bool drop = false;
  ApiResponse response = answer(api_request, drop);
  if (drop) {
    // Closed here on the server thread that owns the connection, so the
    // descriptor cannot belong to another connection yet. A dropped request
    // is closed at once, without the injected latency.
    logAccess(*state_, api_request, 0);
    if (const auto peer = writer.getPeer()) ::shutdown(peer->fd(), SHUT_RDWR);
    return;
  }

  const int latency_ms = state_->faults.settings().latency_ms;
  const auto peer = writer.getPeer();
  if (latency_ms == 0 || peer == nullptr) {
    logAccess(*state_, api_request, response.status);
    sendResponse(writer, response, close_after);
    return;
  }

  // Hand the writer to the timer thread so this server thread is free at once.
  const std::size_t peer_id = peer->getID();
  state_->connections.addPending(peer_id);
  auto pending = std::make_shared<PendingReply>(std::move(writer), std::move(response));
  auto state = state_;
  const auto deadline = received_at + std::chrono::milliseconds(latency_ms);
  state_->sender.schedule(deadline, [state, pending, peer_id, api_request, close_after] {
    const bool sent = state->connections.finishPending(
        peer_id, [&] { sendResponse(pending->writer, pending->response, close_after); });
    logAccess(*state, api_request, sent ? pending->response.status : -1);
  });
}

}  // namespace

bool ServerState::isAuthorized(const std::string& key, const std::string& secret) const {
  for (const Credential& credential : credentials) {
    if (credential.key == key) return credential.secret == secret;
  }
  return false;
}

SimServer::SimServer(std::shared_ptr<ServerState> state, const std::string& host, int port, int threads)
    : state_(std::move(state)), endpoint_(Address(host, Port(static_cast<std::uint16_t>(port)))), threads_(threads) {}

void SimServer::start() {
  auto options = Http::Endpoint::options()
                     .threads(threads_)
                     .maxRequestSize(kMaxRequestBytes)
                     .backlog(kListenBacklog)
                     .flags(Tcp::Options::ReuseAddr);
  endpoint_.init(options);
  endpoint_.setHandler(Http::make_handler<RequestHandler>(state_));
  endpoint_.serveThreaded();
  // Pistache 0.0.5 ignores Options::backlog; see raiseListenBacklog.
  if (!fdgw::common::raiseListenBacklog(static_cast<std::uint16_t>(endpoint_.getPort()),
                                        kListenBacklog)) {
    logEvent("warn", "listen_backlog_unchanged", {{"backlog", kListenBacklog}});
  }
}

void SimServer::stop() {
  state_->sender.stop();
  endpoint_.shutdown();
}

}  // namespace fdsim
