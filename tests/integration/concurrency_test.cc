// Upstream calls never block the gateway's server threads: a thousand
// requests waiting on a slow upstream finish together, and requests that
// need no upstream stay fast meanwhile.

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/integration/harness.h"

namespace fdgw::testing {
namespace {

struct Batch {
  std::vector<long> statuses;
  double seconds = 0;
};

std::size_t discardBody(char*, std::size_t size, std::size_t count, void*) { return size * count; }

// Sends `count` GET requests at once, each on its own connection, and
// waits for all of them.
Batch sendConcurrently(const std::string& url, const Headers& headers, int count) {
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
  curl_slist* list = nullptr;
  for (const auto& [name, value] : headers) list = curl_slist_append(list, (name + ": " + value).c_str());

  std::vector<CURL*> handles;
  for (int i = 0; i < count; ++i) {
    CURL* easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &discardBody);
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_multi_add_handle(multi, easy);
    handles.push_back(easy);
  }

  const auto started = std::chrono::steady_clock::now();
  int running = 1;
  while (running > 0) {
    curl_multi_perform(multi, &running);
    if (running > 0) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  Batch batch;
  batch.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (CURL* easy : handles) {
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    batch.statuses.push_back(status);
    curl_multi_remove_handle(multi, easy);
    curl_easy_cleanup(easy);
  }
  curl_slist_free_all(list);
  curl_multi_cleanup(multi);
  return batch;
}

TEST(ConcurrencyTest, SlowUpstreamDoesNotBlockServerThreads) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "0", "--threads", "2"});
  GatewayOptions options;
  options.upstream_url = sim.baseUrl();
  options.threads = 2;
  GatewayProcess gateway(dir.path(), options);
  const Headers credentials = {{"x-api-key", kAlpha.key}, {"x-api-secret", kAlpha.secret}};

  // Warm up: resolve lazily created state on both sides.
  ASSERT_EQ(gateway.call(kAlpha, "GET", "/catalog/compatibility").status, 200);
  sim.setFaults({{"latency_ms", 300}});

  // While the slow batch runs, a request that needs no upstream call keeps
  // getting a quick response.
  std::atomic<bool> batch_done{false};
  std::atomic<double> slowest_fast_request{0};
  std::thread prober([&] {
    while (!batch_done.load()) {
      const auto result = httpRequest("GET", gateway.baseUrl() + "/not-a-route", credentials);
      if (result.status == 404) {
        slowest_fast_request = std::max(slowest_fast_request.load(), result.seconds);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  const auto batch = sendConcurrently(gateway.baseUrl() + "/catalog/compatibility", credentials, 1000);
  batch_done = true;
  prober.join();

  const auto ok = std::count(batch.statuses.begin(), batch.statuses.end(), 200L);
  EXPECT_EQ(ok, 1000);
  EXPECT_LT(batch.seconds, 1.0) << "1,000 requests over a 300 ms upstream took " << batch.seconds << " s";
  EXPECT_LT(slowest_fast_request.load(), 0.25);
  std::cout << "1,000 concurrent requests with 300 ms upstream latency: " << batch.seconds
            << " s; slowest no-upstream request meanwhile: " << slowest_fast_request.load() << " s\n";
}

}  // namespace
}  // namespace fdgw::testing
