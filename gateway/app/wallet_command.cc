#include "gateway/app/wallet_command.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <future>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "gateway/config/config_error.h"
#include "gateway/config/gateway_config.h"
#include "gateway/config/policies.h"
#include "gateway/log/logger.h"
#include "gateway/proxy/spend_views.h"
#include "gateway/redis/async_redis.h"
#include "gateway/spend/redis_spend_ledger.h"
#include "gateway/spend/usd_amount.h"

namespace fdgw::app {
namespace {

constexpr const char* kUsage =
    "Usage: fulldatos-gateway wallet COMMAND --tenant ID [options]\n"
    "\n"
    "Commands:\n"
    "  show      print the wallet balance, the amount held by orders in progress\n"
    "            and the tenant's spend in its current day and month\n"
    "  top-up    add --amount to the wallet\n"
    "  adjust    add --amount to the wallet, negative to debit, for corrections\n"
    "  ledger    print the tenant's latest ledger entries as JSON lines, oldest first\n"
    "\n"
    "Options:\n"
    "  --config FILE     gateway config whose redis.url keeps the wallets\n"
    "                    (default: config/gateway.yaml)\n"
    "  --tenant ID       tenant id from tenants.yaml (required)\n"
    "  --amount USD      US dollars with at most two decimals, such as 25 or 12.50\n"
    "                    (required for top-up and adjust)\n"
    "  --reason TEXT     why the balance changes, written to the ledger\n"
    "                    (required for top-up and adjust)\n"
    "  --operator NAME   who makes the change, written to the ledger (default: $USER)\n"
    "  --limit N         ledger entries to print, 1 to 1000 (default: 20)\n"
    "\n"
    "Exit status: 0 done, 1 Redis failed or rejected the change, 2 invalid\n"
    "arguments or config.\n";

// How long the command waits for Redis to accept a connection and to reply.
constexpr auto kRedisWait = std::chrono::seconds(5);
constexpr std::int64_t kMaxLedgerLines = 1000;

struct WalletArguments {
  std::string command;
  std::string config_file = "config/gateway.yaml";
  std::string tenant;
  std::optional<std::string> amount;
  std::string reason;
  std::string operator_name;
  std::int64_t limit = 20;
};

int usageError(const std::string& message) {
  std::cerr << "error: " << message << "\n\n" << kUsage;
  return 2;
}

// Parses argv after "wallet". Returns an error message, or nullopt.
std::optional<std::string> parseArguments(int argc, char** argv, WalletArguments& arguments) {
  if (argc < 2) return std::string("missing command: show, top-up, adjust or ledger");
  arguments.command = argv[1];
  if (arguments.command != "show" && arguments.command != "top-up" && arguments.command != "adjust" &&
      arguments.command != "ledger") {
    return "unknown command '" + arguments.command + "': use show, top-up, adjust or ledger";
  }
  const char* user = std::getenv("USER");
  arguments.operator_name = user != nullptr && *user != '\0' ? user : "unknown";

  std::map<std::string, std::string*> text_options = {{"--config", &arguments.config_file},
                                                      {"--tenant", &arguments.tenant},
                                                      {"--reason", &arguments.reason},
                                                      {"--operator", &arguments.operator_name}};
  for (int i = 2; i < argc; ++i) {
    const std::string option = argv[i];
    if (i + 1 >= argc) return "option " + option + " needs a value";
    const std::string value = argv[++i];
    if (const auto text = text_options.find(option); text != text_options.end()) {
      *text->second = value;
    } else if (option == "--amount") {
      arguments.amount = value;
    } else if (option == "--limit") {
      char* end = nullptr;
      const long long limit = std::strtoll(value.c_str(), &end, 10);
      if (end == value.c_str() || *end != '\0' || limit < 1 || limit > kMaxLedgerLines) {
        return "invalid --limit '" + value + "': expected a whole number from 1 to 1000";
      }
      arguments.limit = limit;
    } else {
      return "unknown option '" + option + "'";
    }
  }

  if (arguments.tenant.empty()) return std::string("missing --tenant");
  const bool changes = arguments.command == "top-up" || arguments.command == "adjust";
  if (changes && !arguments.amount) return std::string("missing --amount");
  if (changes && arguments.reason.empty()) return std::string("missing --reason: say why the balance changes");
  if (!changes && (arguments.amount || !arguments.reason.empty())) {
    return "--amount and --reason apply only to top-up and adjust";
  }
  return std::nullopt;
}

template <typename Value, typename Operation>
std::optional<Value> awaitReply(Operation operation) {
  auto promise = std::make_shared<std::promise<Value>>();
  auto future = promise->get_future();
  operation([promise](Value value) { promise->set_value(std::move(value)); });
  if (future.wait_for(kRedisWait) != std::future_status::ready) return std::nullopt;
  return future.get();
}

std::string windowLine(const char* name, const spend::WindowReport& window,
                       const std::optional<std::int64_t>& limit) {
  return std::string(name) + " " + window.label + ": spent_usd " + spend::formatUsd(window.committed_cents) +
         ", reserved_usd " + spend::formatUsd(window.reserved_cents) + ", limit_usd " +
         (limit ? spend::formatUsd(*limit) : std::string("none"));
}

int showWallet(spend::RedisSpendLedger& ledger, const config::Tenant& tenant) {
  const auto report = awaitReply<spend::BalanceReport>(
      [&](auto done) { ledger.balance(tenant.id, tenant.plan.time_zone, done); });
  if (!report || !report->ok) {
    std::cerr << "error: reading the wallet failed: " << (report ? report->error : "Redis timed out") << '\n';
    return 1;
  }
  std::cout << "tenant: " << tenant.id << '\n'
            << "prepaid: " << (tenant.plan.wallet_enabled ? "yes" : "no") << '\n'
            << "balance_usd: " << spend::formatUsd(report->wallet_balance_cents) << '\n'
            << "reserved_usd: " << spend::formatUsd(report->wallet_reserved_cents) << '\n'
            << "available_usd: "
            << spend::formatUsd(report->wallet_balance_cents - report->wallet_reserved_cents) << '\n'
            << "time_zone: " << tenant.plan.time_zone << '\n'
            << windowLine("day", report->day, tenant.plan.spend.daily_usd_cents) << '\n'
            << windowLine("month", report->month, tenant.plan.spend.monthly_usd_cents) << '\n';
  return 0;
}

int changeWallet(spend::RedisSpendLedger& ledger, const config::Tenant& tenant,
                 const WalletArguments& arguments) {
  const bool top_up = arguments.command == "top-up";
  const auto cents = spend::parseUsdAmount(*arguments.amount, /*allow_negative=*/!top_up);
  if (!cents || *cents == 0 || (top_up && *cents < 0)) {
    std::cerr << "error: invalid --amount '" << *arguments.amount << "': expected "
              << (top_up ? "a positive" : "a non-zero")
              << " amount in US dollars with at most two decimals, such as 12.50\n";
    return 2;
  }
  if (!tenant.plan.wallet_enabled) {
    std::cerr << "warning: tenant " << tenant.id
              << " is not prepaid, so its orders do not draw on the wallet until its plan or "
                 "overrides set wallet: {enabled: true}\n";
  }

  const auto change = awaitReply<spend::WalletChange>([&](auto done) {
    ledger.changeWallet(tenant.id, *cents, top_up ? "top_up" : "adjustment", arguments.operator_name,
                        arguments.reason, done);
  });
  if (!change || !change->ok) {
    std::cerr << "error: changing the wallet failed: " << (change ? change->error : "Redis timed out") << '\n';
    return 1;
  }
  if (!change->applied) {
    std::cerr << "error: the adjustment of " << spend::formatUsd(*cents) << " USD would leave a balance of "
              << spend::formatUsd(change->balance_cents + *cents) << " USD, below the "
              << spend::formatUsd(change->reserved_cents)
              << " USD held by orders in progress; retry with a smaller amount once they settle\n";
    return 1;
  }
  std::cout << "tenant: " << tenant.id << '\n'
            << "change_usd: " << spend::formatUsd(*cents) << '\n'
            << "balance_usd: " << spend::formatUsd(change->balance_cents) << '\n'
            << "available_usd: " << spend::formatUsd(change->balance_cents - change->reserved_cents) << '\n';
  return 0;
}

int printLedger(spend::RedisSpendLedger& ledger, const config::Tenant& tenant, std::int64_t limit) {
  // Negative offsets count from the end, as LRANGE does.
  const auto page = awaitReply<spend::LedgerPage>(
      [&](auto done) { ledger.transactions(tenant.id, -limit, limit, done); });
  if (!page || !page->ok) {
    std::cerr << "error: reading the ledger failed: " << (page ? page->error : "Redis timed out") << '\n';
    return 1;
  }
  for (const spend::LedgerEntry& entry : page->entries) {
    nlohmann::ordered_json line = {{"transaction_id", entry.transaction_id},
                                   {"type", entry.type},
                                   {"amount_usd", spend::formatUsd(entry.amount_cents)}};
    line["balance_after_usd"] =
        entry.balance_after_cents ? nlohmann::ordered_json(spend::formatUsd(*entry.balance_after_cents)) : nullptr;
    line["created_at"] = proxy::formatTimestamp(entry.created_at_ms);
    for (const auto& [name, value] : {std::pair{"order_id", &entry.order_id}, std::pair{"refund_id", &entry.refund_id},
                                      std::pair{"request_id", &entry.request_id},
                                      std::pair{"operator", &entry.operator_name}, std::pair{"reason", &entry.reason}}) {
      if (!value->empty()) line[name] = *value;
    }
    std::cout << line.dump() << '\n';
  }
  return 0;
}

}  // namespace

int runWalletCommand(int argc, char** argv) {
  WalletArguments arguments;
  if (argc >= 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::cout << kUsage;
    return 0;
  }
  if (const auto problem = parseArguments(argc, argv, arguments)) return usageError(*problem);

  config::GatewayConfig config;
  config::Policies policies;
  try {
    config = config::loadGatewayConfig(arguments.config_file);
    policies = config::loadPolicies(config.policies_dir, config);
  } catch (const config::ConfigErrors& errors) {
    for (const auto& issue : errors.issues()) std::cerr << "error: " << issue.describe() << '\n';
    return 2;
  }
  const auto tenant = policies.tenants.find(arguments.tenant);
  if (tenant == policies.tenants.end()) {
    std::cerr << "error: unknown tenant '" << arguments.tenant << "'; use a tenant id from "
              << (config.policies_dir / "tenants.yaml").string() << '\n';
    return 2;
  }

  log::Logger logger(stderr, log::Level::kError);
  common::SystemClock clock;
  config::RedisConfig redis_config = config.redis;
  redis_config.timeout = std::max<std::chrono::milliseconds>(redis_config.timeout, kRedisWait);
  redis::AsyncRedis redis(redis_config, clock, logger);
  const auto give_up = std::chrono::steady_clock::now() + kRedisWait;
  while (!redis.connected() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!redis.connected()) {
    std::cerr << "error: cannot connect to Redis at " << config.redis.url << " within 5 s; start it or fix redis.url in "
              << config.file.string() << '\n';
    return 1;
  }

  spend::RedisSpendLedger ledger(redis, clock, logger);
  int exit_code = 0;
  if (arguments.command == "show") {
    exit_code = showWallet(ledger, tenant->second);
  } else if (arguments.command == "ledger") {
    exit_code = printLedger(ledger, tenant->second, arguments.limit);
  } else {
    exit_code = changeWallet(ledger, tenant->second, arguments);
  }
  redis.stop();
  return exit_code;
}

}  // namespace fdgw::app
