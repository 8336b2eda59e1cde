#pragma once

#include <pistache/http.h>

#include <functional>
#include <string>

namespace fdgw::http {

// Operator endpoints on the admin listener: /healthz (the process serves
// requests), /readyz (it is ready for tenant traffic) and /metrics
// (Prometheus text format).
class AdminHandler final : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(AdminHandler)

  // `readiness` returns an empty string when ready, or the reason it is not.
  AdminHandler(std::function<std::string()> readiness,
               std::function<std::string()> render_metrics);

  void onRequest(const Pistache::Http::Request& request,
                 Pistache::Http::ResponseWriter writer) override;

 private:
  std::function<std::string()> readiness_;
  std::function<std::string()> render_metrics_;
};

}  // namespace fdgw::http
