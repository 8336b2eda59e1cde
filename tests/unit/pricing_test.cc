#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/config/markup_config.h"
#include "gateway/pricing/markup.h"
#include "gateway/pricing/money.h"
#include "gateway/pricing/price_calculator.h"
#include "tests/common/decimal_reference.h"

namespace fdgw::pricing {
namespace {

using config::Currency;
using config::Markup;
using config::MarkupFields;
using config::MarkupMatch;
using config::MarkupOverride;
using config::Rounding;
using config::RoundingMode;
using nlohmann::json;
using testing::compareDecimals;
using testing::Decimal;
using testing::decimalFromText;
using testing::referencePrice;
using testing::RuleText;
using testing::withScale;

constexpr std::size_t kUsdSlot = 0;
constexpr std::size_t kMxnSlot = 1;

Rounding nearest(std::int64_t step) { return {RoundingMode::kNearest, step}; }
Rounding up(std::int64_t step) { return {RoundingMode::kUp, step}; }
Rounding ending(std::int64_t ending_minor_units) {
  return {RoundingMode::kEnding, ending_minor_units};
}

// Fields with only a percent, given in ten-thousandths (20 % -> 200000).
MarkupFields percentOnly(std::int64_t ten_thousandths) {
  MarkupFields fields;
  fields.percent_ten_thousandths = ten_thousandths;
  return fields;
}

// Prices a USD cost and fails the test when price() returns an error.
std::int64_t priceUsd(std::int64_t cost, const EffectiveFields& fields) {
  auto result = price(cost, Currency::kUsd, fields);
  if (const auto* error = std::get_if<PricingError>(&result)) {
    ADD_FAILURE() << "price(" << cost << ") failed: " << error->message;
    return -1;
  }
  return std::get<std::int64_t>(result);
}

std::int64_t parsedOrFail(const json& number) {
  auto result = parseMinorUnits(number);
  if (const auto* error = std::get_if<PricingError>(&result)) {
    ADD_FAILURE() << "parseMinorUnits(" << number.dump() << ") failed: " << error->message;
    return -1;
  }
  return std::get<std::int64_t>(result);
}

// Returns the error message, or "" (and a test failure) when parsing succeeds.
std::string parseErrorOf(const json& number) {
  auto result = parseMinorUnits(number);
  if (const auto* error = std::get_if<PricingError>(&result)) return error->message;
  ADD_FAILURE() << number.dump() << " parsed as " << std::get<std::int64_t>(result);
  return "";
}

// ---------------------------------------------------------------------------
// Money: parsing upstream numbers

TEST(PricingMoneyParse, Zero) {
  EXPECT_EQ(parsedOrFail(json::parse("0")), 0);
  EXPECT_EQ(parsedOrFail(json::parse("0.0")), 0);
  EXPECT_EQ(parsedOrFail(json::parse("-0.0")), 0);
}

TEST(PricingMoneyParse, HalfUnit) {
  EXPECT_EQ(parsedOrFail(json::parse("0.5")), 50);
}

TEST(PricingMoneyParse, OneDecimal) {
  EXPECT_EQ(parsedOrFail(json::parse("4.5")), 450);
  EXPECT_EQ(parsedOrFail(json::parse("12.3")), 1230);
}

TEST(PricingMoneyParse, Integer) {
  EXPECT_EQ(parsedOrFail(json::parse("12")), 1200);
  EXPECT_EQ(parsedOrFail(json(std::uint64_t{12})), 1200);
  EXPECT_EQ(parsedOrFail(json::parse("12.0")), 1200);
  EXPECT_EQ(parsedOrFail(json::parse("12.00")), 1200);
}

TEST(PricingMoneyParse, TwoDecimals) {
  EXPECT_EQ(parsedOrFail(json::parse("19.99")), 1999);
  EXPECT_EQ(parsedOrFail(json::parse("0.01")), 1);
  EXPECT_EQ(parsedOrFail(json::parse("0.1")), 10);
  EXPECT_EQ(parsedOrFail(json::parse("81.9")), 8190);
}

TEST(PricingMoneyParse, LargeAmount) {
  EXPECT_EQ(parsedOrFail(json::parse("1234567.89")), 123456789);
  EXPECT_EQ(parsedOrFail(json::parse("9999999999999.99")), kMaxMinorUnits);
  EXPECT_EQ(parsedOrFail(json::parse("9999999999999")), 999'999'999'999'900);
}

TEST(PricingMoneyParse, ExponentNotation) {
  EXPECT_EQ(parsedOrFail(json::parse("1.5e2")), 15000);
  EXPECT_EQ(parsedOrFail(json::parse("1999e-2")), 1999);
}

TEST(PricingMoneyParse, DigitsBeyondDoublePrecisionLost) {
  // nlohmann::json parses this text to the double 20.0 before the money code
  // sees it, so the excess decimals cannot be detected.
  EXPECT_EQ(parsedOrFail(json::parse("19.999999999999999999")), 2000);
}

TEST(PricingMoneyParse, MoreThanTwoDecimalsRejected) {
  for (const char* text : {"4.555", "0.001", "19.999", "12.345", "1e-5"}) {
    const std::string message = parseErrorOf(json::parse(text));
    EXPECT_NE(message.find("more than two decimals"), std::string::npos) << text << ": " << message;
  }
}

TEST(PricingMoneyParse, NegativeRejected) {
  for (const char* text : {"-1", "-0.5", "-19.99", "-0.01"}) {
    const std::string message = parseErrorOf(json::parse(text));
    EXPECT_NE(message.find("negative"), std::string::npos) << text << ": " << message;
  }
}

TEST(PricingMoneyParse, AboveMaximumRejected) {
  for (const char* text : {"10000000000000", "10000000000000.5", "1e20", "18446744073709551615"}) {
    const std::string message = parseErrorOf(json::parse(text));
    EXPECT_NE(message.find("exceeds the maximum"), std::string::npos) << text << ": " << message;
  }
}

TEST(PricingMoneyParse, NonNumberRejected) {
  for (const json& value : {json("4.5"), json(nullptr), json(true), json::array(), json::object()}) {
    const std::string message = parseErrorOf(value);
    EXPECT_NE(message.find("expected a JSON number"), std::string::npos) << message;
  }
}

TEST(PricingMoneyParse, ErrorShowsValue) {
  EXPECT_EQ(parseErrorOf(json::parse("4.555")), "amount 4.555 has more than two decimals");
}

// ---------------------------------------------------------------------------
// Money: formatting for the tenant

TEST(PricingMoneyFormat, DumpsShortestText) {
  EXPECT_EQ(minorUnitsToJson(2399).dump(), "23.99");
  EXPECT_EQ(minorUnitsToJson(450).dump(), "4.5");
  EXPECT_EQ(minorUnitsToJson(1200).dump(), "12");
  EXPECT_EQ(minorUnitsToJson(0).dump(), "0");
  EXPECT_EQ(minorUnitsToJson(50).dump(), "0.5");
  EXPECT_EQ(minorUnitsToJson(1).dump(), "0.01");
  EXPECT_EQ(minorUnitsToJson(10).dump(), "0.1");
  EXPECT_EQ(minorUnitsToJson(1230).dump(), "12.3");
  EXPECT_EQ(minorUnitsToJson(1999).dump(), "19.99");
  EXPECT_EQ(minorUnitsToJson(123456789).dump(), "1234567.89");
  EXPECT_EQ(minorUnitsToJson(kMaxMinorUnits).dump(), "9999999999999.99");
}

TEST(PricingMoneyFormat, NegativeAmounts) {
  EXPECT_EQ(minorUnitsToJson(-2399).dump(), "-23.99");
  EXPECT_EQ(minorUnitsToJson(-5).dump(), "-0.05");
  EXPECT_EQ(minorUnitsToJson(-1200).dump(), "-12");
}

TEST(PricingMoneyFormat, WholeAmountsAreIntegers) {
  EXPECT_TRUE(minorUnitsToJson(1200).is_number_integer());
  EXPECT_TRUE(minorUnitsToJson(0).is_number_integer());
  EXPECT_TRUE(minorUnitsToJson(2399).is_number_float());
}

// Builds the expected text with std::to_string and string edits, a different
// method from the one in money.cc.
std::string expectedText(std::int64_t minor_units) {
  std::string text = std::to_string(minor_units / 100);
  const std::int64_t cents = minor_units % 100;
  if (cents == 0) return text;
  std::string fraction = (cents < 10 ? "0" : "") + std::to_string(cents);
  if (fraction.back() == '0') fraction.pop_back();
  return text + "." + fraction;
}

TEST(PricingMoneyFormat, EveryCentUpToTwoThousandRoundTrips) {
  for (std::int64_t minor = 0; minor <= 200'000; ++minor) {
    const std::string text = minorUnitsToJson(minor).dump();
    ASSERT_EQ(text, expectedText(minor)) << minor;
    ASSERT_EQ(parsedOrFail(json::parse(text)), minor) << text;
  }
}

TEST(PricingMoneyFormat, RandomLargeAmountsRoundTrip) {
  std::mt19937_64 generator(20240601);
  for (int i = 0; i < 50'000; ++i) {
    const auto minor = static_cast<std::int64_t>(generator() % (kMaxMinorUnits + 1));
    const std::string text = minorUnitsToJson(minor).dump();
    ASSERT_EQ(text, expectedText(minor)) << minor;
    ASSERT_EQ(parsedOrFail(json::parse(text)), minor) << text;
  }
}

// ---------------------------------------------------------------------------
// Money objects with both currencies

TEST(PricingMoneyObject, ParsesBothCurrencies) {
  auto result = parseMoney(json::parse(R"({"usd": 4.5, "mxn": 81.9, "note": "ignored"})"));
  ASSERT_TRUE(std::holds_alternative<Money>(result));
  EXPECT_EQ(std::get<Money>(result).usd, 450);
  EXPECT_EQ(std::get<Money>(result).mxn, 8190);
}

TEST(PricingMoneyObject, MissingCurrencyRejected) {
  auto result = parseMoney(json::parse(R"({"usd": 4.5})"));
  ASSERT_TRUE(std::holds_alternative<PricingError>(result));
  EXPECT_EQ(std::get<PricingError>(result).message, "money object is missing \"mxn\"");
}

TEST(PricingMoneyObject, InvalidAmountNamesCurrency) {
  auto result = parseMoney(json::parse(R"({"usd": 4.5, "mxn": -3})"));
  ASSERT_TRUE(std::holds_alternative<PricingError>(result));
  EXPECT_EQ(std::get<PricingError>(result).message, "mxn: amount -3 is negative");
}

TEST(PricingMoneyObject, NonObjectRejected) {
  auto result = parseMoney(json::parse("4.5"));
  ASSERT_TRUE(std::holds_alternative<PricingError>(result));
  EXPECT_NE(std::get<PricingError>(result).message.find("got number"), std::string::npos);
}

TEST(PricingMoneyObject, WritesBothCurrencies) {
  const json object = moneyToJson(Money{2399, 44000});
  EXPECT_EQ(object.at("usd").dump(), "23.99");
  EXPECT_EQ(object.at("mxn").dump(), "440");
  EXPECT_EQ(object.size(), 2u);
}

// ---------------------------------------------------------------------------
// price(): each rule alone

TEST(PricingRules, PercentRoundsHalfUpToCent) {
  // 19.99 * 1.20 = 23.988 -> 23.99
  EXPECT_EQ(priceUsd(1999, percentOnly(200000)), 2399);
  // 10.00 * 1.125 = 11.25
  EXPECT_EQ(priceUsd(1000, percentOnly(125000)), 1125);
  // 19.99 * 1.25 = 24.9875 -> 24.99
  EXPECT_EQ(priceUsd(1999, percentOnly(250000)), 2499);
}

TEST(PricingRules, ExactHalfCentRoundsUp) {
  // 0.10 * 1.05 = 0.105 -> 0.11
  EXPECT_EQ(priceUsd(10, percentOnly(50000)), 11);
  // 0.01 * 1.50 = 0.015 -> 0.02
  EXPECT_EQ(priceUsd(1, percentOnly(500000)), 2);
  // 0.10 * 1.04 = 0.104 -> 0.10
  EXPECT_EQ(priceUsd(10, percentOnly(40000)), 10);
}

TEST(PricingRules, PercentWithFourDecimals) {
  // 100.00 * 1.123456 = 112.3456 -> 112.35
  EXPECT_EQ(priceUsd(10000, percentOnly(123456)), 11235);
  // 100.00 * 1.000001 = 100.0001 -> 100.00
  EXPECT_EQ(priceUsd(10000, percentOnly(1)), 10000);
}

TEST(PricingRules, FixedAmountAdded) {
  MarkupFields fields;
  fields.fixed[kUsdSlot] = 50;
  EXPECT_EQ(priceUsd(1000, fields), 1050);
}

TEST(PricingRules, PercentAppliesBeforeFixed) {
  MarkupFields fields = percentOnly(200000);
  fields.fixed[kUsdSlot] = 50;
  // 10.00 * 1.20 + 0.50, not (10.00 + 0.50) * 1.20
  EXPECT_EQ(priceUsd(1000, fields), 1250);
}

TEST(PricingRules, MinMarginRaisesLowMarkup) {
  MarkupFields fields = percentOnly(10000);  // 1 %
  fields.min_margin[kUsdSlot] = 30;
  // 10.00 * 1.01 = 10.10 is below 10.00 + 0.30
  EXPECT_EQ(priceUsd(1000, fields), 1030);
}

TEST(PricingRules, MinMarginBelowMarkupHasNoEffect) {
  MarkupFields fields = percentOnly(200000);
  fields.min_margin[kUsdSlot] = 30;
  EXPECT_EQ(priceUsd(1000, fields), 1200);
}

TEST(PricingRules, NearestRoundsHalfUpToStep) {
  MarkupFields fields = percentOnly(170000);
  fields.rounding[kUsdSlot] = nearest(100);
  // 20.00 * 1.17 = 23.40 -> 23
  EXPECT_EQ(priceUsd(2000, fields), 2300);
  // 19.99 * 1.17 = 23.3883 -> 23
  EXPECT_EQ(priceUsd(1999, fields), 2300);

  fields = percentOnly(175000);
  fields.rounding[kUsdSlot] = nearest(100);
  // 20.00 * 1.175 = 23.50 exactly -> 24
  EXPECT_EQ(priceUsd(2000, fields), 2400);
}

TEST(PricingRules, NearestQuarterStep) {
  MarkupFields fields = percentOnly(200000);
  fields.rounding[kUsdSlot] = nearest(25);
  // 19.99 * 1.2 = 23.988 -> 24.00
  EXPECT_EQ(priceUsd(1999, fields), 2400);
  // 10.10 * 1.2 = 12.12 -> 12.00
  EXPECT_EQ(priceUsd(1010, fields), 1200);
  // 10.20 * 1.2 = 12.24 -> 12.25
  EXPECT_EQ(priceUsd(1020, fields), 1225);
}

TEST(PricingRules, UpRoundsToNextStep) {
  MarkupFields fields = percentOnly(200000);
  fields.rounding[kUsdSlot] = up(5);
  // 19.90 * 1.2 = 23.88 -> 23.90
  EXPECT_EQ(priceUsd(1990, fields), 2390);
  // 20.00 * 1.2 = 24.00 is already a multiple of 0.05.
  EXPECT_EQ(priceUsd(2000, fields), 2400);
  // 0.01 * 1.2 = 0.012 -> 0.05
  EXPECT_EQ(priceUsd(1, fields), 5);
}

TEST(PricingRules, UpRoundsEvenTinyExcess) {
  MarkupFields fields = percentOnly(1);  // 0.0001 %
  fields.rounding[kUsdSlot] = up(100);
  // 100.00 * 1.000001 = 100.0001 -> 101
  EXPECT_EQ(priceUsd(10000, fields), 10100);
}

TEST(PricingRules, EndingTakesSmallestAtOrAbove) {
  MarkupFields fields = percentOnly(200000);
  fields.rounding[kUsdSlot] = ending(99);
  // 23.988 -> 23.99
  EXPECT_EQ(priceUsd(1999, fields), 2399);
  // 24.00 -> 24.99
  EXPECT_EQ(priceUsd(2000, fields), 2499);
  // 0.60 -> 0.99 (n = 0)
  EXPECT_EQ(priceUsd(50, fields), 99);

  fields = percentOnly(0);
  fields.rounding[kUsdSlot] = ending(99);
  // 23.99 already ends in .99
  EXPECT_EQ(priceUsd(2399, fields), 2399);
}

TEST(PricingRules, EndingZeroRoundsUpToWholeUnit) {
  MarkupFields fields = percentOnly(0);
  fields.rounding[kMxnSlot] = ending(0);
  auto result = price(35901, Currency::kMxn, fields);
  ASSERT_TRUE(std::holds_alternative<std::int64_t>(result));
  EXPECT_EQ(std::get<std::int64_t>(result), 36000);

  result = price(35900, Currency::kMxn, fields);
  ASSERT_TRUE(std::holds_alternative<std::int64_t>(result));
  EXPECT_EQ(std::get<std::int64_t>(result), 35900);
}

TEST(PricingRules, RoundedBelowCostMovesUpOneStep) {
  MarkupFields fields = percentOnly(0);
  fields.rounding[kUsdSlot] = nearest(100);
  // 23.40 rounds to 23, below the cost, so it moves up to 24.
  EXPECT_EQ(priceUsd(2340, fields), 2400);
}

TEST(PricingRules, RoundedBelowMinMarginMovesUpOneStep) {
  MarkupFields fields = percentOnly(0);
  fields.min_margin[kUsdSlot] = 20;
  fields.rounding[kUsdSlot] = nearest(50);
  // Raised to 10.20, rounded to 10.00, below 10.20, so moved up to 10.50.
  EXPECT_EQ(priceUsd(1000, fields), 1050);
}

TEST(PricingRules, RoundedAtFloorStays) {
  MarkupFields fields = percentOnly(0);
  fields.min_margin[kUsdSlot] = 50;
  fields.rounding[kUsdSlot] = nearest(50);
  EXPECT_EQ(priceUsd(1000, fields), 1050);
}

TEST(PricingRules, FixedPriceReplacesFormula) {
  MarkupFields fields = percentOnly(500000);
  fields.fixed[kUsdSlot] = 100;
  fields.rounding[kUsdSlot] = nearest(100);
  fields.price[kUsdSlot] = 999;
  // The formula gives 8.50, which rounding would make 9, but the fixed price wins.
  EXPECT_EQ(priceUsd(500, fields), 999);
}

TEST(PricingRules, FixedPriceBelowFloorRaised) {
  MarkupFields fields;
  fields.min_margin[kUsdSlot] = 30;
  fields.price[kUsdSlot] = 499;
  EXPECT_EQ(priceUsd(500, fields), 530);
}

TEST(PricingRules, FixedPriceBelowCostRaisedToCost) {
  MarkupFields fields;
  fields.price[kUsdSlot] = 999;
  EXPECT_EQ(priceUsd(1234, fields), 1234);
}

TEST(PricingRules, EmptyFieldsKeepCost) {
  EXPECT_EQ(priceUsd(1999, MarkupFields{}), 1999);
  EXPECT_EQ(priceUsd(0, MarkupFields{}), 0);
}

TEST(PricingRules, ZeroCost) {
  MarkupFields fields = percentOnly(200000);
  fields.fixed[kUsdSlot] = 50;
  fields.rounding[kUsdSlot] = ending(99);
  EXPECT_EQ(priceUsd(0, fields), 99);
}

TEST(PricingRules, CurrencyReadsOwnSlot) {
  MarkupFields fields = percentOnly(0);
  fields.fixed[kUsdSlot] = 50;
  fields.fixed[kMxnSlot] = 900;
  EXPECT_EQ(std::get<std::int64_t>(price(1000, Currency::kUsd, fields)), 1050);
  EXPECT_EQ(std::get<std::int64_t>(price(1000, Currency::kMxn, fields)), 1900);
}

TEST(PricingRules, LargestPercent) {
  // 10000 %, the policy maximum: 9999999.99 * 101
  EXPECT_EQ(priceUsd(999'999'999, percentOnly(100'000'000)), 100'999'999'899);
}

TEST(PricingRules, InvalidInputsRejected) {
  EXPECT_TRUE(std::holds_alternative<PricingError>(price(-1, Currency::kUsd, MarkupFields{})));
  EXPECT_TRUE(std::holds_alternative<PricingError>(
      price(kMaxMinorUnits + 1, Currency::kUsd, MarkupFields{})));

  MarkupFields zero_step;
  zero_step.rounding[kUsdSlot] = nearest(0);
  EXPECT_TRUE(std::holds_alternative<PricingError>(price(100, Currency::kUsd, zero_step)));

  MarkupFields ending_too_large;
  ending_too_large.rounding[kUsdSlot] = ending(100);
  EXPECT_TRUE(std::holds_alternative<PricingError>(price(100, Currency::kUsd, ending_too_large)));

  MarkupFields negative_percent = percentOnly(-10000);
  EXPECT_TRUE(std::holds_alternative<PricingError>(price(100, Currency::kUsd, negative_percent)));
}

TEST(PricingRules, ResultAboveMaximumRejected) {
  auto result = price(kMaxMinorUnits, Currency::kUsd, percentOnly(10000));
  ASSERT_TRUE(std::holds_alternative<PricingError>(result));
  EXPECT_EQ(std::get<PricingError>(result).message,
            "marked-up price exceeds the maximum amount 9999999999999.99");
}

// ---------------------------------------------------------------------------
// Override resolution

MarkupOverride overrideFor(MarkupMatch match, MarkupFields fields) {
  return MarkupOverride{std::move(match), std::move(fields)};
}

MarkupMatch countriesMatch(std::vector<std::string> countries) {
  MarkupMatch match;
  match.countries = std::move(countries);
  return match;
}

MarkupMatch skuMatch(std::string sku) {
  MarkupMatch match;
  match.sku = std::move(sku);
  return match;
}

OfferFacts offer(std::string sku, std::vector<std::string> countries, std::string region = "",
                 std::string profile = "standard") {
  return OfferFacts{std::move(sku), std::move(countries), std::move(region), std::move(profile)};
}

TEST(PricingOverrides, NoMatchUsesBase) {
  Markup markup;
  markup.base = percentOnly(200000);
  markup.overrides.push_back(overrideFor(countriesMatch({"US"}), percentOnly(120000)));

  const auto fields = resolveFields(markup, offer("FD-MX-1GB-7D", {"MX"}));
  EXPECT_EQ(fields.percent_ten_thousandths, 200000);
}

TEST(PricingOverrides, FirstMatchWins) {
  Markup markup;
  markup.base = percentOnly(200000);
  markup.overrides.push_back(overrideFor(countriesMatch({"US", "CA"}), percentOnly(120000)));
  markup.overrides.push_back(overrideFor(skuMatch("FD-US-5GB-30D"), percentOnly(300000)));

  // Both entries match, and the first one listed applies.
  EXPECT_EQ(resolveFields(markup, offer("FD-US-5GB-30D", {"US"})).percent_ten_thousandths, 120000);
  // Only the second matches.
  EXPECT_EQ(resolveFields(markup, offer("FD-US-5GB-30D", {"MX"})).percent_ten_thousandths, 300000);
}

TEST(PricingOverrides, SeveralKeysMustAllHold) {
  MarkupMatch match;
  match.countries = {"MX"};
  match.profile = "unlimited-plus";
  match.region = "north-america";

  EXPECT_TRUE(matchesOffer(match, offer("A", {"MX"}, "north-america", "unlimited-plus")));
  EXPECT_FALSE(matchesOffer(match, offer("A", {"MX"}, "north-america", "standard")));
  EXPECT_FALSE(matchesOffer(match, offer("A", {"US"}, "north-america", "unlimited-plus")));
  EXPECT_FALSE(matchesOffer(match, offer("A", {"MX"}, "latam", "unlimited-plus")));
}

TEST(PricingOverrides, CountriesMatchAnyListed) {
  const MarkupMatch match = countriesMatch({"US", "CA"});

  EXPECT_TRUE(matchesOffer(match, offer("A", {"CA"})));
  EXPECT_TRUE(matchesOffer(match, offer("A", {"MX", "US", "GT"})));
  EXPECT_FALSE(matchesOffer(match, offer("A", {"MX", "GT"})));
  EXPECT_FALSE(matchesOffer(match, offer("A", {})));
}

TEST(PricingOverrides, ExactComparison) {
  EXPECT_TRUE(matchesOffer(skuMatch("FD-MX-5GB-30D"), offer("FD-MX-5GB-30D", {"MX"})));
  EXPECT_FALSE(matchesOffer(skuMatch("FD-MX-5GB-30D"), offer("fd-mx-5gb-30d", {"MX"})));
  EXPECT_FALSE(matchesOffer(skuMatch("FD-MX-5GB"), offer("FD-MX-5GB-30D", {"MX"})));

  MarkupMatch profile;
  profile.profile = "unlimited-plus";
  EXPECT_FALSE(matchesOffer(profile, offer("A", {"MX"}, "", "unlimited-plus-max")));
  EXPECT_FALSE(matchesOffer(profile, offer("A", {"MX"}, "", "Unlimited-Plus")));
}

TEST(PricingOverrides, UnsetFieldsInherit) {
  Markup markup;
  markup.base = percentOnly(200000);
  markup.base.fixed = {50, 900};
  markup.base.min_margin = {30, 500};
  markup.base.rounding = {ending(99), nearest(100)};

  MarkupFields override_fields = percentOnly(120000);
  override_fields.fixed[kUsdSlot] = 10;
  markup.overrides.push_back(overrideFor(countriesMatch({"US"}), override_fields));

  const auto fields = resolveFields(markup, offer("A", {"US"}));
  EXPECT_EQ(fields.percent_ten_thousandths, 120000);
  EXPECT_EQ(fields.fixed[kUsdSlot], 10);
  EXPECT_EQ(fields.fixed[kMxnSlot], 900);
  EXPECT_EQ(fields.min_margin[kUsdSlot], 30);
  EXPECT_EQ(fields.min_margin[kMxnSlot], 500);
  ASSERT_TRUE(fields.rounding[kUsdSlot].has_value());
  EXPECT_EQ(fields.rounding[kUsdSlot]->mode, RoundingMode::kEnding);
  EXPECT_EQ(fields.rounding[kUsdSlot]->amount, 99);
  ASSERT_TRUE(fields.rounding[kMxnSlot].has_value());
  EXPECT_EQ(fields.rounding[kMxnSlot]->mode, RoundingMode::kNearest);
  EXPECT_FALSE(fields.price[kUsdSlot].has_value());
}

TEST(PricingOverrides, OverrideWithoutPercentInheritsPercent) {
  Markup markup;
  markup.base = percentOnly(200000);
  MarkupFields override_fields;
  override_fields.rounding[kUsdSlot] = nearest(100);
  markup.overrides.push_back(overrideFor(skuMatch("A"), override_fields));

  const auto fields = resolveFields(markup, offer("A", {"MX"}));
  EXPECT_EQ(fields.percent_ten_thousandths, 200000);
  ASSERT_TRUE(fields.rounding[kUsdSlot].has_value());
  EXPECT_EQ(fields.rounding[kUsdSlot]->amount, 100);
}

// ---------------------------------------------------------------------------
// PriceCalculator: both currencies of one offer

// The sample plan: percent 20, fixed {usd: 0.50, mxn: 9}, min_margin
// {usd: 0.30, mxn: 5}, rounding {usd: {ending: 0.99}, mxn: {nearest: 1}},
// with overrides for US/CA (12 %), unlimited-plus (30 %) and one SKU's
// fixed price {usd: 9.99, mxn: 179}.
Markup samplePlanMarkup() {
  Markup markup;
  markup.base = percentOnly(200000);
  markup.base.fixed = {50, 900};
  markup.base.min_margin = {30, 500};
  markup.base.rounding = {ending(99), nearest(100)};

  markup.overrides.push_back(overrideFor(countriesMatch({"US", "CA"}), percentOnly(120000)));
  MarkupMatch unlimited;
  unlimited.profile = "unlimited-plus";
  markup.overrides.push_back(overrideFor(unlimited, percentOnly(300000)));
  MarkupFields fixed_price;
  fixed_price.price = {999, 17900};
  markup.overrides.push_back(overrideFor(skuMatch("FD-MX-5GB-30D"), fixed_price));
  return markup;
}

Money markedUpOrFail(const PriceCalculator& calculator, const OfferFacts& facts, Money cost) {
  auto result = calculator.markUp(facts, cost);
  if (const auto* error = std::get_if<PricingError>(&result)) {
    ADD_FAILURE() << "markUp failed: " << error->message;
    return Money{-1, -1};
  }
  return std::get<Money>(result);
}

TEST(PricingCalculator, NoMarkupPassesThrough) {
  const PriceCalculator calculator(std::nullopt);
  EXPECT_EQ(markedUpOrFail(calculator, offer("A", {"MX"}), Money{1999, 35901}), (Money{1999, 35901}));
  EXPECT_EQ(markedUpOrFail(calculator, offer("A", {"MX"}), Money{0, 0}), (Money{0, 0}));
}

TEST(PricingCalculator, CurrenciesUseOwnCostAndRules) {
  const PriceCalculator calculator(samplePlanMarkup());
  // USD: 19.99 * 1.2 + 0.50 = 24.488 -> ending .99 -> 24.99
  // MXN: 359 * 1.2 + 9 = 439.8 -> nearest 1 -> 440
  EXPECT_EQ(markedUpOrFail(calculator, offer("FD-MX-1GB-7D", {"MX"}), Money{1999, 35900}),
            (Money{2499, 44000}));
}

TEST(PricingCalculator, CountryOverrideApplies) {
  const PriceCalculator calculator(samplePlanMarkup());
  // USD: 19.99 * 1.12 + 0.50 = 22.8888 -> 22.99
  // MXN: 359 * 1.12 + 9 = 411.08 -> 411
  EXPECT_EQ(markedUpOrFail(calculator, offer("FD-US-1GB-7D", {"US"}), Money{1999, 35900}),
            (Money{2299, 41100}));
}

TEST(PricingCalculator, ProfileOverrideApplies) {
  const PriceCalculator calculator(samplePlanMarkup());
  // USD: 19.99 * 1.3 + 0.50 = 26.487 -> 26.99
  // MXN: 359 * 1.3 + 9 = 475.7 -> 476
  EXPECT_EQ(markedUpOrFail(calculator, offer("FD-EU-UL-7D", {"FR", "DE"}, "europe", "unlimited-plus"),
                           Money{1999, 35900}),
            (Money{2699, 47600}));
}

TEST(PricingCalculator, FixedPriceOverrideApplies) {
  const PriceCalculator calculator(samplePlanMarkup());
  EXPECT_EQ(markedUpOrFail(calculator, offer("FD-MX-5GB-30D", {"MX"}), Money{500, 9000}),
            (Money{999, 17900}));
  // USD cost 9.80 + 0.30 is above 9.99, and MXN 175 + 5 is above 179.
  EXPECT_EQ(markedUpOrFail(calculator, offer("FD-MX-5GB-30D", {"MX"}), Money{980, 17500}),
            (Money{1010, 18000}));
}

TEST(PricingCalculator, EmptyMarkupKeepsPrices) {
  const PriceCalculator calculator(Markup{});
  EXPECT_EQ(markedUpOrFail(calculator, offer("A", {"MX"}), Money{1999, 35901}), (Money{1999, 35901}));
}

TEST(PricingCalculator, ErrorNamesOfferAndCurrency) {
  const PriceCalculator calculator(samplePlanMarkup());
  auto result = calculator.markUp(offer("FD-MX-1GB-7D", {"MX"}), Money{1999, -5});
  ASSERT_TRUE(std::holds_alternative<PricingError>(result));
  EXPECT_EQ(std::get<PricingError>(result).message,
            "offer FD-MX-1GB-7D, mxn: cost -5 minor units is outside 0 to 999999999999999");
}

// ---------------------------------------------------------------------------
// Property test against an independent decimal-string reference
//
// The reference below works on decimal digit strings and finds rounded
// values by searching for the multiplier that satisfies each rule's
// definition, instead of dividing as the engine does.

// Converts "12.5" to an integer count of 10^-decimals units by moving the
// point with string operations: ("12.5", 4) -> 125000.
std::int64_t scaledInteger(const std::string& text, int decimals) {
  const Decimal value = decimalFromText(text);
  return std::stoll(withScale(value, decimals).digits);
}

std::optional<std::int64_t> minorUnitsOrUnset(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return scaledInteger(text, 2);
}

MarkupFields fieldsFromText(const RuleText& rule, std::size_t slot) {
  MarkupFields fields;
  if (!rule.percent.empty()) fields.percent_ten_thousandths = scaledInteger(rule.percent, 4);
  fields.fixed[slot] = minorUnitsOrUnset(rule.fixed);
  fields.min_margin[slot] = minorUnitsOrUnset(rule.min_margin);
  fields.price[slot] = minorUnitsOrUnset(rule.fixed_price);
  if (!rule.rounding_mode.empty()) {
    const RoundingMode mode = rule.rounding_mode == "nearest" ? RoundingMode::kNearest
                              : rule.rounding_mode == "up"    ? RoundingMode::kUp
                                                              : RoundingMode::kEnding;
    fields.rounding[slot] = Rounding{mode, scaledInteger(rule.rounding_amount, 2)};
  }
  return fields;
}

std::string costText(std::int64_t minor_units) {
  std::string cents = std::to_string(minor_units % 100);
  if (cents.size() == 1) cents.insert(0, "0");
  return std::to_string(minor_units / 100) + "." + cents;
}

const std::vector<RuleText> kPropertyRules = {
    {"20", "", "", "", "", ""},
    {"50", "", "", "", "", ""},  // every odd cent makes an exact half-cent tie
    {"12.5", "0.50", "0.30", "ending", "0.99", ""},
    {"33.3333", "", "5", "nearest", "1", ""},
    {"0", "", "2", "nearest", "0.25", ""},  // often rounds below the floor
    {"7.25", "0.10", "", "up", "0.05", ""},
    {"250", "", "1", "nearest", "10", ""},
    {"15.0001", "0.01", "0.07", "ending", "0", ""},
    {"1", "", "", "nearest", "0.02", ""},
    {"0.0001", "", "", "", "", ""},
    {"20", "0.50", "0.30", "", "", "9.99"},
    {"10000", "9", "5", "up", "1", ""},
};

TEST(PricingProperty, MatchesDecimalReference) {
  std::mt19937_64 generator(7919);
  std::vector<std::int64_t> costs = {0, 1, 2, 99, 100, 999, 1999, 99'999'999};
  while (costs.size() < 2000) {
    // Half of the costs below 100.00, the rest up to 999999.99.
    const std::uint64_t range = costs.size() % 2 == 0 ? 10'000 : 100'000'000;
    costs.push_back(static_cast<std::int64_t>(generator() % range));
  }

  for (const RuleText& rule : kPropertyRules) {
    for (const Currency currency : config::kCurrencies) {
      const std::size_t slot = static_cast<std::size_t>(currency);
      const MarkupFields fields = fieldsFromText(rule, slot);
      const std::int64_t min_margin = fields.min_margin[slot].value_or(0);

      for (const std::int64_t cost : costs) {
        const auto result = price(cost, currency, fields);
        ASSERT_TRUE(std::holds_alternative<std::int64_t>(result))
            << std::get<PricingError>(result).message;
        const std::int64_t engine = std::get<std::int64_t>(result);

        const Decimal expected = referencePrice(decimalFromText(costText(cost)), rule);
        ASSERT_EQ(compareDecimals(Decimal{std::to_string(engine), 2}, expected), 0)
            << "cost " << costText(cost) << " percent " << rule.percent << " rounding "
            << rule.rounding_mode << " " << rule.rounding_amount << ": engine "
            << costText(engine) << ", reference " << expected.digits << "e-" << expected.scale;
        ASSERT_GE(engine, cost + min_margin) << "cost " << costText(cost);
      }
    }
  }
}

TEST(PricingProperty, ReferenceAgreesWithHandExamples) {
  // Checks the reference itself on values worked out by hand.
  const auto reference = [](const std::string& cost, const RuleText& rule) {
    return referencePrice(decimalFromText(cost), rule);
  };
  EXPECT_EQ(compareDecimals(reference("19.99", {"20", "", "", "", "", ""}),
                            decimalFromText("23.99")),
            0);
  EXPECT_EQ(compareDecimals(reference("19.99", {"20", "0.50", "0.30", "ending", "0.99", ""}),
                            decimalFromText("24.99")),
            0);
  EXPECT_EQ(compareDecimals(reference("23.40", {"0", "", "", "nearest", "1", ""}),
                            decimalFromText("24")),
            0);
  EXPECT_EQ(compareDecimals(reference("0.01", {"50", "", "", "", "", ""}),
                            decimalFromText("0.02")),
            0);
}

}  // namespace
}  // namespace fdgw::pricing
