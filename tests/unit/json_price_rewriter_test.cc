#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/pricing/json_price_rewriter.h"
#include "gateway/pricing/money.h"

namespace fdgw::pricing {
namespace {

using nlohmann::json;

const std::vector<MoneySite> kOfferListSites = {MoneySite{{"data", "*", "price"}}};

// A callback that adds `cents` to both currencies and records each occurrence it receives.
struct RecordingRewrite {
  explicit RecordingRewrite(std::int64_t added_cents = 0) : cents(added_cents) {}

  std::int64_t cents;
  std::vector<JsonPath> paths;
  std::vector<Money> amounts;
  std::vector<std::string> enclosing_objects;

  MoneyRewrite callback() {
    return [this](const MoneyOccurrence& occurrence) -> std::variant<std::optional<Money>, PricingError> {
      paths.push_back(occurrence.path);
      amounts.push_back(occurrence.amount);
      enclosing_objects.emplace_back(occurrence.enclosing_object);
      return Money{occurrence.amount.usd + cents, occurrence.amount.mxn + cents};
    };
  }
};

MoneyRewrite addCents(std::int64_t cents) {
  return [cents](const MoneyOccurrence& occurrence) -> std::variant<std::optional<Money>, PricingError> {
    return Money{occurrence.amount.usd + cents, occurrence.amount.mxn + cents};
  };
}

MoneyRewrite setAmount(Money amount) {
  return [amount](const MoneyOccurrence&) -> std::variant<std::optional<Money>, PricingError> { return amount; };
}

MoneyRewrite leaveUnchanged() {
  return [](const MoneyOccurrence&) -> std::variant<std::optional<Money>, PricingError> { return std::nullopt; };
}

// Rewrites and fails the test when rewriteMoney returns an error.
std::string rewrittenOrFail(std::string_view document, const std::vector<MoneySite>& sites,
                            const MoneyRewrite& rewrite) {
  auto result = rewriteMoney(document, sites, rewrite);
  if (const auto* error = std::get_if<PricingError>(&result)) {
    ADD_FAILURE() << "rewriteMoney failed: " << error->message << "\ndocument: " << document;
    return "";
  }
  return std::get<std::string>(result);
}

// Returns the error message, and fails the test when rewriteMoney succeeds.
std::string errorOrFail(std::string_view document, const std::vector<MoneySite>& sites,
                        const MoneyRewrite& rewrite) {
  auto result = rewriteMoney(document, sites, rewrite);
  if (const auto* output = std::get_if<std::string>(&result)) {
    ADD_FAILURE() << "rewriteMoney accepted " << document << "\noutput: " << *output;
    return "";
  }
  return std::get<PricingError>(result).message;
}

// Replaces the only occurrence of `from` in `text`, failing when there is not exactly one.
std::string replaceOnce(std::string text, std::string_view from, std::string_view to) {
  const std::size_t at = text.find(from);
  if (at == std::string::npos || text.find(from, at + 1) != std::string::npos) {
    ADD_FAILURE() << "expected exactly one '" << from << "' in the test document";
    return text;
  }
  return text.replace(at, from.size(), to);
}

// --- majorUnitsText and matchesPath ---

TEST(JsonPriceRewriterText, WritesShortestDecimal) {
  EXPECT_EQ(majorUnitsText(2399), "23.99");
  EXPECT_EQ(majorUnitsText(450), "4.5");
  EXPECT_EQ(majorUnitsText(1200), "12");
  EXPECT_EQ(majorUnitsText(5), "0.05");
  EXPECT_EQ(majorUnitsText(50), "0.5");
  EXPECT_EQ(majorUnitsText(0), "0");
  EXPECT_EQ(majorUnitsText(101), "1.01");
  EXPECT_EQ(majorUnitsText(-150), "-1.5");
  EXPECT_EQ(majorUnitsText(kMaxMinorUnits), "9999999999999.99");
  EXPECT_EQ(majorUnitsText(INT64_MIN), "-92233720368547758.08");
}

TEST(JsonPriceRewriterPath, MatchesWildcardsAndLength) {
  EXPECT_TRUE(matchesPath({"data", "*", "price"}, {"data", "0", "price"}));
  EXPECT_TRUE(matchesPath({"data", "*", "price"}, {"data", "sku-1", "price"}));
  EXPECT_TRUE(matchesPath({}, {}));
  EXPECT_FALSE(matchesPath({"data", "*", "price"}, {"data", "0", "min_price"}));
  EXPECT_FALSE(matchesPath({"data", "*", "price"}, {"data", "price"}));
  EXPECT_FALSE(matchesPath({"data", "price"}, {"data", "0", "price"}));
  EXPECT_FALSE(matchesPath({"Data", "price"}, {"data", "price"}));
}

// --- byte preservation ---

TEST(JsonPriceRewriterTest, KeepsBytesOutsideRewrittenNumbers) {
  const std::string document =
      "{\n"
      "  \"zeta\": 1,\n"
      "\t\"alpha\"  :  [ 1 , [ 2, [ [ ] , { } ] ] ],\r\n"
      "  \"big\": 12345678901234567890123,\n"
      "  \"tiny\": 1.5e-300,\n"
      "  \"huge\": -9.75E+300,\n"
      "  \"raw_utf8\": \"Ciudad de México, São Paulo, 東京, 🇲🇽\",\n"
      "  \"escaped\": \"caf\\u00e9 \\ud83d\\ude00 \\u0000 \\/\",\n"
      "  \"k\\\"ey\\\\\": \"say \\\"hi\\\" \\\\ bye\\n\\t\",\n"
      "  \"data\": [\n"
      "    {\"sku\": \"MX-5GB\", \"price\": {\"usd\": 4.5, \"mxn\": 81.9}, \"empty\": \"\"}\n"
      "  ],\n"
      "  \"nothing\": null, \"yes\": true, \"no\": false, \"zero\": -0\n"
      "}\n";

  const std::string output = rewrittenOrFail(document, kOfferListSites, addCents(1));

  const std::string expected =
      replaceOnce(replaceOnce(document, "\"usd\": 4.5", "\"usd\": 4.51"), "\"mxn\": 81.9", "\"mxn\": 81.91");
  EXPECT_EQ(output, expected);
}

TEST(JsonPriceRewriterTest, IdentityKeepsExactBytes) {
  const std::string document =
      "{ \"success\" : true ,\n \"data\":[{\"price\":{\"usd\":4.50,\"mxn\":8.19e1}},\n"
      "  {\"price\" : { \"mxn\" : 100.00 , \"usd\" : 5 }}]}";

  EXPECT_EQ(rewrittenOrFail(document, kOfferListSites, addCents(0)), document);
  EXPECT_EQ(rewrittenOrFail(document, kOfferListSites, leaveUnchanged()), document);
}

TEST(JsonPriceRewriterTest, RewritesOnlyChangedCurrency) {
  const std::string document = R"({"data":[{"price":{"usd":4.50,"mxn":81.90}}]})";

  const std::string output = rewrittenOrFail(document, kOfferListSites, setAmount(Money{450, 9000}));

  EXPECT_EQ(output, R"({"data":[{"price":{"usd":4.50,"mxn":90}}]})");
}

TEST(JsonPriceRewriterTest, WritesMinimalDecimalText) {
  const std::string document = R"({"data":[{"price":{"usd":1,"mxn":2}}]})";

  EXPECT_EQ(rewrittenOrFail(document, kOfferListSites, setAmount(Money{2399, 1200})),
            R"({"data":[{"price":{"usd":23.99,"mxn":12}}]})");
  EXPECT_EQ(rewrittenOrFail(document, kOfferListSites, setAmount(Money{5, 450})),
            R"({"data":[{"price":{"usd":0.05,"mxn":4.5}}]})");
  EXPECT_EQ(rewrittenOrFail(document, kOfferListSites, setAmount(Money{0, kMaxMinorUnits})),
            R"({"data":[{"price":{"usd":0,"mxn":9999999999999.99}}]})");
}

// --- FullDatos envelopes ---

TEST(JsonPriceRewriterEnvelope, RewritesPriceInEveryListedOffer) {
  const std::string document = R"({"success":true,"data":[
    {"sku":"MX-1GB-7D","name":"México 1 GB","countries":["MX"],"region":"","profile":"standard","price":{"usd":4.5,"mxn":81.9},"provider":{"name":"Telcel"}},
    {"sku":"EU-5GB-30D","countries":["ES","FR","DE"],"region":"europe","price":{"usd":19.99,"mxn":363.8},"profile":"standard"},
    {"price":{"usd":0,"mxn":0},"sku":"FREE","profile":"unlimited-lite"}
  ],"pagination":{"page":1,"limit":50,"total":3}})";
  RecordingRewrite rewrite(100);

  const std::string output = rewrittenOrFail(document, kOfferListSites, rewrite.callback());

  std::string expected = document;
  expected = replaceOnce(expected, R"({"usd":4.5,"mxn":81.9})", R"({"usd":5.5,"mxn":82.9})");
  expected = replaceOnce(expected, R"({"usd":19.99,"mxn":363.8})", R"({"usd":20.99,"mxn":364.8})");
  expected = replaceOnce(expected, R"({"usd":0,"mxn":0})", R"({"usd":1,"mxn":1})");
  EXPECT_EQ(output, expected);

  ASSERT_EQ(rewrite.paths.size(), 3u);
  EXPECT_EQ(rewrite.paths[0], (JsonPath{"data", "0", "price"}));
  EXPECT_EQ(rewrite.paths[1], (JsonPath{"data", "1", "price"}));
  EXPECT_EQ(rewrite.paths[2], (JsonPath{"data", "2", "price"}));
  EXPECT_EQ(rewrite.amounts[0], (Money{450, 8190}));
  EXPECT_EQ(rewrite.amounts[1], (Money{1999, 36380}));
  EXPECT_EQ(rewrite.amounts[2], (Money{0, 0}));
}

TEST(JsonPriceRewriterEnvelope, PassesEnclosingOfferText) {
  const std::string document = R"({"success":true,"data":[
    {"sku":"MX-1GB-7D","countries":["MX"],"price":{"usd":4.5,"mxn":81.9},"profile":"standard"},
    {"sku":"EU-5GB-30D","countries":["ES","FR"],"region":"europe","price":{"usd":19.99,"mxn":363.8}}
  ]})";
  RecordingRewrite rewrite;

  rewrittenOrFail(document, kOfferListSites, rewrite.callback());

  ASSERT_EQ(rewrite.enclosing_objects.size(), 2u);
  EXPECT_EQ(rewrite.enclosing_objects[0],
            R"({"sku":"MX-1GB-7D","countries":["MX"],"price":{"usd":4.5,"mxn":81.9},"profile":"standard"})");

  const json second = json::parse(rewrite.enclosing_objects[1], nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(second.is_object());
  EXPECT_EQ(second.value("sku", ""), "EU-5GB-30D");
  EXPECT_EQ(second.value("region", ""), "europe");
  EXPECT_EQ(second["countries"], (json{"ES", "FR"}));
}

TEST(JsonPriceRewriterEnvelope, RewritesSingleObjectEnvelope) {
  const std::string document =
      R"({"success": true, "message": "ok", "data": {"sku": "MX-1GB-7D", "price": {"usd": 4.5, "mxn": 81.9}}})";
  RecordingRewrite rewrite(1);

  const std::string output = rewrittenOrFail(document, {MoneySite{{"data", "price"}}}, rewrite.callback());

  EXPECT_EQ(output, replaceOnce(document, R"({"usd": 4.5, "mxn": 81.9})", R"({"usd": 4.51, "mxn": 81.91})"));
  ASSERT_EQ(rewrite.enclosing_objects.size(), 1u);
  EXPECT_EQ(rewrite.enclosing_objects[0], R"({"sku": "MX-1GB-7D", "price": {"usd": 4.5, "mxn": 81.9}})");
}

TEST(JsonPriceRewriterEnvelope, RewritesOrderAndNestedBundlePrices) {
  const std::string document = R"({"success":true,"data":{
  "order_id":"ord_1","quantity":2,
  "unit_price":{"usd":4.5,"mxn":81.9},
  "total":{"usd":9,"mxn":163.8},
  "esims":[
    {"esim_id":"esm_1","iccid":"89520000000000000001","bundles":[
      {"bundle_id":"bdl_1","price":{"usd":4.5,"mxn":81.9}},
      {"bundle_id":"bdl_2","price":{"usd":2.25,"mxn":40.95}}]},
    {"esim_id":"esm_2","bundles":[]},
    {"esim_id":"esm_3","bundles":[{"bundle_id":"bdl_3","price":{"usd":4.5,"mxn":81.9}}]}
  ]}})";
  const std::vector<MoneySite> sites = {MoneySite{{"data", "unit_price"}}, MoneySite{{"data", "total"}},
                                        MoneySite{{"data", "esims", "*", "bundles", "*", "price"}}};
  RecordingRewrite rewrite(1);

  const std::string output = rewrittenOrFail(document, sites, rewrite.callback());

  ASSERT_EQ(rewrite.paths.size(), 5u);
  EXPECT_EQ(rewrite.paths[0], (JsonPath{"data", "unit_price"}));
  EXPECT_EQ(rewrite.paths[1], (JsonPath{"data", "total"}));
  EXPECT_EQ(rewrite.paths[2], (JsonPath{"data", "esims", "0", "bundles", "0", "price"}));
  EXPECT_EQ(rewrite.paths[3], (JsonPath{"data", "esims", "0", "bundles", "1", "price"}));
  EXPECT_EQ(rewrite.paths[4], (JsonPath{"data", "esims", "2", "bundles", "0", "price"}));
  EXPECT_EQ(rewrite.enclosing_objects[2], R"({"bundle_id":"bdl_1","price":{"usd":4.5,"mxn":81.9}})");
  EXPECT_TRUE(rewrite.enclosing_objects[0].starts_with("{\n  \"order_id\":\"ord_1\""));
  EXPECT_TRUE(rewrite.enclosing_objects[0].ends_with("]}"));

  const json parsed = json::parse(output, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded());
  const json& order = parsed["data"];
  EXPECT_EQ(order["unit_price"].dump(), R"({"mxn":81.91,"usd":4.51})");
  EXPECT_EQ(order["total"].dump(), R"({"mxn":163.81,"usd":9.01})");
  EXPECT_EQ(order["esims"][0]["bundles"][1]["price"].dump(), R"({"mxn":40.96,"usd":2.26})");
  EXPECT_EQ(order["esims"][0]["iccid"], "89520000000000000001");
}

// --- money object shapes ---

TEST(JsonPriceRewriterShape, KeepsExtraKeysOrderAndSpacing) {
  const std::string document =
      "{\"data\":[{\"price\":{ \"mxn\" :\t81.9 , \"note\": {\"usd\": \"not money\"}, \"usd\"\n: 4.5 ,\"tax\":[1,2] }}]}";

  const std::string output = rewrittenOrFail(document, kOfferListSites, addCents(10));

  EXPECT_EQ(output,
            "{\"data\":[{\"price\":{ \"mxn\" :\t82 , \"note\": {\"usd\": \"not money\"}, \"usd\"\n: 4.6 ,\"tax\":[1,2] }}]}");
}

TEST(JsonPriceRewriterShape, MatchesEscapedKeys) {
  const std::string document = R"({"d\u0061ta":[{"pr\u0069ce":{"\u0075sd":4.5,"mxn":81.9}}]})";

  const std::string output = rewrittenOrFail(document, kOfferListSites, addCents(1));

  EXPECT_EQ(output, R"({"d\u0061ta":[{"pr\u0069ce":{"\u0075sd":4.51,"mxn":81.91}}]})");
}

TEST(JsonPriceRewriterShape, LeavesPriceAtOtherPathsUntouched) {
  const std::string document = R"({"price":{"usd":1,"mxn":2},"data":[{"provider":{"price":{"usd":3,"mxn":4}},)"
                               R"("price":{"usd":5,"mxn":6},"bundles":[{"price":{"usd":7,"mxn":8}}]}],)"
                               R"("pagination":{"price":{"usd":9,"mxn":10}}})";
  RecordingRewrite rewrite(100);

  const std::string output = rewrittenOrFail(document, kOfferListSites, rewrite.callback());

  EXPECT_EQ(output, replaceOnce(document, R"({"usd":5,"mxn":6})", R"({"usd":6,"mxn":7})"));
  ASSERT_EQ(rewrite.paths.size(), 1u);
  EXPECT_EQ(rewrite.paths[0], (JsonPath{"data", "0", "price"}));
}

TEST(JsonPriceRewriterShape, FindsMoneyAtRootAndInArrays) {
  RecordingRewrite rewrite(1);

  EXPECT_EQ(rewrittenOrFail(R"({"usd":1,"mxn":2})", {MoneySite{{}}}, rewrite.callback()),
            R"({"usd":1.01,"mxn":2.01})");
  EXPECT_EQ(rewrittenOrFail(R"([{"usd":1,"mxn":2},{"mxn":3,"usd":4}])", {MoneySite{{"*"}}}, rewrite.callback()),
            R"([{"usd":1.01,"mxn":2.01},{"mxn":3.01,"usd":4.01}])");

  ASSERT_EQ(rewrite.enclosing_objects.size(), 3u);
  EXPECT_EQ(rewrite.enclosing_objects[0], "");
  EXPECT_EQ(rewrite.enclosing_objects[1], "");
  EXPECT_EQ(rewrite.enclosing_objects[2], "");
}

TEST(JsonPriceRewriterShape, RejectsInvalidMoneyObjects) {
  struct Case {
    std::string document;
    std::string expected_error;
  };
  const std::vector<Case> cases = {
      {R"({"data":[{"price":{"usd":"4.5","mxn":81.9}}]})", R"(has a "usd" that is not a number)"},
      {R"({"data":[{"price":{"usd":4.5}}]})", R"(is missing a numeric "mxn")"},
      {R"({"data":[{"price":{"mxn":81.9}}]})", R"(is missing a numeric "usd")"},
      {R"({"data":[{"price":{"usd":4.5,"mxn":null}}]})", R"(has a "mxn" that is not a number)"},
      {R"({"data":[{"price":{"usd":4.5,"usd":5,"mxn":81.9}}]})", R"(has "usd" more than once)"},
      {R"({"data":[{"price":null}]})", "is not an object"},
      {R"({"data":[{"price":[4.5,81.9]}]})", "is not an object"},
      {R"({"data":[{"price":4.5}]})", "is not an object"},
      {R"({"data":[{"price":{"usd":-4.5,"mxn":81.9}}]})", "is negative"},
      {R"({"data":[{"price":{"usd":4.555,"mxn":81.9}}]})", "more than two decimals"},
      {R"({"data":[{"price":{"usd":1e300,"mxn":81.9}}]})", "exceeds the maximum"},
  };

  for (const Case& test_case : cases) {
    SCOPED_TRACE(test_case.document);
    const std::string message = errorOrFail(test_case.document, kOfferListSites, addCents(1));
    EXPECT_NE(message.find("data/0/price"), std::string::npos) << message;
    EXPECT_NE(message.find(test_case.expected_error), std::string::npos) << message;
  }
}

TEST(JsonPriceRewriterShape, RejectsRewriteErrorsAndBadAmounts) {
  const std::string document = R"({"data":[{"price":{"usd":4.5,"mxn":81.9}}]})";
  const MoneyRewrite failing = [](const MoneyOccurrence&) -> std::variant<std::optional<Money>, PricingError> {
    return PricingError{"markup rounding is invalid"};
  };

  const std::string callback_error = errorOrFail(document, kOfferListSites, failing);
  EXPECT_NE(callback_error.find("markup rounding is invalid"), std::string::npos) << callback_error;
  EXPECT_NE(callback_error.find("data/0/price"), std::string::npos) << callback_error;

  const std::string negative = errorOrFail(document, kOfferListSites, setAmount(Money{-1, 100}));
  EXPECT_NE(negative.find("\"usd\" -0.01"), std::string::npos) << negative;

  const std::string too_large = errorOrFail(document, kOfferListSites, setAmount(Money{100, kMaxMinorUnits + 1}));
  EXPECT_NE(too_large.find("\"mxn\" 10000000000000"), std::string::npos) << too_large;

  EXPECT_FALSE(errorOrFail(document, kOfferListSites, MoneyRewrite()).empty());
}

// --- malformed JSON ---

TEST(JsonPriceRewriterMalformed, RejectsInvalidDocuments) {
  const std::vector<std::string> documents = {
      "",
      "   ",
      R"({"data":[{"price":{"usd":4.5,"mxn":81.9}}])",
      R"({"data":[{"price":{"usd":4.5,"mxn":81.9}},]})",
      R"({"data":[{"price":{"usd":4.5,"mxn":81.9},}]})",
      R"({"data":[1,2,]})",
      R"({"a":"bad \x escape"})",
      R"({"a":"lone high \ud83d surrogate"})",
      R"({"a":"lone high at end \ud83d"})",
      R"({"a":"lone low \ude00 surrogate"})",
      R"({"a":"high then high \ud83d\ud83d"})",
      R"({"a":"short \u12"})",
      R"({"a":"not hex \u12G4"})",
      "{\"a\":\"raw\ncontrol\"}",
      "{\"a\":\"bad utf-8 \xC3\x28\"}",
      "{\"a\":\"overlong \xC0\xAF\"}",
      "{\"a\":\"encoded surrogate \xED\xA0\x80\"}",
      "{\"a\":\"truncated \xE2\x82\"}",
      R"({"a":01})",
      R"({"a":1.})",
      R"({"a":.5})",
      R"({"a":+1})",
      R"({"a":-})",
      R"({"a":1e})",
      R"({"a":1e+})",
      R"({"a":NaN})",
      R"({"a":tru})",
      R"({"a":nul})",
      R"({a:1})",
      R"({'a':1})",
      R"({"a" 1})",
      R"({"a":1 "b":2})",
      R"({"a":1}})",
      R"({"a":1} {"b":2})",
      R"({"a":1} x)",
      "\xEF\xBB\xBF{\"a\":1}",
      R"(["unterminated)",
      R"({"a":[1,2})",
  };

  for (const std::string& document : documents) {
    SCOPED_TRACE(document);
    int calls = 0;
    const MoneyRewrite counting = [&calls](const MoneyOccurrence&) -> std::variant<std::optional<Money>, PricingError> {
      ++calls;
      return std::nullopt;
    };
    const std::string message = errorOrFail(document, kOfferListSites, counting);
    EXPECT_NE(message.find("invalid JSON"), std::string::npos) << message;
    EXPECT_EQ(calls, 0);
  }
}

TEST(JsonPriceRewriterMalformed, RejectsEveryTruncation) {
  const std::string document =
      R"({"success":true,"data":[{"sku":"MX\u00e9\ud83d\ude00 é","n":-1.5e-3,"ok":[true,false,null],)"
      R"("price":{"usd":4.5,"mxn":81.9}}]})";
  ASSERT_EQ(rewrittenOrFail(document, kOfferListSites, addCents(0)), document);

  for (std::size_t length = 0; length < document.size(); ++length) {
    SCOPED_TRACE(length);
    const auto result = rewriteMoney(std::string_view(document).substr(0, length), kOfferListSites, addCents(1));
    EXPECT_TRUE(std::holds_alternative<PricingError>(result));
  }
}

TEST(JsonPriceRewriterMalformed, LimitsNestingDepth) {
  const auto nested = [](std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
  };
  const auto nested_objects = [](std::size_t depth) {
    std::string text;
    for (std::size_t i = 0; i < depth; ++i) text += "{\"a\":";
    text += "1";
    text += std::string(depth, '}');
    return text;
  };

  EXPECT_EQ(rewrittenOrFail(nested(kMaxJsonNestingDepth), kOfferListSites, addCents(1)),
            nested(kMaxJsonNestingDepth));
  EXPECT_EQ(rewrittenOrFail(nested_objects(kMaxJsonNestingDepth), kOfferListSites, addCents(1)),
            nested_objects(kMaxJsonNestingDepth));

  const std::string too_deep = errorOrFail(nested(kMaxJsonNestingDepth + 1), kOfferListSites, addCents(1));
  EXPECT_NE(too_deep.find("nesting is deeper than 64 levels"), std::string::npos) << too_deep;
  EXPECT_FALSE(errorOrFail(nested_objects(kMaxJsonNestingDepth + 1), kOfferListSites, addCents(1)).empty());
  EXPECT_FALSE(errorOrFail(std::string(100000, '['), kOfferListSites, addCents(1)).empty());
}

// --- property test ---

// Minor units as decimal text in major units, written independently of
// majorUnitsText: 450 -> "4.5", 1200 -> "12".
std::string expectedDecimal(std::int64_t minor_units) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%lld.%02lld", static_cast<long long>(minor_units / 100),
                static_cast<long long>(minor_units % 100));
  std::string text = buffer;
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

// A document built from literal text and amount tokens, so a test can render
// both the input and the exact output it expects after a rewrite.
class GeneratedDocument {
 public:
  struct Piece {
    std::string text;                   // literal text, or the upstream spelling of an amount
    std::optional<std::int64_t> minor;  // set for the amount tokens at money sites
  };

  void literal(std::string_view text) { pieces_.push_back({std::string(text), std::nullopt}); }
  void amount(std::string spelling, std::int64_t minor) { pieces_.push_back({std::move(spelling), minor}); }

  std::string render() const {
    std::string text;
    for (const Piece& piece : pieces_) text += piece.text;
    return text;
  }

  // The document after adding `cents` to every amount at a money site.
  std::string renderShifted(std::int64_t cents) const {
    std::string text;
    for (const Piece& piece : pieces_) text += piece.minor ? expectedDecimal(*piece.minor + cents) : piece.text;
    return text;
  }

 private:
  std::vector<Piece> pieces_;
};

class DocumentGenerator {
 public:
  explicit DocumentGenerator(std::uint32_t seed) : random_(seed) {}

  // An offer list envelope with `offer_count` offers, each with a price and
  // some unrelated values around it.
  GeneratedDocument offerList(std::size_t offer_count) {
    GeneratedDocument document;
    document_ = &document;

    open('{');
    key("success");
    literal("true");
    comma();
    key("data");
    open('[');
    for (std::size_t i = 0; i < offer_count; ++i) {
      if (i > 0) comma();
      offer(i);
    }
    close(']');
    comma();
    key("pagination");
    literal("{\"page\":1,\"limit\":50,\"total\":" + std::to_string(offer_count) + "}");
    close('}');
    whitespace();

    document_ = nullptr;
    return document;
  }

 private:
  std::size_t pick(std::size_t count) { return std::uniform_int_distribution<std::size_t>(0, count - 1)(random_); }

  void literal(std::string_view text) { document_->literal(text); }

  void whitespace() {
    static const std::string_view kWhitespace[] = {"", "", " ", "  ", "\n", "\n    ", "\t", "\r\n", " \n\t "};
    literal(kWhitespace[pick(std::size(kWhitespace))]);
  }

  void open(char bracket) {
    whitespace();
    literal(std::string(1, bracket));
    whitespace();
  }
  void close(char bracket) {
    whitespace();
    literal(std::string(1, bracket));
    whitespace();
  }
  void comma() {
    whitespace();
    literal(",");
    whitespace();
  }
  void key(std::string_view name) {
    literal("\"");
    literal(name);
    literal("\"");
    whitespace();
    literal(":");
    whitespace();
  }

  void offer(std::size_t index) {
    // Members in a random order: the sku, the price and two unrelated values.
    std::vector<int> members = {0, 1, 2, 3};
    std::shuffle(members.begin(), members.end(), random_);

    open('{');
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i > 0) comma();
      switch (members[i]) {
        case 0:
          key("sku");
          literal("\"sku-" + std::to_string(index) + "\"");
          break;
        case 1:
          key("price");
          money();
          break;
        case 2:
          key("provider");
          literal(R"({"name":"Telcel","price":{"usd":1.5,"mxn":27.3}})");
          break;
        default:
          key(kExtraKeys[pick(std::size(kExtraKeys))]);
          value(0);
          break;
      }
    }
    close('}');
  }

  // A money object with both amounts in random order, sometimes with an extra key.
  void money() {
    const bool usd_first = pick(2) == 0;
    const bool extra = pick(4) == 0;

    open('{');
    if (extra && pick(2) == 0) {
      key("note");
      value(0);
      comma();
    }
    amountMember(usd_first ? "usd" : "mxn");
    comma();
    amountMember(usd_first ? "mxn" : "usd");
    if (extra) {
      comma();
      key("currency_note");
      literal("\"mixed \\u00e9\"");
    }
    close('}');
  }

  void amountMember(std::string_view currency) {
    key(currency);

    // Stay 1 cent below the maximum so that a +1 cent rewrite is valid.
    const std::int64_t minor = pick(3) == 0
                                   ? static_cast<std::int64_t>(pick(10000))
                                   : std::uniform_int_distribution<std::int64_t>(0, kMaxMinorUnits - 1)(random_);
    document_->amount(spelling(minor), minor);
  }

  // Upstream spellings that parseMinorUnits reads as `minor`.
  std::string spelling(std::int64_t minor) {
    const std::string minimal = expectedDecimal(minor);
    switch (pick(4)) {
      case 0:
        if (minor % 100 == 0) return minimal + ".00";
        if (minor % 10 == 0) return minimal + "0";
        return minimal;
      case 1:
        // nlohmann::json reads "1999e-2" as the double nearest to 19.99, the
        // same double as "19.99".
        return std::to_string(minor) + "e-2";
      default:
        return minimal;
    }
  }

  // A random value without money at a matching site.
  void value(int depth) {
    const std::size_t kind = depth >= 3 ? pick(5) : pick(7);
    switch (kind) {
      case 0:
        literal(kStrings[pick(std::size(kStrings))]);
        break;
      case 1:
        literal(kNumbers[pick(std::size(kNumbers))]);
        break;
      case 2:
        literal("true");
        break;
      case 3:
        literal("null");
        break;
      case 4:
        literal("false");
        break;
      case 5: {
        open('[');
        const std::size_t count = pick(4);
        for (std::size_t i = 0; i < count; ++i) {
          if (i > 0) comma();
          value(depth + 1);
        }
        close(']');
        break;
      }
      default: {
        open('{');
        const std::size_t count = pick(4);
        for (std::size_t i = 0; i < count; ++i) {
          if (i > 0) comma();
          key(kExtraKeys[pick(std::size(kExtraKeys))] + std::to_string(i));
          value(depth + 1);
        }
        close('}');
        break;
      }
    }
  }

  static constexpr std::string_view kStrings[] = {
      R"("")",
      R"("México")",
      R"("東京 🇯🇵")",
      R"("caf\u00e9")",
      R"("smile \ud83d\ude00")",
      R"("quote \" and backslash \\")",
      R"("tab\tnew\nline\/slash")",
      R"("{\"usd\": 1, \"mxn\": 2}")",
  };
  static constexpr std::string_view kNumbers[] = {
      "0", "-0", "12345678901234567890123", "1.5e-300", "-2.5E+10", "3.14159265358979323846", "42", "-7",
  };
  static inline const std::string kExtraKeys[] = {"name", "k\\\"ey", "back\\\\slash", "ñame", "\\u00e9t\\u00e9",
                                                  "networks"};

  std::mt19937 random_;
  GeneratedDocument* document_ = nullptr;
};

// Removes the amounts at every data[i].price, so that the rest of two
// documents can be compared.
json withoutPriceAmounts(json document) {
  for (json& offer : document["data"]) {
    offer["price"].erase("usd");
    offer["price"].erase("mxn");
  }
  return document;
}

std::int64_t minorUnitsOrFail(const json& number) {
  auto result = parseMinorUnits(number);
  if (const auto* error = std::get_if<PricingError>(&result)) {
    ADD_FAILURE() << error->message;
    return -1;
  }
  return std::get<std::int64_t>(result);
}

TEST(JsonPriceRewriterProperty, IdentityAndOneCentOnGeneratedDocuments) {
  DocumentGenerator generator(20240611);
  constexpr int kDocumentCount = 500;

  for (int i = 0; i < kDocumentCount; ++i) {
    SCOPED_TRACE("document " + std::to_string(i));
    const GeneratedDocument generated = generator.offerList(static_cast<std::size_t>(i % 7));
    const std::string input = generated.render();

    // Identity, both by returning the same amounts and by returning nullopt.
    EXPECT_EQ(rewrittenOrFail(input, kOfferListSites, addCents(0)), input);
    EXPECT_EQ(rewrittenOrFail(input, kOfferListSites, leaveUnchanged()), input);

    // +1 cent: exactly the amount tokens change, and to the expected text.
    RecordingRewrite rewrite(1);
    const std::string output = rewrittenOrFail(input, kOfferListSites, rewrite.callback());
    ASSERT_EQ(output, generated.renderShifted(1)) << "input: " << input;

    // Every other value is the same when both documents are parsed.
    const json before = json::parse(input, nullptr, false);
    const json after = json::parse(output, nullptr, false);
    ASSERT_FALSE(before.is_discarded()) << input;
    ASSERT_FALSE(after.is_discarded()) << output;
    EXPECT_EQ(withoutPriceAmounts(before), withoutPriceAmounts(after));

    ASSERT_EQ(rewrite.paths.size(), before["data"].size());
    for (std::size_t offer = 0; offer < before["data"].size(); ++offer) {
      const json& old_price = before["data"][offer]["price"];
      const json& new_price = after["data"][offer]["price"];
      EXPECT_EQ(minorUnitsOrFail(new_price["usd"]), minorUnitsOrFail(old_price["usd"]) + 1);
      EXPECT_EQ(minorUnitsOrFail(new_price["mxn"]), minorUnitsOrFail(old_price["mxn"]) + 1);

      EXPECT_EQ(rewrite.paths[offer], (JsonPath{"data", std::to_string(offer), "price"}));
      const json enclosing = json::parse(rewrite.enclosing_objects[offer], nullptr, false);
      ASSERT_TRUE(enclosing.is_object()) << rewrite.enclosing_objects[offer];
      EXPECT_EQ(enclosing.value("sku", ""), "sku-" + std::to_string(offer));
    }
  }
}

}  // namespace
}  // namespace fdgw::pricing
