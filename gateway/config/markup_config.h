#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace fdgw::config {

class YamlReader;

enum class Currency { kUsd = 0, kMxn = 1 };
inline constexpr std::array<Currency, 2> kCurrencies{Currency::kUsd, Currency::kMxn};

// A value per currency; an unset entry inherits (or means "not set").
template <typename T>
using PerCurrency = std::array<std::optional<T>, 2>;

enum class RoundingMode { kNearest, kUp, kEnding };

struct Rounding {
  RoundingMode mode = RoundingMode::kNearest;
  // Minor units: the step for nearest and up, the ending for ending.
  std::int64_t amount = 1;
};

// The fields a markup rule may set. Every field is optional so that an
// override inherits what it leaves unset. Amounts are minor units.
struct MarkupFields {
  std::optional<std::int64_t> percent_ten_thousandths;  // 12.5 % -> 125000
  PerCurrency<std::int64_t> fixed;
  PerCurrency<std::int64_t> min_margin;
  PerCurrency<Rounding> rounding;
  PerCurrency<std::int64_t> price;
};

struct MarkupMatch {
  std::vector<std::string> countries;
  std::optional<std::string> sku;
  std::optional<std::string> region;
  std::optional<std::string> profile;
};

struct MarkupOverride {
  MarkupMatch match;
  MarkupFields fields;
};

struct Markup {
  MarkupFields base;
  std::vector<MarkupOverride> overrides;
};

// Reads a `markup` mapping; records issues in `reader` and returns nullopt
// when it is invalid.
std::optional<Markup> readMarkup(YamlReader& reader, const YAML::Node& node,
                                 const std::string& key);

}  // namespace fdgw::config
