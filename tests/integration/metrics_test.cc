// Exact values on the admin /metrics endpoint after a known sequence of
// requests through a real gateway, simulator and redis-server.

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace fdgw::testing {
namespace {

using Labels = std::map<std::string, std::string>;

struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

// Reads a label value that starts after its opening quote and returns the
// position after the closing quote. Handles the \\, \" and \n escapes of the
// Prometheus text format.
std::size_t readLabelValue(const std::string& line, std::size_t position, std::string& value) {
  while (position < line.size() && line[position] != '"') {
    if (line[position] == '\\' && position + 1 < line.size()) {
      ++position;
      value += line[position] == 'n' ? '\n' : line[position];
    } else {
      value += line[position];
    }
    ++position;
  }
  return position + 1;
}

// Parses the samples of a Prometheus text exposition (version 0.0.4),
// skipping comment lines. Fails the test on a sample it cannot read.
std::vector<Sample> parseMetrics(const std::string& text) {
  std::vector<Sample> samples;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    Sample sample;
    std::size_t position = line.find_first_of("{ ");
    sample.name = line.substr(0, position);
    if (position != std::string::npos && line[position] == '{') {
      ++position;
      while (position < line.size() && line[position] != '}') {
        const std::size_t equals = line.find("=\"", position);
        if (equals == std::string::npos) {
          ADD_FAILURE() << "cannot read the labels of the metrics line: " << line;
          break;
        }
        const std::string name = line.substr(position, equals - position);
        position = readLabelValue(line, equals + 2, sample.labels[name]);
        if (position < line.size() && line[position] == ',') ++position;
      }
      ++position;  // the closing brace
    }
    std::istringstream value(position < line.size() ? line.substr(position) : std::string());
    std::string number;
    value >> number;
    char* end = nullptr;
    sample.value = std::strtod(number.c_str(), &end);
    if (number.empty() || *end != '\0') {
      ADD_FAILURE() << "cannot read the value of the metrics line: " << line;
      continue;
    }
    samples.push_back(std::move(sample));
  }
  return samples;
}

// The samples of one /metrics response, looked up by name and labels.
class MetricsSnapshot {
 public:
  explicit MetricsSnapshot(const std::string& text) : samples_(parseMetrics(text)) {}

  // Returns the value of the series with exactly these labels, or nullopt
  // when the gateway does not export that series.
  std::optional<double> value(const std::string& name, const Labels& labels) const {
    for (const auto& sample : samples_) {
      if (sample.name == name && sample.labels == labels) return sample.value;
    }
    return std::nullopt;
  }

  // Returns the number of series of `name`.
  int seriesCount(const std::string& name) const {
    int count = 0;
    for (const auto& sample : samples_) count += sample.name == name;
    return count;
  }

  // Returns the sum over every series of `name`.
  double sum(const std::string& name) const {
    double total = 0;
    for (const auto& sample : samples_) {
      if (sample.name == name) total += sample.value;
    }
    return total;
  }

 private:
  std::vector<Sample> samples_;
};

// alpha's plan "open" gets a quota on every route that does not fill up,
// and a quota of 2 requests a minute on catalog.compatibility.
const std::string kPlans =
    "plans:\n"
    "  open:\n"
    "    quotas:\n"
    "      - {name: per-minute, routes: all, limit: 1000, window: 1m}\n"
    "      - {name: compatibility, routes: [catalog.compatibility], limit: 2, window: 1m}\n"
    "  limited:\n"
    "    routes: {deny: [status.check]}\n";

TEST(MetricsTest, CountersMatchRequestSequence) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "0"});
  RedisProcess redis(dir.path());
  GatewayOptions options;
  options.upstream_url = sim.baseUrl();
  options.redis_url = redis.url();
  options.redis_timeout_ms = 500;
  options.plans_yaml = kPlans;
  GatewayProcess gateway(dir.path(), options);

  // The known sequence, one request at a time.
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(gateway.call(kAlpha, "GET", "/tickets/categories").status, 200);
  }
  ASSERT_EQ(gateway.call(kAlpha, "GET", "/catalog/compatibility").status, 200);
  ASSERT_EQ(gateway.call(kAlpha, "GET", "/catalog/compatibility").status, 200);
  const auto limited = gateway.call(kAlpha, "GET", "/catalog/compatibility");
  ASSERT_EQ(limited.status, 429) << limited.body;
  ASSERT_EQ(limited.json()["code"], "rate_limited");
  // An unknown order: the upstream returns 404 and the gateway passes it on.
  ASSERT_EQ(gateway.call(kAlpha, "GET", "/orders/ord_0000000000000000").status, 404);
  const auto order = gateway.call(
      kAlpha, "POST", "/orders",
      R"({"reference_id": "metrics-1", "sku": "FD-MX-5GB-30D", "quantity": 1})");
  ASSERT_EQ(order.status, 201) << order.body;
  // A body that is not a JSON object is rejected before the quota step.
  ASSERT_EQ(gateway.call(kAlpha, "POST", "/orders", "[1]").status, 400);
  // No route matches, so the request counts under tenant "unknown".
  ASSERT_EQ(gateway.call(kAlpha, "GET", "/no-such-route").status, 404);
  ASSERT_EQ(gateway.call(kAlpha, "GET", "/no-such-route").status, 404);

  const std::string destinations = gateway.baseUrl() + "/tickets/categories";
  ASSERT_EQ(httpRequest("GET", destinations).status, 401);
  ASSERT_EQ(httpRequest("GET", destinations,
                        {{"x-api-key", std::string(32, 'z')}, {"x-api-secret", kAlpha.secret}})
                .status,
            401);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(httpRequest("GET", destinations,
                          {{"x-api-key", kAlpha.key}, {"x-api-secret", kBeta.secret}})
                  .status,
              401);
  }

  const MetricsSnapshot metrics(gateway.metrics());
  const std::string requests = "fdgw_requests_total";
  EXPECT_EQ(metrics.value(requests, {{"tenant", "alpha"}, {"route", "tickets.categories"}, {"code", "200"}}), 3);
  EXPECT_EQ(metrics.value(requests, {{"tenant", "alpha"}, {"route", "catalog.compatibility"}, {"code", "200"}}), 2);
  EXPECT_EQ(metrics.value(requests, {{"tenant", "alpha"}, {"route", "catalog.compatibility"}, {"code", "429"}}), 1);
  EXPECT_EQ(metrics.value(requests, {{"tenant", "alpha"}, {"route", "orders.get"}, {"code", "404"}}), 1);
  EXPECT_EQ(metrics.value(requests, {{"tenant", "alpha"}, {"route", "orders.create"}, {"code", "201"}}), 1);
  EXPECT_EQ(metrics.value(requests, {{"tenant", "alpha"}, {"route", "orders.create"}, {"code", "400"}}), 1);
  EXPECT_EQ(metrics.value(requests, {{"tenant", "unknown"}, {"route", "none"}, {"code", "404"}}), 2);
  EXPECT_EQ(metrics.value(requests, {{"tenant", "unknown"}, {"route", "tickets.categories"}, {"code", "401"}}), 4);
  EXPECT_EQ(metrics.seriesCount(requests), 8);
  EXPECT_EQ(metrics.sum(requests), 15);

  const std::string durations = "fdgw_request_duration_seconds_count";
  EXPECT_EQ(metrics.value(durations, {{"tenant", "alpha"}, {"route", "tickets.categories"}}), 3);
  EXPECT_EQ(metrics.value(durations, {{"tenant", "unknown"}, {"route", "tickets.categories"}}), 4);
  EXPECT_EQ(metrics.sum(durations), 15);

  const std::string auth_failures = "fdgw_auth_failures_total";
  EXPECT_EQ(metrics.value(auth_failures, {{"reason", "missing"}}), 1);
  EXPECT_EQ(metrics.value(auth_failures, {{"reason", "unknown_key"}}), 1);
  EXPECT_EQ(metrics.value(auth_failures, {{"reason", "wrong_secret"}}), 2);
  EXPECT_EQ(metrics.value(auth_failures, {{"reason", "malformed"}}), 0);
  EXPECT_EQ(metrics.value(auth_failures, {{"reason", "ambiguous"}}), 0);
  EXPECT_EQ(metrics.value(auth_failures, {{"reason", "expired"}}), 0);

  // Every request that reached the quota step counts once for each quota
  // whose routes match it. The per-minute quota records the rejected
  // compatibility request as an allowed decision because it had room. But a
  // rejected request uses no quota, so per-minute has used 7, not 8.
  const std::string decisions = "fdgw_quota_decisions_total";
  EXPECT_EQ(metrics.value(decisions, {{"tenant", "alpha"}, {"quota", "per-minute"}, {"decision", "allowed"}}), 8);
  EXPECT_EQ(metrics.value(decisions, {{"tenant", "alpha"}, {"quota", "compatibility"}, {"decision", "allowed"}}), 2);
  EXPECT_EQ(metrics.value(decisions, {{"tenant", "alpha"}, {"quota", "compatibility"}, {"decision", "rejected"}}), 1);
  EXPECT_EQ(metrics.seriesCount(decisions), 3);
  EXPECT_EQ(metrics.value("fdgw_quota_used", {{"tenant", "alpha"}, {"quota", "compatibility"}}), 2);
  EXPECT_EQ(metrics.value("fdgw_quota_limit", {{"tenant", "alpha"}, {"quota", "compatibility"}}), 2);
  EXPECT_EQ(metrics.value("fdgw_quota_used", {{"tenant", "alpha"}, {"quota", "per-minute"}}), 7);
  EXPECT_EQ(metrics.seriesCount("fdgw_redis_errors_total"), 0);

  const std::string upstream = "fdgw_upstream_requests_total";
  EXPECT_EQ(metrics.value(upstream, {{"upstream", "main"}, {"route", "tickets.categories"}, {"code", "200"}}), 3);
  EXPECT_EQ(metrics.value(upstream, {{"upstream", "main"}, {"route", "catalog.compatibility"}, {"code", "200"}}), 2);
  EXPECT_EQ(metrics.value(upstream, {{"upstream", "main"}, {"route", "orders.get"}, {"code", "404"}}), 1);
  EXPECT_EQ(metrics.value(upstream, {{"upstream", "main"}, {"route", "orders.create"}, {"code", "201"}}), 1);
  EXPECT_EQ(metrics.seriesCount(upstream), 4);
  EXPECT_EQ(metrics.sum(upstream), 7);
  EXPECT_EQ(metrics.sum("fdgw_upstream_duration_seconds_count"), 7);
  EXPECT_EQ(sim.requestsTotal(), 7);

  EXPECT_EQ(metrics.value("fdgw_orders_total", {{"tenant", "alpha"}, {"result", "completed"}}), 1);
  EXPECT_EQ(metrics.value("fdgw_orders_total", {{"tenant", "alpha"}, {"result", "rejected"}}), 1);
  EXPECT_EQ(metrics.seriesCount("fdgw_orders_total"), 2);
  // The plan has no markup, so the tenant pays the order's total as the
  // simulator returns it and the margin is 0.
  const double order_usd = order.json()["data"]["total"]["usd"].get<double>();
  EXPECT_GT(order_usd, 0);
  EXPECT_DOUBLE_EQ(metrics.value("fdgw_sales_usd_total", {{"tenant", "alpha"}}).value_or(-1), order_usd);
  EXPECT_EQ(metrics.value("fdgw_margin_usd_total", {{"tenant", "alpha"}}), 0);
  EXPECT_EQ(metrics.value("fdgw_inflight_requests", {}), 0);
  EXPECT_EQ(metrics.value("fdgw_config_reloads_total", {{"result", "success"}}), 0);
}

}  // namespace
}  // namespace fdgw::testing
