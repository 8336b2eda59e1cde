// Markup through real gateway processes: every offer of a generated catalog
// priced against an independent decimal reference, destinations and orders
// consistent with the offers, and the shared catalog cache.

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <optional>
#include <thread>

#include "tests/common/decimal_reference.h"
#include "tests/integration/harness.h"

namespace fdgw::testing {
namespace {

using Json = nlohmann::json;

// One markup rule as the test's reference reads it. Empty texts are unset
// fields, as in RuleText.
struct ReferenceOverride {
  std::vector<std::string> countries;
  std::string sku;
  std::string region;
  std::string profile;
  RuleText usd;
  RuleText mxn;
};

struct ReferenceMarkup {
  RuleText usd;
  RuleText mxn;
  std::vector<ReferenceOverride> overrides;
};

bool overrideMatches(const ReferenceOverride& rule, const Json& offer) {
  if (!rule.sku.empty() && offer.value("sku", "") != rule.sku) return false;
  if (!rule.region.empty() && (!offer["region"].is_string() || offer["region"] != rule.region)) return false;
  if (!rule.profile.empty() && offer.value("profile", "") != rule.profile) return false;
  if (!rule.countries.empty()) {
    bool any = false;
    for (const auto& code : offer["countries"]) {
      for (const auto& wanted : rule.countries) any = any || code == wanted;
    }
    if (!any) return false;
  }
  return true;
}

RuleText inherit(const RuleText& base, const RuleText& rule) {
  const auto pick = [](const std::string& own, const std::string& inherited) {
    return own.empty() ? inherited : own;
  };
  RuleText merged;
  merged.percent = pick(rule.percent, base.percent);
  merged.fixed = pick(rule.fixed, base.fixed);
  merged.min_margin = pick(rule.min_margin, base.min_margin);
  merged.rounding_mode = pick(rule.rounding_mode, base.rounding_mode);
  merged.rounding_amount = rule.rounding_mode.empty() ? base.rounding_amount : rule.rounding_amount;
  merged.fixed_price = pick(rule.fixed_price, base.fixed_price);
  return merged;
}

// The reference price of `offer` in `currency` ("usd" or "mxn").
Decimal expectedPrice(const ReferenceMarkup& markup, const Json& offer, const std::string& currency) {
  const RuleText& base = currency == "usd" ? markup.usd : markup.mxn;
  RuleText rule = base;
  for (const auto& candidate : markup.overrides) {
    if (overrideMatches(candidate, offer)) {
      rule = inherit(base, currency == "usd" ? candidate.usd : candidate.mxn);
      break;
    }
  }
  return referencePrice(decimalFromText(offer["price"][currency].dump()), rule);
}

std::string decimalText(const Decimal& value) {
  std::string digits = value.digits;
  if (value.scale == 0) return digits;
  while (digits.size() <= static_cast<std::size_t>(value.scale)) digits.insert(0, "0");
  return digits.substr(0, digits.size() - value.scale) + "." + digits.substr(digits.size() - value.scale);
}

// Every offer of `base_url`'s catalog by SKU, read page by page.
std::map<std::string, Json> allOffers(const std::function<HttpResult(const std::string&)>& get) {
  std::map<std::string, Json> offers;
  for (int page = 1; page < 100; ++page) {
    const HttpResult result = get("/catalog/bundle-offers?limit=500&page=" + std::to_string(page));
    if (result.status != 200) throw std::runtime_error("catalog page failed: " + result.body);
    const Json body = result.json();
    for (const Json& offer : body["data"]) offers[offer["sku"]] = offer;
    if (body["data"].empty() || static_cast<long>(offers.size()) >= body["pagination"]["total"].get<long>()) break;
  }
  return offers;
}

// Plans written in YAML and, beside them, the same rules for the reference.
// The SKU of the fixed-price override is filled in at run time.
std::string marginPlansYaml(const std::string& fixed_sku) {
  return "plans:\n"
         "  open:\n"
         "    markup:\n"
         "      percent: 20\n"
         "      fixed: {usd: 0.50, mxn: 9}\n"
         "      min_margin: {usd: 0.30, mxn: 5}\n"
         "      rounding: {usd: {ending: 0.99}, mxn: {nearest: 1}}\n"
         "      overrides:\n"
         "        - match: {countries: [US, CA]}\n"
         "          percent: 12\n"
         "        - match: {profile: unlimited-plus}\n"
         "          percent: 30\n"
         "          rounding: {usd: {up: 0.25}}\n"
         "        - match: {sku: " + fixed_sku + "}\n"
         "          price: {usd: 9.99, mxn: 179}\n"
         "  limited:\n"
         "    routes: {deny: [status.check]}\n"
         "    markup:\n"
         "      percent: 7.5\n"
         "      min_margin: {usd: 1, mxn: 20}\n"
         "      rounding: {usd: {up: 0.05}, mxn: {up: 0.5}}\n"
         "      overrides:\n"
         "        - match: {region: Europe}\n"
         "          percent: 3\n"
         "          fixed: {usd: 0.25}\n"
         "        - match: {countries: [MX], profile: standard}\n"
         "          rounding: {usd: {nearest: 0.1}}\n";
}

ReferenceMarkup openReference(const std::string& fixed_sku, const std::string& base_percent) {
  ReferenceMarkup markup;
  markup.usd = {base_percent, "0.50", "0.30", "ending", "0.99", ""};
  markup.mxn = {base_percent, "9", "5", "nearest", "1", ""};
  markup.overrides.push_back({{"US", "CA"}, "", "", "", {"12", "", "", "", "", ""}, {"12", "", "", "", "", ""}});
  markup.overrides.push_back(
      {{}, "", "", "unlimited-plus", {"30", "", "", "up", "0.25", ""}, {"30", "", "", "", "", ""}});
  markup.overrides.push_back({{}, fixed_sku, "", "", {"", "", "", "", "", "9.99"}, {"", "", "", "", "", "179"}});
  return markup;
}

ReferenceMarkup limitedReference() {
  ReferenceMarkup markup;
  markup.usd = {"7.5", "", "1", "up", "0.05", ""};
  markup.mxn = {"7.5", "", "20", "up", "0.5", ""};
  markup.overrides.push_back({{}, "", "Europe", "", {"3", "0.25", "", "", "", ""}, {"3", "", "", "", "", ""}});
  markup.overrides.push_back({{"MX"}, "", "", "standard", {"", "", "", "nearest", "0.1", ""}, {}});
  return markup;
}

TEST(MarkupTest, EveryOfferMatchesDecimalReference) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "0", "--offers", "1200"});
  RedisProcess redis(dir.path());
  const auto raw = allOffers([&](const std::string& path) { return sim.direct("GET", path); });
  ASSERT_GE(raw.size(), 1000u);
  std::string fixed_sku;
  for (const auto& [sku, offer] : raw) {
    if (fixed_sku.empty() && offer["countries"].size() == 1 && offer["countries"][0] == "MX") fixed_sku = sku;
  }
  ASSERT_FALSE(fixed_sku.empty());

  GatewayOptions options;
  options.upstream_url = sim.baseUrl();
  options.redis_url = redis.url();
  options.plans_yaml = marginPlansYaml(fixed_sku);
  options.tenant_extra_yaml[kGamma.id] = "    overrides:\n      markup: {percent: 15}\n";
  GatewayProcess gateway(dir.path(), options);

  const std::vector<std::pair<TestTenant, ReferenceMarkup>> cases = {
      {kAlpha, openReference(fixed_sku, "20")},
      {kBeta, limitedReference()},
      {kGamma, openReference(fixed_sku, "15")},
  };
  for (const auto& [tenant, reference] : cases) {
    const auto priced = allOffers([&](const std::string& path) { return gateway.call(tenant, "GET", path); });
    ASSERT_EQ(priced.size(), raw.size()) << tenant.id;
    int checked = 0;
    for (const auto& [sku, offer] : raw) {
      const Json& tenant_offer = priced.at(sku);
      for (const std::string currency : {"usd", "mxn"}) {
        const Decimal expected = expectedPrice(reference, offer, currency);
        const Decimal actual = decimalFromText(tenant_offer["price"][currency].dump());
        ASSERT_EQ(compareDecimals(actual, expected), 0)
            << tenant.id << " " << sku << " " << currency << ": gateway " << tenant_offer["price"][currency].dump()
            << ", reference " << decimalText(expected) << ", cost " << offer["price"][currency].dump();
        // Never below cost plus the minimum margin.
        ASSERT_GE(compareDecimals(actual, decimalFromText(offer["price"][currency].dump())), 0);
      }
      // Everything but the price is what the upstream sent.
      Json without_price = tenant_offer;
      Json raw_without_price = offer;
      without_price.erase("price");
      raw_without_price.erase("price");
      ASSERT_EQ(without_price, raw_without_price) << sku;
      ++checked;
    }
    EXPECT_EQ(checked, static_cast<int>(raw.size()));
  }
}

TEST(MarkupTest, DestinationsAndOrdersFollowOfferPrices) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "0"});
  RedisProcess redis(dir.path());
  GatewayOptions options;
  options.upstream_url = sim.baseUrl();
  options.redis_url = redis.url();
  options.plans_yaml = marginPlansYaml("FD-NONE");
  GatewayProcess gateway(dir.path(), options);

  const auto offers = allOffers([&](const std::string& path) { return gateway.call(kAlpha, "GET", path); });
  const HttpResult destinations = gateway.call(kAlpha, "GET", "/catalog/destinations?limit=500");
  ASSERT_EQ(destinations.status, 200) << destinations.body;
  int checked = 0;
  const Json destination_list = destinations.json()["data"];
  for (const Json& destination : destination_list) {
    std::optional<double> min_usd;
    std::optional<double> min_mxn;
    for (const Json& sku : destination["skus"]) {
      const Json& price = offers.at(sku.get<std::string>())["price"];
      min_usd = std::min(min_usd.value_or(1e18), price["usd"].get<double>());
      min_mxn = std::min(min_mxn.value_or(1e18), price["mxn"].get<double>());
    }
    ASSERT_TRUE(min_usd.has_value()) << destination.dump();
    EXPECT_EQ(destination["min_price"]["usd"].get<double>(), *min_usd) << destination["country"];
    EXPECT_EQ(destination["min_price"]["mxn"].get<double>(), *min_mxn) << destination["country"];
    ++checked;
  }
  EXPECT_GE(checked, 100);

  // An order's unit price is the catalog price, and its total that times
  // the quantity.
  std::string us_sku;
  for (const auto& [sku, offer] : offers) {
    if (us_sku.empty() && offer["countries"].size() == 1 && offer["countries"][0] == "US") us_sku = sku;
  }
  const HttpResult order = gateway.call(kAlpha, "POST", "/orders",
                                        Json{{"reference_id", "markup-1"}, {"sku", us_sku}, {"quantity", 3}}.dump(),
                                        {{"content-type", "application/json"}});
  ASSERT_EQ(order.status, 201) << order.body;
  const Json data = order.json()["data"];
  const Json& catalog_price = offers.at(us_sku)["price"];
  EXPECT_EQ(data["unit_price"], catalog_price);
  const Decimal expected_total = multiplyDecimals(decimalFromText(catalog_price["usd"].dump()), Decimal{"3", 0});
  EXPECT_EQ(compareDecimals(decimalFromText(data["total"]["usd"].dump()), expected_total), 0)
      << data["total"].dump() << " for 3 x " << catalog_price.dump();
  const Json raw_order = sim.direct("GET", "/orders/" + data["order_id"].get<std::string>()).json()["data"];
  EXPECT_NE(raw_order["unit_price"], data["unit_price"]);

  // Reading the order and its bundles again shows the same tenant prices.
  const Json again = gateway.call(kAlpha, "GET", "/orders/" + data["order_id"].get<std::string>()).json()["data"];
  EXPECT_EQ(again["total"], data["total"]);
  const Json bundles = gateway.call(kAlpha, "GET", "/bundles?limit=500").json()["data"];
  ASSERT_FALSE(bundles.empty());
  for (const Json& bundle : bundles) EXPECT_EQ(bundle["price"], catalog_price);
}

long catalogCalls(SimProcess& sim) {
  const Json by_route = sim.stats()["by_route"];
  return by_route.value("GET /catalog/bundle-offers", 0L) + by_route.value("GET /catalog/destinations", 0L);
}

TEST(MarkupTest, TwoInstancesFetchCatalogOncePerTtl) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "0", "--latency-ms", "50"});
  RedisProcess redis(dir.path());
  GatewayOptions options;
  options.upstream_url = sim.baseUrl();
  options.redis_url = redis.url();
  options.plans_yaml = marginPlansYaml("FD-NONE");
  options.extra_config = "catalog_cache:\n  ttl_seconds: 3\n  max_stale_seconds: 60\n";
  GatewayProcess first(dir.path(), options);
  GatewayProcess second(dir.path(), options);

  // Three tenants with two different markups, 24 concurrent cold requests
  // over both instances.
  const auto burst = [&] {
    std::vector<std::future<long>> statuses;
    for (int i = 0; i < 24; ++i) {
      GatewayProcess& gateway = i % 2 == 0 ? first : second;
      const TestTenant* tenant = &kGamma;
      if (i % 3 == 0) tenant = &kAlpha;
      if (i % 3 == 1) tenant = &kBeta;
      statuses.push_back(std::async(std::launch::async, [&gateway, tenant, i] {
        return gateway.call(*tenant, "GET", i % 4 == 0 ? "/catalog/destinations" : "/catalog/bundle-offers?country=MX")
            .status;
      }));
    }
    for (auto& status : statuses) EXPECT_EQ(status.get(), 200);
  };
  burst();
  // 1,200 offers in pages of 500 and one page of destinations.
  const long per_fetch = 4;
  EXPECT_EQ(catalogCalls(sim), per_fetch);
  burst();
  EXPECT_EQ(catalogCalls(sim), per_fetch);

  std::this_thread::sleep_for(std::chrono::milliseconds(3200));
  burst();
  EXPECT_EQ(catalogCalls(sim), 2 * per_fetch);
  EXPECT_NE(first.metrics().find("fdgw_catalog_cache_requests_total{result=\"hit\"}"), std::string::npos);
}

TEST(MarkupTest, StaleCatalogServedWhileUpstreamDown) {
  TempDir dir;
  SimProcess sim(dir.path(), {"--rate-limit", "0"});
  RedisProcess redis(dir.path());
  GatewayOptions options;
  options.upstream_url = sim.baseUrl();
  options.redis_url = redis.url();
  options.upstream_timeout_ms = 1000;
  options.plans_yaml = marginPlansYaml("FD-NONE");
  options.extra_config = "catalog_cache:\n  ttl_seconds: 1\n  max_stale_seconds: 600\n";
  GatewayProcess gateway(dir.path(), options);

  const HttpResult before = gateway.call(kAlpha, "GET", "/catalog/bundle-offers?country=US");
  ASSERT_EQ(before.status, 200) << before.body;
  sim.process().stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));

  const HttpResult after = gateway.call(kAlpha, "GET", "/catalog/bundle-offers?country=US");
  EXPECT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(after.body, before.body);
  const std::string metrics = gateway.metrics();
  EXPECT_NE(metrics.find("fdgw_catalog_cache_requests_total{result=\"stale\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("fdgw_catalog_fetches_total{result=\"failure\",upstream=\"main\"} 1"), std::string::npos);
  EXPECT_NE(gateway.process().log().find("catalog_fetch_failed"), std::string::npos);
}

TEST(MarkupTest, NoCatalogIsUpstreamUnavailable) {
  TempDir dir;
  GatewayOptions options;
  options.upstream_url = "http://127.0.0.1:" + std::to_string(freePort());
  options.upstream_timeout_ms = 1000;
  GatewayProcess gateway(dir.path(), options);
  const HttpResult result = gateway.call(kAlpha, "GET", "/catalog/bundle-offers");
  EXPECT_EQ(result.status, 502);
  EXPECT_EQ(result.json()["code"], "upstream_unavailable");
}

}  // namespace
}  // namespace fdgw::testing
