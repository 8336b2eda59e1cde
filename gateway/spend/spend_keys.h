#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/quota/time_zone.h"

namespace fdgw::spend {

// Redis keys of one tenant's spend. The braces are a Redis Cluster hash tag,
// so one tenant's keys would share a slot, but the gateway supports only a
// single Redis server.
//
//   fdgw:spend:{T}:day:YYYY-MM-DD    hash committed, reserved (cents)
//   fdgw:spend:{T}:month:YYYY-MM     hash committed, reserved (cents)
//   fdgw:spend:{T}:wallet            hash balance, reserved (cents)
//   fdgw:spend:{T}:ledger            list of JSON entries, oldest first
//   fdgw:spend:{T}:reservation:ID    hash of one reservation
//   fdgw:spend:{T}:order:ORDER_ID    hash of one committed order
//   fdgw:spend:pending               sorted set "T:ID" by due time (ms)
std::string dayKey(std::string_view tenant_id, std::string_view label);
std::string monthKey(std::string_view tenant_id, std::string_view label);
std::string walletKey(std::string_view tenant_id);
std::string ledgerKey(std::string_view tenant_id);
std::string reservationKey(std::string_view tenant_id, std::string_view reservation_id);
std::string orderKey(std::string_view tenant_id, std::string_view order_id);
inline constexpr std::string_view kPendingKey = "fdgw:spend:pending";

// Member of kPendingKey for one reservation. Tenant ids never contain ':'.
std::string pendingMember(std::string_view tenant_id, std::string_view reservation_id);

// Splits a pending member into tenant id and reservation id. Returns false
// when it has no ':'.
bool splitPendingMember(std::string_view member, std::string& tenant_id, std::string& reservation_id);

// The day and month that spend counts in at one instant, in the plan's time
// zone, with the instants at which they end.
struct SpendWindows {
  std::string day_label;    // YYYY-MM-DD
  std::int64_t day_end_ms = 0;
  std::string month_label;  // YYYY-MM
  std::int64_t month_end_ms = 0;
};

SpendWindows spendWindowsAt(std::int64_t now_ms, const quota::TimeZone& zone);

// How long window keys are kept after their window ends: a month of daily
// history, and a bit over a year of monthly history.
inline constexpr std::int64_t kDayKeptAfterEndMs = 35LL * 86400 * 1000;
inline constexpr std::int64_t kMonthKeptAfterEndMs = 400LL * 86400 * 1000;

}  // namespace fdgw::spend
