#include "gateway/spend/spend_keys.h"

#include <cstdio>

namespace fdgw::spend {
namespace {

std::string tenantPrefix(std::string_view tenant_id) {
  return "fdgw:spend:{" + std::string(tenant_id) + "}:";
}

std::int64_t floorDivide(std::int64_t value, std::int64_t divisor) {
  const std::int64_t quotient = value / divisor;
  return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient;
}

}  // namespace

std::string dayKey(std::string_view tenant_id, std::string_view label) {
  return tenantPrefix(tenant_id) + "day:" + std::string(label);
}

std::string monthKey(std::string_view tenant_id, std::string_view label) {
  return tenantPrefix(tenant_id) + "month:" + std::string(label);
}

std::string walletKey(std::string_view tenant_id) { return tenantPrefix(tenant_id) + "wallet"; }

std::string ledgerKey(std::string_view tenant_id) { return tenantPrefix(tenant_id) + "ledger"; }

std::string reservationKey(std::string_view tenant_id, std::string_view reservation_id) {
  return tenantPrefix(tenant_id) + "reservation:" + std::string(reservation_id);
}

std::string orderKey(std::string_view tenant_id, std::string_view order_id) {
  return tenantPrefix(tenant_id) + "order:" + std::string(order_id);
}

std::string pendingMember(std::string_view tenant_id, std::string_view reservation_id) {
  return std::string(tenant_id) + ":" + std::string(reservation_id);
}

bool splitPendingMember(std::string_view member, std::string& tenant_id, std::string& reservation_id) {
  const auto colon = member.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == member.size()) return false;
  tenant_id = std::string(member.substr(0, colon));
  reservation_id = std::string(member.substr(colon + 1));
  return true;
}

SpendWindows spendWindowsAt(std::int64_t now_ms, const quota::TimeZone& zone) {
  const std::int64_t now_seconds = floorDivide(now_ms, 1000);
  const quota::CalendarDay day = quota::calendarDayAt(now_seconds, zone);
  const quota::CalendarMonth month = quota::calendarMonthAt(now_seconds, zone);

  char day_label[16];
  std::snprintf(day_label, sizeof day_label, "%04d-%02d-%02d", day.year, day.month, day.day);
  char month_label[16];
  std::snprintf(month_label, sizeof month_label, "%04d-%02d", month.year, month.month);
  return SpendWindows{day_label, day.end * 1000, month_label, month.end * 1000};
}

}  // namespace fdgw::spend
