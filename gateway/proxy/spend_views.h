#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "gateway/common/error.h"
#include "gateway/config/policies.h"
#include "gateway/spend/spend_ledger.h"

namespace fdgw::proxy {

// Returns whether the gateway serves `route_id` from the tenant's own
// wallet and ledger instead of the upstream account's.
bool isCreditsRoute(std::string_view route_id);

// Renders GET /credits/balance for a tenant in the FullDatos envelope.
// "usd" is the available wallet balance of a prepaid tenant and null
// otherwise, and "mxn" is always null because wallets are kept in USD.
// "spend" shows the tenant's own spend of the current day and month at its
// prices, with its limits.
std::string balanceBody(const spend::BalanceReport& report, const config::Plan& plan);

// The query of GET /credits/transactions, checked like the upstream checks it.
struct TransactionQuery {
  std::int64_t page = 1;
  std::int64_t limit = 50;
  std::optional<std::string> currency;  // "usd" or "mxn"
};

// Reads page (from 1), limit (1 to 500, default 50) and currency (usd or
// mxn) from percent-decoded query parameters. Returns a message for the
// tenant when a value is invalid.
std::variant<TransactionQuery, std::string> parseTransactionQuery(
    const std::vector<std::pair<std::string, std::string>>& query);

// Renders one page of the tenant's ledger as FullDatos transactions, oldest
// first, with "pagination". Amounts are USD at the tenant's prices.
std::string transactionsBody(const spend::LedgerPage& page, const TransactionQuery& query);

// Formats Unix milliseconds as the upstream writes times:
// 2026-12-05T14:03:07.123Z.
std::string formatTimestamp(std::int64_t unix_ms);

// Reads a UTC time such as 2026-12-05T14:03:07Z or 2026-12-05T14:03:07.123Z
// into Unix milliseconds. Returns nullopt for any other text.
std::optional<std::int64_t> parseTimestamp(std::string_view text);

// Messages for tenants in English or Spanish.
std::string spendLimitMessage(spend::ReserveStatus status, std::int64_t order_cents,
                              std::int64_t remaining_cents, const config::SpendLimits& limits,
                              common::Language language);
std::string idempotencyKeyInvalidMessage(common::Language language);
std::string idempotencyRunningMessage(common::Language language);
std::string idempotencyMismatchMessage(common::Language language);

}  // namespace fdgw::proxy
