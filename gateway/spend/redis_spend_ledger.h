#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "gateway/common/clock.h"
#include "gateway/log/logger.h"
#include "gateway/quota/time_zone.h"
#include "gateway/redis/async_redis.h"
#include "gateway/redis/script.h"
#include "gateway/spend/spend_keys.h"
#include "gateway/spend/spend_ledger.h"

namespace fdgw::spend {

// The outcome of a wallet change made from the command line.
struct WalletChange {
  bool ok = false;       // Redis ran the script, whether it applied the change or not
  bool applied = false;  // false when a debit would leave less than the reserved amount
  std::int64_t balance_cents = 0;
  std::int64_t reserved_cents = 0;
  std::string error;
};

// SpendLedger kept in Redis, shared by every instance on the same database.
// The key layout is in spend_keys.h, and each operation is one Lua script
// (spend_scripts.h), so concurrent orders on any number of instances never
// hold more than a limit allows.
//
// Days and months are calendar days and months in the plan's time zone, as
// for `window: month` quotas. A reservation counts in the day and month in
// which it was made, also when it is committed after midnight.
//
// Thread-safe. Callbacks run on the Redis client thread, or at once on the
// caller's thread after the client stopped.
class RedisSpendLedger final : public SpendLedger {
 public:
  RedisSpendLedger(redis::AsyncRedis& redis, const common::Clock& clock, log::Logger& logger);

  void reserve(ReservationRequest request, std::function<void(ReserveResult)> done) override;
  void commit(const Reservation& reservation, OrderCharge charge,
              std::function<void(SettleResult)> done) override;
  void release(const Reservation& reservation, std::function<void(SettleResult)> done) override;
  void defer(const Reservation& reservation, std::chrono::milliseconds delay,
             std::function<void(bool ok)> done) override;
  void creditRefund(RefundCredit credit, std::function<void(RefundResult)> done) override;
  void balance(const std::string& tenant_id, const std::string& time_zone,
               std::function<void(BalanceReport)> done) override;
  void transactions(const std::string& tenant_id, std::int64_t offset, std::int64_t count,
                    std::function<void(LedgerPage)> done) override;
  void claimDue(std::size_t max, std::chrono::milliseconds claim,
                std::function<void(ClaimResult)> done) override;

  // Adds `change_cents` (negative to debit) to the tenant's wallet and
  // appends a ledger entry of `type` (top_up or adjustment) with the
  // operator and reason. A debit that would leave less than the amount held
  // by pending orders is refused.
  void changeWallet(const std::string& tenant_id, std::int64_t change_cents, const std::string& type,
                    const std::string& operator_name, const std::string& reason,
                    std::function<void(WalletChange)> done);

  // How long a settled reservation and a committed order stay in Redis.
  static constexpr std::chrono::hours kSettledReservationLifetime{7 * 24};
  static constexpr std::chrono::hours kOrderRecordLifetime{400 * 24};

 private:
  std::int64_t nowMs() const;
  SpendWindows windowsFor(const std::string& time_zone, std::int64_t now_ms);

  redis::AsyncRedis& redis_;
  const common::Clock& clock_;
  log::Logger& logger_;
  quota::TimeZoneCache zones_;
  const redis::Script reserve_script_;
  const redis::Script commit_script_;
  const redis::Script release_script_;
  const redis::Script refund_script_;
  const redis::Script wallet_script_;
  const redis::Script balance_script_;
  const redis::Script ledger_script_;
  const redis::Script claim_script_;
};

// Reads one ledger entry as the scripts write it. Returns nullopt for text
// that is not such an entry.
std::optional<LedgerEntry> parseLedgerEntry(const std::string& text);

// Returns a new transaction id: "txn_" and 32 hex characters.
std::string newTransactionId();

}  // namespace fdgw::spend
