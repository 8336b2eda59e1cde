#include "gateway/config/policies.h"

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "gateway/config/config_error.h"
#include "gateway/config/gateway_config.h"

namespace fdgw::config {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using std::chrono::system_clock;

const fs::path kDataDir = FDGW_TEST_DATA_DIR;
const fs::path kRepoDir = (kDataDir / "../../..").lexically_normal();

constexpr int kUsd = static_cast<int>(Currency::kUsd);
constexpr int kMxn = static_cast<int>(Currency::kMxn);

// The shared gateway config of the policy fixtures: one upstream, main.
const GatewayConfig& fixtureGateway() {
  static const GatewayConfig config = loadGatewayConfig(kDataDir / "gateway.yaml");
  return config;
}

Policies loadFixture(const std::string& folder) {
  return loadPolicies(kDataDir / "policies" / folder, fixtureGateway());
}

// Loads a policies folder that must be invalid and returns its issues.
// Fails the test when the folder loads.
std::vector<ConfigIssue> issuesOf(const std::string& folder) {
  try {
    loadFixture(folder);
  } catch (const ConfigErrors& errors) {
    return errors.issues();
  }
  ADD_FAILURE() << folder << " loaded, but it should be rejected";
  return {};
}

TEST(Policies, SamplesLoad) {
  const auto gateway = loadGatewayConfig(kRepoDir / "config/local.yaml");

  const auto policies = loadPolicies(gateway.policies_dir, gateway);

  ASSERT_EQ(policies.plans.size(), 1u);
  const auto& standard = policies.plans.at("standard");
  EXPECT_EQ(standard.denied_routes, (std::set<std::string>{"status.check", "analytics.export"}));
  EXPECT_EQ(standard.quotas.size(), 2u);
  ASSERT_TRUE(standard.markup.has_value());
  EXPECT_EQ(standard.markup->base.percent_ten_thousandths, 200000);
  EXPECT_EQ(standard.markup->overrides.size(), 3u);

  ASSERT_EQ(policies.tenants.size(), 2u);
  const auto& acme = policies.tenants.at("acme-travel");
  EXPECT_EQ(acme.name, "ACME Travel");
  EXPECT_EQ(acme.upstream, "main");
  ASSERT_EQ(acme.keys.size(), 1u);
  EXPECT_EQ(acme.keys[0].key, "acme0demo0key0000000000000000001");
  EXPECT_EQ(acme.keys[0].expires, system_clock::from_time_t(1924905600));  // 2030-12-31
  ASSERT_TRUE(acme.plan.markup.has_value());
  EXPECT_EQ(acme.plan.markup->base.percent_ten_thousandths, 150000);

  const auto& globo = policies.tenants.at("globo-viajes");
  ASSERT_EQ(globo.keys.size(), 1u);
  EXPECT_FALSE(globo.keys[0].expires.has_value());
  ASSERT_TRUE(globo.plan.markup.has_value());
  EXPECT_EQ(globo.plan.markup->base.percent_ten_thousandths, 200000);
}

TEST(Policies, DirectoryRecorded) {
  const auto policies = loadFixture("valid");

  EXPECT_EQ(policies.dir, kDataDir / "policies/valid");
}

TEST(Policies, QuotasRead) {
  const auto policies = loadFixture("valid");

  const auto& quotas = policies.plans.at("standard").quotas;
  ASSERT_EQ(quotas.size(), 2u);
  EXPECT_EQ(quotas[0].name, "requests-per-minute");
  EXPECT_TRUE(quotas[0].all_routes);
  EXPECT_EQ(quotas[0].limit, 120);
  EXPECT_EQ(quotas[0].window.kind, WindowKind::kFixedLength);
  EXPECT_EQ(quotas[0].window.length, 60s);
  EXPECT_EQ(quotas[0].on_redis_error, RedisFailureMode::kLocal);

  EXPECT_EQ(quotas[1].name, "orders-per-month");
  EXPECT_FALSE(quotas[1].all_routes);
  EXPECT_EQ(quotas[1].routes, (std::set<std::string>{"orders.create", "refunds.create"}));
  EXPECT_EQ(quotas[1].limit, 5000);
  EXPECT_EQ(quotas[1].window.kind, WindowKind::kCalendarMonth);
  EXPECT_EQ(quotas[1].on_redis_error, RedisFailureMode::kDeny);
}

TEST(Policies, SpendAndTimeZoneRead) {
  const auto policies = loadFixture("valid");

  const auto& standard = policies.plans.at("standard");
  EXPECT_EQ(standard.spend.daily_usd_cents, 200000);
  EXPECT_EQ(standard.spend.monthly_usd_cents, 2000050);
  EXPECT_EQ(standard.time_zone, "UTC");
}

TEST(Policies, WalletEnabledByOverride) {
  const auto policies = loadFixture("valid");

  EXPECT_FALSE(policies.plans.at("standard").wallet_enabled);
  EXPECT_FALSE(policies.tenants.at("acme").plan.wallet_enabled);
  EXPECT_TRUE(policies.tenants.at("beta").plan.wallet_enabled);
}

TEST(Policies, MarkupRead) {
  const auto policies = loadFixture("valid");

  const auto& markup = policies.plans.at("standard").markup;
  ASSERT_TRUE(markup.has_value());
  EXPECT_EQ(markup->base.percent_ten_thousandths, 200000);
  EXPECT_EQ(markup->base.fixed[kUsd], 50);
  EXPECT_EQ(markup->base.fixed[kMxn], 900);
  EXPECT_EQ(markup->base.min_margin[kUsd], 30);
  EXPECT_EQ(markup->base.min_margin[kMxn], 500);
  ASSERT_TRUE(markup->base.rounding[kUsd].has_value());
  EXPECT_EQ(markup->base.rounding[kUsd]->mode, RoundingMode::kEnding);
  EXPECT_EQ(markup->base.rounding[kUsd]->amount, 99);
  ASSERT_TRUE(markup->base.rounding[kMxn].has_value());
  EXPECT_EQ(markup->base.rounding[kMxn]->mode, RoundingMode::kNearest);
  EXPECT_EQ(markup->base.rounding[kMxn]->amount, 100);
  EXPECT_FALSE(markup->base.price[kUsd].has_value());

  ASSERT_EQ(markup->overrides.size(), 2u);
  EXPECT_EQ(markup->overrides[0].match.countries, (std::vector<std::string>{"US", "CA"}));
  EXPECT_EQ(markup->overrides[0].fields.percent_ten_thousandths, 125000);
  EXPECT_FALSE(markup->overrides[0].fields.fixed[kUsd].has_value());
  EXPECT_EQ(markup->overrides[1].match.sku, "FD-MX-5GB-30D");
  EXPECT_FALSE(markup->overrides[1].fields.percent_ten_thousandths.has_value());
  EXPECT_EQ(markup->overrides[1].fields.price[kUsd], 999);
  EXPECT_EQ(markup->overrides[1].fields.price[kMxn], 17900);
}

TEST(Policies, TenantKeysRead) {
  const auto policies = loadFixture("valid");

  const auto& acme = policies.tenants.at("acme");
  EXPECT_EQ(acme.id, "acme");
  EXPECT_EQ(acme.name, "ACME Travel");
  EXPECT_EQ(acme.plan_name, "standard");
  EXPECT_EQ(acme.upstream, "main");
  ASSERT_EQ(acme.keys.size(), 2u);
  EXPECT_EQ(acme.keys[0].key, "acme0key000000000000000000000001");
  EXPECT_EQ(acme.keys[0].secret_sha256,
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  EXPECT_FALSE(acme.keys[0].expires.has_value());
  EXPECT_EQ(acme.keys[1].key, "acme0key000000000000000000000002");
  EXPECT_EQ(acme.keys[1].expires, system_clock::from_time_t(1814313600));  // 2027-06-30
}

TEST(Policies, TenantNameDefaultsToId) {
  const auto policies = loadFixture("valid");

  EXPECT_EQ(policies.tenants.at("beta").name, "beta");
}

TEST(Policies, TenantWithoutOverridesGetsPlan) {
  const auto policies = loadFixture("valid");

  const auto& plan = policies.tenants.at("gamma").plan;
  EXPECT_EQ(plan.name, "catalog-only");
  ASSERT_TRUE(plan.allowed_routes.has_value());
  EXPECT_EQ(plan.allowed_routes->size(), 4u);
  EXPECT_TRUE(plan.allowsRoute("catalog.offers.get"));
  EXPECT_FALSE(plan.allowsRoute("orders.create"));
}

TEST(Policies, OverrideKeepsOtherPlanFields) {
  // acme overrides markup.percent only.
  const auto policies = loadFixture("valid");

  const auto& plan = policies.tenants.at("acme").plan;
  EXPECT_EQ(plan.name, "standard");
  ASSERT_TRUE(plan.markup.has_value());
  EXPECT_EQ(plan.markup->base.percent_ten_thousandths, 150000);
  EXPECT_EQ(plan.markup->base.fixed[kUsd], 50);
  EXPECT_EQ(plan.markup->base.fixed[kMxn], 900);
  EXPECT_EQ(plan.markup->base.min_margin[kUsd], 30);
  ASSERT_TRUE(plan.markup->base.rounding[kUsd].has_value());
  EXPECT_EQ(plan.markup->base.rounding[kUsd]->mode, RoundingMode::kEnding);
  EXPECT_EQ(plan.markup->base.rounding[kUsd]->amount, 99);
  ASSERT_EQ(plan.markup->overrides.size(), 2u);
  EXPECT_EQ(plan.markup->overrides[0].fields.percent_ten_thousandths, 125000);
  EXPECT_EQ(plan.quotas.size(), 2u);
  EXPECT_EQ(plan.denied_routes, (std::set<std::string>{"status.check", "analytics.export"}));
  EXPECT_EQ(plan.spend.daily_usd_cents, 200000);
}

TEST(Policies, OverrideListReplacesPlanList) {
  // beta gives its own routes.deny and quotas lists.
  const auto policies = loadFixture("valid");

  const auto& plan = policies.tenants.at("beta").plan;
  EXPECT_EQ(plan.denied_routes, std::set<std::string>{"tickets.create"});
  EXPECT_TRUE(plan.allowsRoute("status.check"));
  EXPECT_FALSE(plan.allowsRoute("tickets.create"));
  ASSERT_EQ(plan.quotas.size(), 1u);
  EXPECT_EQ(plan.quotas[0].name, "beta-orders");
  EXPECT_EQ(plan.quotas[0].limit, 10);
  EXPECT_EQ(plan.quotas[0].window.length, 24h);
  ASSERT_TRUE(plan.markup.has_value());
  EXPECT_EQ(plan.markup->base.percent_ten_thousandths, 200000);
}

TEST(Policies, OverridesLeavePlanUnchanged) {
  const auto policies = loadFixture("valid");

  const auto& standard = policies.plans.at("standard");
  ASSERT_TRUE(standard.markup.has_value());
  EXPECT_EQ(standard.markup->base.percent_ten_thousandths, 200000);
  EXPECT_EQ(standard.quotas.size(), 2u);
  EXPECT_EQ(standard.denied_routes.size(), 2u);
}

TEST(Policies, OverrideChangesRoundingMode) {
  // The plan rounds USD with {ending: 0.99}; the tenant sets {up: 1}.
  const auto policies = loadFixture("rounding_mode_override");

  const auto& markup = policies.tenants.at("acme").plan.markup;
  ASSERT_TRUE(markup.has_value());
  ASSERT_TRUE(markup->base.rounding[kUsd].has_value());
  EXPECT_EQ(markup->base.rounding[kUsd]->mode, RoundingMode::kUp);
  EXPECT_EQ(markup->base.rounding[kUsd]->amount, 100);
  ASSERT_TRUE(markup->base.rounding[kMxn].has_value());
  EXPECT_EQ(markup->base.rounding[kMxn]->mode, RoundingMode::kNearest);
  EXPECT_EQ(markup->base.percent_ten_thousandths, 200000);
}

TEST(Policies, MissingPlansFileRejected) {
  const auto issues = issuesOf("missing_plans_file");

  ASSERT_FALSE(issues.empty());
  EXPECT_EQ(issues[0].file, (kDataDir / "policies/missing_plans_file/plans.yaml").string());
  EXPECT_EQ(issues[0].line, 0);
  EXPECT_EQ(issues[0].message, "cannot open the file; check that it exists and is readable");
}

TEST(Policies, PlansSyntaxErrorReportedFirst) {
  const auto issues = issuesOf("plans_syntax_error");

  // Without plans, the tenant's plan is unknown too.
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].file, (kDataDir / "policies/plans_syntax_error/plans.yaml").string());
  EXPECT_EQ(issues[0].line, 5);
  EXPECT_EQ(issues[0].key, "");
  EXPECT_EQ(issues[0].message, "invalid YAML: end of sequence flow not found");
  EXPECT_EQ(issues[1].key, "tenants.acme.plan");
  EXPECT_EQ(issues[1].message, "unknown plan \"standard\"; define it in plans.yaml");
}

TEST(PlanAllowsRoute, NoAllowListAllowsAllButDenied) {
  Plan plan;
  plan.denied_routes = {"status.check"};

  EXPECT_TRUE(plan.allowsRoute("orders.create"));
  EXPECT_TRUE(plan.allowsRoute("analytics.export"));
  EXPECT_FALSE(plan.allowsRoute("status.check"));
}

TEST(PlanAllowsRoute, AllowListLimitsRoutes) {
  Plan plan;
  plan.allowed_routes = std::set<std::string>{"orders.list", "orders.get"};

  EXPECT_TRUE(plan.allowsRoute("orders.list"));
  EXPECT_TRUE(plan.allowsRoute("orders.get"));
  EXPECT_FALSE(plan.allowsRoute("orders.create"));
  EXPECT_FALSE(plan.allowsRoute("users.list"));
}

TEST(PlanAllowsRoute, DenyWinsOverAllow) {
  Plan plan;
  plan.allowed_routes = std::set<std::string>{"orders.list", "orders.get"};
  plan.denied_routes = {"orders.get"};

  EXPECT_TRUE(plan.allowsRoute("orders.list"));
  EXPECT_FALSE(plan.allowsRoute("orders.get"));
}

TEST(PlanAllowsRoute, EmptyAllowListAllowsNothing) {
  Plan plan;
  plan.allowed_routes = std::set<std::string>{};

  EXPECT_FALSE(plan.allowsRoute("orders.list"));
}

// One fixture folder per validation rule, each with the single issue it must
// raise.
struct InvalidCase {
  std::string folder;  // under data/policies/
  std::string file;    // plans.yaml or tenants.yaml
  int line;
  int column;
  std::string key;
  std::string message;
};

void PrintTo(const InvalidCase& invalid, std::ostream* out) { *out << invalid.folder; }

// Turns a folder name such as bad_window into BadWindow.
std::string folderTestName(const std::string& folder) {
  std::string name;
  bool word_start = true;
  for (char c : folder) {
    if (c == '_') {
      word_start = true;
      continue;
    }
    name.push_back(word_start ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
    word_start = false;
  }
  return name;
}

class InvalidPolicies : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidPolicies, Rejected) {
  const auto& expected = GetParam();

  const auto issues = issuesOf(expected.folder);

  ASSERT_EQ(issues.size(), 1u) << (issues.empty() ? "" : issues[0].describe());
  EXPECT_EQ(issues[0].file, (kDataDir / "policies" / expected.folder / expected.file).string());
  EXPECT_EQ(issues[0].key, expected.key);
  EXPECT_EQ(issues[0].message, expected.message);
  EXPECT_EQ(issues[0].line, expected.line);
  EXPECT_EQ(issues[0].column, expected.column);
}

const std::string kPlanKeys = "routes, quotas, spend, wallet, markup, time_zone";

INSTANTIATE_TEST_SUITE_P(
    PlanRules, InvalidPolicies,
    ::testing::Values(
        InvalidCase{"unknown_route_deny", "plans.yaml", 4, 28, "plans.standard.routes.deny[1]",
                    "unknown route id \"orders.cancel\"; see the route table in the README"},
        InvalidCase{"unknown_route_quota", "plans.yaml", 5, 33,
                    "plans.standard.quotas[0].routes[1]",
                    "unknown route id \"order.create\"; see the route table in the README"},
        InvalidCase{"bad_window", "plans.yaml", 6, 17, "plans.standard.quotas[0].window",
                    "must be a length such as 30s, 1m, 1h, 1d (at most 366 days) or month, got "
                    "\"2w\""},
        InvalidCase{"window_too_long", "plans.yaml", 6, 17, "plans.standard.quotas[0].window",
                    "must be a length such as 30s, 1m, 1h, 1d (at most 366 days) or month, got "
                    "\"367d\""},
        InvalidCase{"duplicate_quota", "plans.yaml", 7, 9, "plans.standard.quotas[1]",
                    "duplicate quota name \"requests\""},
        InvalidCase{"quoted_limit", "plans.yaml", 5, 16, "plans.standard.quotas[0].limit",
                    "must be an integer without quotes, got \"120\""},
        InvalidCase{"missing_quota_window", "plans.yaml", 4, 9, "plans.standard.quotas[0]",
                    "missing required key window"},
        InvalidCase{"bad_redis_failure_mode", "plans.yaml", 7, 25,
                    "plans.standard.quotas[0].on_redis_error", "must be deny, allow or local"},
        InvalidCase{"unknown_plan_key", "plans.yaml", 3, 5, "plans.standard.limits",
                    "unknown key; expected one of: " + kPlanKeys},
        InvalidCase{"spend_three_decimals", "plans.yaml", 4, 18, "plans.standard.spend.daily_usd",
                    "must be a non-negative amount with at most two decimals, got \"10.999\""},
        InvalidCase{"wallet_not_boolean", "plans.yaml", 4, 16, "plans.standard.wallet.enabled",
                    "must be true or false, got \"yes\""},
        InvalidCase{"wallet_without_enabled", "plans.yaml", 3, 13, "plans.standard.wallet",
                    "missing required key enabled"},
        InvalidCase{"negative_percent", "plans.yaml", 4, 16, "plans.standard.markup.percent",
                    "must not be negative: a negative markup would price below cost"},
        InvalidCase{"unknown_currency", "plans.yaml", 4, 26, "plans.standard.markup.fixed.eur",
                    "unknown currency; use usd or mxn"},
        InvalidCase{"zero_rounding_step", "plans.yaml", 4, 54,
                    "plans.standard.markup.rounding.mxn.nearest",
                    "a rounding step must be greater than 0"},
        InvalidCase{"ending_not_below_one", "plans.yaml", 4, 32,
                    "plans.standard.markup.rounding.usd.ending",
                    "an ending must be below 1, such as 0.99"},
        InvalidCase{"two_rounding_modes", "plans.yaml", 4, 23, "plans.standard.markup.rounding.usd",
                    "must set exactly one of nearest, up or ending"},
        InvalidCase{"lowercase_country", "plans.yaml", 5, 35,
                    "plans.standard.markup.overrides[0].match.countries[1]",
                    "must be an ISO 3166 alpha-2 code in capitals, such as MX"},
        InvalidCase{"override_without_match", "plans.yaml", 5, 11,
                    "plans.standard.markup.overrides[0]", "missing required key match"},
        InvalidCase{"unknown_time_zone", "plans.yaml", 3, 16, "plans.standard.time_zone",
                    "unknown time zone \"Mars/Olympus_Mons\"; use an IANA name such as "
                    "America/Mexico_City"}),
    [](const ::testing::TestParamInfo<InvalidCase>& info) {
      return folderTestName(info.param.folder);
    });

INSTANTIATE_TEST_SUITE_P(
    TenantRules, InvalidPolicies,
    ::testing::Values(
        InvalidCase{"short_key", "tenants.yaml", 6, 14, "tenants.acme.keys[0].key",
                    "must be exactly 32 letters or digits, got 31 characters"},
        InvalidCase{"bad_secret_hash", "tenants.yaml", 7, 24, "tenants.acme.keys[0].secret_sha256",
                    "must be the SHA-256 of the secret as 64 lowercase hex characters "
                    "(sha256sum prints it)"},
        InvalidCase{"impossible_expiry", "tenants.yaml", 8, 18, "tenants.acme.keys[0].expires",
                    "must be a UTC time such as 2027-06-30T00:00:00Z, got "
                    "\"2027-02-30T00:00:00Z\""},
        InvalidCase{"expiry_without_zone", "tenants.yaml", 8, 18, "tenants.acme.keys[0].expires",
                    "must be a UTC time such as 2027-06-30T00:00:00Z, got "
                    "\"2027-06-30T00:00:00\""},
        InvalidCase{"no_keys", "tenants.yaml", 5, 11, "tenants.acme.keys",
                    "must list at least one key"},
        InvalidCase{"unknown_plan", "tenants.yaml", 3, 11, "tenants.acme.plan",
                    "unknown plan \"gold\"; define it in plans.yaml"},
        InvalidCase{"unknown_upstream", "tenants.yaml", 4, 15, "tenants.acme.upstream",
                    "unknown upstream \"backup\"; define it under upstreams in gateway.yaml"},
        InvalidCase{"shared_key", "tenants.yaml", 12, 14, "tenants.beta.keys[0].key",
                    "this key is already used by tenant acme"},
        InvalidCase{"duplicate_yaml_key", "tenants.yaml", 5, 5, "tenants.acme.plan",
                    "duplicate key"},
        InvalidCase{"missing_keys", "tenants.yaml", 3, 5, "tenants.acme",
                    "missing required key keys"},
        InvalidCase{"reserved_tenant_id", "tenants.yaml", 2, 3, "tenants.unknown",
                    "tenant ids use lowercase letters, digits, '-' and '_' (at most 64), and "
                    "\"unknown\" is reserved"},
        InvalidCase{"bad_override", "tenants.yaml", 9, 25, "tenants.acme.overrides.markup.percent",
                    "must not be negative: a negative markup would price below cost"},
        InvalidCase{"unknown_override_key", "tenants.yaml", 9, 7,
                    "tenants.acme.overrides.discounts",
                    "unknown key; expected one of: " + kPlanKeys},
        InvalidCase{"tenants_syntax_error", "tenants.yaml", 3, 7, "",
                    "invalid YAML: end of map flow not found"}),
    [](const ::testing::TestParamInfo<InvalidCase>& info) {
      return folderTestName(info.param.folder);
    });

}  // namespace
}  // namespace fdgw::config
