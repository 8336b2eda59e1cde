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
  void onTimeout(const Pistache::Http::Request& request,
                 Pistache::Http::ResponseWriter writer) override;

 private:
  proxy::RequestPipeline* pipeline_;
  log::Logger* logger_;
};

// Sends `response` through `writer`, ignoring a client that has already
// gone away. Safe to call from any thread.
void sendResponse(Pistache::Http::ResponseWriter& writer, const proxy::OutgoingResponse& response);

}  // namespace fdgw::http
