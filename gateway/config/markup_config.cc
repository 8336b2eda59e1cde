#include "gateway/config/markup_config.h"

#include <regex>

#include "gateway/config/yaml_reader.h"

namespace fdgw::config {
namespace {

std::optional<Currency> currencyNamed(const std::string& name) {
  if (name == "usd") return Currency::kUsd;
  if (name == "mxn") return Currency::kMxn;
  return std::nullopt;
}

// Reads {usd: 0.50, mxn: 9}; every key must be a known currency.
bool readAmounts(YamlReader& reader, const YAML::Node& node, const std::string& key,
                 PerCurrency<std::int64_t>& out) {
  if (!reader.expectMapAnyKeys(node, key)) return false;
  bool valid = true;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string name = it->first.Scalar();
    const auto currency = currencyNamed(name);
    if (!currency) {
      reader.failAt(it->first.Mark(), childKey(key, name), "unknown currency; use usd or mxn");
      valid = false;
      continue;
    }
    if (auto amount = reader.minorUnits(it->second, childKey(key, name))) {
      out[static_cast<int>(*currency)] = *amount;
    } else {
      valid = false;
    }
  }
  return valid;
}

bool readRounding(YamlReader& reader, const YAML::Node& node, const std::string& key,
                  PerCurrency<Rounding>& out) {
  if (!reader.expectMapAnyKeys(node, key)) return false;
  bool valid = true;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string name = it->first.Scalar();
    const std::string currency_key = childKey(key, name);
    const auto currency = currencyNamed(name);
    if (!currency) {
      reader.failAt(it->first.Mark(), currency_key, "unknown currency; use usd or mxn");
      valid = false;
      continue;
    }
    const YAML::Node& rule = it->second;
    if (!reader.expectMap(rule, currency_key, {"nearest", "up", "ending"})) {
      valid = false;
      continue;
    }
    if (rule.size() != 1) {
      reader.fail(rule, currency_key, "must set exactly one of nearest, up or ending");
      valid = false;
      continue;
    }
    const std::string mode_name = rule.begin()->first.Scalar();
    const std::string mode_key = childKey(currency_key, mode_name);
    const auto amount = reader.minorUnits(rule.begin()->second, mode_key);
    if (!amount) {
      valid = false;
      continue;
    }
    Rounding rounding;
    rounding.amount = *amount;
    if (mode_name == "ending") {
      rounding.mode = RoundingMode::kEnding;
      if (*amount >= 100) {
        reader.fail(rule.begin()->second, mode_key, "an ending must be below 1, such as 0.99");
        valid = false;
        continue;
      }
    } else {
      rounding.mode = mode_name == "up" ? RoundingMode::kUp : RoundingMode::kNearest;
      if (*amount == 0) {
        reader.fail(rule.begin()->second, mode_key, "a rounding step must be greater than 0");
        valid = false;
        continue;
      }
    }
    out[static_cast<int>(*currency)] = rounding;
  }
  return valid;
}

bool readFields(YamlReader& reader, const YAML::Node& node, const std::string& key,
                MarkupFields& fields) {
  bool valid = true;
  if (node["percent"].IsDefined()) {
    const auto percent = reader.tenThousandths(node["percent"], childKey(key, "percent"));
    if (!percent) {
      valid = false;
    } else if (*percent < 0) {
      reader.fail(node["percent"], childKey(key, "percent"),
                  "must not be negative: a negative markup would price below cost");
      valid = false;
    } else if (*percent > 10000 * 10000) {
      reader.fail(node["percent"], childKey(key, "percent"), "must be at most 10000");
      valid = false;
    } else {
      fields.percent_ten_thousandths = *percent;
    }
  }
  if (node["fixed"].IsDefined()) {
    valid = readAmounts(reader, node["fixed"], childKey(key, "fixed"), fields.fixed) && valid;
  }
  if (node["min_margin"].IsDefined()) {
    valid = readAmounts(reader, node["min_margin"], childKey(key, "min_margin"),
                        fields.min_margin) && valid;
  }
  if (node["rounding"].IsDefined()) {
    valid = readRounding(reader, node["rounding"], childKey(key, "rounding"), fields.rounding) &&
            valid;
  }
  if (node["price"].IsDefined()) {
    valid = readAmounts(reader, node["price"], childKey(key, "price"), fields.price) && valid;
  }
  return valid;
}

std::optional<MarkupMatch> readMatch(YamlReader& reader, const YAML::Node& node,
                                     const std::string& key) {
  if (!reader.expectMap(node, key, {"countries", "sku", "region", "profile"})) return std::nullopt;
  if (node.size() == 0) {
    reader.fail(node, key, "must name at least one of countries, sku, region or profile");
    return std::nullopt;
  }
  MarkupMatch match;
  bool valid = true;
  if (node["countries"].IsDefined()) {
    static const std::regex kCountry("[A-Z]{2}");
    if (auto countries = reader.stringList(node["countries"], childKey(key, "countries"))) {
      for (std::size_t i = 0; i < countries->size(); ++i) {
        if (!std::regex_match((*countries)[i], kCountry)) {
          reader.fail(node["countries"][i], indexKey(childKey(key, "countries"), i),
                      "must be an ISO 3166 alpha-2 code in capitals, such as MX");
          valid = false;
        }
      }
      match.countries = *countries;
    } else {
      valid = false;
    }
  }
  for (auto [field, target] : {std::pair{"sku", &match.sku}, std::pair{"region", &match.region},
                               std::pair{"profile", &match.profile}}) {
    if (!node[field].IsDefined()) continue;
    if (auto value = reader.string(node[field], childKey(key, field))) {
      *target = *value;
    } else {
      valid = false;
    }
  }
  if (!valid) return std::nullopt;
  return match;
}

}  // namespace

std::optional<Markup> readMarkup(YamlReader& reader, const YAML::Node& node,
                                 const std::string& key) {
  if (!reader.expectMap(node, key,
                        {"percent", "fixed", "min_margin", "rounding", "price", "overrides"})) {
    return std::nullopt;
  }
  Markup markup;
  bool valid = readFields(reader, node, key, markup.base);

  const auto& overrides = node["overrides"];
  if (overrides.IsDefined() && reader.expectSequence(overrides, childKey(key, "overrides"))) {
    for (std::size_t i = 0; i < overrides.size(); ++i) {
      const std::string entry_key = indexKey(childKey(key, "overrides"), i);
      const auto& entry = overrides[i];
      if (!reader.expectMap(entry, entry_key,
                            {"match", "percent", "fixed", "min_margin", "rounding", "price"})) {
        valid = false;
        continue;
      }
      if (!entry["match"].IsDefined()) {
        reader.fail(entry, entry_key, "missing required key match");
        valid = false;
        continue;
      }
      MarkupOverride rule;
      auto match = readMatch(reader, entry["match"], childKey(entry_key, "match"));
      valid = readFields(reader, entry, entry_key, rule.fields) && match && valid;
      if (match) rule.match = *match;
      markup.overrides.push_back(std::move(rule));
    }
  } else if (overrides.IsDefined()) {
    valid = false;
  }
  if (!valid) return std::nullopt;
  return markup;
}

}  // namespace fdgw::config
