#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "gateway/config/config_error.h"

namespace fdgw::config {

struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};

struct RedisConfig {
  std::string url = "redis://127.0.0.1:6379/0";
  std::chrono::milliseconds timeout{100};
};

// One FullDatos account. Credentials are never stored here: only the names
// of the environment variables that hold them.
struct UpstreamConfig {
  std::string name;
  std::string base_url;
  std::string api_key_env;
  std::string api_secret_env;
  bool shared = true;
  int requests_per_minute = 100;
  std::chrono::milliseconds timeout{15000};
  std::chrono::milliseconds connect_timeout{3000};
};

struct CatalogCacheConfig {
  std::chrono::seconds ttl{300};
  // Oldest copy still served while the upstream catalog cannot be fetched.
  std::chrono::seconds max_stale{3600};
};

// Settings for settling spend reservations whose order outcome the gateway
// does not know, such as after an upstream timeout or a crash.
struct SpendConfig {
  // Time to wait after the upstream call's deadline before the upstream's
  // order records settle a reservation, so an order that the upstream is
  // still writing is found.
  std::chrono::seconds reconcile_after{60};
  // Interval at which each instance looks for reservations to settle.
  std::chrono::seconds reconcile_interval{10};
};

// Limits applied to tenant connections by the HTTP server.
struct HttpLimits {
  std::size_t max_body_bytes = 64 * 1024;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds keepalive_timeout{60000};
  int backlog = 4096;
};

struct GatewayConfig {
  std::filesystem::path file;
  ListenAddress listen;
  ListenAddress admin_listen;
  int threads = 2;
  // Threads that drive upstream calls, each with its own event loop and
  // connection cache.
  int upstream_threads = 2;
  RedisConfig redis;
  std::map<std::string, UpstreamConfig> upstreams;
  CatalogCacheConfig catalog_cache;
  SpendConfig spend;
  HttpLimits http;
  std::string log_level = "info";
  // Absolute path of the policies folder (relative paths in YAML are
  // resolved against the config file's folder).
  std::filesystem::path policies_dir;
};

// Reads and validates a gateway config file. Throws ConfigErrors listing
// every problem found, each with file, line and key.
GatewayConfig loadGatewayConfig(const std::filesystem::path& file);

// Parses "host:port" (IPv4 literal, hostname, or [IPv6]).
bool parseListenAddress(const std::string& text, ListenAddress& out);

}  // namespace fdgw::config
