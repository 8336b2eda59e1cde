// The catalog module: parsing upstream pages, the shared form, filters,
// priced views and the cache's fetch rules.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/catalog/catalog_cache.h"
#include "gateway/catalog/catalog_data.h"
#include "gateway/catalog/catalog_query.h"
#include "gateway/pricing/json_price_rewriter.h"
#include "tests/unit/redis_server_fixture.h"

namespace fdgw::catalog {
namespace {

using Json = nlohmann::json;

// Offers with the byte-level details that must survive the cache: escaped
// and raw unicode, a 20-digit integer, and key order that is not sorted.
const std::vector<std::string> kOfferTexts = {
    R"({"sku":"FD-MX-1GB-7D","name_es":"M\u00e9xico 1 GB","countries":["MX"],"region":null,"data_gb":1,"unlimited":false,"validity_days":7,"profile":"standard","status":"active","price":{"usd":4.5,"mxn":81.9},"serial":12345678901234567890})",
    R"({"sku":"FD-US-UL-PLUS-30D","name":"Estados Unidos ilimitado","countries":["US"],"region":"North America","data_gb":null,"unlimited":true,"validity_days":30,"profile":"unlimited-plus","status":"active","price":{"usd":40,"mxn":730}})",
    R"({"price":{"mxn":200.5,"usd":11},"sku":"FD-EU-5GB-30D","countries":["ES","FR","MX"],"region":"Europe","data_gb":5,"unlimited":false,"validity_days":30,"profile":"standard","status":"inactive"})",
};

const std::vector<std::string> kDestinationTexts = {
    R"({"country":"ES","name":"Spain","name_es":"Espa\u00f1a","bundle_count":1,"skus":["FD-EU-5GB-30D"],"min_price":{"usd":11,"mxn":200.5}})",
    R"({"country":"MX","name":"Mexico","name_es":"México","bundle_count":2,"skus":["FD-EU-5GB-30D","FD-MX-1GB-7D"],"min_price":{"usd":4.5,"mxn":81.9}})",
};

std::string listPage(const std::vector<std::string>& items, std::size_t page, std::size_t limit) {
  std::string body = R"({"success":true,"data":[)";
  const std::size_t begin = std::min(items.size(), (page - 1) * limit);
  const std::size_t end = std::min(items.size(), begin + limit);
  for (std::size_t i = begin; i < end; ++i) {
    if (i > begin) body += ",";
    body += items[i];
  }
  body += R"(],"pagination":{"page":)" + std::to_string(page) + R"(,"limit":)" + std::to_string(limit) +
          R"(,"total":)" + std::to_string(items.size()) + "}}";
  return body;
}

std::shared_ptr<CatalogData> sampleCatalog(std::int64_t fetched_at_ms = 0) {
  auto offers = parseOfferPage(listPage(kOfferTexts, 1, 50));
  auto destinations = parseDestinationPage(listPage(kDestinationTexts, 1, 50));
  return std::make_shared<CatalogData>(std::move(std::get<Page<Offer>>(offers).items),
                                       std::move(std::get<Page<Destination>>(destinations).items), fetched_at_ms);
}

config::Markup percentMarkup(std::int64_t percent) {
  config::Markup markup;
  markup.base.percent_ten_thousandths = percent * 10000;
  return markup;
}

// ---------------------------------------------------------------------------
// Parsing and the shared form

TEST(CatalogPage, ParsesFactsAndKeepsRawText) {
  auto parsed = parseOfferPage(listPage(kOfferTexts, 1, 2));
  ASSERT_TRUE(std::holds_alternative<Page<Offer>>(parsed)) << std::get<std::string>(parsed);
  const auto& page = std::get<Page<Offer>>(parsed);
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.total, 3);
  EXPECT_EQ(page.items[0].json, kOfferTexts[0]);
  EXPECT_EQ(page.items[0].facts.sku, "FD-MX-1GB-7D");
  EXPECT_EQ(page.items[0].facts.countries, std::vector<std::string>{"MX"});
  EXPECT_EQ(page.items[0].facts.region, "");
  EXPECT_EQ(page.items[0].cost, (pricing::Money{450, 8190}));
  EXPECT_EQ(page.items[1].facts.profile, "unlimited-plus");
  EXPECT_FALSE(page.items[1].data_gb.has_value());
  EXPECT_EQ(page.items[1].validity_days, 30);
}

TEST(CatalogPage, RejectsOfferWithoutPrice) {
  auto parsed = parseOfferPage(R"({"success":true,"data":[{"sku":"FD-X"}]})");
  ASSERT_TRUE(std::holds_alternative<std::string>(parsed));
  EXPECT_NE(std::get<std::string>(parsed).find("FD-X"), std::string::npos);
  EXPECT_NE(std::get<std::string>(parsed).find("price"), std::string::npos);
}

TEST(CatalogPage, RejectsInvalidJson) {
  EXPECT_TRUE(std::holds_alternative<std::string>(parseOfferPage(R"({"data":[{"sku":)")));
  EXPECT_TRUE(std::holds_alternative<std::string>(parseDestinationPage("not json")));
}

TEST(CatalogSharedForm, RoundTripKeepsBytes) {
  const auto data = sampleCatalog(1741608000123);
  const std::string text = serializeCatalog(*data);
  auto parsed = parseSerializedCatalog(text);
  ASSERT_TRUE(std::holds_alternative<std::shared_ptr<CatalogData>>(parsed)) << std::get<std::string>(parsed);
  const auto& copy = *std::get<std::shared_ptr<CatalogData>>(parsed);
  EXPECT_EQ(copy.fetchedAtMs(), 1741608000123);
  ASSERT_EQ(copy.offers().size(), kOfferTexts.size());
  for (std::size_t i = 0; i < kOfferTexts.size(); ++i) EXPECT_EQ(copy.offers()[i].json, kOfferTexts[i]);
  ASSERT_EQ(copy.destinations().size(), kDestinationTexts.size());
  EXPECT_EQ(copy.destinations()[1].json, kDestinationTexts[1]);
  EXPECT_EQ(copy.destinations()[1].skus, (std::vector<std::string>{"FD-EU-5GB-30D", "FD-MX-1GB-7D"}));
}

TEST(CatalogSharedForm, RejectsTruncatedText) {
  const std::string text = serializeCatalog(*sampleCatalog());
  EXPECT_TRUE(std::holds_alternative<std::string>(parseSerializedCatalog(text.substr(0, text.size() / 2))));
}

TEST(JsonArrayElements, ReturnsRawElements) {
  auto elements = pricing::arrayElements(R"({"a":[1, {"b":"\u00e9"} ,[2]],"c":[3]})", {"a"});
  ASSERT_TRUE(std::holds_alternative<std::vector<std::string_view>>(elements));
  const auto& list = std::get<std::vector<std::string_view>>(elements);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0], "1");
  EXPECT_EQ(list[1], R"({"b":"\u00e9"})");
  EXPECT_EQ(list[2], "[2]");
}

TEST(JsonNumberSites, RewritesOnlyListedNumbers) {
  const std::string document = R"({"t":[{"amount":-4.50,"n":7},{"amount":"x"}],"amount":3})";
  auto result = pricing::rewriteJsonAmounts(
      document, {}, [](const pricing::MoneyOccurrence&) { return std::variant<std::optional<pricing::Money>, pricing::PricingError>(std::nullopt); },
      {{{"t", "*", "amount"}}},
      [](const pricing::NumberOccurrence& occurrence)
          -> std::variant<std::optional<std::string>, pricing::PricingError> {
        EXPECT_EQ(occurrence.token, "-4.50");
        EXPECT_EQ(occurrence.enclosing_object, R"({"amount":-4.50,"n":7})");
        return std::optional<std::string>("null");
      });
  ASSERT_TRUE(std::holds_alternative<std::string>(result));
  EXPECT_EQ(std::get<std::string>(result), R"({"t":[{"amount":null,"n":7},{"amount":"x"}],"amount":3})");
}

// ---------------------------------------------------------------------------
// Priced views

TEST(PricedCatalog, WithoutMarkupKeepsEveryByte) {
  const auto data = sampleCatalog();
  std::vector<std::string> errors;
  const PricedCatalog view = priceCatalog(*data, std::nullopt, errors);
  EXPECT_TRUE(errors.empty());
  for (std::size_t i = 0; i < kOfferTexts.size(); ++i) EXPECT_EQ(view.offer_json[i], kOfferTexts[i]);
  EXPECT_EQ(view.destination_json[0], kDestinationTexts[0]);
}

TEST(PricedCatalog, ChangesOnlyPrices) {
  const auto data = sampleCatalog();
  std::vector<std::string> errors;
  const PricedCatalog view = priceCatalog(*data, percentMarkup(20), errors);
  EXPECT_TRUE(errors.empty());
  std::string expected = kOfferTexts[0];
  expected.replace(expected.find(R"("usd":4.5,"mxn":81.9)"), 20, R"("usd":5.4,"mxn":98.28)");
  EXPECT_EQ(view.offer_json[0], expected);
  EXPECT_EQ(view.offer_price[2], (pricing::Money{1320, 24060}));
}

TEST(PricedCatalog, DestinationMinimumPerCurrency) {
  const auto data = sampleCatalog();
  config::Markup markup = percentMarkup(10);
  // The Mexican offer gets a fixed price above the European one in USD
  // only, so the two currencies' minimums come from different offers.
  config::MarkupOverride fixed;
  fixed.match.sku = "FD-MX-1GB-7D";
  fixed.fields.price = {2000, 100};
  markup.overrides.push_back(fixed);

  std::vector<std::string> errors;
  const PricedCatalog view = priceCatalog(*data, markup, errors);
  const Json mexico = Json::parse(view.destination_json[1]);
  // Europe offer: 11 * 1.1 = 12.10 USD, 200.5 * 1.1 = 220.55 MXN. Mexico
  // offer: fixed 20.00 USD and 1.00 MXN, raised to the floor (cost) 81.90.
  EXPECT_EQ(mexico["min_price"]["usd"].dump(), "12.1");
  EXPECT_EQ(mexico["min_price"]["mxn"].dump(), "81.9");
  EXPECT_EQ(mexico["name_es"], "México");
}

TEST(PricedCatalog, ViewsAreSharedPerPricingKey) {
  const auto data = sampleCatalog();
  std::vector<std::string> errors;
  const auto first = data->priced(markupKey(percentMarkup(20)), percentMarkup(20), errors);
  const auto second = data->priced(markupKey(percentMarkup(20)), percentMarkup(20), errors);
  const auto other = data->priced(markupKey(percentMarkup(30)), percentMarkup(30), errors);
  EXPECT_EQ(first.get(), second.get());
  EXPECT_NE(first.get(), other.get());
  EXPECT_NE(markupKey(percentMarkup(20)), markupKey(std::nullopt));
}

// ---------------------------------------------------------------------------
// Filters and pagination

std::vector<std::string> skusOf(const CatalogAnswer& answer) {
  std::vector<std::string> skus;
  const Json body = Json::parse(answer.body);
  for (const Json& offer : body["data"]) skus.push_back(offer["sku"]);
  return skus;
}

CatalogAnswer listOffers(const QueryParameters& query) {
  static const auto data = sampleCatalog();
  static std::vector<std::string> errors;
  static const PricedCatalog view = priceCatalog(*data, std::nullopt, errors);
  return answerCatalogRequest("catalog.offers.list", "", query, *data, view);
}

TEST(CatalogFilters, EachFilterAlone) {
  using Skus = std::vector<std::string>;
  EXPECT_EQ(skusOf(listOffers({{"country", "mx"}})), (Skus{"FD-MX-1GB-7D", "FD-EU-5GB-30D"}));
  EXPECT_EQ(skusOf(listOffers({{"min_gb", "2"}})), (Skus{"FD-US-UL-PLUS-30D", "FD-EU-5GB-30D"}));
  EXPECT_EQ(skusOf(listOffers({{"max_gb", "5"}})), (Skus{"FD-MX-1GB-7D", "FD-EU-5GB-30D"}));
  EXPECT_EQ(skusOf(listOffers({{"min_days", "30"}})), (Skus{"FD-US-UL-PLUS-30D", "FD-EU-5GB-30D"}));
  EXPECT_EQ(skusOf(listOffers({{"max_days", "7"}})), (Skus{"FD-MX-1GB-7D"}));
  EXPECT_EQ(skusOf(listOffers({{"sku", "FD-EU-5GB-30D"}})), (Skus{"FD-EU-5GB-30D"}));
  EXPECT_EQ(skusOf(listOffers({{"profile", "unlimited-plus"}})), (Skus{"FD-US-UL-PLUS-30D"}));
  EXPECT_EQ(skusOf(listOffers({{"status", "inactive"}})), (Skus{"FD-EU-5GB-30D"}));
}

TEST(CatalogFilters, CombinedFiltersAndPagination) {
  const auto answer = listOffers({{"country", "MX"}, {"limit", "1"}, {"page", "2"}, {"status", "inactive"}});
  EXPECT_EQ(skusOf(answer), std::vector<std::string>{});
  const auto second = listOffers({{"limit", "1"}, {"page", "2"}});
  EXPECT_EQ(skusOf(second), std::vector<std::string>{"FD-US-UL-PLUS-30D"});
  EXPECT_EQ(Json::parse(second.body)["pagination"], (Json{{"page", 2}, {"limit", 1}, {"total", 3}}));
}

TEST(CatalogFilters, InvalidValuesAreBadRequests) {
  for (const auto& [name, value] : QueryParameters{{"country", "MEX"}, {"min_gb", "-1"}, {"max_days", "x"},
                                                    {"profile", "gold"}, {"status", "gone"}, {"limit", "501"},
                                                    {"page", "0"}}) {
    const auto answer = listOffers({{name, value}});
    ASSERT_TRUE(answer.error.has_value()) << name << "=" << value;
    EXPECT_EQ(answer.error->code, common::ErrorCode::kBadRequest) << name;
    EXPECT_NE(answer.error->message.find(name), std::string::npos) << answer.error->message;
  }
}

TEST(CatalogFilters, UnknownSkuIsNotFound) {
  const auto data = sampleCatalog();
  std::vector<std::string> errors;
  const PricedCatalog view = priceCatalog(*data, std::nullopt, errors);
  const auto missing = answerCatalogRequest("catalog.offers.get", "FD-NONE", {}, *data, view);
  ASSERT_TRUE(missing.error.has_value());
  EXPECT_EQ(missing.error->code, common::ErrorCode::kNotFound);
  const auto found = answerCatalogRequest("catalog.offers.get", "FD-MX-1GB-7D", {}, *data, view);
  EXPECT_EQ(found.body, R"({"success":true,"data":)" + kOfferTexts[0] + "}");
}

TEST(ComposedBodies, CachedAnswerEqualsFreshAnswer) {
  const auto data = sampleCatalog();
  std::vector<std::string> errors;
  const auto view = data->priced(markupKey(percentMarkup(20)), percentMarkup(20), errors);
  const QueryParameters queries[] = {{}, {{"country", "MX"}}, {{"limit", "1"}, {"page", "2"}}};
  for (const auto& query : queries) {
    const auto fresh = answerCatalogRequest("catalog.offers.list", "", query, *data, *view);
    const auto first = answerCachedCatalogRequest("catalog.offers.list", "", query, *data, *view);
    const auto repeat = answerCachedCatalogRequest("catalog.offers.list", "", query, *data, *view);
    EXPECT_EQ(first.body, fresh.body);
    EXPECT_EQ(repeat.body, fresh.body);
    EXPECT_FALSE(repeat.error.has_value());
  }
  const auto offer = answerCachedCatalogRequest("catalog.offers.get", "FD-MX-1GB-7D", {}, *data, *view);
  const auto other = answerCachedCatalogRequest("catalog.offers.get", "FD-EU-5GB-30D", {}, *data, *view);
  EXPECT_NE(offer.body, other.body);
  const auto destinations = answerCachedCatalogRequest("catalog.destinations", "", {}, *data, *view);
  EXPECT_EQ(destinations.body, answerCatalogRequest("catalog.destinations", "", {}, *data, *view).body);
}

TEST(ComposedBodies, ErrorsAreNotStored) {
  const auto data = sampleCatalog();
  std::vector<std::string> errors;
  const PricedCatalog view = priceCatalog(*data, std::nullopt, errors);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const auto invalid = answerCachedCatalogRequest("catalog.offers.list", "", {{"limit", "501"}}, *data, view);
    ASSERT_TRUE(invalid.error.has_value());
    EXPECT_EQ(invalid.error->code, common::ErrorCode::kBadRequest);
    const auto missing = answerCachedCatalogRequest("catalog.offers.get", "FD-NONE", {}, *data, view);
    ASSERT_TRUE(missing.error.has_value());
    EXPECT_EQ(missing.error->code, common::ErrorCode::kNotFound);
  }
}

TEST(ComposedBodies, KeysKeepParametersApart) {
  const auto data = sampleCatalog();
  std::vector<std::string> errors;
  const PricedCatalog view = priceCatalog(*data, std::nullopt, errors);
  // Joined without lengths, both queries would read "sku" + "FD-MX-1GB-7D".
  const auto by_sku = answerCachedCatalogRequest("catalog.offers.list", "", {{"sku", "FD-MX-1GB-7D"}}, *data, view);
  const auto other = answerCachedCatalogRequest("catalog.offers.list", "", {{"skuFD-MX-1GB-7D", ""}}, *data, view);
  EXPECT_EQ(skusOf(by_sku), std::vector<std::string>{"FD-MX-1GB-7D"});
  EXPECT_EQ(skusOf(other).size(), kOfferTexts.size());
}

TEST(ComposedBodies, EvictsLeastRecentlyUsed) {
  ComposedBodies bodies;
  for (std::size_t i = 0; i < ComposedBodies::kMaxEntries; ++i) {
    bodies.insert("key-" + std::to_string(i), std::make_shared<const std::string>("body"));
  }
  ASSERT_NE(bodies.find("key-0"), nullptr);  // now the most recently used
  bodies.insert("key-new", std::make_shared<const std::string>("body"));
  EXPECT_NE(bodies.find("key-0"), nullptr);
  EXPECT_EQ(bodies.find("key-1"), nullptr);
  EXPECT_NE(bodies.find("key-new"), nullptr);
}

TEST(ComposedBodies, BoundsTotalBytes) {
  ComposedBodies bodies;
  const std::size_t body_bytes = ComposedBodies::kMaxTotalBytes / 4;
  for (int i = 0; i < 5; ++i) {
    bodies.insert("key-" + std::to_string(i), std::make_shared<const std::string>(body_bytes, 'x'));
  }
  EXPECT_EQ(bodies.find("key-0"), nullptr);
  for (int i = 1; i < 5; ++i) EXPECT_NE(bodies.find("key-" + std::to_string(i)), nullptr) << i;

  bodies.insert("too-large", std::make_shared<const std::string>(ComposedBodies::kMaxBodyBytes + 1, 'x'));
  EXPECT_EQ(bodies.find("too-large"), nullptr);
  EXPECT_NE(bodies.find("key-4"), nullptr);
}

// ---------------------------------------------------------------------------
// The cache

// Serves catalog pages from memory. Responses wait until the test releases
// them, so the test decides what is concurrent.
class FakeCatalogUpstream : public upstream::UpstreamClient {
 public:
  void send(upstream::UpstreamRequest request, upstream::UpstreamCompletion done) override {
    std::lock_guard lock(mutex_);
    ++calls_;
    paths_.push_back(request.path_and_query);
    pending_.emplace_back(request.path_and_query, std::move(done));
  }

  // Completes every pending request, including those sent meanwhile.
  void deliverAll() {
    while (true) {
      std::pair<std::string, upstream::UpstreamCompletion> next;
      {
        std::lock_guard lock(mutex_);
        if (pending_.empty()) return;
        next = std::move(pending_.front());
        pending_.pop_front();
      }
      next.second(answer(next.first));
    }
  }

  int calls() const { return calls_.load(); }
  std::atomic<bool> failing{false};

 private:
  upstream::UpstreamResponse answer(const std::string& path_and_query) const {
    upstream::UpstreamResponse response;
    if (failing) {
      response.error = upstream::TransportError::kConnectFailed;
      response.error_detail = "connection refused";
      return response;
    }
    const auto page_at = path_and_query.find("page=");
    const std::size_t page = std::stoul(path_and_query.substr(page_at + 5));
    response.status = 200;
    // Pages of two, to exercise the page loop.
    response.body = path_and_query.rfind("/catalog/bundle-offers", 0) == 0 ? listPage(kOfferTexts, page, 2)
                                                                           : listPage(kDestinationTexts, page, 2);
    return response;
  }

  std::mutex mutex_;
  std::atomic<int> calls_{0};
  std::vector<std::string> paths_;
  std::deque<std::pair<std::string, upstream::UpstreamCompletion>> pending_;
};

class ManualClock final : public common::Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(now_ms_.load()));
  }
  std::chrono::steady_clock::time_point monotonicNow() const override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(now_ms_.load()));
  }
  void advance(std::chrono::milliseconds step) { now_ms_ += step.count(); }

 private:
  std::atomic<std::int64_t> now_ms_{1741608000000};
};

class CatalogCacheTest : public ::testing::Test {
 protected:
  CatalogCacheTest() : log_sink_(std::tmpfile()), logger_(log_sink_) {
    target_->name = "main";
    options_.ttl = std::chrono::seconds(60);
    options_.max_stale = std::chrono::seconds(600);
    options_.retry_interval = std::chrono::seconds(5);
  }
  ~CatalogCacheTest() override { std::fclose(log_sink_); }

  std::vector<CatalogLookup> lookups(CatalogCache& cache, int count) {
    auto results = std::make_shared<std::vector<CatalogLookup>>();
    for (int i = 0; i < count; ++i) {
      cache.get(target_, [results](CatalogLookup lookup) { results->push_back(std::move(lookup)); });
    }
    upstream_.deliverAll();
    return *results;
  }

  std::FILE* log_sink_;
  log::Logger logger_;
  metrics::GatewayMetrics metrics_;
  ManualClock clock_;
  FakeCatalogUpstream upstream_;
  std::shared_ptr<upstream::UpstreamTarget> target_ = std::make_shared<upstream::UpstreamTarget>();
  CatalogCacheOptions options_;
};

// Offers come in pages of two: pages 1 and 2 of offers, page 1 of
// destinations.
constexpr int kCallsPerFetch = 3;

TEST_F(CatalogCacheTest, ConcurrentMissesMakeOneFetch) {
  CatalogCache cache(upstream_, nullptr, clock_, logger_, metrics_, options_);
  const auto results = lookups(cache, 10);
  ASSERT_EQ(results.size(), 10u);
  EXPECT_EQ(upstream_.calls(), kCallsPerFetch);
  for (const auto& lookup : results) {
    ASSERT_NE(lookup.data, nullptr);
    EXPECT_EQ(lookup.result, metrics::CatalogCacheResult::kMiss);
    EXPECT_EQ(lookup.data->offers().size(), kOfferTexts.size());
  }
}

TEST_F(CatalogCacheTest, FreshCopyIsHitUntilTtl) {
  CatalogCache cache(upstream_, nullptr, clock_, logger_, metrics_, options_);
  lookups(cache, 1);
  clock_.advance(std::chrono::seconds(59));
  const auto hit = lookups(cache, 1);
  EXPECT_EQ(hit[0].result, metrics::CatalogCacheResult::kHit);
  EXPECT_EQ(upstream_.calls(), kCallsPerFetch);

  clock_.advance(std::chrono::seconds(2));
  const auto refreshed = lookups(cache, 1);
  EXPECT_EQ(refreshed[0].result, metrics::CatalogCacheResult::kMiss);
  EXPECT_EQ(upstream_.calls(), 2 * kCallsPerFetch);
}

TEST_F(CatalogCacheTest, FailureServesStaleUntilMaxAge) {
  CatalogCache cache(upstream_, nullptr, clock_, logger_, metrics_, options_);
  const auto first = lookups(cache, 1);
  upstream_.failing = true;

  clock_.advance(std::chrono::seconds(120));
  const auto stale = lookups(cache, 1);
  ASSERT_NE(stale[0].data, nullptr);
  EXPECT_EQ(stale[0].result, metrics::CatalogCacheResult::kStale);
  EXPECT_EQ(stale[0].data.get(), first[0].data.get());

  // Within the retry interval no new attempt is made.
  const int calls = upstream_.calls();
  lookups(cache, 3);
  EXPECT_EQ(upstream_.calls(), calls);

  clock_.advance(std::chrono::seconds(600));
  const auto expired = lookups(cache, 1);
  EXPECT_EQ(expired[0].data, nullptr);
  EXPECT_EQ(expired[0].result, metrics::CatalogCacheResult::kError);
}

TEST_F(CatalogCacheTest, FailureWithoutCopyIsError) {
  upstream_.failing = true;
  CatalogCache cache(upstream_, nullptr, clock_, logger_, metrics_, options_);
  const auto results = lookups(cache, 2);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].data, nullptr);
  EXPECT_EQ(results[0].result, metrics::CatalogCacheResult::kError);
  EXPECT_NE(metrics_.render().find("fdgw_catalog_fetches_total{result=\"failure\",upstream=\"main\"} 1"),
            std::string::npos);
}

// Waits up to 5 s for `count` results.
bool waitForResults(const std::shared_ptr<std::vector<CatalogLookup>>& results, std::mutex& mutex,
                    std::size_t count) {
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard lock(mutex);
      if (results->size() >= count) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST_F(CatalogCacheTest, InstancesShareOneFetchThroughRedis) {
  test::RedisServer server;
  ASSERT_TRUE(server.start());
  config::RedisConfig redis_config;
  redis_config.url = server.url();
  redis_config.timeout = std::chrono::milliseconds(500);
  common::SystemClock system_clock;
  redis::AsyncRedis first_redis(redis_config, system_clock, logger_);
  redis::AsyncRedis second_redis(redis_config, system_clock, logger_);
  for (int i = 0; i < 200 && !(first_redis.connected() && second_redis.connected()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(first_redis.connected());
  ASSERT_TRUE(second_redis.connected());

  options_.poll_interval = std::chrono::milliseconds(20);
  CatalogCache first(upstream_, &first_redis, system_clock, logger_, metrics_, options_);
  CatalogCache second(upstream_, &second_redis, system_clock, logger_, metrics_, options_);

  std::mutex mutex;
  auto results = std::make_shared<std::vector<CatalogLookup>>();
  const auto collect = [results, &mutex](CatalogLookup lookup) {
    std::lock_guard lock(mutex);
    results->push_back(std::move(lookup));
  };
  first.get(target_, collect);
  // The first instance takes the lock before the second one requests the catalog.
  for (int i = 0; i < 200 && upstream_.calls() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  second.get(target_, collect);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (int i = 0; i < 20; ++i) {
    upstream_.deliverAll();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(waitForResults(results, mutex, 2));
  EXPECT_EQ(upstream_.calls(), kCallsPerFetch);
  for (const auto& lookup : *results) {
    ASSERT_NE(lookup.data, nullptr);
    EXPECT_EQ(lookup.data->offers().size(), kOfferTexts.size());
  }

  // A third instance that starts later loads the shared copy.
  CatalogCache third(upstream_, &second_redis, system_clock, logger_, metrics_, options_);
  third.get(target_, collect);
  ASSERT_TRUE(waitForResults(results, mutex, 3));
  EXPECT_EQ(upstream_.calls(), kCallsPerFetch);
  first.stop();
  second.stop();
  third.stop();
  first_redis.stop();
  second_redis.stop();
}

}  // namespace
}  // namespace fdgw::catalog
