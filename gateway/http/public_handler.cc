#include "gateway/http/public_handler.h"

#include "gateway/common/request_id.h"
#include "gateway/common/text.h"
#include "gateway/http/named_header.h"
#include "gateway/proxy/response_mapping.h"

namespace fdgw::http {

using Pistache::Http::Code;
using Pistache::Http::ResponseWriter;

namespace {

proxy::IncomingRequest toIncoming(const Pistache::Http::Request& request) {
  proxy::IncomingRequest incoming;
  incoming.method = Pistache::Http::methodString(request.method());
  incoming.raw_path = request.resource();
  const auto& query = request.query();
  for (auto it = query.parameters_begin(); it != query.parameters_end(); ++it) {
    incoming.query.emplace_back(it->first, it->second);
  }
  // NOTE: Pistache 0.0.5 keeps only the first line of a repeated header
  // (its raw header map ignores later inserts), so a request that repeats
  // x-api-key arrives here with its first value only. Comma-joined values
  // still reach the pipeline and are rejected there.
  for (const auto& [name, raw] : request.headers().rawList()) {
    incoming.headers.emplace_back(common::toLower(name), raw.value());
  }
  incoming.body = request.body();
  incoming.client_address = request.address().host();
  return incoming;
}

}  // namespace

bool wantsKeepAlive(const Pistache::Http::Request& request) {
  const auto connection = request.headers().tryGet<Pistache::Http::Header::Connection>();
  if (request.version() == Pistache::Http::Version::Http11) {
    return !connection || connection->control() != Pistache::Http::ConnectionControl::Close;
  }
  return connection && connection->control() == Pistache::Http::ConnectionControl::KeepAlive;
}

void sendResponse(ResponseWriter& writer, const proxy::OutgoingResponse& response,
                  bool keep_alive) {
  // Pistache 0.0.5 replies "Connection: Close" to any request without a
  // Connection header, even HTTP/1.1 ones, which would make clients reconnect
  // for every request.
  writer.headers().remove<Pistache::Http::Header::Connection>();
  writer.headers().add<Pistache::Http::Header::Connection>(
      keep_alive ? Pistache::Http::ConnectionControl::KeepAlive
                 : Pistache::Http::ConnectionControl::Close);
  for (const auto& [name, value] : response.headers) {
    writer.headers().add(std::make_shared<NamedHeader>(name, value));
  }
  writer.headers().add(std::make_shared<NamedHeader>("Content-Type", response.content_type));
  writer.send(static_cast<Code>(response.status), response.body)
      .then([](ssize_t) {}, Pistache::Async::IgnoreException);
}

PublicHandler::PublicHandler(proxy::RequestPipeline& pipeline, log::Logger& logger)
    : pipeline_(&pipeline), logger_(&logger) {}

void PublicHandler::onRequest(const Pistache::Http::Request& request, ResponseWriter writer) {
  auto shared_writer = std::make_shared<ResponseWriter>(std::move(writer));
  const bool keep_alive = wantsKeepAlive(request);
  try {
    pipeline_->handle(toIncoming(request),
                      [shared_writer, keep_alive](proxy::OutgoingResponse response) {
                        sendResponse(*shared_writer, response, keep_alive);
                      });
  } catch (const std::exception& error) {
    // Nothing on the request path is meant to throw. This boundary keeps a
    // bug from reaching Pistache and returns a 500 in the envelope instead.
    const std::string request_id = common::newRequestId();
    logger_->error("request_exception", {{"request_id", request_id}, {"error", error.what()}});
    auto response = proxy::errorResponse({common::ErrorCode::kInternal, "", error.what()},
                                         request_id, common::Language::kEnglish);
    response.headers.emplace_back("X-Request-Id", request_id);
    sendResponse(*shared_writer, response, keep_alive);
  }
}

}  // namespace fdgw::http
