#pragma once

#include <pistache/http.h>

#include <memory>

#include "gateway/log/logger.h"
#include "gateway/proxy/request_pipeline.h"

namespace fdgw::http {

// Adapts Pistache requests on the public listener to the request pipeline.
// Pistache clones the handler once per server thread; all clones share the
// pipeline.
class PublicHandler final : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(PublicHandler)

  PublicHandler(proxy::RequestPipeline& pipeline, log::Logger& logger);

  void onRequest(const Pistache::Http::Request& request,
                 Pistache::Http::ResponseWriter writer) override;

 private:
  // Gives each connection a CredentialParser in place of Pistache's parser.
  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;

 public:

 private:
  proxy::RequestPipeline* pipeline_;
  log::Logger* logger_;
};

// Sends `response` through `writer`, ignoring a client that has already
// gone away. `keep_alive` sets the Connection header. Safe to call from any
// thread.
void sendResponse(Pistache::Http::ResponseWriter& writer, const proxy::OutgoingResponse& response,
                  bool keep_alive = true);

// True when the client may send another request on this connection: HTTP/1.1
// unless it sent "Connection: close", HTTP/1.0 only with "keep-alive".
bool wantsKeepAlive(const Pistache::Http::Request& request);

}  // namespace fdgw::http
