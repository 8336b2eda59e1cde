#include "gateway/config/policies.h"

#include <ctime>
#include <regex>

#include "gateway/common/routes.h"
#include "gateway/config/yaml_reader.h"

namespace fdgw::config {
namespace {

const std::regex kIdentifier("[a-z0-9][a-z0-9_-]{0,63}");

std::optional<QuotaWindow> parseWindow(const std::string& text) {
  if (text == "month") return QuotaWindow{WindowKind::kCalendarMonth, std::chrono::seconds(0)};
  static const std::regex kWindow("([1-9][0-9]{0,6})(s|m|h|d)");
  std::smatch match;
  if (!std::regex_match(text, match, kWindow)) return std::nullopt;
  const std::int64_t count = std::stoll(match[1].str());
  const char unit = match[2].str()[0];
  std::int64_t seconds_per_unit = 86400;  // 'd'
  if (unit == 's') seconds_per_unit = 1;
  if (unit == 'm') seconds_per_unit = 60;
  if (unit == 'h') seconds_per_unit = 3600;
  const std::int64_t seconds = count * seconds_per_unit;
  if (seconds > 366 * 86400) return std::nullopt;
  return QuotaWindow{WindowKind::kFixedLength, std::chrono::seconds(seconds)};
}

std::optional<std::chrono::system_clock::time_point> parseUtcTimestamp(const std::string& text) {
  static const std::regex kTimestamp(
      "([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z");
  std::smatch match;
  if (!std::regex_match(text, match, kTimestamp)) return std::nullopt;
  std::tm parts{};
  parts.tm_year = std::stoi(match[1].str()) - 1900;
  parts.tm_mon = std::stoi(match[2].str()) - 1;
  parts.tm_mday = std::stoi(match[3].str());
  parts.tm_hour = std::stoi(match[4].str());
  parts.tm_min = std::stoi(match[5].str());
  parts.tm_sec = std::stoi(match[6].str());
  const std::tm requested = parts;
  const std::time_t seconds = timegm(&parts);
  // timegm normalises out-of-range fields; a changed field means the date
  // does not exist (such as February 30).
  if (parts.tm_mday != requested.tm_mday || parts.tm_mon != requested.tm_mon ||
      parts.tm_hour != requested.tm_hour || parts.tm_min != requested.tm_min ||
      parts.tm_sec != requested.tm_sec) {
    return std::nullopt;
  }
  return std::chrono::system_clock::from_time_t(seconds);
}

std::optional<std::set<std::string>> readRouteList(YamlReader& reader, const YAML::Node& node,
                                                   const std::string& key) {
  const auto names = reader.stringList(node, key);
  if (!names) return std::nullopt;
  std::set<std::string> routes;
  bool valid = true;
  for (std::size_t i = 0; i < names->size(); ++i) {
    if (!common::routeIndex((*names)[i])) {
      reader.fail(node[i], indexKey(key, i),
                  "unknown route id \"" + (*names)[i] + "\"; see the route table in the README");
      valid = false;
    }
    routes.insert((*names)[i]);
  }
  if (!valid) return std::nullopt;
  return routes;
}

void readQuota(YamlReader& reader, const YAML::Node& node, const std::string& key,
               QuotaRule& quota) {
  if (!reader.expectMap(node, key, {"name", "routes", "limit", "window", "on_redis_error"})) return;
  for (std::string_view required : {"name", "limit", "window"}) {
    if (!node[std::string(required)].IsDefined()) {
      reader.fail(node, key, "missing required key " + std::string(required));
    }
  }
  if (node["name"].IsDefined()) {
    if (auto name = reader.string(node["name"], childKey(key, "name"))) {
      if (!std::regex_match(*name, kIdentifier)) {
        reader.fail(node["name"], childKey(key, "name"),
                    "quota names use lowercase letters, digits, '-' and '_' (at most 64)");
      }
      quota.name = *name;
    }
  }
  const auto& routes = node["routes"];
  if (routes.IsDefined()) {
    if (routes.IsScalar() && routes.Scalar() == "all") {
      quota.all_routes = true;
    } else if (routes.IsSequence()) {
      if (auto list = readRouteList(reader, routes, childKey(key, "routes"))) {
        quota.all_routes = false;
        quota.routes = *list;
      }
    } else {
      reader.fail(routes, childKey(key, "routes"), "must be all or a list of route ids");
    }
  }
  if (node["limit"].IsDefined()) {
    if (auto limit = reader.integer(node["limit"], childKey(key, "limit"), 1, 1000000000)) {
      quota.limit = *limit;
    }
  }
  if (node["window"].IsDefined()) {
    if (auto text = reader.string(node["window"], childKey(key, "window"))) {
      if (auto window = parseWindow(*text)) {
        quota.window = *window;
      } else {
        reader.fail(node["window"], childKey(key, "window"),
                    "must be a length such as 30s, 1m, 1h, 1d (at most 366 days) or month, got \"" +
                        *text + "\"");
      }
    }
  }
  if (node["on_redis_error"].IsDefined()) {
    if (auto mode = reader.string(node["on_redis_error"], childKey(key, "on_redis_error"))) {
      if (*mode == "deny") {
        quota.on_redis_error = RedisFailureMode::kDeny;
      } else if (*mode == "allow") {
        quota.on_redis_error = RedisFailureMode::kAllow;
      } else if (*mode == "local") {
        quota.on_redis_error = RedisFailureMode::kLocal;
      } else {
        reader.fail(node["on_redis_error"], childKey(key, "on_redis_error"),
                    "must be deny, allow or local");
      }
    }
  }
}

void readSpend(YamlReader& reader, const YAML::Node& node, const std::string& key,
               SpendLimits& spend) {
  if (!reader.expectMap(node, key, {"daily_usd", "monthly_usd"})) return;
  if (node["daily_usd"].IsDefined()) {
    spend.daily_usd_cents = reader.minorUnits(node["daily_usd"], childKey(key, "daily_usd"));
  }
  if (node["monthly_usd"].IsDefined()) {
    spend.monthly_usd_cents = reader.minorUnits(node["monthly_usd"], childKey(key, "monthly_usd"));
  }
}

// Reads the body of a plan (or of a tenant's overrides, which share its
// shape). Every key is optional.
void readPlanBody(YamlReader& reader, const YAML::Node& node, const std::string& key,
                  Plan& plan) {
  if (!reader.expectMap(node, key, {"routes", "quotas", "spend", "wallet", "markup", "time_zone"})) {
    return;
  }

  const auto& routes = node["routes"];
  if (routes.IsDefined() && reader.expectMap(routes, childKey(key, "routes"), {"allow", "deny"})) {
    if (routes["allow"].IsDefined()) {
      plan.allowed_routes = readRouteList(reader, routes["allow"], childKey(key, "routes.allow"));
    }
    if (routes["deny"].IsDefined()) {
      if (auto denied = readRouteList(reader, routes["deny"], childKey(key, "routes.deny"))) {
        plan.denied_routes = *denied;
      }
    }
  }

  const auto& quotas = node["quotas"];
  if (quotas.IsDefined() && reader.expectSequence(quotas, childKey(key, "quotas"))) {
    std::set<std::string> names;
    for (std::size_t i = 0; i < quotas.size(); ++i) {
      QuotaRule quota;
      const std::string quota_key = indexKey(childKey(key, "quotas"), i);
      readQuota(reader, quotas[i], quota_key, quota);
      if (!quota.name.empty() && !names.insert(quota.name).second) {
        reader.fail(quotas[i], quota_key, "duplicate quota name \"" + quota.name + "\"");
      }
      plan.quotas.push_back(quota);
    }
  }

  if (node["spend"].IsDefined()) readSpend(reader, node["spend"], childKey(key, "spend"), plan.spend);
  const auto& wallet = node["wallet"];
  if (wallet.IsDefined() && reader.expectMap(wallet, childKey(key, "wallet"), {"enabled"})) {
    if (!wallet["enabled"].IsDefined()) {
      reader.fail(wallet, childKey(key, "wallet"), "missing required key enabled");
    } else if (auto enabled = reader.boolean(wallet["enabled"], childKey(key, "wallet.enabled"))) {
      plan.wallet_enabled = *enabled;
    }
  }
  if (node["markup"].IsDefined()) plan.markup = readMarkup(reader, node["markup"], childKey(key, "markup"));
  if (node["time_zone"].IsDefined()) {
    if (auto zone = reader.string(node["time_zone"], childKey(key, "time_zone"))) {
      static const std::regex kZone("[A-Za-z_]+(/[A-Za-z0-9_+\\-]+){0,2}");
      if (!std::regex_match(*zone, kZone) ||
          (*zone != "UTC" && !std::filesystem::exists("/usr/share/zoneinfo/" + *zone))) {
        reader.fail(node["time_zone"], childKey(key, "time_zone"),
                    "unknown time zone \"" + *zone + "\"; use an IANA name such as America/Mexico_City");
      }
      plan.time_zone = *zone;
    }
  }
}

// Merges a tenant's overrides over its plan's YAML, key by key: mappings
// merge recursively, and anything else (scalars, lists) replaces. A
// currency's rounding rule is one choice among nearest, up and ending, so it
// replaces the plan's rule instead of merging into it.
YAML::Node mergeNodes(const YAML::Node& base, const YAML::Node& over,
                      const std::string& path = "") {
  const auto last_dot = path.rfind('.');
  const std::string parent = last_dot == std::string::npos ? "" : path.substr(0, last_dot);
  const bool rounding_rule =
      parent == "rounding" ||
      (parent.size() > 9 && parent.compare(parent.size() - 9, 9, ".rounding") == 0);
  if (!base.IsDefined() || !base.IsMap() || !over.IsMap() || rounding_rule) {
    return YAML::Clone(over);
  }
  YAML::Node merged = YAML::Clone(base);
  for (auto it = over.begin(); it != over.end(); ++it) {
    const std::string name = it->first.Scalar();
    merged[name] = mergeNodes(base[name], it->second, path.empty() ? name : path + "." + name);
  }
  return merged;
}

void readTenantKeys(YamlReader& reader, const YAML::Node& node, const std::string& key,
                    Tenant& tenant) {
  if (!reader.expectSequence(node, key)) return;
  if (node.size() == 0) reader.fail(node, key, "must list at least one key");
  static const std::regex kKey("[A-Za-z0-9]{32}");
  static const std::regex kHash("[0-9a-f]{64}");
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string entry_key = indexKey(key, i);
    const auto& entry = node[i];
    if (!reader.expectMap(entry, entry_key, {"key", "secret_sha256", "expires"})) continue;
    TenantKey tenant_key;
    if (!entry["key"].IsDefined()) reader.fail(entry, entry_key, "missing required key key");
    if (!entry["secret_sha256"].IsDefined()) {
      reader.fail(entry, entry_key, "missing required key secret_sha256");
    }
    if (entry["key"].IsDefined()) {
      if (auto value = reader.string(entry["key"], childKey(entry_key, "key"))) {
        if (!std::regex_match(*value, kKey)) {
          reader.fail(entry["key"], childKey(entry_key, "key"),
                      "must be exactly 32 letters or digits, got " + std::to_string(value->size()) +
                          " characters");
        }
        tenant_key.key = *value;
      }
    }
    if (entry["secret_sha256"].IsDefined()) {
      if (auto value = reader.string(entry["secret_sha256"], childKey(entry_key, "secret_sha256"))) {
        if (!std::regex_match(*value, kHash)) {
          reader.fail(entry["secret_sha256"], childKey(entry_key, "secret_sha256"),
                      "must be the SHA-256 of the secret as 64 lowercase hex characters "
                      "(sha256sum prints it)");
        }
        tenant_key.secret_sha256 = *value;
      }
    }
    if (entry["expires"].IsDefined()) {
      if (auto value = reader.string(entry["expires"], childKey(entry_key, "expires"))) {
        tenant_key.expires = parseUtcTimestamp(*value);
        if (!tenant_key.expires) {
          reader.fail(entry["expires"], childKey(entry_key, "expires"),
                      "must be a UTC time such as 2027-06-30T00:00:00Z, got \"" + *value + "\"");
        }
      }
    }
    tenant.keys.push_back(tenant_key);
  }
}

std::map<std::string, YAML::Node> readPlans(YamlReader& reader, const YAML::Node& root,
                                            std::map<std::string, Plan>& plans) {
  std::map<std::string, YAML::Node> plan_nodes;
  if (!reader.expectMap(root, "", {"plans"})) return plan_nodes;
  const auto& node = root["plans"];
  if (!node.IsDefined()) {
    reader.fail(root, "", "missing required key plans");
    return plan_nodes;
  }
  if (!reader.expectMapAnyKeys(node, "plans")) return plan_nodes;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string name = it->first.Scalar();
    const std::string key = childKey("plans", name);
    if (!std::regex_match(name, kIdentifier)) {
      reader.failAt(it->first.Mark(), key,
                    "plan names use lowercase letters, digits, '-' and '_' (at most 64)");
    }
    Plan plan;
    plan.name = name;
    const YAML::Node body = it->second.IsNull() ? YAML::Node(YAML::NodeType::Map) : it->second;
    readPlanBody(reader, body, key, plan);
    plans[name] = plan;
    plan_nodes[name] = body;
  }
  return plan_nodes;
}

void readTenants(YamlReader& reader, const YAML::Node& root, const GatewayConfig& gateway,
                 const std::map<std::string, YAML::Node>& plan_nodes, Policies& policies) {
  if (!reader.expectMap(root, "", {"tenants"})) return;
  const auto& node = root["tenants"];
  if (!node.IsDefined()) {
    reader.fail(root, "", "missing required key tenants");
    return;
  }
  if (!reader.expectMapAnyKeys(node, "tenants")) return;

  std::map<std::string, std::string> key_owners;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string id = it->first.Scalar();
    const std::string key = childKey("tenants", id);
    if (!std::regex_match(id, kIdentifier) || id == "unknown") {
      reader.failAt(it->first.Mark(), key,
                    "tenant ids use lowercase letters, digits, '-' and '_' (at most 64), and "
                    "\"unknown\" is reserved");
    }
    const auto& body = it->second;
    if (!reader.expectMap(body, key, {"name", "plan", "upstream", "keys", "overrides"})) continue;
    for (std::string_view required : {"plan", "upstream", "keys"}) {
      if (!body[std::string(required)].IsDefined()) {
        reader.fail(body, key, "missing required key " + std::string(required));
      }
    }

    Tenant tenant;
    tenant.id = id;
    tenant.name = id;
    if (body["name"].IsDefined()) {
      if (auto name = reader.string(body["name"], childKey(key, "name"))) tenant.name = *name;
    }
    if (body["plan"].IsDefined()) {
      if (auto plan = reader.string(body["plan"], childKey(key, "plan"))) {
        tenant.plan_name = *plan;
        if (!plan_nodes.count(*plan)) {
          reader.fail(body["plan"], childKey(key, "plan"),
                      "unknown plan \"" + *plan + "\"; define it in plans.yaml");
        }
      }
    }
    if (body["upstream"].IsDefined()) {
      if (auto upstream = reader.string(body["upstream"], childKey(key, "upstream"))) {
        tenant.upstream = *upstream;
        if (!gateway.upstreams.count(*upstream)) {
          reader.fail(body["upstream"], childKey(key, "upstream"),
                      "unknown upstream \"" + *upstream + "\"; define it under upstreams in " +
                          gateway.file.filename().string());
        }
      }
    }
    if (body["keys"].IsDefined()) readTenantKeys(reader, body["keys"], childKey(key, "keys"), tenant);
    for (std::size_t i = 0; i < tenant.keys.size(); ++i) {
      const auto& api_key = tenant.keys[i].key;
      if (api_key.empty()) continue;
      auto [owner, inserted] = key_owners.emplace(api_key, id);
      if (!inserted) {
        reader.fail(body["keys"][i]["key"], indexKey(childKey(key, "keys"), i) + ".key",
                    "this key is already used by tenant " + owner->second);
      }
    }

    const auto plan_node = plan_nodes.find(tenant.plan_name);
    if (plan_node != plan_nodes.end()) {
      const auto& overrides = body["overrides"];
      if (overrides.IsDefined()) {
        // Validate the overrides alone first, so their issues point at
        // tenants.yaml lines; the merged result is read only when they are valid.
        const std::size_t issues_before = reader.issues().size();
        Plan override_only;
        readPlanBody(reader, overrides, childKey(key, "overrides"), override_only);
        if (reader.issues().size() == issues_before) {
          readPlanBody(reader, mergeNodes(plan_node->second, overrides),
                       childKey(key, "overrides"), tenant.plan);
        }
      } else {
        tenant.plan = policies.plans.at(tenant.plan_name);
      }
      tenant.plan.name = tenant.plan_name;
    }
    tenant.index = policies.tenants.size();
    policies.tenants[id] = tenant;
  }
}

}  // namespace

bool Plan::allowsRoute(const std::string& route_id) const {
  if (denied_routes.count(route_id)) return false;
  return !allowed_routes || allowed_routes->count(route_id) > 0;
}

Policies loadPolicies(const std::filesystem::path& dir, const GatewayConfig& gateway) {
  Policies policies;
  policies.dir = dir;
  std::vector<ConfigIssue> issues;

  YamlReader plans_reader((dir / "plans.yaml").string());
  std::map<std::string, YAML::Node> plan_nodes;
  if (auto root = plans_reader.load(dir / "plans.yaml")) {
    plan_nodes = readPlans(plans_reader, *root, policies.plans);
  }
  issues = plans_reader.takeIssues();

  YamlReader tenants_reader((dir / "tenants.yaml").string());
  if (auto root = tenants_reader.load(dir / "tenants.yaml")) {
    readTenants(tenants_reader, *root, gateway, plan_nodes, policies);
  }
  for (auto& issue : tenants_reader.takeIssues()) issues.push_back(std::move(issue));

  if (!issues.empty()) throw ConfigErrors(std::move(issues));
  return policies;
}

}  // namespace fdgw::config
