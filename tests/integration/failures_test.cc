// The gateway's responses when the request, the credentials or the upstream
// are wrong: each one an envelope error, none of them reaching upstream
// when they should not, and none of them harming the process.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <thread>

#include "tests/integration/harness.h"

namespace fdgw::testing {
namespace {

class FailuresTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    sim_ = new SimProcess(dir_->path(), {"--rate-limit", "0"});
    GatewayOptions options;
    options.upstream_url = sim_->baseUrl();
    options.upstream_timeout_ms = 2000;
    options.extra_config = "http:\n  max_body_bytes: 4096\n  header_timeout_ms: 1000\n";
    gateway_ = new GatewayProcess(dir_->path(), options);
  }
  static void TearDownTestSuite() {
    delete gateway_;
    delete sim_;
    delete dir_;
  }
  void TearDown() override { sim_->setFaults({{"latency_ms", 0}, {"error_rate", 0}, {"drop_rate", 0}}); }

  static TempDir* dir_;
  static SimProcess* sim_;
  static GatewayProcess* gateway_;
};

TempDir* FailuresTest::dir_ = nullptr;
SimProcess* FailuresTest::sim_ = nullptr;
GatewayProcess* FailuresTest::gateway_ = nullptr;

TEST_F(FailuresTest, EveryAuthFailureIsOneGeneric401) {
  const std::string url = gateway_->baseUrl() + "/tickets/categories";
  const std::vector<std::pair<std::string, Headers>> cases = {
      {"no credentials", {}},
      {"key only", {{"x-api-key", kAlpha.key}}},
      {"unknown key", {{"x-api-key", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"}, {"x-api-secret", kAlpha.secret}}},
      {"wrong secret", {{"x-api-key", kAlpha.key}, {"x-api-secret", kBeta.secret}}},
      {"short secret", {{"x-api-key", kAlpha.key}, {"x-api-secret", "short"}}},
      {"expired key", {{"x-api-key", kExpired.key}, {"x-api-secret", kExpired.secret}}},
      {"comma-joined key", {{"x-api-key", kAlpha.key + "," + kBeta.key}, {"x-api-secret", kAlpha.secret}}},
      {"comma-joined secret", {{"x-api-key", kAlpha.key}, {"x-api-secret", kAlpha.secret + ", " + kAlpha.secret}}},
      {"upstream's own credentials", {{"x-api-key", kSimKey}, {"x-api-secret", kSimSecret}}},
      {"repeated key", {{"x-api-key", kAlpha.key}, {"x-api-key", kBeta.key}, {"x-api-secret", kAlpha.secret}}},
      {"repeated identical key", {{"x-api-key", kAlpha.key}, {"X-Api-Key", kAlpha.key}, {"x-api-secret", kAlpha.secret}}},
      {"repeated secret", {{"x-api-key", kAlpha.key}, {"x-api-secret", kAlpha.secret}, {"x-api-secret", kBeta.secret}}},
  };
  const long upstream_before = sim_->requestsTotal();
  std::string first_message;
  for (const auto& [name, headers] : cases) {
    const auto result = httpRequest("GET", url, headers);
    ASSERT_EQ(result.status, 401) << name << ": " << result.body;
    const auto body = result.json();
    EXPECT_EQ(body["success"], false) << name;
    EXPECT_EQ(body["code"], "unauthorized") << name;
    EXPECT_EQ(body["request_id"], result.header("x-request-id")) << name;
    if (first_message.empty()) first_message = body["message"];
    EXPECT_EQ(body["message"], first_message) << name;
  }
  EXPECT_EQ(sim_->requestsTotal(), upstream_before);
}

TEST_F(FailuresTest, ValidKeyIsAccepted) {
  const auto result = gateway_->call(kAlpha, "GET", "/tickets/categories");
  EXPECT_EQ(result.status, 200) << result.body;
}

TEST_F(FailuresTest, UnknownPathsNeverReachUpstream) {
  const long upstream_before = sim_->requestsTotal();
  const std::vector<std::pair<std::string, std::string>> requests = {
      {"GET", "/"},
      {"GET", "/admin"},
      {"GET", "/v2/orders"},
      {"POST", "/users"},
      {"PATCH", "/orders"},
      {"DELETE", "/orders/ord_1"},
      {"GET", "/orders/ord_1/esims"},
      {"GET", "/catalog/../orders"},
      {"GET", "/orders/ord_1%2F..%2F..%2Fusers"},
      {"GET", "/__sim/stats"},
      {"GET", "/metrics"},
  };
  for (const auto& [method, path] : requests) {
    const auto result = gateway_->call(kAlpha, method, path);
    EXPECT_EQ(result.status, 404) << method << " " << path << ": " << result.body;
    EXPECT_EQ(result.json()["code"], "not_found") << method << " " << path;
  }
  const auto malformed = gateway_->call(kAlpha, "GET", "/orders%zz");
  EXPECT_EQ(malformed.status, 400) << malformed.body;
  EXPECT_EQ(sim_->requestsTotal(), upstream_before);
}

TEST_F(FailuresTest, DeniedRouteIs403WithoutUpstreamCall) {
  const long upstream_before = sim_->requestsTotal();
  const auto result = gateway_->call(kBeta, "POST", "/status/check");
  EXPECT_EQ(result.status, 403) << result.body;
  EXPECT_EQ(result.json()["code"], "forbidden");
  EXPECT_EQ(sim_->requestsTotal(), upstream_before);
}

TEST_F(FailuresTest, BadBodiesAreRejectedBeforeUpstream) {
  const long upstream_before = sim_->requestsTotal();
  const auto malformed = gateway_->call(kAlpha, "POST", "/orders", "{\"sku\": ");
  EXPECT_EQ(malformed.status, 400) << malformed.body;
  EXPECT_EQ(malformed.json()["code"], "bad_request");

  const auto not_object = gateway_->call(kAlpha, "POST", "/refund", "[1, 2]");
  EXPECT_EQ(not_object.status, 400) << not_object.body;

  const auto empty = gateway_->call(kAlpha, "POST", "/tickets", "");
  EXPECT_EQ(empty.status, 400) << empty.body;

  const std::string large(5000, ' ');
  const auto too_large = gateway_->call(kAlpha, "POST", "/orders", "{" + large + "}");
  EXPECT_EQ(too_large.status, 413) << too_large.body;
  EXPECT_EQ(too_large.json()["code"], "payload_too_large");
  EXPECT_EQ(sim_->requestsTotal(), upstream_before);
}

TEST_F(FailuresTest, SpanishMessagesWhenPreferred) {
  const auto result = httpRequest("GET", gateway_->baseUrl() + "/tickets/categories",
                                  {{"Accept-Language", "es-MX,es;q=0.9,en;q=0.5"}});
  ASSERT_EQ(result.status, 401);
  EXPECT_EQ(result.json()["message"], "Credenciales de API inválidas o ausentes.");
}

TEST_F(FailuresTest, RequestIdIsEchoedWhenSane) {
  const auto echoed = gateway_->call(kAlpha, "GET", "/tickets/categories", "",
                                     {{"X-Request-Id", "client-id-123"}});
  EXPECT_EQ(echoed.header("x-request-id"), "client-id-123");
  const auto replaced = gateway_->call(kAlpha, "GET", "/nope", "", {{"X-Request-Id", "bad id <script>"}});
  EXPECT_NE(replaced.header("x-request-id"), "bad id <script>");
  EXPECT_EQ(replaced.header("x-request-id").size(), 32u);
}

TEST_F(FailuresTest, UpstreamErrorsBecomeGeneric502) {
  sim_->setFaults({{"error_rate", 1.0}});
  const auto result = gateway_->call(kAlpha, "GET", "/tickets/categories");
  EXPECT_EQ(result.status, 502) << result.body;
  const auto body = result.json();
  EXPECT_EQ(body["code"], "upstream_unavailable");
  EXPECT_EQ(body["message"], "The provider is unavailable; retry later.");
}

TEST_F(FailuresTest, DroppedConnectionBecomes502) {
  sim_->setFaults({{"drop_rate", 1.0}});
  const auto result = gateway_->call(kAlpha, "GET", "/tickets/categories");
  EXPECT_EQ(result.status, 502) << result.body;
  EXPECT_EQ(result.json()["code"], "upstream_unavailable");
}

TEST_F(FailuresTest, SlowUpstreamBecomes504) {
  sim_->setFaults({{"latency_ms", 3000}});
  const auto result = gateway_->call(kAlpha, "GET", "/tickets/categories");
  EXPECT_EQ(result.status, 504) << result.body;
  EXPECT_EQ(result.json()["code"], "upstream_timeout");
  EXPECT_LT(result.seconds, 2.9);
}

TEST_F(FailuresTest, SlowHeadersAreCutOff) {
  // A client that sends half a request line and stops must not hold a
  // worker: the gateway closes the connection after the header timeout
  // (raised to the upstream timeout plus five seconds) and keeps serving.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(gateway_->port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  const std::string partial = "GET /catalog/destinations HTTP/1.1\r\nHost: x\r\n";
  ASSERT_EQ(::send(fd, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));

  const auto meanwhile = gateway_->call(kAlpha, "GET", "/tickets/categories");
  EXPECT_EQ(meanwhile.status, 200);

  timeval timeout{15, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  char buffer[512];
  const auto started = std::chrono::steady_clock::now();
  ssize_t received = 0;
  while ((received = ::recv(fd, buffer, sizeof buffer, 0)) > 0) {
  }
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ::close(fd);
  EXPECT_EQ(received, 0) << "the connection was not closed";
  EXPECT_LT(waited, 12.0);
}

TEST_F(FailuresTest, ClientDisconnectMidResponseIsHarmless) {
  sim_->setFaults({{"latency_ms", 300}});
  for (int i = 0; i < 20; ++i) {
    const auto result = httpRequest("GET", gateway_->baseUrl() + "/catalog/bundle-offers",
                                    {{"x-api-key", kAlpha.key}, {"x-api-secret", kAlpha.secret}},
                                    "", 50);
    EXPECT_EQ(result.status, 0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  sim_->setFaults({{"latency_ms", 0}});
  EXPECT_TRUE(gateway_->process().running());
  EXPECT_EQ(gateway_->call(kAlpha, "GET", "/tickets/categories").status, 200);
}

TEST_F(FailuresTest, LogsCarryNoSecrets) {
  gateway_->call(kAlpha, "GET", "/tickets/categories");
  gateway_->call(kBeta, "GET", "/tickets/categories", "", {{"x-api-secret", kAlpha.secret}});
  sim_->setFaults({{"error_rate", 1.0}});
  gateway_->call(kAlpha, "GET", "/orders");
  const std::string log = gateway_->process().log();
  EXPECT_EQ(log.find(kAlpha.secret), std::string::npos);
  EXPECT_EQ(log.find(kBeta.secret), std::string::npos);
  EXPECT_EQ(log.find(kSimSecret), std::string::npos);
  EXPECT_EQ(log.find(kSimKey), std::string::npos);
  EXPECT_EQ(log.find(kAlpha.key), std::string::npos);

  // One JSON access line per request, each a complete object.
  std::istringstream lines(log);
  std::string line;
  int access_lines = 0;
  while (std::getline(lines, line)) {
    const auto parsed = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << line;
    if (parsed.value("event", "") == "request") {
      ++access_lines;
      EXPECT_TRUE(parsed.contains("request_id")) << line;
      EXPECT_TRUE(parsed.contains("status")) << line;
      EXPECT_TRUE(parsed.contains("route")) << line;
    }
  }
  EXPECT_GE(access_lines, 3);
}

}  // namespace
}  // namespace fdgw::testing
