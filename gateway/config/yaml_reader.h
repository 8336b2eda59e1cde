#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config_error.h"

namespace fdgw::config {

// Strict typed access to one YAML file. Every accessor records a located
// ConfigIssue instead of coercing: "010" is not an integer, "120" in
// quotes is a string, "yes" is not a boolean. Callers collect all issues of
// a file and throw once.
class YamlReader {
 public:
  explicit YamlReader(std::string file);

  const std::string& file() const { return file_; }
  const std::vector<ConfigIssue>& issues() const { return issues_; }
  std::vector<ConfigIssue> takeIssues() { return std::move(issues_); }

  // Parses the file; on a syntax error records it and returns nullopt.
  std::optional<YAML::Node> load(const std::filesystem::path& path);

  // True when `node` is a mapping with unique scalar keys. Records every key
  // that is not in `allowed`, so the caller can go on reading the known ones.
  bool expectMap(const YAML::Node& node, const std::string& key,
                 std::initializer_list<std::string_view> allowed);
  // True when `node` is a mapping with unique scalar keys (any names).
  bool expectMapAnyKeys(const YAML::Node& node, const std::string& key);
  bool expectSequence(const YAML::Node& node, const std::string& key);

  std::optional<std::string> string(const YAML::Node& node, const std::string& key);
  std::optional<std::int64_t> integer(const YAML::Node& node, const std::string& key,
                                      std::int64_t min, std::int64_t max);
  std::optional<bool> boolean(const YAML::Node& node, const std::string& key);
  // A non-negative decimal with at most two fractional digits, returned in
  // hundredths (minor units): 19.99 -> 1999.
  std::optional<std::int64_t> minorUnits(const YAML::Node& node, const std::string& key);
  // A decimal such as 12 or 12.5 or -3.25 (at most 4 fractional digits),
  // returned in ten-thousandths: 12.5 -> 125000.
  std::optional<std::int64_t> tenThousandths(const YAML::Node& node, const std::string& key);
  std::optional<std::vector<std::string>> stringList(const YAML::Node& node,
                                                      const std::string& key);

  // Records an issue located at `node` (or at the file start when the node
  // has no position, as for a missing key).
  void fail(const YAML::Node& node, const std::string& key, std::string message);
  void failAt(const YAML::Mark& mark, const std::string& key, std::string message);

 private:
  std::optional<std::string> plainScalar(const YAML::Node& node, const std::string& key,
                                         std::string_view expected);

  std::string file_;
  std::vector<ConfigIssue> issues_;
};

// Joins a parent key path and a child name: ("a.b", "c") -> "a.b.c".
std::string childKey(const std::string& parent, std::string_view child);
std::string indexKey(const std::string& parent, std::size_t index);

}  // namespace fdgw::config
