#include "gateway/http/server.h"

#include "gateway/common/listen_backlog.h"
#include "gateway/http/admin_handler.h"
#include "gateway/http/public_handler.h"

namespace fdgw::http {
namespace {

// Room for the request line and headers on top of the body limit.
constexpr std::size_t kHeaderAllowanceBytes = 32 * 1024;
constexpr std::size_t kMaxResponseBytes = 128 * 1024 * 1024;

Pistache::Address toAddress(const config::ListenAddress& listen) {
  return Pistache::Address(listen.host, Pistache::Port(listen.port));
}

}  // namespace

Server::Server(const config::GatewayConfig& config, proxy::RequestPipeline& pipeline,
               log::Logger& logger, std::function<std::string()> readiness,
               std::function<std::string()> render_metrics,
               std::chrono::milliseconds longest_upstream_timeout)
    : config_(config),
      pipeline_(pipeline),
      logger_(logger),
      readiness_(std::move(readiness)),
      render_metrics_(std::move(render_metrics)),
      longest_upstream_timeout_(longest_upstream_timeout) {}

Server::~Server() { stop(); }

void Server::start() {
  const auto& limits = config_.http;

  // NOTE: Pistache 0.0.5 measures the header timeout from the start of a
  // request until its response is sent, and closes the connection with a
  // plain 408 when it expires. A request waiting on a slow upstream would
  // be cut off, so the effective header timeout is never shorter than the
  // longest upstream timeout plus five seconds.
  const auto header_timeout =
      std::max(limits.header_timeout, longest_upstream_timeout_ + std::chrono::seconds(5));
  const auto body_timeout = std::max(limits.body_timeout, header_timeout);

  public_ = std::make_unique<Pistache::Http::Endpoint>(toAddress(config_.listen));
  auto options = Pistache::Http::Endpoint::options()
                     .threads(config_.threads)
                     .flags(Pistache::Tcp::Options::ReuseAddr | Pistache::Tcp::Options::NoDelay)
                     .backlog(limits.backlog)
                     .maxRequestSize(limits.max_body_bytes + kHeaderAllowanceBytes)
                     .maxResponseSize(kMaxResponseBytes)
                     .headerTimeout(header_timeout)
                     .bodyTimeout(body_timeout)
                     .keepaliveTimeout(limits.keepalive_timeout);
  public_->init(options);
  public_->setHandler(std::make_shared<PublicHandler>(pipeline_, logger_));
  public_->serveThreaded();
  if (!common::raiseListenBacklog(publicPort(), limits.backlog)) {
    logger_.warn("listen_backlog_unchanged",
                 {{"port", publicPort()}, {"backlog", limits.backlog},
                  {"detail", "the accept queue stays at Pistache's 128 connections"}});
  }

  admin_ = std::make_unique<Pistache::Http::Endpoint>(toAddress(config_.admin_listen));
  admin_->init(Pistache::Http::Endpoint::options()
                   .threads(1)
                   .flags(Pistache::Tcp::Options::ReuseAddr)
                   .maxRequestSize(16 * 1024)
                   .maxResponseSize(kMaxResponseBytes));
  admin_->setHandler(std::make_shared<AdminHandler>(readiness_, render_metrics_));
  admin_->serveThreaded();
}

void Server::stop() {
  if (public_) public_->shutdown();
  if (admin_) admin_->shutdown();
  public_.reset();
  admin_.reset();
}

std::uint16_t Server::publicPort() const { return public_ ? static_cast<std::uint16_t>(public_->getPort()) : 0; }
std::uint16_t Server::adminPort() const { return admin_ ? static_cast<std::uint16_t>(admin_->getPort()) : 0; }

}  // namespace fdgw::http
