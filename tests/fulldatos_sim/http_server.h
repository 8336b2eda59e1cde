// The Pistache endpoint that serves the FullDatos paths and /__sim/.
#pragma once

#include <memory>
#include <string>

#include <pistache/endpoint.h>

#include "server_state.h"

namespace fdsim {

class SimServer {
 public:
  SimServer(std::shared_ptr<ServerState> state, const std::string& host, int port, int threads);

  // Binds and serves on background threads. Throws on bind failure.
  void start();
  // Discards pending delayed responses and stops serving.
  void stop();

 private:
  std::shared_ptr<ServerState> state_;
  Pistache::Http::Endpoint endpoint_;
  int threads_;
};

}  // namespace fdsim
