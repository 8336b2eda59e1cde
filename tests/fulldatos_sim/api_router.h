// Matching of request paths against the FullDatos path templates.
#pragma once

#include <string>
#include <vector>

#include "api_types.h"

namespace fdsim {

struct Simulator;

using HandlerFunction = ApiResponse (*)(Simulator&, const ApiRequest&, const PathParams&);

struct Route {
  std::string method;
  std::string path_template;  // such as "/orders/{order_id}"
  HandlerFunction handler;
  std::string key;  // "GET /orders/{order_id}", the key of per-route counters
  std::vector<std::string> segments;  // path_template split at '/'
};

struct RouteMatch {
  enum class Kind { kFound, kPathNotFound, kMethodNotAllowed };

  Kind kind = Kind::kPathNotFound;
  const Route* route = nullptr;
  PathParams params;
  std::vector<std::string> allowed_methods;  // set for kMethodNotAllowed
};

// The 29 FullDatos routes. Literal segments win over "{name}" segments, so
// /tickets/categories never reaches /tickets/{ticket_id}.
class ApiRouter {
 public:
  ApiRouter();

  // Matches `path` with at most one trailing slash removed.
  RouteMatch match(const std::string& method, const std::string& path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace fdsim
