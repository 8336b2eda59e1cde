// GET /analytics/sales, /top-sales, /usage, /channels and /export.

#include <cstdio>
#include <sstream>

#include "analytics_report.h"
#include "handlers.h"
#include "ids.h"

namespace fdsim {

namespace {

using std::chrono::sys_days;

constexpr int kDefaultRangeDays = 30;
constexpr int kMaxRangeDays = 731;

std::optional<sys_days> parseDay(const std::string& text) {
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  char trailing = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &year, &month, &day, &trailing) != 3) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}};
  if (!date.ok()) return std::nullopt;
  return sys_days(date);
}

// Reads from, to (YYYY-MM-DD, inclusive) and granularity. Without "to" the
// range ends today (UTC); without "from" it spans 30 days up to "to".
std::optional<AnalyticsQuery> parseAnalyticsQuery(const ApiRequest& request, ApiResponse& error) {
  AnalyticsQuery query;
  query.to = std::chrono::floor<std::chrono::days>(Clock::now());
  if (const auto text = queryValue(request, "to")) {
    const auto day = parseDay(*text);
    if (!day) {
      error = errorResponse(400, "Invalid to \"" + *text + "\": expected a date as YYYY-MM-DD");
      return std::nullopt;
    }
    query.to = *day;
  }
  query.from = query.to - std::chrono::days(kDefaultRangeDays - 1);
  if (const auto text = queryValue(request, "from")) {
    const auto day = parseDay(*text);
    if (!day) {
      error = errorResponse(400, "Invalid from \"" + *text + "\": expected a date as YYYY-MM-DD");
      return std::nullopt;
    }
    query.from = *day;
  }
  if (query.from > query.to) {
    error = errorResponse(400, "Invalid range: from " + formatDay(query.from) + " is after to " + formatDay(query.to));
    return std::nullopt;
  }
  if (query.to - query.from >= std::chrono::days(kMaxRangeDays)) {
    error = errorResponse(400, "Invalid range: at most 731 days are allowed");
    return std::nullopt;
  }

  query.granularity = queryValue(request, "granularity").value_or("day");
  if (query.granularity != "day" && query.granularity != "week" && query.granularity != "month") {
    error = errorResponse(400, "Invalid granularity \"" + query.granularity + "\": expected day, week or month");
    return std::nullopt;
  }
  return query;
}

using ReportBuilder = Json (*)(Simulator&, const AnalyticsQuery&);

ApiResponse reportResponse(Simulator& simulator, const ApiRequest& request, ReportBuilder build) {
  ApiResponse error;
  const auto query = parseAnalyticsQuery(request, error);
  if (!query) return error;
  return successResponse(build(simulator, *query));
}

std::string csvField(const Json& value) {
  std::string text = value.is_string() ? value.get<std::string>() : value.is_null() ? "" : value.dump();
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted.push_back('"');
    quoted.push_back(c);
  }
  return quoted + "\"";
}

// Writes one CSV line from `row`: money objects become two columns (usd,
// mxn) with two decimals; other values are written as they are.
void writeCsvRow(std::ostringstream& out, const std::vector<Json>& row) {
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (i > 0) out << ',';
    const Json& value = row[i];
    if (value.is_object() && value.contains("usd")) {
      const auto usd = centsFromJsonNumber(value["usd"].get<double>()).value_or(0);
      const auto mxn = centsFromJsonNumber(value["mxn"].get<double>()).value_or(0);
      out << formatCents(usd) << ',' << formatCents(mxn);
    } else {
      out << csvField(value);
    }
  }
  out << "\r\n";
}

// CSV of a report: one header line, then one line per period, ranking or
// channel entry as built by analytics_report.cc.
std::string reportToCsv(const std::string& report_name, const Json& report) {
  std::ostringstream out;
  if (report_name == "sales") {
    out << "period,orders,esims,bundles,cost_usd,cost_mxn,refunded_usd,refunded_mxn\r\n";
    for (const Json& p : report["periods"]) {
      writeCsvRow(out, {p["period"], p["orders"], p["esims"], p["bundles"], p["cost"], p["refunded"]});
    }
  } else if (report_name == "top-sales") {
    out << "ranking,key,orders,quantity,revenue_usd,revenue_mxn\r\n";
    for (const auto& [section, key_name] : {std::pair{"skus", "sku"}, std::pair{"destinations", "destination"}}) {
      for (const Json& r : report[section]) writeCsvRow(out, {section, r[key_name], r["orders"], r["quantity"], r["revenue"]});
    }
    for (const Json& r : report["variants"]) {
      const std::string key = r["profile"].get<std::string>() + "/" + (r["data_gb"].is_null() ? "unlimited" : r["data_gb"].dump() + "GB") +
                              "/" + r["validity_days"].dump() + "d";
      writeCsvRow(out, {"variants", key, r["orders"], r["quantity"], r["revenue"]});
    }
  } else if (report_name == "usage") {
    out << "period,data_used_mb,gb_data_used_mb,unlimited_data_used_mb,users\r\n";
    for (const Json& p : report["periods"]) {
      writeCsvRow(out, {p["period"], p["data_used_mb"], p["gb_data_used_mb"], p["unlimited_data_used_mb"], p["users"]});
    }
  } else {
    out << "dimension,value,orders,revenue_usd,revenue_mxn,average_order_value_usd,average_order_value_mxn\r\n";
    for (const Json& c : report["channels"]) {
      writeCsvRow(out, {"channel", c["channel"], c["orders"], c["revenue"], c["average_order_value"]});
    }
    for (const Json& p : report["processes"]) {
      writeCsvRow(out, {"process", p["process"], p["orders"], p["revenue"], p["average_order_value"]});
    }
  }
  return out.str();
}

}  // namespace

ApiResponse getSalesAnalytics(Simulator& simulator, const ApiRequest& request, const PathParams&) {
  return reportResponse(simulator, request, buildSalesReport);
}

ApiResponse getTopSalesAnalytics(Simulator& simulator, const ApiRequest& request, const PathParams&) {
  return reportResponse(simulator, request, buildTopSalesReport);
}

ApiResponse getUsageAnalytics(Simulator& simulator, const ApiRequest& request, const PathParams&) {
  return reportResponse(simulator, request, buildUsageReport);
}

ApiResponse getChannelAnalytics(Simulator& simulator, const ApiRequest& request, const PathParams&) {
  return reportResponse(simulator, request, buildChannelReport);
}

// report=sales|top-sales|usage|channels (required), format=json|csv (default json).
ApiResponse exportAnalytics(Simulator& simulator, const ApiRequest& request, const PathParams&) {
  const auto report_name = queryValue(request, "report");
  if (!report_name) return errorResponse(400, "Query parameter report is required: sales, top-sales, usage or channels");
  ReportBuilder build = nullptr;
  if (*report_name == "sales") build = buildSalesReport;
  if (*report_name == "top-sales") build = buildTopSalesReport;
  if (*report_name == "usage") build = buildUsageReport;
  if (*report_name == "channels") build = buildChannelReport;
  if (build == nullptr) {
    return errorResponse(400, "Invalid report \"" + *report_name + "\": expected sales, top-sales, usage or channels");
  }
  const std::string format = queryValue(request, "format").value_or("json");
  if (format != "json" && format != "csv") {
    return errorResponse(400, "Invalid format \"" + format + "\": expected csv or json");
  }

  ApiResponse error;
  const auto query = parseAnalyticsQuery(request, error);
  if (!query) return error;
  Json report = build(simulator, *query);
  if (format == "json") return successResponse(std::move(report));

  ApiResponse response{200, reportToCsv(*report_name, report), "text/csv; charset=utf-8", {}};
  response.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + *report_name + "-" +
                                                           formatDay(query->from) + "-" + formatDay(query->to) +
                                                           ".csv\"");
  return response;
}

}  // namespace fdsim
