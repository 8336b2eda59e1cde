#include "gateway/config/gateway_config.h"

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "gateway/config/config_error.h"

namespace fdgw::config {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kDataDir = FDGW_TEST_DATA_DIR;
const fs::path kRepoDir = (kDataDir / "../../..").lexically_normal();

// Loads a config that must be invalid and returns its issues. Fails the
// test when the file loads.
std::vector<ConfigIssue> issuesOf(const fs::path& file) {
  try {
    loadGatewayConfig(file);
  } catch (const ConfigErrors& errors) {
    return errors.issues();
  }
  ADD_FAILURE() << file << " loaded, but it should be rejected";
  return {};
}

TEST(GatewayConfig, LocalSampleLoads) {
  const auto config = loadGatewayConfig(kRepoDir / "config/local.yaml");

  EXPECT_EQ(config.listen.host, "127.0.0.1");
  EXPECT_EQ(config.listen.port, 8080);
  EXPECT_EQ(config.admin_listen.host, "127.0.0.1");
  EXPECT_EQ(config.admin_listen.port, 8090);
  EXPECT_EQ(config.threads, 2);
  EXPECT_EQ(config.redis.url, "redis://127.0.0.1:6379/0");
  EXPECT_EQ(config.redis.timeout, 100ms);
  ASSERT_EQ(config.upstreams.size(), 1u);
  const auto& main = config.upstreams.at("main");
  EXPECT_EQ(main.name, "main");
  EXPECT_EQ(main.base_url, "http://127.0.0.1:8099");
  EXPECT_EQ(main.api_key_env, "FULLDATOS_API_KEY");
  EXPECT_EQ(main.api_secret_env, "FULLDATOS_API_SECRET");
  EXPECT_TRUE(main.shared);
  EXPECT_EQ(main.requests_per_minute, 100);
  EXPECT_EQ(main.timeout, 15000ms);
  EXPECT_EQ(main.connect_timeout, 3000ms);
  EXPECT_EQ(config.catalog_cache.ttl, 300s);
  EXPECT_EQ(config.spend.reconcile_after, 30s);
  EXPECT_EQ(config.spend.reconcile_interval, 5s);
  EXPECT_EQ(config.log_level, "info");
  EXPECT_EQ(config.policies_dir, kRepoDir / "policies");
}

TEST(GatewayConfig, ProductionSampleLoads) {
  const auto config = loadGatewayConfig(kRepoDir / "config/gateway.yaml");

  EXPECT_EQ(config.listen.host, "0.0.0.0");
  EXPECT_EQ(config.listen.port, 8080);
  EXPECT_EQ(config.upstreams.at("main").base_url, "https://api.fulldatos.app");
  EXPECT_EQ(config.http.max_body_bytes, 65536u);
  EXPECT_EQ(config.http.header_timeout, 10000ms);
  EXPECT_EQ(config.http.body_timeout, 30000ms);
  EXPECT_EQ(config.http.keepalive_timeout, 60000ms);
  EXPECT_EQ(config.policies_dir, kRepoDir / "policies");
}

TEST(GatewayConfig, RelativePoliciesFromConfigFolder) {
  const auto config = loadGatewayConfig(kDataDir / "gateway.yaml");

  EXPECT_EQ(config.policies_dir, kDataDir / "policies/valid");
  EXPECT_TRUE(config.policies_dir.is_absolute());
}

TEST(GatewayConfig, DefaultsForOmittedKeys) {
  const auto config = loadGatewayConfig(kDataDir / "gateway.yaml");

  EXPECT_EQ(config.threads, 2);
  EXPECT_EQ(config.redis.timeout, 100ms);
  EXPECT_EQ(config.catalog_cache.ttl, 300s);
  EXPECT_EQ(config.http.max_body_bytes, 64u * 1024);
  EXPECT_EQ(config.spend.reconcile_after, 60s);
  EXPECT_EQ(config.spend.reconcile_interval, 10s);
  EXPECT_EQ(config.log_level, "info");
  const auto& main = config.upstreams.at("main");
  EXPECT_TRUE(main.shared);
  EXPECT_EQ(main.requests_per_minute, 100);
}

TEST(GatewayConfig, BaseUrlTrailingSlashDropped) {
  const auto config = loadGatewayConfig(kDataDir / "gateway.yaml");

  EXPECT_EQ(config.upstreams.at("main").base_url, "http://127.0.0.1:18099");
}

TEST(GatewayConfig, ConnectTimeoutCappedByTimeout) {
  // The fixture sets timeout_ms: 1000, below the 3000 ms connect default.
  const auto config = loadGatewayConfig(kDataDir / "gateway.yaml");

  EXPECT_EQ(config.upstreams.at("main").timeout, 1000ms);
  EXPECT_EQ(config.upstreams.at("main").connect_timeout, 1000ms);
}

TEST(GatewayConfig, MissingFileRejected) {
  const fs::path file = kDataDir / "gateway/no_such_file.yaml";

  const auto issues = issuesOf(file);

  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].file, file.string());
  EXPECT_EQ(issues[0].line, 0);
  EXPECT_EQ(issues[0].key, "");
  EXPECT_EQ(issues[0].message, "cannot open the file; check that it exists and is readable");
}

TEST(GatewayConfig, EveryIssueReportedAtOnce) {
  const fs::path file = kDataDir / "gateway/several_issues.yaml";

  const auto issues = issuesOf(file);

  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].key, "threads");
  EXPECT_EQ(issues[1].key, "log_level");
  try {
    loadGatewayConfig(file);
  } catch (const ConfigErrors& errors) {
    EXPECT_EQ(std::string(errors.what()),
              file.string() + ":3:10: threads: must be between 1 and 256, got 0\n" +
                  file.string() + ":10:12: log_level: must be debug, info, warn or error");
  }
}

TEST(ConfigIssue, DescribeFormat) {
  const ConfigIssue located{"gateway.yaml", 4, 7, "upstreams.main", "missing required key base_url"};
  const ConfigIssue line_only{"gateway.yaml", 4, 0, "threads", "must be an integer"};
  const ConfigIssue whole_file{"plans.yaml", 0, 0, "", "cannot open the file"};

  EXPECT_EQ(located.describe(), "gateway.yaml:4:7: upstreams.main: missing required key base_url");
  EXPECT_EQ(line_only.describe(), "gateway.yaml:4: threads: must be an integer");
  EXPECT_EQ(whole_file.describe(), "plans.yaml: cannot open the file");
}

TEST(ParseListenAddress, AcceptsHostAndPort) {
  ListenAddress address;

  ASSERT_TRUE(parseListenAddress("0.0.0.0:8080", address));
  EXPECT_EQ(address.host, "0.0.0.0");
  EXPECT_EQ(address.port, 8080);

  ASSERT_TRUE(parseListenAddress("gateway.internal:1", address));
  EXPECT_EQ(address.host, "gateway.internal");
  EXPECT_EQ(address.port, 1);

  ASSERT_TRUE(parseListenAddress("[::1]:65535", address));
  EXPECT_EQ(address.host, "[::1]");
  EXPECT_EQ(address.port, 65535);
}

TEST(ParseListenAddress, RejectsBadAddresses) {
  for (const char* text : {"localhost", ":8080", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                           "127.0.0.1:08080", "127.0.0.1:80a", "::1:8080", "host name:80",
                           "127.0.0.1:8080/x"}) {
    ListenAddress address;
    EXPECT_FALSE(parseListenAddress(text, address)) << text;
  }
}

// One fixture per validation rule, each with the single issue it must raise.
struct InvalidCase {
  std::string fixture;  // file name under data/gateway/
  int line;
  int column;
  std::string key;
  std::string message;
};

void PrintTo(const InvalidCase& invalid, std::ostream* out) { *out << invalid.fixture; }

// Turns a fixture file name such as bad_base_url.yaml into BadBaseUrl.
std::string fixtureTestName(const std::string& fixture) {
  std::string name;
  bool word_start = true;
  for (char c : fixture.substr(0, fixture.find('.'))) {
    if (c == '_') {
      word_start = true;
      continue;
    }
    name.push_back(word_start ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
    word_start = false;
  }
  return name;
}

class InvalidGatewayConfig : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidGatewayConfig, Rejected) {
  const auto& expected = GetParam();
  const fs::path file = kDataDir / "gateway" / expected.fixture;

  const auto issues = issuesOf(file);

  ASSERT_EQ(issues.size(), 1u) << (issues.empty() ? "" : issues[0].describe());
  EXPECT_EQ(issues[0].file, file.string());
  EXPECT_EQ(issues[0].key, expected.key);
  EXPECT_EQ(issues[0].message, expected.message);
  EXPECT_EQ(issues[0].line, expected.line);
  EXPECT_EQ(issues[0].column, expected.column);
}

const std::string kTopLevelKeys =
    "listen, admin_listen, threads, upstream_threads, redis, upstreams, catalog_cache, spend, "
    "policies, http, log_level";
const std::string kUpstreamKeys =
    "base_url, api_key_env, api_secret_env, shared, requests_per_minute, timeout_ms, "
    "connect_timeout_ms";

INSTANTIATE_TEST_SUITE_P(
    Rules, InvalidGatewayConfig,
    ::testing::Values(
        InvalidCase{"unknown_key.yaml", 2, 1, "listen_port",
                    "unknown key; expected one of: " + kTopLevelKeys},
        InvalidCase{"unknown_upstream_key.yaml", 8, 5, "upstreams.main.timeout",
                    "unknown key; expected one of: " + kUpstreamKeys},
        InvalidCase{"quoted_number.yaml", 3, 10, "threads",
                    "must be an integer without quotes, got \"4\""},
        InvalidCase{"leading_zero.yaml", 3, 10, "threads",
                    "must be a decimal integer without leading zeros, got \"010\""},
        InvalidCase{"threads_out_of_range.yaml", 3, 10, "threads",
                    "must be between 1 and 256, got 0"},
        InvalidCase{"timeout_out_of_range.yaml", 8, 17, "upstreams.main.timeout_ms",
                    "must be between 10 and 600000, got 700000"},
        InvalidCase{"bad_listen.yaml", 1, 9, "listen",
                    "must be HOST:PORT with a port from 1 to 65535, got \"0.0.0.0:70000\""},
        InvalidCase{"listen_without_port.yaml", 1, 9, "listen",
                    "must be HOST:PORT with a port from 1 to 65535, got \"localhost\""},
        InvalidCase{"bad_base_url.yaml", 5, 15, "upstreams.main.base_url",
                    "must be an http:// or https:// URL without query, got "
                    "\"ftp://api.fulldatos.app\""},
        InvalidCase{"base_url_with_query.yaml", 5, 15, "upstreams.main.base_url",
                    "must be an http:// or https:// URL without query, got "
                    "\"https://api.fulldatos.app/v1?region=mx\""},
        InvalidCase{"bad_env_name.yaml", 6, 18, "upstreams.main.api_key_env",
                    "must be an environment variable name such as FULLDATOS_API_KEY, got "
                    "\"fulldatos_api_key\""},
        InvalidCase{"duplicate_key.yaml", 4, 1, "threads", "duplicate key"},
        InvalidCase{"syntax_error.yaml", 5, 9, "", "invalid YAML: end of sequence flow not found"},
        InvalidCase{"missing_key.yaml", 2, 1, "", "missing required key policies"},
        InvalidCase{"missing_upstream_key.yaml", 5, 5, "upstreams.main",
                    "missing required key api_secret_env"},
        InvalidCase{"not_boolean.yaml", 8, 13, "upstreams.main.shared",
                    "must be true or false, got \"yes\""},
        InvalidCase{"reconcile_out_of_range.yaml", 9, 28, "spend.reconcile_after_seconds",
                    "must be between 1 and 3600, got 0"},
        InvalidCase{"bad_log_level.yaml", 9, 12, "log_level", "must be debug, info, warn or error"},
        InvalidCase{"bad_redis_url.yaml", 4, 8, "redis.url",
                    "must look like redis://HOST:PORT/DB with a port from 1 to 65535 and a "
                    "database from 0 to 15, got \"http://127.0.0.1:6379\""},
        InvalidCase{"bad_upstream_name.yaml", 4, 3, "upstreams.Main",
                    "upstream names use lowercase letters, digits, '-' and '_' (at most 64)"},
        InvalidCase{"no_upstreams.yaml", 3, 12, "upstreams", "must name at least one upstream"}),
    [](const ::testing::TestParamInfo<InvalidCase>& info) {
      return fixtureTestName(info.param.fixture);
    });

}  // namespace
}  // namespace fdgw::config
