#include "gateway/config/yaml_reader.h"

#include <regex>
#include <set>
#include <sstream>

namespace fdgw::config {

std::string ConfigIssue::describe() const {
  std::ostringstream text;
  text << file;
  if (line > 0) {
    text << ':' << line;
    if (column > 0) text << ':' << column;
  }
  text << ": ";
  if (!key.empty()) text << key << ": ";
  text << message;
  return text.str();
}

namespace {

std::string joinIssues(const std::vector<ConfigIssue>& issues) {
  std::string text;
  for (const auto& issue : issues) {
    if (!text.empty()) text.push_back('\n');
    text += issue.describe();
  }
  return text;
}

std::string shortValue(const std::string& value) {
  return value.size() > 40 ? value.substr(0, 40) + "..." : value;
}

}  // namespace

ConfigErrors::ConfigErrors(std::vector<ConfigIssue> issues)
    : std::runtime_error(joinIssues(issues)), issues_(std::move(issues)) {}

std::string childKey(const std::string& parent, std::string_view child) {
  return parent.empty() ? std::string(child) : parent + "." + std::string(child);
}

std::string indexKey(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

YamlReader::YamlReader(std::string file) : file_(std::move(file)) {}

std::optional<YAML::Node> YamlReader::load(const std::filesystem::path& path) {
  try {
    return YAML::LoadFile(path.string());
  } catch (const YAML::BadFile&) {
    issues_.push_back({file_, 0, 0, "", "cannot open the file; check that it exists and is readable"});
  } catch (const YAML::ParserException& error) {
    failAt(error.mark, "", "invalid YAML: " + error.msg);
  }
  return std::nullopt;
}

void YamlReader::fail(const YAML::Node& node, const std::string& key, std::string message) {
  failAt(node.IsDefined() ? node.Mark() : YAML::Mark::null_mark(), key, std::move(message));
}

void YamlReader::failAt(const YAML::Mark& mark, const std::string& key, std::string message) {
  const bool known = mark.line >= 0;
  issues_.push_back({file_, known ? mark.line + 1 : 0, known ? mark.column + 1 : 0, key,
                     std::move(message)});
}

bool YamlReader::expectMapAnyKeys(const YAML::Node& node, const std::string& key) {
  if (!node.IsMap()) {
    fail(node, key, "must be a mapping of keys to values");
    return false;
  }
  std::set<std::string> seen;
  bool valid = true;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      failAt(it->first.Mark(), key, "keys must be plain strings");
      valid = false;
      continue;
    }
    const std::string name = it->first.Scalar();
    if (!seen.insert(name).second) {
      failAt(it->first.Mark(), childKey(key, name), "duplicate key");
      valid = false;
    }
  }
  return valid;
}

bool YamlReader::expectMap(const YAML::Node& node, const std::string& key,
                           std::initializer_list<std::string_view> allowed) {
  if (!expectMapAnyKeys(node, key)) return false;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string name = it->first.Scalar();
    bool known = false;
    for (std::string_view candidate : allowed) known = known || candidate == name;
    if (!known) {
      std::string expected;
      for (std::string_view candidate : allowed) {
        if (!expected.empty()) expected += ", ";
        expected += candidate;
      }
      failAt(it->first.Mark(), childKey(key, name), "unknown key; expected one of: " + expected);
    }
  }
  return true;
}

bool YamlReader::expectSequence(const YAML::Node& node, const std::string& key) {
  if (!node.IsSequence()) {
    fail(node, key, "must be a list");
    return false;
  }
  return true;
}

std::optional<std::string> YamlReader::plainScalar(const YAML::Node& node, const std::string& key,
                                                   std::string_view expected) {
  if (!node.IsScalar()) {
    fail(node, key, "must be " + std::string(expected));
    return std::nullopt;
  }
  if (node.Tag() != "?") {
    fail(node, key,
         "must be " + std::string(expected) + " without quotes, got \"" +
             shortValue(node.Scalar()) + "\"");
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<std::string> YamlReader::string(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) {
    fail(node, key, "must be a string");
    return std::nullopt;
  }
  if (node.Tag() == "?" && (node.Scalar() == "~" || node.Scalar() == "null")) {
    fail(node, key, "must be a string, got null");
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<std::int64_t> YamlReader::integer(const YAML::Node& node, const std::string& key,
                                                std::int64_t min, std::int64_t max) {
  const auto text = plainScalar(node, key, "an integer");
  if (!text) return std::nullopt;
  static const std::regex kInteger("-?(0|[1-9][0-9]{0,17})");
  if (!std::regex_match(*text, kInteger)) {
    fail(node, key, "must be a decimal integer without leading zeros, got \"" + shortValue(*text) + "\"");
    return std::nullopt;
  }
  const std::int64_t value = std::stoll(*text);
  if (value < min || value > max) {
    fail(node, key,
         "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
             *text);
    return std::nullopt;
  }
  return value;
}

std::optional<bool> YamlReader::boolean(const YAML::Node& node, const std::string& key) {
  const auto text = plainScalar(node, key, "true or false");
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  fail(node, key, "must be true or false, got \"" + shortValue(*text) + "\"");
  return std::nullopt;
}

std::optional<std::int64_t> YamlReader::minorUnits(const YAML::Node& node, const std::string& key) {
  const auto text = plainScalar(node, key, "an amount");
  if (!text) return std::nullopt;
  static const std::regex kAmount("(0|[1-9][0-9]{0,12})(\\.([0-9]{1,2}))?");
  std::smatch match;
  if (!std::regex_match(*text, match, kAmount)) {
    fail(node, key,
         "must be a non-negative amount with at most two decimals, got \"" + shortValue(*text) +
             "\"");
    return std::nullopt;
  }
  std::int64_t units = std::stoll(match[1].str()) * 100;
  if (match[3].matched) {
    std::string fraction = match[3].str();
    if (fraction.size() == 1) fraction.push_back('0');
    units += std::stoll(fraction);
  }
  return units;
}

std::optional<std::int64_t> YamlReader::tenThousandths(const YAML::Node& node,
                                                       const std::string& key) {
  const auto text = plainScalar(node, key, "a number");
  if (!text) return std::nullopt;
  static const std::regex kNumber("(-?)(0|[1-9][0-9]{0,8})(\\.([0-9]{1,4}))?");
  std::smatch match;
  if (!std::regex_match(*text, match, kNumber)) {
    fail(node, key,
         "must be a number with at most four decimals, got \"" + shortValue(*text) + "\"");
    return std::nullopt;
  }
  std::int64_t value = std::stoll(match[2].str()) * 10000;
  if (match[4].matched) {
    std::string fraction = match[4].str();
    fraction.resize(4, '0');
    value += std::stoll(fraction);
  }
  return match[1].length() > 0 ? -value : value;
}

std::optional<std::vector<std::string>> YamlReader::stringList(const YAML::Node& node,
                                                               const std::string& key) {
  if (!expectSequence(node, key)) return std::nullopt;
  std::vector<std::string> values;
  bool valid = true;
  for (std::size_t i = 0; i < node.size(); ++i) {
    auto value = string(node[i], indexKey(key, i));
    if (value) {
      values.push_back(*value);
    } else {
      valid = false;
    }
  }
  if (!valid) return std::nullopt;
  return values;
}

}  // namespace fdgw::config
