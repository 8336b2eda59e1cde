#include "gateway/proxy/spend_views.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <ctime>

#include "gateway/pricing/money.h"
#include "gateway/spend/usd_amount.h"

namespace fdgw::proxy {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::int64_t kMaxPageLimit = 500;

const char* pick(common::Language language, const char* english, const char* spanish) {
  return language == common::Language::kSpanish ? spanish : english;
}

Json usd(std::int64_t cents) { return pricing::minorUnitsToJson(cents); }

Json windowJson(const spend::WindowReport& window, const std::optional<std::int64_t>& limit) {
  Json json = Json::object();
  json["period"] = window.label;
  json["spent"] = usd(window.committed_cents);
  json["reserved"] = usd(window.reserved_cents);
  json["limit"] = limit ? usd(*limit) : Json(nullptr);
  json["remaining"] =
      limit ? usd(std::max<std::int64_t>(*limit - window.committed_cents - window.reserved_cents, 0))
            : Json(nullptr);
  json["resets_at"] = formatTimestamp(window.ends_at_ms);
  return json;
}

// Parses a whole number without sign or leading zeros, as the upstream does.
std::optional<std::int64_t> parseCount(const std::string& text) {
  if (text.empty() || text.size() > 9 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

}  // namespace

bool isCreditsRoute(std::string_view route_id) {
  return route_id == "credits.balance" || route_id == "credits.transactions";
}

std::string formatTimestamp(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[80];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(unix_ms % 1000));
  return text;
}

std::optional<std::int64_t> parseTimestamp(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  int consumed = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute, &second,
                  &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(19);
  if (rest.size() == 5 && rest[0] == '.' && rest[4] == 'Z' && std::isdigit(rest[1]) && std::isdigit(rest[2]) &&
      std::isdigit(rest[3])) {
    millis = (rest[1] - '0') * 100 + (rest[2] - '0') * 10 + (rest[3] - '0');
  } else if (rest != "Z") {
    return std::nullopt;
  }
  std::tm parts{};
  parts.tm_year = year - 1900;
  parts.tm_mon = month - 1;
  parts.tm_mday = day;
  parts.tm_hour = hour;
  parts.tm_min = minute;
  parts.tm_sec = second;
  return static_cast<std::int64_t>(timegm(&parts)) * 1000 + millis;
}

std::string balanceBody(const spend::BalanceReport& report, const config::Plan& plan) {
  const std::int64_t available = report.wallet_balance_cents - report.wallet_reserved_cents;
  Json data = Json::object();
  data["usd"] = plan.wallet_enabled ? usd(available) : Json(nullptr);
  data["mxn"] = nullptr;
  data["prepaid"] = plan.wallet_enabled;
  if (plan.wallet_enabled) {
    data["wallet"] = {{"balance", usd(report.wallet_balance_cents)},
                      {"reserved", usd(report.wallet_reserved_cents)},
                      {"available", usd(available)}};
  } else {
    data["wallet"] = nullptr;
  }
  data["spend"] = {{"day", windowJson(report.day, plan.spend.daily_usd_cents)},
                   {"month", windowJson(report.month, plan.spend.monthly_usd_cents)}};
  Json body = {{"success", true}, {"data", std::move(data)}};
  return body.dump();
}

std::variant<TransactionQuery, std::string> parseTransactionQuery(
    const std::vector<std::pair<std::string, std::string>>& query) {
  TransactionQuery parsed;
  for (const auto& [name, value] : query) {
    if (name == "page") {
      const auto page = parseCount(value);
      if (!page || *page < 1) return "Invalid page \"" + value + "\": expected a whole number from 1";
      parsed.page = *page;
    } else if (name == "limit") {
      const auto limit = parseCount(value);
      if (!limit || *limit < 1 || *limit > kMaxPageLimit) {
        return "Invalid limit \"" + value + "\": expected a whole number from 1 to 500";
      }
      parsed.limit = *limit;
    } else if (name == "currency") {
      if (value != "usd" && value != "mxn") return "Invalid currency \"" + value + "\": expected usd or mxn";
      parsed.currency = value;
    }
  }
  return parsed;
}

std::string transactionsBody(const spend::LedgerPage& page, const TransactionQuery& query) {
  Json items = Json::array();
  for (const spend::LedgerEntry& entry : page.entries) {
    Json item = Json::object();
    item["transaction_id"] = entry.transaction_id;
    item["type"] = entry.type;
    item["currency"] = "usd";
    item["amount"] = usd(entry.amount_cents);
    item["balance_after"] = entry.balance_after_cents ? usd(*entry.balance_after_cents) : Json(nullptr);
    item["order_id"] = entry.order_id.empty() ? Json(nullptr) : Json(entry.order_id);
    if (!entry.refund_id.empty()) item["refund_id"] = entry.refund_id;
    if (!entry.reason.empty()) item["description"] = entry.reason;
    item["created_at"] = formatTimestamp(entry.created_at_ms);
    items.push_back(std::move(item));
  }
  Json body = {{"success", true},
               {"data", std::move(items)},
               {"pagination", {{"page", query.page}, {"limit", query.limit}, {"total", page.total}}}};
  return body.dump();
}

std::string spendLimitMessage(spend::ReserveStatus status, std::int64_t order_cents,
                              std::int64_t remaining_cents, const config::SpendLimits& limits,
                              common::Language language) {
  const bool spanish = language == common::Language::kSpanish;
  const std::string order = spend::formatUsd(order_cents);
  const std::string remaining = spend::formatUsd(remaining_cents);
  if (status == spend::ReserveStatus::kOverWallet) {
    return spanish ? "El total del pedido, " + order + " USD, supera el saldo prepagado disponible de " +
                         remaining + " USD."
                   : "The order total of " + order + " USD exceeds the available prepaid balance of " +
                         remaining + " USD.";
  }

  const bool daily = status == spend::ReserveStatus::kOverDailyLimit;
  const std::string limit =
      spend::formatUsd((daily ? limits.daily_usd_cents : limits.monthly_usd_cents).value_or(0));
  if (spanish) {
    return "El total del pedido, " + order + " USD, supera el límite de gasto " +
           (daily ? "diario" : "mensual") + ": quedan " + remaining + " USD de " + limit + " USD " +
           (daily ? "hoy" : "este mes") + ".";
  }
  return "The order total of " + order + " USD exceeds the " + (daily ? "daily" : "monthly") +
         " spend limit: " + remaining + " USD of " + limit + " USD remain " +
         (daily ? "today" : "this month") + ".";
}

std::string idempotencyKeyInvalidMessage(common::Language language) {
  return pick(language, "The Idempotency-Key header must have 1 to 255 printable ASCII characters.",
              "La cabecera Idempotency-Key debe tener de 1 a 255 caracteres ASCII imprimibles.");
}

std::string idempotencyRunningMessage(common::Language language) {
  return pick(language, "A request with this Idempotency-Key is still in progress; retry later.",
              "Una solicitud con esta Idempotency-Key todavía está en curso; reintente más tarde.");
}

std::string idempotencyMismatchMessage(common::Language language) {
  return pick(language, "This Idempotency-Key was already used with a different request.",
              "Esta Idempotency-Key ya se usó con otra solicitud.");
}

}  // namespace fdgw::proxy
