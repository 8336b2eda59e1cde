#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace fdgw::spend {

// Amounts in this module are US cents. Spend limits and wallets are kept in
// USD only.

// The request for one reservation: the marked-up total of one order, held
// against the tenant's daily and monthly limits and, for a prepaid tenant,
// its wallet.
struct ReservationRequest {
  std::string tenant_id;
  std::int64_t amount_cents = 0;
  std::optional<std::int64_t> daily_limit_cents;    // unset: no daily limit
  std::optional<std::int64_t> monthly_limit_cents;  // unset: no monthly limit
  bool prepaid = false;
  std::string time_zone = "UTC";  // the plan's, which sets where days and months begin
  // Fields that reconciliation uses to find the order in the upstream's records.
  std::string upstream;
  std::string owner_field;  // "reference_id" or "user_id", as in the order request
  std::string owner;
  std::string sku;
  std::int64_t quantity = 0;
  std::string request_id;
  // Redis key of the Idempotency-Key record that this order holds, or empty.
  // Reconciliation completes or removes it when it settles the reservation.
  std::string idempotency_record;
  // How long that record is kept from the reservation on.
  std::chrono::milliseconds idempotency_lifetime{0};
  // Time after which an unsettled reservation is due for reconciliation.
  std::chrono::milliseconds settle_after{0};
};

enum class ReserveStatus { kReserved, kOverDailyLimit, kOverMonthlyLimit, kOverWallet, kFailed };

// Committed spend of the current day and month and the available wallet
// balance, as one Redis operation saw them. A value is unset when the
// operation did not read it.
struct SpendState {
  std::optional<std::int64_t> day_committed_cents;
  std::optional<std::int64_t> month_committed_cents;
  std::optional<std::int64_t> wallet_available_cents;
};

struct ReserveResult {
  ReserveStatus status = ReserveStatus::kFailed;
  std::string reservation_id;       // set when kReserved
  std::int64_t remaining_cents = 0;  // what the rejecting limit or wallet had left
  SpendState state;
  std::string error;  // for kFailed, for the operator's log
};

// A held reservation, as the request that made it keeps it.
struct Reservation {
  std::string tenant_id;
  std::string id;
  std::int64_t amount_cents = 0;
};

// An order that the upstream completed, at the tenant's prices.
struct OrderCharge {
  std::string order_id;
  std::int64_t unit_cents = 0;
  std::int64_t quantity = 0;
  std::string source = "response";  // "response" or "reconciliation", kept in the ledger
};

enum class SettleStatus {
  kSettled,
  kAlreadySettled,        // committed before, or released before a release
  kOrderAlreadyRecorded,  // another reservation has committed this order id
  kUnknownReservation,    // the reservation no longer exists in Redis
  kFailed,
};

struct SettleResult {
  SettleStatus status = SettleStatus::kFailed;
  SpendState state;
  std::string error;
};

struct RefundCredit {
  std::string tenant_id;
  std::string order_id;
  std::string refund_id;
  std::int64_t item_count = 0;  // refunded bundles, one per unit of the order
  std::string request_id;
};

enum class RefundStatus { kCredited, kAlreadyCredited, kOrderNotRecorded, kFailed };

struct RefundResult {
  RefundStatus status = RefundStatus::kFailed;
  std::int64_t credited_cents = 0;
  SpendState state;
  std::string error;
};

// Spend of one window with its limit.
struct WindowReport {
  std::string label;  // YYYY-MM-DD or YYYY-MM in the plan's time zone
  std::int64_t committed_cents = 0;
  std::int64_t reserved_cents = 0;
  std::int64_t ends_at_ms = 0;  // Unix milliseconds
};

struct BalanceReport {
  bool ok = false;
  std::int64_t wallet_balance_cents = 0;
  std::int64_t wallet_reserved_cents = 0;
  WindowReport day;
  WindowReport month;
  std::string error;
};

// One entry of a tenant's ledger.
struct LedgerEntry {
  std::string transaction_id;
  std::string type;  // order, refund, top_up, adjustment
  std::int64_t amount_cents = 0;  // negative for a charge
  std::optional<std::int64_t> balance_after_cents;  // unset when the tenant was not prepaid
  std::string order_id;
  std::string refund_id;
  std::int64_t created_at_ms = 0;
  std::string request_id;
  std::string operator_name;  // wallet changes from the command line
  std::string reason;
};

struct LedgerPage {
  bool ok = false;
  std::int64_t total = 0;
  std::vector<LedgerEntry> entries;  // oldest first
  std::string error;
};

// A reservation that is due for reconciliation.
struct PendingReservation {
  Reservation reservation;
  bool prepaid = false;
  std::string upstream;
  std::string owner_field;
  std::string owner;
  std::string sku;
  std::int64_t quantity = 0;
  std::int64_t created_at_ms = 0;
  std::string request_id;
  std::string idempotency_record;
};

struct ClaimResult {
  bool ok = false;
  std::vector<PendingReservation> reservations;
  std::string error;
};

// Spend reservations, wallets and each tenant's ledger, shared by every
// gateway instance. An interface, so the request path can be tested with a
// fake. Every `done` runs exactly once, on any thread.
class SpendLedger {
 public:
  virtual ~SpendLedger() = default;

  // Holds `request.amount_cents` against every limit and the wallet in one
  // atomic step, or holds nothing when any of them lacks room.
  virtual void reserve(ReservationRequest request, std::function<void(ReserveResult)> done) = 0;

  // Turns a reservation into spend of `charge`'s total, records the order
  // for later refunds and writes an `order` ledger entry. A reservation that
  // was released before, such as by reconciliation, is still charged,
  // because the upstream's records show the order.
  virtual void commit(const Reservation& reservation, OrderCharge charge,
                      std::function<void(SettleResult)> done) = 0;

  // Frees a reservation whose order the upstream did not create.
  virtual void release(const Reservation& reservation, std::function<void(SettleResult)> done) = 0;

  // Keeps a reservation held and makes it due for reconciliation after
  // `delay`, when the order's outcome is unknown.
  virtual void defer(const Reservation& reservation, std::chrono::milliseconds delay,
                     std::function<void(bool ok)> done) = 0;

  // Credits back what the tenant paid for the refunded units of an order
  // that this ledger recorded, at most once per refund id.
  virtual void creditRefund(RefundCredit credit, std::function<void(RefundResult)> done) = 0;

  // Reads the tenant's wallet and the spend of its current day and month.
  virtual void balance(const std::string& tenant_id, const std::string& time_zone,
                       std::function<void(BalanceReport)> done) = 0;

  // Reads `count` ledger entries from position `offset` (0 is the oldest).
  virtual void transactions(const std::string& tenant_id, std::int64_t offset, std::int64_t count,
                            std::function<void(LedgerPage)> done) = 0;

  // Takes up to `max` due reservations for this instance. Other instances
  // skip them for `claim`, and a reservation that is not settled by then
  // becomes due again.
  virtual void claimDue(std::size_t max, std::chrono::milliseconds claim,
                        std::function<void(ClaimResult)> done) = 0;
};

}  // namespace fdgw::spend
