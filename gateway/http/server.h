#pragma once

#include <pistache/endpoint.h>

#include <functional>
#include <memory>
#include <string>

#include "gateway/config/gateway_config.h"
#include "gateway/log/logger.h"
#include "gateway/proxy/request_pipeline.h"

namespace fdgw::http {

// The public and admin listeners. start() binds both and serves on
// Pistache's own threads; stop() closes them.
class Server {
 public:
  Server(const config::GatewayConfig& config, proxy::RequestPipeline& pipeline,
         log::Logger& logger, std::function<std::string()> readiness,
         std::function<std::string()> render_metrics,
         std::chrono::milliseconds longest_upstream_timeout);
  ~Server();

  // Binds and starts serving. Throws std::runtime_error when a listener
  // cannot bind.
  void start();
  void stop();

  std::uint16_t publicPort() const;
  std::uint16_t adminPort() const;

 private:
  const config::GatewayConfig& config_;
  proxy::RequestPipeline& pipeline_;
  log::Logger& logger_;
  std::function<std::string()> readiness_;
  std::function<std::string()> render_metrics_;
  std::chrono::milliseconds longest_upstream_timeout_;
  std::unique_ptr<Pistache::Http::Endpoint> public_;
  std::unique_ptr<Pistache::Http::Endpoint> admin_;
};

}  // namespace fdgw::http
