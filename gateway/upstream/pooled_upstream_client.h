#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "gateway/upstream/curl_upstream_client.h"

namespace fdgw::upstream {

// Spreads requests round-robin over several CurlUpstreamClient event loops,
// one thread each. Every loop keeps its own connection cache, so the
// per-transfer cost of libcurl's cache search stays bounded by the
// connections of one loop, and upstream work can use more than one core.
class PooledUpstreamClient final : public UpstreamClient {
 public:
  PooledUpstreamClient(log::Logger& logger, int loops, CurlClientOptions options = {}) {
    for (int i = 0; i < std::max(loops, 1); ++i) {
      loops_.push_back(std::make_unique<CurlUpstreamClient>(logger, options));
    }
  }

  void send(UpstreamRequest request, UpstreamCompletion done) override {
    const auto index = next_.fetch_add(1, std::memory_order_relaxed) % loops_.size();
    loops_[index]->send(std::move(request), std::move(done));
  }

  // Stops every loop; see CurlUpstreamClient::stop.
  void stop() {
    for (auto& loop : loops_) loop->stop();
  }

 private:
  std::vector<std::unique_ptr<CurlUpstreamClient>> loops_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace fdgw::upstream
