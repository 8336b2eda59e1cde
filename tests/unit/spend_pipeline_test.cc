// The request path's spend and idempotency steps over fakes: reservations
// before orders go upstream, their settlement, refund credits, the tenant's
// credits routes and Idempotency-Key records.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/common/text.h"
#include "gateway/proxy/request_pipeline.h"
#include "gateway/proxy/spend_views.h"

namespace fdgw::proxy {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

const std::string kKey = "acme0key000000000000000000000001";
const std::string kSecret = "acme0secret0" + std::string(52, 's');
const std::string kSku = "FD-MX-5GB-30D";

class FixedClock : public common::Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::from_time_t(1798761600);  // 2027-01-01T00:00:00Z
  }
  std::chrono::steady_clock::time_point monotonicNow() const override { return {}; }
};

// Admits every request and counts nothing.
class NoQuotas : public quota::QuotaEngine {
 public:
  void check(const std::string&, const config::Plan&, std::string_view,
             std::function<void(quota::Decision)> done) override {
    done(quota::Decision{});
  }
  void admit(const std::string&, const config::Plan&, std::string_view, const quota::BudgetRequest&,
             std::function<void(quota::Admission)> done) override {
    done(quota::Admission{quota::Decision{}, quota::BudgetDecision{true, 100, 0, false}});
  }
  void usage(const std::string&, const config::Plan&,
             std::function<void(std::vector<quota::QuotaResult>)> done) override {
    done({});
  }
};

class UnlimitedBudget : public quota::UpstreamBudget {
 public:
  void acquire(const std::string&, std::int64_t, const std::string&, bool,
               std::function<void(quota::BudgetDecision)> done) override {
    done(quota::BudgetDecision{true, 100, 0, false});
  }
  void block(const std::string&, std::int64_t) override {}
};

// Replies to each request with the response set for its path, or 200 `{}`.
class ScriptedUpstream : public upstream::UpstreamClient {
 public:
  void send(upstream::UpstreamRequest request, upstream::UpstreamCompletion done) override {
    const std::string path = request.path_and_query;
    requests.push_back(std::move(request));
    const auto found = responses.find(path);
    if (found != responses.end()) {
      done(found->second);
      return;
    }
    upstream::UpstreamResponse empty;
    empty.status = 200;
    empty.body = "{}";
    done(empty);
  }

  void reply(const std::string& path, int status, std::string body) {
    upstream::UpstreamResponse response;
    response.status = status;
    response.headers = {{"content-type", "application/json"}};
    response.body = std::move(body);
    responses[path] = response;
  }

  void failWith(const std::string& path, upstream::TransportError error) {
    upstream::UpstreamResponse response;
    response.error = error;
    responses[path] = response;
  }

  std::map<std::string, upstream::UpstreamResponse> responses;
  std::vector<upstream::UpstreamRequest> requests;
};

// A catalog with one offer of kSku that costs 10.00 USD and 182.50 MXN, or
// no catalog at all when `available` is false.
class OneOfferCatalog : public catalog::CatalogSource {
 public:
  void get(const std::shared_ptr<const upstream::UpstreamTarget>&, Callback done) override {
    ++lookups;
    if (!available) {
      done(catalog::CatalogLookup{nullptr, metrics::CatalogCacheResult::kError});
      return;
    }
    catalog::Offer offer;
    offer.facts.sku = kSku;
    offer.facts.countries = {"MX"};
    offer.cost = pricing::Money{1000, 18250};
    offer.json = R"({"sku":")" + kSku + R"("})";
    auto data = std::make_shared<catalog::CatalogData>(std::vector<catalog::Offer>{offer},
                                                       std::vector<catalog::Destination>{}, 0);
    done(catalog::CatalogLookup{data, metrics::CatalogCacheResult::kHit});
  }

  bool available = true;
  int lookups = 0;
};

// Records every call and returns the results set by the test.
class RecordingLedger : public spend::SpendLedger {
 public:
  void reserve(spend::ReservationRequest request, std::function<void(spend::ReserveResult)> done) override {
    reservations.push_back(request);
    done(reserve_result);
  }
  void commit(const spend::Reservation& reservation, spend::OrderCharge charge,
              std::function<void(spend::SettleResult)> done) override {
    commits.emplace_back(reservation, charge);
    done(settle_result);
  }
  void release(const spend::Reservation& reservation, std::function<void(spend::SettleResult)> done) override {
    releases.push_back(reservation);
    done(settle_result);
  }
  void defer(const spend::Reservation& reservation, std::chrono::milliseconds delay,
             std::function<void(bool)> done) override {
    deferrals.emplace_back(reservation, delay);
    done(true);
  }
  void creditRefund(spend::RefundCredit credit, std::function<void(spend::RefundResult)> done) override {
    refunds.push_back(credit);
    done(spend::RefundResult{spend::RefundStatus::kCredited, 1200, {}, ""});
  }
  void balance(const std::string& tenant_id, const std::string& time_zone,
               std::function<void(spend::BalanceReport)> done) override {
    balance_reads.emplace_back(tenant_id, time_zone);
    done(balance_report);
  }
  void transactions(const std::string& tenant_id, std::int64_t offset, std::int64_t count,
                    std::function<void(spend::LedgerPage)> done) override {
    pages.push_back({offset, count});
    done(ledger_page);
  }
  void claimDue(std::size_t, std::chrono::milliseconds, std::function<void(spend::ClaimResult)> done) override {
    done(spend::ClaimResult{true, {}, ""});
  }

  spend::ReserveResult reserve_result{spend::ReserveStatus::kReserved, "rsv_1", 0, {}, ""};
  spend::SettleResult settle_result{spend::SettleStatus::kSettled, {}, ""};
  spend::BalanceReport balance_report;
  spend::LedgerPage ledger_page{true, 0, {}, ""};
  std::vector<spend::ReservationRequest> reservations;
  std::vector<std::pair<spend::Reservation, spend::OrderCharge>> commits;
  std::vector<spend::Reservation> releases;
  std::vector<std::pair<spend::Reservation, std::chrono::milliseconds>> deferrals;
  std::vector<spend::RefundCredit> refunds;
  std::vector<std::pair<std::string, std::string>> balance_reads;
  std::vector<std::pair<std::int64_t, std::int64_t>> pages;
};

// Idempotency records in memory, with the same rules as the Redis store.
class MemoryIdempotencyStore : public idempotency::IdempotencyStore {
 public:
  struct Record {
    std::string fingerprint;
    std::string request_id;
    std::optional<idempotency::StoredResponse> response;
  };

  void begin(const std::string& tenant_id, std::string_view key, const std::string& fingerprint,
             const std::string& request_id, std::chrono::milliseconds,
             std::function<void(idempotency::BeginResult)> done) override {
    idempotency::BeginResult result;
    result.record_key = tenant_id + "/" + std::string(key);
    if (failing) {
      result.error = "connection refused";
      done(result);
      return;
    }
    const auto found = records.find(result.record_key);
    if (found == records.end()) {
      records[result.record_key] = Record{fingerprint, request_id, std::nullopt};
      result.status = idempotency::BeginStatus::kStarted;
    } else if (found->second.fingerprint != fingerprint) {
      result.status = idempotency::BeginStatus::kMismatch;
    } else if (!found->second.response) {
      result.status = idempotency::BeginStatus::kRunning;
    } else {
      result.status = idempotency::BeginStatus::kReplay;
      result.stored = found->second.response;
    }
    done(result);
  }
  void complete(const std::string& record_key, const std::string& request_id,
                idempotency::StoredResponse response, std::function<void(bool)> done) override {
    completed.push_back(record_key);
    auto& record = records.at(record_key);
    EXPECT_EQ(record.request_id, request_id);
    record.response = std::move(response);
    done(true);
  }
  void abandon(const std::string& record_key, const std::string& request_id,
               std::function<void(bool)> done) override {
    abandoned.push_back(record_key);
    EXPECT_EQ(records.at(record_key).request_id, request_id);
    records.erase(record_key);
    done(true);
  }

  bool failing = false;
  std::map<std::string, Record> records;
  std::vector<std::string> completed;
  std::vector<std::string> abandoned;
};

// One tenant, acme, with a markup of 20 % and the spend controls of `plan`.
std::shared_ptr<const PolicySnapshot> snapshotWith(const config::Plan& plan, metrics::GatewayMetrics& metrics) {
  config::Policies policies;
  policies.plans[plan.name] = plan;
  config::Tenant acme;
  acme.id = "acme";
  acme.plan_name = plan.name;
  acme.upstream = "main";
  acme.plan = plan;
  acme.keys = {{kKey, common::sha256Hex(kSecret), std::nullopt}};
  policies.tenants["acme"] = acme;

  auto target = std::make_shared<upstream::UpstreamTarget>();
  target->name = "main";
  target->base_url = "http://127.0.0.1:18099";
  target->timeout = 15s;
  return std::make_shared<PolicySnapshot>(std::move(policies),
                                          std::map<std::string, std::shared_ptr<const upstream::UpstreamTarget>>{
                                              {"main", target}},
                                          metrics);
}

config::Plan limitedPlan() {
  config::Plan plan;
  plan.name = "limited";
  plan.spend.daily_usd_cents = 10000;
  plan.spend.monthly_usd_cents = 50000;
  config::Markup markup;
  markup.base.percent_ten_thousandths = 200000;  // 20 %
  plan.markup = markup;
  return plan;
}

// The simulator's answer to an order of two units of kSku at 10.00 USD.
std::string upstreamOrder(const std::string& order_id = "ord_1") {
  return Json{{"success", true},
              {"message", "Order completed"},
              {"data",
               {{"order_id", order_id},
                {"status", "completed"},
                {"sku", kSku},
                {"quantity", 2},
                {"unit_price", {{"usd", 10}, {"mxn", 182.5}}},
                {"total", {{"usd", 20}, {"mxn", 365}}},
                {"esims", Json::array()},
                {"transactions", Json::array()}}}}
      .dump();
}

std::string orderBody(int quantity = 2) {
  return Json{{"reference_id", "customer-1"}, {"sku", kSku}, {"quantity", quantity}}.dump();
}

std::string headerOf(const HeaderList& headers, std::string_view name) {
  for (const auto& [header, value] : headers) {
    if (common::equalsIgnoreCase(header, name)) return value;
  }
  return "";
}

class SpendPipelineTest : public ::testing::Test {
 protected:
  void usePlan(const config::Plan& plan) { policies_.replace(snapshotWith(plan, metrics_)); }

  OutgoingResponse send(const std::string& method, const std::string& path, const std::string& body = "",
                        HeaderList extra = {}) {
    IncomingRequest request;
    request.method = method;
    const auto question = path.find('?');
    request.raw_path = path.substr(0, question);
    if (question != std::string::npos) {
      for (auto pair : common::split(std::string_view(path).substr(question + 1), '&')) {
        const auto equals = pair.find('=');
        request.query.emplace_back(std::string(pair.substr(0, equals)), std::string(pair.substr(equals + 1)));
      }
    }
    request.body = body;
    request.client_address = "127.0.0.1";
    request.headers = std::move(extra);
    request.headers.emplace_back("x-api-key", kKey);
    request.headers.emplace_back("x-api-secret", kSecret);
    std::vector<OutgoingResponse> responses;
    pipeline_.handle(std::move(request), [&responses](OutgoingResponse response) {
      responses.push_back(std::move(response));
    });
    EXPECT_EQ(responses.size(), 1u) << "the responder must run exactly once";
    return responses.empty() ? OutgoingResponse{} : responses[0];
  }

  OutgoingResponse order(HeaderList extra = {}, int quantity = 2) {
    return send("POST", "/orders", orderBody(quantity), std::move(extra));
  }

  FixedClock clock_;
  ScriptedUpstream upstream_;
  std::FILE* log_file_ = std::fopen("/dev/null", "w");
  log::Logger logger_{log_file_, log::Level::kDebug};
  metrics::GatewayMetrics metrics_;
  PolicyStore policies_{snapshotWith(limitedPlan(), metrics_)};
  NoQuotas quotas_;
  UnlimitedBudget budget_;
  OneOfferCatalog catalog_;
  RecordingLedger ledger_;
  MemoryIdempotencyStore idempotency_;
  RequestPipeline pipeline_{policies_, upstream_, clock_, logger_, metrics_, quotas_, budget_,
                            PipelineOptions{1024, 30s}, &catalog_, nullptr, &ledger_, &idempotency_};
};

TEST_F(SpendPipelineTest, OrderReservesMarkedUpTotal) {
  upstream_.reply("/orders", 201, upstreamOrder());

  const OutgoingResponse response = order();

  ASSERT_EQ(response.status, 201) << response.body;
  ASSERT_EQ(ledger_.reservations.size(), 1u);
  const spend::ReservationRequest& reservation = ledger_.reservations[0];
  EXPECT_EQ(reservation.tenant_id, "acme");
  EXPECT_EQ(reservation.amount_cents, 2400) << "2 × (10.00 + 20 %)";
  EXPECT_EQ(reservation.daily_limit_cents, 10000);
  EXPECT_EQ(reservation.monthly_limit_cents, 50000);
  EXPECT_FALSE(reservation.prepaid);
  EXPECT_EQ(reservation.sku, kSku);
  EXPECT_EQ(reservation.quantity, 2);
  EXPECT_EQ(reservation.owner_field, "reference_id");
  EXPECT_EQ(reservation.owner, "customer-1");
  EXPECT_EQ(reservation.upstream, "main");
  EXPECT_EQ(reservation.settle_after, 45s) << "upstream timeout plus reconcile_after";
  EXPECT_EQ(Json::parse(response.body)["data"]["total"]["usd"], 24) << "the tenant sees what was reserved";
}

TEST_F(SpendPipelineTest, CompletedOrderCommitted) {
  upstream_.reply("/orders", 201, upstreamOrder("ord_42"));

  order();

  ASSERT_EQ(ledger_.commits.size(), 1u);
  const auto& [reservation, charge] = ledger_.commits[0];
  EXPECT_EQ(reservation.id, "rsv_1");
  EXPECT_EQ(reservation.amount_cents, 2400);
  EXPECT_EQ(charge.order_id, "ord_42");
  EXPECT_EQ(charge.unit_cents, 1200);
  EXPECT_EQ(charge.quantity, 2);
  EXPECT_TRUE(ledger_.releases.empty());
  EXPECT_TRUE(ledger_.deferrals.empty());
}

TEST_F(SpendPipelineTest, OverLimitIs402WithoutUpstream) {
  ledger_.reserve_result = {spend::ReserveStatus::kOverDailyLimit, "", 1500, {}, ""};

  const OutgoingResponse response = order();

  EXPECT_EQ(response.status, 402);
  const Json body = Json::parse(response.body);
  EXPECT_EQ(body["code"], "spend_limit_exceeded");
  EXPECT_EQ(body["message"],
            "The order total of 24.00 USD exceeds the daily spend limit: 15.00 USD of 100.00 USD remain today.");
  EXPECT_TRUE(upstream_.requests.empty());
  EXPECT_TRUE(ledger_.commits.empty());
}

TEST_F(SpendPipelineTest, SpendLimitMessageInSpanish) {
  ledger_.reserve_result = {spend::ReserveStatus::kOverWallet, "", 500, {}, ""};

  const OutgoingResponse response = order({{"accept-language", "es-MX"}});

  EXPECT_EQ(response.status, 402);
  EXPECT_EQ(Json::parse(response.body)["message"],
            "El total del pedido, 24.00 USD, supera el saldo prepagado disponible de 5.00 USD.");
}

TEST_F(SpendPipelineTest, UpstreamRejectionReleases) {
  upstream_.reply("/orders", 422, R"({"success":false,"message":"Bundle offer FD-MX-5GB-30D is inactive"})");

  const OutgoingResponse response = order();

  EXPECT_EQ(response.status, 422);
  ASSERT_EQ(ledger_.releases.size(), 1u);
  EXPECT_EQ(ledger_.releases[0].id, "rsv_1");
  EXPECT_TRUE(ledger_.commits.empty());
  EXPECT_TRUE(ledger_.deferrals.empty());
}

TEST_F(SpendPipelineTest, UnknownOutcomeDeferred) {
  for (const auto error : {upstream::TransportError::kTimeout, upstream::TransportError::kConnectFailed,
                           upstream::TransportError::kInvalidResponse}) {
    ledger_.deferrals.clear();
    upstream_.failWith("/orders", error);

    order();

    ASSERT_EQ(ledger_.deferrals.size(), 1u);
    EXPECT_EQ(ledger_.deferrals[0].second, 30s);
  }
  upstream_.reply("/orders", 503, R"({"success":false,"message":"Service temporarily unavailable"})");
  ledger_.deferrals.clear();

  const OutgoingResponse response = order();

  EXPECT_EQ(response.status, 502);
  EXPECT_EQ(ledger_.deferrals.size(), 1u) << "a 5xx may come after the order was made";
  EXPECT_TRUE(ledger_.releases.empty());
  EXPECT_TRUE(ledger_.commits.empty());
}

TEST_F(SpendPipelineTest, UnknownSkuRejectedBeforeReserving) {
  const OutgoingResponse response = send("POST", "/orders",
                                         Json{{"reference_id", "c"}, {"sku", "FD-NOPE"}, {"quantity", 1}}.dump());

  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(Json::parse(response.body)["message"], "Bundle offer FD-NOPE not found");
  EXPECT_TRUE(ledger_.reservations.empty());
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(SpendPipelineTest, MissingCatalogRejectsLimitedOrder) {
  catalog_.available = false;

  const OutgoingResponse response = order();

  EXPECT_EQ(response.status, 502);
  EXPECT_TRUE(ledger_.reservations.empty());
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(SpendPipelineTest, InvalidQuantityRejected) {
  for (const Json& quantity : {Json(0), Json(11), Json("2"), Json(1.5), Json(nullptr)}) {
    SCOPED_TRACE(quantity.dump());

    const OutgoingResponse response =
        send("POST", "/orders", Json{{"reference_id", "c"}, {"sku", kSku}, {"quantity", quantity}}.dump());

    EXPECT_EQ(response.status, 400);
    EXPECT_EQ(Json::parse(response.body)["message"],
              "Field quantity is required and must be a whole number from 1 to 10");
  }
  EXPECT_TRUE(ledger_.reservations.empty());
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(SpendPipelineTest, UnlimitedTenantNeedsNoCatalog) {
  config::Plan plan;
  plan.name = "open";
  usePlan(plan);
  upstream_.reply("/orders", 201, upstreamOrder());

  const OutgoingResponse response = order();

  ASSERT_EQ(response.status, 201);
  EXPECT_EQ(catalog_.lookups, 0);
  ASSERT_EQ(ledger_.reservations.size(), 1u);
  EXPECT_EQ(ledger_.reservations[0].amount_cents, 0) << "nothing to hold, the commit records the total";
  ASSERT_EQ(ledger_.commits.size(), 1u);
  EXPECT_EQ(ledger_.commits[0].second.unit_cents, 1000) << "without markup the tenant pays the upstream price";
}

TEST_F(SpendPipelineTest, RedisFailureRejectsLimitedOrder) {
  ledger_.reserve_result = {spend::ReserveStatus::kFailed, "", 0, {}, "connection refused"};

  const OutgoingResponse response = order();

  EXPECT_EQ(response.status, 500);
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(SpendPipelineTest, RedisFailureForwardsUnlimitedOrder) {
  config::Plan plan;
  plan.name = "open";
  usePlan(plan);
  ledger_.reserve_result = {spend::ReserveStatus::kFailed, "", 0, {}, "connection refused"};
  upstream_.reply("/orders", 201, upstreamOrder());

  const OutgoingResponse response = order();

  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(upstream_.requests.size(), 1u);
  EXPECT_TRUE(ledger_.commits.empty()) << "no reservation was made";
}

TEST_F(SpendPipelineTest, PrepaidTenantReservesAgainstWallet) {
  config::Plan plan = limitedPlan();
  plan.wallet_enabled = true;
  plan.time_zone = "America/Mexico_City";
  usePlan(plan);
  upstream_.reply("/orders", 201, upstreamOrder());

  order();

  ASSERT_EQ(ledger_.reservations.size(), 1u);
  EXPECT_TRUE(ledger_.reservations[0].prepaid);
  EXPECT_EQ(ledger_.reservations[0].time_zone, "America/Mexico_City");
}

TEST_F(SpendPipelineTest, RefundCreditedFromResponse) {
  upstream_.reply("/refund", 200,
                  Json{{"success", true},
                       {"data",
                        {{"refund_id", "rfd_1"},
                         {"order_id", "ord_1"},
                         {"amount", {{"usd", 10}, {"mxn", 182.5}}},
                         {"items", Json::array({{{"bundle_id", "bdl_1"},
                                                 {"esim_id", "esm_1"},
                                                 {"sku", kSku},
                                                 {"amount", {{"usd", 10}, {"mxn", 182.5}}}}})},
                         {"transactions", Json::array()}}}}
                      .dump());

  const OutgoingResponse response = send("POST", "/refund", R"({"order_id":"ord_1","esim_ids":["esm_1"]})");

  ASSERT_EQ(response.status, 200) << response.body;
  ASSERT_EQ(ledger_.refunds.size(), 1u);
  EXPECT_EQ(ledger_.refunds[0].tenant_id, "acme");
  EXPECT_EQ(ledger_.refunds[0].order_id, "ord_1");
  EXPECT_EQ(ledger_.refunds[0].refund_id, "rfd_1");
  EXPECT_EQ(ledger_.refunds[0].item_count, 1);
  EXPECT_EQ(Json::parse(response.body)["data"]["amount"]["usd"], 12) << "the tenant sees its own price";
}

TEST_F(SpendPipelineTest, FailedRefundNotCredited) {
  upstream_.reply("/refund", 409, R"({"success":false,"message":"eSIM esm_1 is already refunded"})");

  const OutgoingResponse response = send("POST", "/refund", R"({"esim_id":"esm_1"})");

  EXPECT_EQ(response.status, 409);
  EXPECT_TRUE(ledger_.refunds.empty());
}

TEST_F(SpendPipelineTest, BalanceFromOwnLedger) {
  config::Plan plan = limitedPlan();
  plan.wallet_enabled = true;
  usePlan(plan);
  ledger_.balance_report.ok = true;
  ledger_.balance_report.wallet_balance_cents = 12550;
  ledger_.balance_report.wallet_reserved_cents = 500;
  ledger_.balance_report.day = {"2027-01-01", 2400, 500, 1798848000000};
  ledger_.balance_report.month = {"2027-01", 2400, 500, 1801440000000};

  const OutgoingResponse response = send("GET", "/credits/balance");

  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_TRUE(upstream_.requests.empty()) << "the reseller's balance is never shown";
  const Json data = Json::parse(response.body)["data"];
  EXPECT_EQ(data["usd"], 120.5);
  EXPECT_TRUE(data["mxn"].is_null());
  EXPECT_EQ(data["prepaid"], true);
  EXPECT_EQ(data["wallet"]["balance"], 125.5);
  EXPECT_EQ(data["wallet"]["reserved"], 5);
  EXPECT_EQ(data["spend"]["day"]["period"], "2027-01-01");
  EXPECT_EQ(data["spend"]["day"]["spent"], 24);
  EXPECT_EQ(data["spend"]["day"]["limit"], 100);
  EXPECT_EQ(data["spend"]["day"]["remaining"], 71);
  EXPECT_EQ(data["spend"]["day"]["resets_at"], "2027-01-02T00:00:00.000Z");
  EXPECT_EQ(data["spend"]["month"]["limit"], 500);
}

TEST_F(SpendPipelineTest, BalanceWithoutWalletOrLimits) {
  config::Plan plan;
  plan.name = "open";
  usePlan(plan);
  ledger_.balance_report.ok = true;

  const Json data = Json::parse(send("GET", "/credits/balance").body)["data"];

  EXPECT_TRUE(data["usd"].is_null());
  EXPECT_EQ(data["prepaid"], false);
  EXPECT_TRUE(data["wallet"].is_null());
  EXPECT_TRUE(data["spend"]["day"]["limit"].is_null());
  EXPECT_TRUE(data["spend"]["day"]["remaining"].is_null());
}

TEST_F(SpendPipelineTest, BalanceReadFailureIs500) {
  ledger_.balance_report.ok = false;
  ledger_.balance_report.error = "connection refused";

  const OutgoingResponse response = send("GET", "/credits/balance");

  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body.find("connection refused"), std::string::npos);
}

TEST_F(SpendPipelineTest, TransactionsPagedFromLedger) {
  spend::LedgerEntry entry;
  entry.transaction_id = "txn_1";
  entry.type = "order";
  entry.amount_cents = -2400;
  entry.order_id = "ord_1";
  entry.created_at_ms = 1798761600123;
  ledger_.ledger_page = {true, 7, {entry}, ""};

  const OutgoingResponse response = send("GET", "/credits/transactions?page=3&limit=2");

  ASSERT_EQ(response.status, 200) << response.body;
  ASSERT_EQ(ledger_.pages.size(), 1u);
  EXPECT_EQ(ledger_.pages[0].first, 4);
  EXPECT_EQ(ledger_.pages[0].second, 2);
  const Json body = Json::parse(response.body);
  EXPECT_EQ(body["pagination"], (Json{{"page", 3}, {"limit", 2}, {"total", 7}}));
  ASSERT_EQ(body["data"].size(), 1u);
  const Json& item = body["data"][0];
  EXPECT_EQ(item["transaction_id"], "txn_1");
  EXPECT_EQ(item["type"], "order");
  EXPECT_EQ(item["currency"], "usd");
  EXPECT_EQ(item["amount"], -24);
  EXPECT_TRUE(item["balance_after"].is_null());
  EXPECT_EQ(item["order_id"], "ord_1");
  EXPECT_EQ(item["created_at"], "2027-01-01T00:00:00.123Z");
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(SpendPipelineTest, TransactionQueryChecked) {
  for (const char* query : {"page=0", "limit=501", "limit=abc", "currency=eur", "page=01"}) {
    SCOPED_TRACE(query);
    EXPECT_EQ(send("GET", std::string("/credits/transactions?") + query).status, 400);
  }
  EXPECT_TRUE(ledger_.pages.empty());
}

TEST_F(SpendPipelineTest, MxnTransactionsEmpty) {
  const Json body = Json::parse(send("GET", "/credits/transactions?currency=mxn").body);

  EXPECT_TRUE(body["data"].empty());
  EXPECT_EQ(body["pagination"]["total"], 0);
  EXPECT_TRUE(ledger_.pages.empty());
}

TEST_F(SpendPipelineTest, RepeatReplaysFirstResponse) {
  upstream_.reply("/orders", 201, upstreamOrder());
  const OutgoingResponse first = order({{"idempotency-key", "key-1"}});
  ASSERT_EQ(first.status, 201);

  const OutgoingResponse repeat = order({{"idempotency-key", "key-1"}});

  EXPECT_EQ(repeat.status, 201);
  EXPECT_EQ(repeat.body, first.body);
  EXPECT_EQ(headerOf(repeat.headers, "Idempotent-Replayed"), "true");
  EXPECT_EQ(upstream_.requests.size(), 1u);
  EXPECT_EQ(ledger_.reservations.size(), 1u);
  EXPECT_EQ(idempotency_.completed.size(), 1u);
}

TEST_F(SpendPipelineTest, RepeatWhileRunningIs409) {
  idempotency_.records["acme/key-1"] = {
      idempotency::requestFingerprint("orders.create", orderBody()), "req-other", std::nullopt};

  const OutgoingResponse response = order({{"idempotency-key", "key-1"}});

  EXPECT_EQ(response.status, 409);
  EXPECT_EQ(Json::parse(response.body)["code"], "conflict");
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(SpendPipelineTest, OtherBodyWithKeyIs422) {
  upstream_.reply("/orders", 201, upstreamOrder());
  order({{"idempotency-key", "key-1"}}, 2);

  const OutgoingResponse response = order({{"idempotency-key", "key-1"}}, 3);

  EXPECT_EQ(response.status, 422);
  EXPECT_EQ(Json::parse(response.body)["code"], "unprocessable");
  EXPECT_EQ(upstream_.requests.size(), 1u);
}

TEST_F(SpendPipelineTest, InvalidKeyIs400) {
  const OutgoingResponse response = order({{"idempotency-key", std::string(256, 'k')}});

  EXPECT_EQ(response.status, 400);
  EXPECT_TRUE(idempotency_.records.empty());
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(SpendPipelineTest, RejectedOrderLetsKeyRetry) {
  ledger_.reserve_result = {spend::ReserveStatus::kOverDailyLimit, "", 0, {}, ""};
  ASSERT_EQ(order({{"idempotency-key", "key-1"}}).status, 402);
  EXPECT_EQ(idempotency_.abandoned.size(), 1u);

  ledger_.reserve_result = {spend::ReserveStatus::kReserved, "rsv_2", 0, {}, ""};
  upstream_.reply("/orders", 201, upstreamOrder());

  EXPECT_EQ(order({{"idempotency-key", "key-1"}}).status, 201) << "the retry runs once the limit allows it";
}

TEST_F(SpendPipelineTest, UpstreamClientErrorStored) {
  upstream_.reply("/orders", 422, R"({"success":false,"message":"Bundle offer FD-MX-5GB-30D is inactive"})");
  order({{"idempotency-key", "key-1"}});

  const OutgoingResponse repeat = order({{"idempotency-key", "key-1"}});

  EXPECT_EQ(repeat.status, 422);
  EXPECT_EQ(headerOf(repeat.headers, "Idempotent-Replayed"), "true");
  EXPECT_EQ(upstream_.requests.size(), 1u);
}

TEST_F(SpendPipelineTest, UnknownOutcomeKeepsRecordRunning) {
  upstream_.failWith("/orders", upstream::TransportError::kTimeout);
  ASSERT_EQ(order({{"idempotency-key", "key-1"}}).status, 504);

  EXPECT_TRUE(idempotency_.completed.empty());
  EXPECT_TRUE(idempotency_.abandoned.empty());
  ASSERT_EQ(ledger_.reservations.size(), 1u);
  EXPECT_EQ(ledger_.reservations[0].idempotency_record, "acme/key-1");
  EXPECT_EQ(order({{"idempotency-key", "key-1"}}).status, 409) << "reconciliation settles the key";
  EXPECT_EQ(upstream_.requests.size(), 1u);
}

TEST_F(SpendPipelineTest, KeyIgnoredOnOtherRoutes) {
  send("GET", "/orders", "", {{"idempotency-key", "key-1"}});

  EXPECT_TRUE(idempotency_.records.empty());
  EXPECT_EQ(upstream_.requests.size(), 1u);
}

TEST_F(SpendPipelineTest, TicketsUseKeys) {
  upstream_.reply("/tickets", 201, R"({"success":true,"data":{"ticket_id":"tkt_1"}})");
  const std::string ticket = R"({"category_key":"billing","subject":"s","description":"d"})";
  send("POST", "/tickets", ticket, {{"idempotency-key", "key-1"}});

  const OutgoingResponse repeat = send("POST", "/tickets", ticket, {{"idempotency-key", "key-1"}});

  EXPECT_EQ(repeat.status, 201);
  EXPECT_EQ(upstream_.requests.size(), 1u);
}

TEST_F(SpendPipelineTest, IdempotencyRedisFailureIs500) {
  idempotency_.failing = true;

  const OutgoingResponse response = order({{"idempotency-key", "key-1"}});

  EXPECT_EQ(response.status, 500);
  EXPECT_TRUE(upstream_.requests.empty());
}

TEST_F(SpendPipelineTest, SpendMetricsExported) {
  ledger_.settle_result.state.day_committed_cents = 2400;
  ledger_.settle_result.state.month_committed_cents = 7400;
  upstream_.reply("/orders", 201, upstreamOrder());

  order();

  const std::string text = metrics_.render();
  EXPECT_NE(text.find(R"(fdgw_spend_usd{tenant="acme",window="day"} 24)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(fdgw_spend_usd{tenant="acme",window="month"} 74)"), std::string::npos);
  EXPECT_NE(text.find(R"(fdgw_spend_limit_usd{tenant="acme",window="day"} 100)"), std::string::npos);
  EXPECT_NE(text.find(R"(fdgw_spend_limit_usd{tenant="acme",window="month"} 500)"), std::string::npos);
}

TEST_F(SpendPipelineTest, RemovedLimitExportsZero) {
  config::Plan plan;
  plan.name = "open";
  usePlan(plan);

  const std::string text = metrics_.render();

  EXPECT_NE(text.find(R"(fdgw_spend_limit_usd{tenant="acme",window="day"} 0)"), std::string::npos) << text;
}

}  // namespace
}  // namespace fdgw::proxy
