#include "gateway/proxy/request_pipeline.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gateway/common/request_id.h"
#include "gateway/common/text.h"

namespace fdgw::proxy {
namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;
using std::chrono::system_clock;

const std::string kTenantKey = "acme0key000000000000000000000001";
const std::string kTenantSecret = "acme0secret0" + std::string(52, 's');
const std::string kExpiredKey = "acme0key000000000000000000000002";
const std::string kExpiredSecret = "acme0secret1" + std::string(52, 'e');
const std::string kOrphanKey = "orphan0key0000000000000000000001";
const std::string kOrphanSecret = "orphan0secret" + std::string(51, 'o');
const std::string kUpstreamKey = "UPSTREAMKEY000000000000000000001";
const std::string kUpstreamSecret = "UPSTREAMSECRET" + std::string(50, 'u');
constexpr char kUnauthorizedMessage[] = "Invalid or missing API credentials.";
constexpr std::size_t kMaxBodyBytes = 1024;

// 2027-01-01T00:00:00Z.
const system_clock::time_point kNow = system_clock::from_time_t(1798761600);

class FakeClock : public common::Clock {
 public:
  system_clock::time_point now() const override { return wall; }
  steady_clock::time_point monotonicNow() const override { return monotonic; }

  system_clock::time_point wall = kNow;
  steady_clock::time_point monotonic{};
};

// Returns `decision` for every budget request and records blocks.
class FakeUpstreamBudget : public quota::UpstreamBudget {
 public:
  void acquire(const std::string& upstream, std::int64_t requests_per_minute,
               const std::string& tenant_id, bool priority,
               std::function<void(quota::BudgetDecision)> done) override {
    acquisitions.push_back({upstream, requests_per_minute, tenant_id, priority});
    done(decision);
  }
  void block(const std::string& upstream, std::int64_t seconds) override {
    blocks.emplace_back(upstream, seconds);
  }

  struct Acquisition {
    std::string upstream;
    std::int64_t requests_per_minute;
    std::string tenant_id;
    bool priority;
  };
  quota::BudgetDecision decision{true, 99, 0, false};
  std::vector<Acquisition> acquisitions;
  std::vector<std::pair<std::string, std::int64_t>> blocks;
};

// Returns `decision` for every quota check, at once, and records the calls.
// admit() takes the budget from `budget` only when `decision` admits the
// request, as the Redis engine's single script does.
class FakeQuotaEngine : public quota::QuotaEngine {
 public:
  explicit FakeQuotaEngine(quota::UpstreamBudget& budget) : budget_(budget) {}

  void check(const std::string& tenant_id, const config::Plan& /*plan*/, std::string_view route_id,
             std::function<void(quota::Decision)> done) override {
    checks.emplace_back(tenant_id, std::string(route_id));
    done(decision);
  }
  void admit(const std::string& tenant_id, const config::Plan& plan, std::string_view route_id,
             const quota::BudgetRequest& budget,
             std::function<void(quota::Admission)> done) override {
    ++admissions;
    check(tenant_id, plan, route_id, [&](quota::Decision quotas) {
      if (!quotas.allowed) {
        done({std::move(quotas), std::nullopt});
        return;
      }
      budget_.acquire(budget.upstream, budget.requests_per_minute, tenant_id, budget.priority,
                      [&](quota::BudgetDecision taken) { done({std::move(quotas), taken}); });
    });
  }
  void usage(const std::string& /*tenant_id*/, const config::Plan& /*plan*/,
             std::function<void(std::vector<quota::QuotaResult>)> done) override {
    done(decision.quotas);
  }

  quota::Decision decision;
  std::vector<std::pair<std::string, std::string>> checks;
  int admissions = 0;

 private:
  quota::UpstreamBudget& budget_;
};

// Records every request and replies at once with `canned_response`. When
// `hold_responses` is set, it keeps the completion until respondToOldest().
class FakeUpstreamClient : public upstream::UpstreamClient {
 public:
  void send(upstream::UpstreamRequest request, upstream::UpstreamCompletion done) override {
    requests.push_back(std::move(request));
    if (hold_responses) {
      pending.push_back(std::move(done));
      return;
    }
    done(canned_response);
  }

  void respondToOldest(upstream::UpstreamResponse response) {
    ASSERT_FALSE(pending.empty());
    auto done = std::move(pending.front());
    pending.erase(pending.begin());
    done(std::move(response));
  }

  upstream::UpstreamResponse canned_response = okResponse();
  bool hold_responses = false;
  std::vector<upstream::UpstreamRequest> requests;
  std::vector<upstream::UpstreamCompletion> pending;

  static upstream::UpstreamResponse okResponse() {
    upstream::UpstreamResponse response;
    response.status = 200;
    response.headers = {{"content-type", "application/json"}};
    response.body = R"({"success":true,"data":[{"id":"ord_1a2b","total":"19.99"}]})";
    return response;
  }
};

// Builds one plan that denies status.check and two tenants on it. Tenant
// acme uses upstream main and has a valid and an expired key. Tenant orphan
// names an upstream that the snapshot lacks.
std::shared_ptr<const PolicySnapshot> makeSnapshot(metrics::GatewayMetrics& metrics) {
  config::Plan plan;
  plan.name = "standard";
  plan.denied_routes = {"status.check"};

  config::Policies policies;
  policies.plans["standard"] = plan;

  config::Tenant acme;
  acme.id = "acme";
  acme.name = "ACME Travel";
  acme.plan_name = "standard";
  acme.upstream = "main";
  acme.plan = plan;
  acme.keys = {{kTenantKey, common::sha256Hex(kTenantSecret), std::nullopt},
               {kExpiredKey, common::sha256Hex(kExpiredSecret), kNow - 1h}};
  policies.tenants["acme"] = acme;

  config::Tenant orphan = acme;
  orphan.id = "orphan";
  orphan.index = 1;
  orphan.upstream = "backup";
  orphan.keys = {{kOrphanKey, common::sha256Hex(kOrphanSecret), std::nullopt}};
  policies.tenants["orphan"] = orphan;

  auto target = std::make_shared<upstream::UpstreamTarget>();
  target->name = "main";
  target->base_url = "http://127.0.0.1:18099";
  target->api_key = kUpstreamKey;
  target->api_secret = kUpstreamSecret;
  std::map<std::string, std::shared_ptr<const upstream::UpstreamTarget>> targets = {
      {"main", target}};
  return std::make_shared<PolicySnapshot>(std::move(policies), targets, metrics);
}

IncomingRequest makeRequest(std::string method, std::string raw_path) {
  IncomingRequest request;
  request.method = std::move(method);
  request.raw_path = std::move(raw_path);
  request.client_address = "127.0.0.1";
  return request;
}

IncomingRequest withCredentials(IncomingRequest request, const std::string& key = kTenantKey,
                                const std::string& secret = kTenantSecret) {
  request.headers.emplace_back("x-api-key", key);
  request.headers.emplace_back("x-api-secret", secret);
  return request;
}

// Returns the value of a header, or "" when absent.
std::string headerOf(const HeaderList& headers, std::string_view name) {
  for (const auto& [header, value] : headers) {
    if (common::equalsIgnoreCase(header, name)) return value;
  }
  return "";
}

nlohmann::json envelopeOf(const OutgoingResponse& response) {
  const auto body = nlohmann::json::parse(response.body, nullptr, false);
  EXPECT_FALSE(body.is_discarded()) << response.body;
  return body;
}

class RequestPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(log_file_, nullptr);
  }

  void TearDown() override {
    if (log_file_) std::fclose(log_file_);
  }

  // Hands the request to the pipeline and returns the responses delivered
  // so far for it: exactly one, unless the upstream response is held.
  std::vector<OutgoingResponse> handle(IncomingRequest request) {
    auto delivered = std::make_shared<std::vector<OutgoingResponse>>();
    pipeline_.handle(std::move(request), [delivered](OutgoingResponse response) {
      delivered->push_back(std::move(response));
    });
    last_delivered_ = delivered;
    return *delivered;
  }

  // Hands the request to the pipeline and returns its single response.
  OutgoingResponse respond(IncomingRequest request) {
    const auto responses = handle(std::move(request));
    EXPECT_EQ(responses.size(), 1u) << "the responder must run exactly once";
    return responses.empty() ? OutgoingResponse{} : responses[0];
  }

  // Makes the fake quota engine reject every request with a full quota.
  void rejectByQuota(std::int64_t retry_after_seconds) {
    quota::QuotaResult result{"per-minute", 5, 0, retry_after_seconds, quota::Outcome::kRejected};
    quotas_.decision.allowed = false;
    quotas_.decision.quotas = {result};
    quotas_.decision.tightest = result;
    quotas_.decision.retry_after_seconds = retry_after_seconds;
  }

  std::string logText() {
    std::fflush(log_file_);
    std::rewind(log_file_);
    std::string text;
    for (int c = std::fgetc(log_file_); c != EOF; c = std::fgetc(log_file_)) {
      text.push_back(static_cast<char>(c));
    }
    std::fseek(log_file_, 0, SEEK_END);
    return text;
  }

  std::vector<nlohmann::json> logRecords() {
    std::vector<nlohmann::json> records;
    const std::string text = logText();
    for (auto line : common::split(text, '\n')) {
      if (line.empty()) continue;
      auto record = nlohmann::json::parse(line, nullptr, false);
      EXPECT_FALSE(record.is_discarded()) << line;
      records.push_back(record);
    }
    return records;
  }

  FakeClock clock_;
  FakeUpstreamClient upstream_;
  std::FILE* log_file_ = std::tmpfile();
  log::Logger logger_{log_file_, log::Level::kDebug};
  metrics::GatewayMetrics metrics_;
  PolicyStore policies_{makeSnapshot(metrics_)};
  FakeUpstreamBudget budget_;
  FakeQuotaEngine quotas_{budget_};
  RequestPipeline pipeline_{policies_, upstream_, clock_,   logger_,
                            metrics_,  quotas_,   budget_,  PipelineOptions{kMaxBodyBytes}};
  std::shared_ptr<std::vector<OutgoingResponse>> last_delivered_;
};

TEST_F(RequestPipelineTest, UnknownPathNotFound) {
  const auto response = respond(withCredentials(makeRequest("GET", "/invoices")));

  EXPECT_EQ(response.status, 404);
  const auto body = envelopeOf(response);
  EXPECT_EQ(body["success"], false);
  EXPECT_EQ(body["code"], "not_found");
  EXPECT_EQ(body["message"], "Resource not found.");
  EXPECT_EQ(body["request_id"], headerOf(response.headers, "X-Request-Id"));
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(RequestPipelineTest, WrongMethodNotFound) {
  const auto response = respond(withCredentials(makeRequest("POST", "/users")));

  EXPECT_EQ(response.status, 404);
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(RequestPipelineTest, MalformedPathEscapeRejected) {
  const auto response = respond(withCredentials(makeRequest("GET", "/orders%zz")));

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(envelopeOf(response)["code"], "bad_request");
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(RequestPipelineTest, CredentialFailuresLookAlike) {
  struct Case {
    std::string name;
    IncomingRequest request;
  };
  std::string wrong_secret = kTenantSecret;
  wrong_secret[20] = 'x';
  const Case cases[] = {
      {"no credentials", makeRequest("GET", "/orders")},
      {"key only", [] {
         auto request = makeRequest("GET", "/orders");
         request.headers.emplace_back("x-api-key", kTenantKey);
         return request;
       }()},
      {"wrong secret", withCredentials(makeRequest("GET", "/orders"), kTenantKey, wrong_secret)},
      {"unknown key", withCredentials(makeRequest("GET", "/orders"),
                                      "zzzz0key000000000000000000000009", kTenantSecret)},
      {"short key", withCredentials(makeRequest("GET", "/orders"), kTenantKey.substr(1),
                                    kTenantSecret)},
      {"expired key", withCredentials(makeRequest("GET", "/orders"), kExpiredKey, kExpiredSecret)},
      {"comma-joined key",
       withCredentials(makeRequest("GET", "/orders"), kTenantKey + "," + kTenantKey,
                       kTenantSecret)},
      {"comma-joined secret",
       withCredentials(makeRequest("GET", "/orders"), kTenantKey,
                       kTenantSecret + ", " + kTenantSecret)},
  };

  std::string first_body;
  for (const auto& [name, request] : cases) {
    SCOPED_TRACE(name);
    IncomingRequest tagged = request;
    tagged.headers.emplace_back("x-request-id", "req-auth-1");

    const auto response = respond(tagged);

    EXPECT_EQ(response.status, 401);
    const auto body = envelopeOf(response);
    EXPECT_EQ(body["code"], "unauthorized");
    EXPECT_EQ(body["message"], kUnauthorizedMessage);
    if (first_body.empty()) first_body = response.body;
    EXPECT_EQ(response.body, first_body) << "every failure must look the same to the client";
  }
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(RequestPipelineTest, RepeatedKeyHeaderRejected) {
  // auth::AuthFailure::kAmbiguousCredentials covers repeated credential
  // headers, not only comma-joined ones.
  auto request = withCredentials(makeRequest("GET", "/orders"));
  request.headers.emplace_back("x-api-key", "zzzz0key000000000000000000000009");

  const auto response = respond(request);

  EXPECT_EQ(response.status, 401);
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(RequestPipelineTest, DeniedRouteForbidden) {
  auto request = withCredentials(makeRequest("POST", "/status/check"));
  request.body = R"({"iccid":"8952000000000000001"})";

  const auto response = respond(request);

  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(envelopeOf(response)["code"], "forbidden");
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(RequestPipelineTest, BodyOverLimitRejected) {
  auto request = withCredentials(makeRequest("POST", "/orders"));
  request.body = R"({"note":")" + std::string(kMaxBodyBytes, 'x') + R"("})";

  const auto response = respond(request);

  EXPECT_EQ(response.status, 413);
  const auto body = envelopeOf(response);
  EXPECT_EQ(body["code"], "payload_too_large");
  EXPECT_EQ(body["message"], "The request body exceeds 1024 bytes.");
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(RequestPipelineTest, BodyAtLimitForwarded) {
  auto request = withCredentials(makeRequest("POST", "/orders"));
  const std::string frame = R"({"note":""})";
  request.body = R"({"note":")" + std::string(kMaxBodyBytes - frame.size(), 'x') + R"("})";
  ASSERT_EQ(request.body.size(), kMaxBodyBytes);

  const auto response = respond(request);

  EXPECT_EQ(response.status, 200);
  ASSERT_EQ(upstream_.requests.size(), 1u);
  EXPECT_EQ(upstream_.requests[0].body, request.body);
}

TEST_F(RequestPipelineTest, MalformedJsonRejected) {
  for (const char* body : {R"({"bundle":)", "[1,2]", "", "\"text\""}) {
    SCOPED_TRACE(body);
    auto request = withCredentials(makeRequest("POST", "/orders"));
    request.body = body;

    const auto response = respond(request);

    EXPECT_EQ(response.status, 400);
    const auto envelope = envelopeOf(response);
    EXPECT_EQ(envelope["code"], "bad_request");
    EXPECT_EQ(envelope["message"], "The request body must be a JSON object.");
  }
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(RequestPipelineTest, PostBodyForwardedUnchanged) {
  auto request = withCredentials(makeRequest("POST", "/orders"));
  request.headers.emplace_back("content-type", "application/json");
  request.body = R"({ "bundle_id": "bdl_1a2b", "quantity": 2 })";

  const auto response = respond(request);

  EXPECT_EQ(response.status, 200);
  ASSERT_EQ(upstream_.requests.size(), 1u);
  const auto& sent = upstream_.requests[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.path_and_query, "/orders");
  EXPECT_EQ(sent.body, request.body);
  EXPECT_EQ(headerOf(sent.headers, "content-type"), "application/json");
}

TEST_F(RequestPipelineTest, GetForwardedCanonical) {
  auto request = withCredentials(makeRequest("GET", "//Orders/"));
  request.query = {{"status", "active"}, {"limit", "10"}, {"q", "a b"}};
  request.headers.emplace_back("x-request-id", "client-req-1");
  request.headers.emplace_back("accept-language", "es-MX");

  const auto response = respond(request);

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, FakeUpstreamClient::okResponse().body);
  EXPECT_EQ(headerOf(response.headers, "X-Request-Id"), "client-req-1");
  ASSERT_EQ(upstream_.requests.size(), 1u);
  const auto& sent = upstream_.requests[0];
  EXPECT_EQ(sent.method, "GET");
  EXPECT_EQ(sent.path_and_query, "/orders?limit=10&q=a%20b&status=active");
  ASSERT_NE(sent.target, nullptr);
  EXPECT_EQ(sent.target->name, "main");
  EXPECT_EQ(sent.target->api_key, kUpstreamKey);
  EXPECT_EQ(headerOf(sent.headers, "x-request-id"), "client-req-1");
  EXPECT_EQ(headerOf(sent.headers, "accept-language"), "es-MX");
}

TEST_F(RequestPipelineTest, ParameterForwardedWithItsCase) {
  const auto response =
      respond(withCredentials(makeRequest("GET", "/Catalog/Bundle-Offers/FD-MX-5GB-30D")));

  EXPECT_EQ(response.status, 200);
  ASSERT_EQ(upstream_.requests.size(), 1u);
  EXPECT_EQ(upstream_.requests[0].path_and_query, "/catalog/bundle-offers/FD-MX-5GB-30D");
}

TEST_F(RequestPipelineTest, TenantAndHopHeadersNotForwarded) {
  auto request = withCredentials(makeRequest("GET", "/esims"));
  for (const char* name : {"connection", "keep-alive", "te", "trailer", "transfer-encoding",
                           "upgrade", "proxy-authorization", "proxy-connection", "cookie",
                           "authorization", "host", "x-forwarded-for"}) {
    request.headers.emplace_back(name, "tenant-value");
  }

  respond(request);

  ASSERT_EQ(upstream_.requests.size(), 1u);
  for (const auto& [name, value] : upstream_.requests[0].headers) {
    EXPECT_NE(value, "tenant-value") << name << " was forwarded";
    EXPECT_EQ(value.find(kTenantKey), std::string::npos) << name;
    EXPECT_EQ(value.find(kTenantSecret), std::string::npos) << name;
  }
  EXPECT_EQ(headerOf(upstream_.requests[0].headers, "x-api-key"), "");
  EXPECT_EQ(headerOf(upstream_.requests[0].headers, "x-api-secret"), "");
}

TEST_F(RequestPipelineTest, MalformedQueryEscapeRejected) {
  auto request = withCredentials(makeRequest("GET", "/orders"));
  request.query = {{"status", "100%"}};

  const auto response = respond(request);

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(envelopeOf(response)["code"], "bad_request");
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(RequestPipelineTest, InsaneRequestIdReplaced) {
  for (const std::string& sent_id : {std::string("has space"), std::string(200, 'r'),
                                    std::string("new\nline")}) {
    SCOPED_TRACE(sent_id);
    upstream_.requests.clear();
    auto request = withCredentials(makeRequest("GET", "/orders"));
    request.headers.emplace_back("x-request-id", sent_id);

    const auto response = respond(request);

    const std::string id = headerOf(response.headers, "X-Request-Id");
    EXPECT_NE(id, sent_id);
    EXPECT_EQ(id.size(), 32u);
    EXPECT_TRUE(common::isSaneRequestId(id));
    ASSERT_EQ(upstream_.requests.size(), 1u);
    EXPECT_EQ(headerOf(upstream_.requests[0].headers, "x-request-id"), id);
  }
}

TEST_F(RequestPipelineTest, RequestIdAddedWhenAbsent) {
  const auto response = respond(withCredentials(makeRequest("GET", "/orders")));

  const std::string id = headerOf(response.headers, "X-Request-Id");
  EXPECT_TRUE(common::isSaneRequestId(id)) << id;
  ASSERT_EQ(upstream_.requests.size(), 1u);
  EXPECT_EQ(headerOf(upstream_.requests[0].headers, "x-request-id"), id);
}

TEST_F(RequestPipelineTest, ErrorCarriesRequestId) {
  auto request = makeRequest("GET", "/orders");
  request.headers.emplace_back("x-request-id", "req-401");

  const auto response = respond(request);

  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(headerOf(response.headers, "X-Request-Id"), "req-401");
  EXPECT_EQ(envelopeOf(response)["request_id"], "req-401");
}

TEST_F(RequestPipelineTest, InflightUntilUpstreamResponds) {
  upstream_.hold_responses = true;

  const auto early = handle(withCredentials(makeRequest("GET", "/orders")));

  EXPECT_TRUE(early.empty());
  EXPECT_EQ(pipeline_.inflight(), 1);
  ASSERT_EQ(upstream_.pending.size(), 1u);

  upstream_.respondToOldest(FakeUpstreamClient::okResponse());

  EXPECT_EQ(pipeline_.inflight(), 0);
  ASSERT_EQ(last_delivered_->size(), 1u);
  EXPECT_EQ((*last_delivered_)[0].status, 200);
}

TEST_F(RequestPipelineTest, InflightZeroAfterRejection) {
  respond(makeRequest("GET", "/invoices"));
  respond(makeRequest("GET", "/orders"));

  EXPECT_EQ(pipeline_.inflight(), 0);
}

TEST_F(RequestPipelineTest, UpstreamAccountErrorHidden) {
  upstream_.canned_response.status = 403;
  upstream_.canned_response.body = R"({"success":false,"message":"Account acct_91 suspended"})";

  const auto response = respond(withCredentials(makeRequest("GET", "/orders")));

  EXPECT_EQ(response.status, 502);
  EXPECT_EQ(envelopeOf(response)["code"], "upstream_unavailable");
  EXPECT_EQ(response.body.find("acct_91"), std::string::npos);
  const std::string log = logText();
  EXPECT_NE(log.find("upstream_failed"), std::string::npos) << log;
  EXPECT_NE(log.find("acct_91"), std::string::npos) << "the operator's log should keep the detail";
}

TEST_F(RequestPipelineTest, UpstreamTimeoutMapped) {
  upstream_.canned_response = {};
  upstream_.canned_response.error = upstream::TransportError::kTimeout;

  const auto response = respond(withCredentials(makeRequest("GET", "/orders")));

  EXPECT_EQ(response.status, 504);
  EXPECT_EQ(envelopeOf(response)["code"], "upstream_timeout");
}

TEST_F(RequestPipelineTest, MissingUpstreamIsInternal) {
  const auto response =
      respond(withCredentials(makeRequest("GET", "/orders"), kOrphanKey, kOrphanSecret));

  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(envelopeOf(response)["code"], "internal");
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(RequestPipelineTest, SpanishErrorMessages) {
  auto request = makeRequest("GET", "/invoices");
  request.headers.emplace_back("accept-language", "es-MX,es;q=0.9,en;q=0.8");

  const auto response = respond(request);

  EXPECT_EQ(envelopeOf(response)["message"], "Recurso no encontrado.");
}

TEST_F(RequestPipelineTest, OneAccessLinePerRequest) {
  respond(withCredentials(makeRequest("GET", "/orders")));
  respond(makeRequest("GET", "/orders"));

  std::vector<nlohmann::json> access;
  for (const auto& record : logRecords()) {
    if (record["event"] == "request") access.push_back(record);
  }
  ASSERT_EQ(access.size(), 2u);
  EXPECT_EQ(access[0]["tenant"], "acme");
  EXPECT_EQ(access[0]["route"], "orders.list");
  EXPECT_EQ(access[0]["status"], 200);
  EXPECT_EQ(access[0]["upstream"], "main");
  EXPECT_EQ(access[1]["tenant"], "unknown");
  EXPECT_EQ(access[1]["status"], 401);
  EXPECT_EQ(access[1]["code"], "unauthorized");
}

TEST_F(RequestPipelineTest, CredentialsNeverLogged) {
  auto request = withCredentials(makeRequest("GET", "/orders"));
  respond(request);
  respond(withCredentials(makeRequest("GET", "/orders"), kTenantKey, kExpiredSecret));
  upstream_.canned_response.status = 500;
  respond(request);

  const std::string log = logText();
  EXPECT_FALSE(log.empty());
  for (const std::string& secret : {kTenantSecret, kExpiredSecret, kUpstreamKey, kUpstreamSecret}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " leaked into the log";
  }
}


// Returns the value of one sample line of the Prometheus text output, such
// as `fdgw_requests_total{code="200",route="orders.list",tenant="acme"}`, or
// -1 when the line is absent.
double sampleValue(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

TEST_F(RequestPipelineTest, MetricsCountKnownSequence) {
  respond(withCredentials(makeRequest("GET", "/orders")));
  respond(withCredentials(makeRequest("GET", "/orders")));
  respond(withCredentials(makeRequest("GET", "/nowhere")));
  respond(makeRequest("GET", "/orders"));
  auto wrong = makeRequest("GET", "/orders");
  wrong.headers = {{"x-api-key", kTenantKey}, {"x-api-secret", kExpiredSecret}};
  respond(wrong);
  respond(withCredentials(makeRequest("POST", "/status/check")));
  upstream_.canned_response.status = 503;
  respond(withCredentials(makeRequest("GET", "/esims")));

  const std::string text = metrics_.render();
  EXPECT_EQ(sampleValue(text, R"(fdgw_requests_total{code="200",route="orders.list",tenant="acme"})"), 2);
  EXPECT_EQ(sampleValue(text, R"(fdgw_requests_total{code="404",route="none",tenant="unknown"})"), 1);
  EXPECT_EQ(sampleValue(text, R"(fdgw_requests_total{code="401",route="orders.list",tenant="unknown"})"), 2);
  EXPECT_EQ(sampleValue(text, R"(fdgw_requests_total{code="403",route="status.check",tenant="acme"})"), 1);
  EXPECT_EQ(sampleValue(text, R"(fdgw_requests_total{code="502",route="esims.list",tenant="acme"})"), 1);
  EXPECT_EQ(sampleValue(text, R"(fdgw_auth_failures_total{reason="missing"})"), 1);
  EXPECT_EQ(sampleValue(text, R"(fdgw_auth_failures_total{reason="wrong_secret"})"), 1);
  EXPECT_EQ(sampleValue(text, R"(fdgw_upstream_requests_total{code="200",route="orders.list",upstream="main"})"), 2);
  EXPECT_EQ(sampleValue(text, R"(fdgw_upstream_requests_total{code="503",route="esims.list",upstream="main"})"), 1);
  EXPECT_EQ(sampleValue(text, R"(fdgw_request_duration_seconds_count{route="orders.list",tenant="acme"})"), 2);
  EXPECT_EQ(sampleValue(text, R"(fdgw_upstream_duration_seconds_count{route="orders.list",upstream="main"})"), 2);
  EXPECT_EQ(sampleValue(text, "fdgw_inflight_requests"), 0);
}

TEST_F(RequestPipelineTest, MetricsSeriesBounded) {
  for (int i = 0; i < 1000; ++i) {
    respond(withCredentials(makeRequest("GET", "/unknown/path/" + std::to_string(i))));
    respond(withCredentials(makeRequest("GET", "/orders/ord_" + std::to_string(i))));
  }
  const std::string text = metrics_.render();
  std::istringstream lines(text);
  std::string line;
  int request_series = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("fdgw_requests_total{", 0) == 0) ++request_series;
  }
  EXPECT_EQ(request_series, 2);
  EXPECT_EQ(text.find("ord_1"), std::string::npos);
  EXPECT_EQ(text.find("/unknown"), std::string::npos);
}


TEST_F(RequestPipelineTest, QuotaRejectionIs429WithoutUpstreamCall) {
  rejectByQuota(42);

  const auto response = respond(withCredentials(makeRequest("GET", "/orders")));

  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(envelopeOf(response)["code"], "rate_limited");
  EXPECT_EQ(headerOf(response.headers, "Retry-After"), "42");
  EXPECT_EQ(headerOf(response.headers, "RateLimit-Remaining"), "0");
  EXPECT_TRUE(upstream_.requests.empty());
  ASSERT_EQ(quotas_.checks.size(), 1u);
  EXPECT_EQ(quotas_.checks[0].second, "orders.list");
}

TEST_F(RequestPipelineTest, AllowedRequestCarriesRateLimitHeaders) {
  quota::QuotaResult result{"per-minute", 120, 119, 60, quota::Outcome::kAllowed};
  quotas_.decision.quotas = {result};
  quotas_.decision.tightest = result;

  const auto response = respond(withCredentials(makeRequest("GET", "/orders")));

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(headerOf(response.headers, "RateLimit-Limit"), "120");
  EXPECT_EQ(headerOf(response.headers, "RateLimit-Remaining"), "119");
  EXPECT_EQ(headerOf(response.headers, "RateLimit-Reset"), "60");
  EXPECT_NE(metrics_.render().find(
                R"(fdgw_quota_decisions_total{decision="allowed",quota="per-minute",tenant="acme"} 1)"),
            std::string::npos);
}

TEST_F(RequestPipelineTest, QuotaRejectionTakesNoBudget) {
  rejectByQuota(42);

  const auto response = respond(withCredentials(makeRequest("GET", "/esims")));

  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(quotas_.admissions, 1);
  EXPECT_TRUE(budget_.acquisitions.empty());
}

TEST_F(RequestPipelineTest, OneAdmissionPerRequest) {
  const auto response = respond(withCredentials(makeRequest("GET", "/esims")));

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(quotas_.admissions, 1);
  ASSERT_EQ(quotas_.checks.size(), 1u);
  EXPECT_EQ(quotas_.checks[0].second, "esims.list");
  ASSERT_EQ(budget_.acquisitions.size(), 1u);
  EXPECT_EQ(budget_.acquisitions[0].upstream, "main");
  EXPECT_EQ(budget_.acquisitions[0].tenant_id, "acme");
  EXPECT_FALSE(budget_.acquisitions[0].priority);
}

TEST_F(RequestPipelineTest, UsageTakesNoQuotaOrBudget) {
  const auto response = respond(withCredentials(makeRequest("GET", "/gateway/usage")));

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(envelopeOf(response)["data"]["tenant"], "acme");
  EXPECT_TRUE(quotas_.checks.empty());
  EXPECT_TRUE(budget_.acquisitions.empty());
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(RequestPipelineTest, MissingUpstreamCountsQuotasFirst) {
  quota::QuotaResult result{"per-minute", 5, 4, 60, quota::Outcome::kAllowed};
  quotas_.decision.quotas = {result};
  quotas_.decision.tightest = result;

  const auto response =
      respond(withCredentials(makeRequest("GET", "/orders"), kOrphanKey, kOrphanSecret));

  EXPECT_EQ(response.status, 500);
  ASSERT_EQ(quotas_.checks.size(), 1u);
  EXPECT_EQ(quotas_.checks[0].first, "orphan");
  EXPECT_EQ(headerOf(response.headers, "RateLimit-Remaining"), "4");
  EXPECT_TRUE(budget_.acquisitions.empty());
}

TEST_F(RequestPipelineTest, RedisErrorsCountedPerStep) {
  quota::QuotaResult result{"per-minute", 5, 4, 60, quota::Outcome::kLocal};
  quotas_.decision.quotas = {result};
  quotas_.decision.tightest = result;
  quotas_.decision.redis_failed = true;
  budget_.decision = {true, 42, 0, true};

  const auto response = respond(withCredentials(makeRequest("GET", "/esims")));

  EXPECT_EQ(response.status, 200);
  const std::string text = metrics_.render();
  EXPECT_EQ(sampleValue(text, R"(fdgw_redis_errors_total{operation="quota_check"})"), 1);
  EXPECT_EQ(sampleValue(text, R"(fdgw_redis_errors_total{operation="upstream_budget"})"), 1);
  EXPECT_EQ(sampleValue(text, R"(fdgw_upstream_budget_remaining{upstream="main"})"), 42);
}

TEST_F(RequestPipelineTest, RejectedBeforeQuotaUsesNoQuota) {
  respond(makeRequest("GET", "/orders"));
  respond(withCredentials(makeRequest("GET", "/nowhere")));
  respond(withCredentials(makeRequest("POST", "/status/check")));
  {
    auto broken = withCredentials(makeRequest("POST", "/orders"));
    broken.body = "{broken";
    respond(broken);
  }
  EXPECT_TRUE(quotas_.checks.empty());
}


TEST_F(RequestPipelineTest, SpentBudgetIsUpstreamBusy) {
  budget_.decision = {false, 0, 17, false};

  const auto response = respond(withCredentials(makeRequest("GET", "/esims")));

  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(envelopeOf(response)["code"], "upstream_busy");
  EXPECT_EQ(headerOf(response.headers, "Retry-After"), "17");
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(RequestPipelineTest, OrdersAskBudgetWithPriority) {
  respond(withCredentials(makeRequest("GET", "/esims")));
  auto order = withCredentials(makeRequest("POST", "/orders"));
  order.body = R"({"reference_id": "c1", "sku": "FD-MX-5GB-30D", "quantity": 1})";
  respond(order);

  ASSERT_EQ(budget_.acquisitions.size(), 2u);
  EXPECT_FALSE(budget_.acquisitions[0].priority);
  EXPECT_TRUE(budget_.acquisitions[1].priority);
  EXPECT_EQ(budget_.acquisitions[1].upstream, "main");
  EXPECT_EQ(budget_.acquisitions[1].tenant_id, "acme");
}

TEST_F(RequestPipelineTest, Upstream429BlocksTheAccount) {
  upstream_.canned_response.status = 429;
  upstream_.canned_response.headers = {{"retry-after", "30"}};

  const auto response = respond(withCredentials(makeRequest("GET", "/esims")));

  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(envelopeOf(response)["code"], "upstream_busy");
  ASSERT_EQ(budget_.blocks.size(), 1u);
  EXPECT_EQ(budget_.blocks[0].first, "main");
  EXPECT_EQ(budget_.blocks[0].second, 30);
}


TEST_F(RequestPipelineTest, OrdersCountedWithSales) {
  upstream_.canned_response.status = 201;
  upstream_.canned_response.body =
      R"({"success":true,"data":{"order_id":"ord_1","total":{"usd":19.99,"mxn":364.82}}})";
  auto order = withCredentials(makeRequest("POST", "/orders"));
  order.body = R"({"reference_id": "c1", "sku": "FD-MX-5GB-30D", "quantity": 1})";
  respond(order);
  auto broken = withCredentials(makeRequest("POST", "/orders"));
  broken.body = "{";
  respond(broken);

  const std::string text = metrics_.render();
  EXPECT_EQ(sampleValue(text, R"(fdgw_orders_total{result="completed",tenant="acme"})"), 1);
  EXPECT_EQ(sampleValue(text, R"(fdgw_orders_total{result="rejected",tenant="acme"})"), 1);
  EXPECT_DOUBLE_EQ(sampleValue(text, R"(fdgw_sales_usd_total{tenant="acme"})"), 19.99);
  EXPECT_EQ(sampleValue(text, R"(fdgw_margin_usd_total{tenant="acme"})"), 0);
}

}  // namespace
}  // namespace fdgw::proxy
