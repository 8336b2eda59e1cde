#include "gateway/config/gateway_config.h"

#include <regex>

#include "gateway/config/yaml_reader.h"

namespace fdgw::config {
namespace {

constexpr std::int64_t kMaxPort = 65535;

std::optional<ListenAddress> readListen(YamlReader& reader, const YAML::Node& node,
                                        const std::string& key) {
  const auto text = reader.string(node, key);
  if (!text) return std::nullopt;
  ListenAddress address;
  if (!parseListenAddress(*text, address)) {
    reader.fail(node, key, "must be HOST:PORT with a port from 1 to 65535, got \"" + *text + "\"");
    return std::nullopt;
  }
  return address;
}

std::chrono::milliseconds readMillis(YamlReader& reader, const YAML::Node& node,
                                     const std::string& key, std::int64_t min, std::int64_t max,
                                     std::chrono::milliseconds fallback) {
  if (!node.IsDefined()) return fallback;
  const auto value = reader.integer(node, key, min, max);
  return value ? std::chrono::milliseconds(*value) : fallback;
}

void readRedis(YamlReader& reader, const YAML::Node& node, RedisConfig& redis) {
  const std::string key = "redis";
  if (!reader.expectMap(node, key, {"url", "timeout_ms"})) return;
  if (!node["url"].IsDefined()) {
    reader.fail(node, key, "missing required key url");
  } else if (auto url = reader.string(node["url"], "redis.url")) {
    static const std::regex kRedisUrl(R"(redis://[^/\s:@]+(:([0-9]{1,5}))?(/([0-9]{1,2}))?)");
    std::smatch parts;
    const bool shaped = std::regex_match(*url, parts, kRedisUrl);
    const bool port_valid =
        !shaped || !parts[2].matched ||
        (std::stol(parts[2].str()) >= 1 && std::stol(parts[2].str()) <= kMaxPort);
    const bool database_valid = !shaped || !parts[4].matched || std::stol(parts[4].str()) <= 15;
    if (!shaped || !port_valid || !database_valid) {
      reader.fail(node["url"], "redis.url",
                  "must look like redis://HOST:PORT/DB with a port from 1 to 65535 and a "
                  "database from 0 to 15, got \"" + *url + "\"");
    }
    redis.url = *url;
  }
  redis.timeout = readMillis(reader, node["timeout_ms"], "redis.timeout_ms", 1, 60000, redis.timeout);
}

void readUpstream(YamlReader& reader, const YAML::Node& node, const std::string& key,
                  UpstreamConfig& upstream) {
  if (!reader.expectMap(node, key,
                        {"base_url", "api_key_env", "api_secret_env", "shared",
                         "requests_per_minute", "timeout_ms", "connect_timeout_ms"})) {
    return;
  }
  for (std::string_view required : {"base_url", "api_key_env", "api_secret_env"}) {
    if (!node[std::string(required)].IsDefined()) {
      reader.fail(node, key, "missing required key " + std::string(required));
    }
  }
  if (node["base_url"].IsDefined()) {
    if (auto url = reader.string(node["base_url"], childKey(key, "base_url"))) {
      static const std::regex kBaseUrl(R"(https?://[A-Za-z0-9.\-\[\]:]+(/[^\s?#]*)?)");
      if (!std::regex_match(*url, kBaseUrl)) {
        reader.fail(node["base_url"], childKey(key, "base_url"),
                    "must be an http:// or https:// URL without query, got \"" + *url + "\"");
      }
      while (!url->empty() && url->back() == '/') url->pop_back();
      upstream.base_url = *url;
    }
  }
  static const std::regex kEnvName("[A-Z_][A-Z0-9_]*");
  for (auto [field, target] : {std::pair{"api_key_env", &upstream.api_key_env},
                               std::pair{"api_secret_env", &upstream.api_secret_env}}) {
    const auto& child = node[field];
    if (!child.IsDefined()) continue;
    if (auto name = reader.string(child, childKey(key, field))) {
      if (!std::regex_match(*name, kEnvName)) {
        reader.fail(child, childKey(key, field),
                    "must be an environment variable name such as FULLDATOS_API_KEY, got \"" +
                        *name + "\"");
      }
      *target = *name;
    }
  }
  if (node["shared"].IsDefined()) {
    if (auto shared = reader.boolean(node["shared"], childKey(key, "shared"))) {
      upstream.shared = *shared;
    }
  }
  if (node["requests_per_minute"].IsDefined()) {
    if (auto rpm = reader.integer(node["requests_per_minute"], childKey(key, "requests_per_minute"),
                                  1, 1000000)) {
      upstream.requests_per_minute = static_cast<int>(*rpm);
    }
  }
  upstream.timeout = readMillis(reader, node["timeout_ms"], childKey(key, "timeout_ms"), 10,
                                600000, upstream.timeout);
  upstream.connect_timeout =
      readMillis(reader, node["connect_timeout_ms"], childKey(key, "connect_timeout_ms"), 10,
                 60000, std::min(upstream.connect_timeout, upstream.timeout));
}

void readHttpLimits(YamlReader& reader, const YAML::Node& node, HttpLimits& limits) {
  const std::string key = "http";
  if (!reader.expectMap(node, key,
                        {"max_body_bytes", "header_timeout_ms", "body_timeout_ms",
                         "keepalive_timeout_ms", "backlog"})) {
    return;
  }
  if (node["max_body_bytes"].IsDefined()) {
    if (auto bytes = reader.integer(node["max_body_bytes"], "http.max_body_bytes", 1024,
                                    16 * 1024 * 1024)) {
      limits.max_body_bytes = static_cast<std::size_t>(*bytes);
    }
  }
  limits.header_timeout = readMillis(reader, node["header_timeout_ms"], "http.header_timeout_ms",
                                     100, 600000, limits.header_timeout);
  limits.body_timeout = readMillis(reader, node["body_timeout_ms"], "http.body_timeout_ms", 100,
                                   600000, limits.body_timeout);
  limits.keepalive_timeout = readMillis(reader, node["keepalive_timeout_ms"],
                                        "http.keepalive_timeout_ms", 100, 3600000,
                                        limits.keepalive_timeout);
  if (node["backlog"].IsDefined()) {
    if (auto backlog = reader.integer(node["backlog"], "http.backlog", 16, 65535)) {
      limits.backlog = static_cast<int>(*backlog);
    }
  }
}

void readSpendConfig(YamlReader& reader, const YAML::Node& node, SpendConfig& spend) {
  if (!reader.expectMap(node, "spend", {"reconcile_after_seconds", "reconcile_interval_seconds"})) {
    return;
  }
  for (auto [field, target] : {std::pair{"reconcile_after_seconds", &spend.reconcile_after},
                               std::pair{"reconcile_interval_seconds", &spend.reconcile_interval}}) {
    if (!node[field].IsDefined()) continue;
    if (auto seconds = reader.integer(node[field], childKey("spend", field), 1, 3600)) {
      *target = std::chrono::seconds(*seconds);
    }
  }
}

void readTopLevel(YamlReader& reader, const YAML::Node& root, GatewayConfig& config) {
  if (!reader.expectMap(root, "",
                        {"listen", "admin_listen", "threads", "upstream_threads", "redis", "upstreams",
                         "catalog_cache", "spend", "policies", "http", "log_level"})) {
    return;
  }
  for (std::string_view required : {"listen", "admin_listen", "upstreams", "policies"}) {
    if (!root[std::string(required)].IsDefined()) {
      reader.fail(root, "", "missing required key " + std::string(required));
    }
  }

  if (root["listen"].IsDefined()) {
    if (auto listen = readListen(reader, root["listen"], "listen")) config.listen = *listen;
  }
  if (root["admin_listen"].IsDefined()) {
    if (auto admin = readListen(reader, root["admin_listen"], "admin_listen")) {
      config.admin_listen = *admin;
    }
  }
  if (root["threads"].IsDefined()) {
    if (auto threads = reader.integer(root["threads"], "threads", 1, 256)) {
      config.threads = static_cast<int>(*threads);
    }
  }
  if (root["upstream_threads"].IsDefined()) {
    if (auto threads = reader.integer(root["upstream_threads"], "upstream_threads", 1, 64)) {
      config.upstream_threads = static_cast<int>(*threads);
    }
  }
  if (root["redis"].IsDefined()) readRedis(reader, root["redis"], config.redis);

  const auto& upstreams = root["upstreams"];
  if (upstreams.IsDefined() && reader.expectMapAnyKeys(upstreams, "upstreams")) {
    if (upstreams.size() == 0) reader.fail(upstreams, "upstreams", "must name at least one upstream");
    static const std::regex kName("[a-z0-9][a-z0-9_-]{0,63}");
    for (auto it = upstreams.begin(); it != upstreams.end(); ++it) {
      const std::string name = it->first.Scalar();
      const std::string key = childKey("upstreams", name);
      if (!std::regex_match(name, kName)) {
        reader.failAt(it->first.Mark(), key,
                      "upstream names use lowercase letters, digits, '-' and '_' (at most 64)");
      }
      UpstreamConfig upstream;
      upstream.name = name;
      readUpstream(reader, it->second, key, upstream);
      config.upstreams[name] = upstream;
    }
  }

  const auto& cache = root["catalog_cache"];
  if (cache.IsDefined() &&
      reader.expectMap(cache, "catalog_cache", {"ttl_seconds", "max_stale_seconds"})) {
    if (cache["ttl_seconds"].IsDefined()) {
      if (auto ttl = reader.integer(cache["ttl_seconds"], "catalog_cache.ttl_seconds", 1, 86400)) {
        config.catalog_cache.ttl = std::chrono::seconds(*ttl);
      }
    }
    if (cache["max_stale_seconds"].IsDefined()) {
      if (auto max_stale = reader.integer(cache["max_stale_seconds"],
                                          "catalog_cache.max_stale_seconds", 1, 7 * 86400)) {
        config.catalog_cache.max_stale = std::chrono::seconds(*max_stale);
      }
    }
    if (config.catalog_cache.max_stale < config.catalog_cache.ttl) {
      reader.fail(cache, "catalog_cache.max_stale_seconds",
                  "must not be below ttl_seconds, because a copy is stale only after its TTL");
    }
  }
  if (root["spend"].IsDefined()) readSpendConfig(reader, root["spend"], config.spend);
  if (root["http"].IsDefined()) readHttpLimits(reader, root["http"], config.http);
  if (root["log_level"].IsDefined()) {
    if (auto level = reader.string(root["log_level"], "log_level")) {
      if (*level != "debug" && *level != "info" && *level != "warn" && *level != "error") {
        reader.fail(root["log_level"], "log_level", "must be debug, info, warn or error");
      }
      config.log_level = *level;
    }
  }
  if (root["policies"].IsDefined()) {
    if (auto policies = reader.string(root["policies"], "policies")) {
      std::filesystem::path path(*policies);
      if (path.is_relative()) path = config.file.parent_path() / path;
      config.policies_dir = path.lexically_normal();
    }
  }
}

}  // namespace

bool parseListenAddress(const std::string& text, ListenAddress& out) {
  static const std::regex kAddress(R"((\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+):([0-9]{1,5}))");
  std::smatch match;
  if (!std::regex_match(text, match, kAddress)) return false;
  const std::string port_text = match[2].str();
  if (port_text.size() > 1 && port_text[0] == '0') return false;
  const long port = std::stol(port_text);
  if (port < 1 || port > kMaxPort) return false;
  out.host = match[1].str();
  out.port = static_cast<std::uint16_t>(port);
  return true;
}

GatewayConfig loadGatewayConfig(const std::filesystem::path& file) {
  GatewayConfig config;
  config.file = std::filesystem::absolute(file).lexically_normal();
  YamlReader reader(file.string());
  if (auto root = reader.load(file)) readTopLevel(reader, *root, config);
  if (!reader.issues().empty()) throw ConfigErrors(reader.takeIssues());
  return config;
}

}  // namespace fdgw::config
