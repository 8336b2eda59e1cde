#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gateway/config/gateway_config.h"
#include "gateway/config/markup_config.h"

namespace fdgw::config {

enum class WindowKind { kFixedLength, kCalendarMonth };

struct QuotaWindow {
  WindowKind kind = WindowKind::kFixedLength;
  std::chrono::seconds length{60};  // unused for calendar months
};

enum class RedisFailureMode { kDeny, kAllow, kLocal };

struct QuotaRule {
  std::string name;
  bool all_routes = true;
  std::set<std::string> routes;  // route ids, when not all_routes
  std::int64_t limit = 0;
  QuotaWindow window;
  RedisFailureMode on_redis_error = RedisFailureMode::kLocal;
};

struct SpendLimits {
  std::optional<std::int64_t> daily_usd_cents;
  std::optional<std::int64_t> monthly_usd_cents;
};

// The routes, quotas, spend limits and markup that apply to a tenant: a plan,
// or a plan merged with a tenant's overrides.
struct Plan {
  std::string name;
  std::optional<std::set<std::string>> allowed_routes;  // unset: every route
  std::set<std::string> denied_routes;
  std::string time_zone = "UTC";
  std::vector<QuotaRule> quotas;
  SpendLimits spend;
  // Prepaid: orders draw on the tenant's wallet held by the gateway, and an
  // order larger than the wallet's available balance is rejected.
  bool wallet_enabled = false;
  std::optional<Markup> markup;

  bool allowsRoute(const std::string& route_id) const;
};

struct TenantKey {
  std::string key;            // the 32-character x-api-key
  std::string secret_sha256;  // lowercase hex SHA-256 of the x-api-secret
  std::optional<std::chrono::system_clock::time_point> expires;
};

struct Tenant {
  std::size_t index = 0;  // position in Policies::tenants, for per-tenant tables
  std::string id;
  std::string name;
  std::string plan_name;
  std::string upstream;
  std::vector<TenantKey> keys;
  Plan plan;  // the plan with this tenant's overrides applied
};

// An immutable snapshot of plans and tenants. A reload builds a new one.
struct Policies {
  std::filesystem::path dir;
  std::map<std::string, Plan> plans;
  std::map<std::string, Tenant> tenants;
};

// Reads plans.yaml and tenants.yaml from `dir` and checks them against the
// gateway config (upstream names). Throws ConfigErrors with every issue.
Policies loadPolicies(const std::filesystem::path& dir, const GatewayConfig& gateway);

}  // namespace fdgw::config
