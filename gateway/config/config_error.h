#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace fdgw::config {

// One validation problem, located in a YAML file.
struct ConfigIssue {
  std::string file;
  int line = 0;    // 1-based; 0 when the problem concerns the whole file
  int column = 0;  // 1-based; 0 when unknown
  std::string key;  // dotted path such as tenants.acme.keys[0].key
  std::string message;

  std::string describe() const;
};

// Thrown at start-up and reload when a config or policy file is invalid;
// what() lists every issue, one per line.
class ConfigErrors : public std::runtime_error {
 public:
  explicit ConfigErrors(std::vector<ConfigIssue> issues);
  const std::vector<ConfigIssue>& issues() const { return issues_; }

 private:
  std::vector<ConfigIssue> issues_;
};

}  // namespace fdgw::config
