#include "gateway/http/public_handler.h"

#include "gateway/common/request_id.h"
#include "gateway/common/text.h"
#include <pistache/peer.h>

#include "gateway/http/credential_parser.h"
#include "gateway/http/named_header.h"
#include "gateway/proxy/response_mapping.h"

namespace fdgw::http {

using Pistache::Http::Code;
using Pistache::Http::ResponseWriter;

namespace {

// Credential lines as the client sent them, repeats included, when the
// connection's parser recorded them.
const HeaderLines* credentialLinesOf(Pistache::Http::ResponseWriter& writer) {
  try {
    auto parser = Pistache::Http::Handler::getParser(writer.peer());
    auto* capturing = dynamic_cast<CredentialParser*>(parser.get());
    return capturing ? &capturing->credentialLines() : nullptr;
  } catch (const std::runtime_error&) {
    return nullptr;  // the client is gone
  }
}

proxy::IncomingRequest toIncoming(const Pistache::Http::Request& request,
                                  const HeaderLines* credential_lines) {
  proxy::IncomingRequest incoming;
  incoming.method = Pistache::Http::methodString(request.method());
  incoming.raw_path = request.resource();
  const auto& query = request.query();
  for (auto it = query.parameters_begin(); it != query.parameters_end(); ++it) {
    incoming.query.emplace_back(it->first, it->second);
  }
  // Pistache 0.0.5 keeps only the first line of a repeated header, so the
  // credential headers come from the parser's own record of every line.
  // The pipeline rejects repeats.
  for (const auto& [name, raw] : request.headers().rawList()) {
    std::string lower = common::toLower(name);
    const bool credential = lower == "x-api-key" || lower == "x-api-secret";
    if (credential && credential_lines) continue;
    incoming.headers.emplace_back(std::move(lower), raw.value());
  }
  if (credential_lines) {
    for (const auto& line : *credential_lines) incoming.headers.push_back(line);
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

void PublicHandler::onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  peer->putData(ParserData, std::make_shared<CredentialParser>(getMaxRequestSize()));
}

void PublicHandler::onRequest(const Pistache::Http::Request& request, ResponseWriter writer) {
  const HeaderLines* credential_lines = credentialLinesOf(writer);
  auto incoming = toIncoming(request, credential_lines);
  auto shared_writer = std::make_shared<ResponseWriter>(std::move(writer));
  const bool keep_alive = wantsKeepAlive(request);
  try {
    pipeline_->handle(std::move(incoming),
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
