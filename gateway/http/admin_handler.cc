#include "gateway/http/admin_handler.h"

#include <nlohmann/json.hpp>

#include "gateway/http/public_handler.h"

namespace fdgw::http {

AdminHandler::AdminHandler(std::function<std::string()> readiness,
                           std::function<std::string()> render_metrics)
    : readiness_(std::move(readiness)), render_metrics_(std::move(render_metrics)) {}

void AdminHandler::onRequest(const Pistache::Http::Request& request,
                             Pistache::Http::ResponseWriter writer) {
  proxy::OutgoingResponse response;
  const std::string& path = request.resource();
  if (request.method() != Pistache::Http::Method::Get) {
    response.status = 405;
    response.body = R"({"success":false,"message":"Only GET is supported.","code":"method_not_allowed"})";
  } else if (path == "/healthz") {
    response.body = R"({"success":true,"data":{"status":"ok"}})";
  } else if (path == "/metrics") {
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = render_metrics_();
  } else if (path == "/readyz") {
    const std::string problem = readiness_();
    nlohmann::json body = {{"success", problem.empty()},
                           {"data", {{"status", problem.empty() ? "ready" : "not_ready"}}}};
    if (!problem.empty()) body["data"]["reason"] = problem;
    response.status = problem.empty() ? 200 : 503;
    response.body = body.dump();
  } else {
    response.status = 404;
    response.body = R"({"success":false,"message":"Resource not found.","code":"not_found"})";
  }
  sendResponse(writer, response, wantsKeepAlive(request));
}

}  // namespace fdgw::http
