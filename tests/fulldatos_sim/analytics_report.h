// Organization-wide analytics computed from the stored orders.
#pragma once

#include <chrono>
#include <string>

#include "money.h"

namespace fdsim {

struct Simulator;

struct AnalyticsQuery {
  std::chrono::sys_days from;  // first day, inclusive (UTC)
  std::chrono::sys_days to;    // last day, inclusive (UTC)
  std::string granularity;     // day, week (starting Monday) or month
};

// Each report covers the completed orders created between `from` and `to`.
// Sales: orders, eSIMs, bundles, cost and refunded amount per period.
Json buildSalesReport(Simulator& simulator, const AnalyticsQuery& query);
// Top ten SKUs, destinations and variants by USD revenue.
Json buildTopSalesReport(Simulator& simulator, const AnalyticsQuery& query);
// Data used per period and per country, split into sized and unlimited
// bundles, with distinct user counts.
Json buildUsageReport(Simulator& simulator, const AnalyticsQuery& query);
// Orders, revenue and average order value per channel and per process.
Json buildChannelReport(Simulator& simulator, const AnalyticsQuery& query);

std::string formatDay(std::chrono::sys_days day);

}  // namespace fdsim
