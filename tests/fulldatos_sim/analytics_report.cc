#include "analytics_report.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "simulator.h"

namespace fdsim {

namespace {

using std::chrono::sys_days;

// What the reports need from one order, copied under the store's lock.
struct OrderFacts {
  sys_days day;
  const Offer* offer = nullptr;
  std::string sku;
  std::string user_id;
  std::string channel;
  std::string process;
  int quantity = 0;
  std::size_t esims = 0;
  std::size_t bundles = 0;
  Money total;
  Money refunded;
  std::int64_t data_used_mb = 0;
};

sys_days parseStoredDay(const std::string& timestamp) {
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  std::sscanf(timestamp.c_str(), "%d-%u-%u", &year, &month, &day);
  return sys_days(std::chrono::year{year} / std::chrono::month{month} / std::chrono::day{day});
}

std::vector<OrderFacts> collectOrders(Simulator& simulator, const AnalyticsQuery& query) {
  Store& store = simulator.store;
  std::lock_guard lock(store.mutex);
  std::vector<OrderFacts> facts;
  for (const Order& order : store.orders.items()) {
    const sys_days day = parseStoredDay(order.created_at);
    if (order.status != "completed" || day < query.from || day > query.to) continue;

    OrderFacts item{day, simulator.catalog.find(order.sku), order.sku, order.user_id, order.channel, order.process,
                    order.quantity, order.esim_ids.size(), 0, order.total, {}, 0};
    for (const std::string& esim_id : order.esim_ids) {
      const Esim* esim = store.esims.find(esim_id);
      if (esim == nullptr) continue;
      for (const std::string& bundle_id : esim->bundle_ids) {
        const Bundle* bundle = store.bundles.find(bundle_id);
        if (bundle == nullptr) continue;
        ++item.bundles;
        item.data_used_mb += bundle->data_used_mb;
        if (bundle->status == "refunded") item.refunded += bundle->price;
      }
    }
    facts.push_back(std::move(item));
  }
  return facts;
}

std::string periodOf(sys_days day, const std::string& granularity) {
  if (granularity == "week") {
    // weekday 0 is Sunday; weeks start on Monday.
    const unsigned weekday = std::chrono::weekday(day).c_encoding();
    return formatDay(day - std::chrono::days((weekday + 6) % 7));
  }
  const std::string text = formatDay(day);
  return granularity == "month" ? text.substr(0, 7) : text;
}

// Every period of the range in order, so that empty periods appear as zeros.
std::vector<std::string> periodsOf(const AnalyticsQuery& query) {
  std::vector<std::string> periods;
  for (sys_days day = query.from; day <= query.to; day += std::chrono::days(1)) {
    std::string period = periodOf(day, query.granularity);
    if (periods.empty() || periods.back() != period) periods.push_back(std::move(period));
  }
  return periods;
}

Json rangeHeader(const AnalyticsQuery& query) {
  return Json{{"from", formatDay(query.from)}, {"to", formatDay(query.to)}, {"granularity", query.granularity}};
}

struct SalesFigures {
  std::int64_t orders = 0;
  std::int64_t esims = 0;
  std::int64_t bundles = 0;
  Money cost;
  Money refunded;

  void add(const OrderFacts& order) {
    ++orders;
    esims += static_cast<std::int64_t>(order.esims);
    bundles += static_cast<std::int64_t>(order.bundles);
    cost += order.total;
    refunded += order.refunded;
  }

  Json toJson() const {
    return Json{{"orders", orders},
                {"esims", esims},
                {"bundles", bundles},
                {"cost", moneyToJson(cost)},
                {"refunded", moneyToJson(refunded)}};
  }
};

struct Ranking {
  Json label;
  std::int64_t orders = 0;
  std::int64_t quantity = 0;
  Money revenue;
};

// The ten highest by USD revenue, then by quantity, then by key.
Json topTen(std::map<std::string, Ranking>& rankings) {
  std::vector<Ranking*> sorted;
  for (auto& [key, ranking] : rankings) sorted.push_back(&ranking);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Ranking* a, const Ranking* b) {
    if (a->revenue.usd_cents != b->revenue.usd_cents) return a->revenue.usd_cents > b->revenue.usd_cents;
    return a->quantity > b->quantity;
  });
  Json result = Json::array();
  for (std::size_t i = 0; i < sorted.size() && i < 10; ++i) {
    Json item = sorted[i]->label;
    item["orders"] = sorted[i]->orders;
    item["quantity"] = sorted[i]->quantity;
    item["revenue"] = moneyToJson(sorted[i]->revenue);
    result.push_back(std::move(item));
  }
  return result;
}

void addRanking(std::map<std::string, Ranking>& rankings, const std::string& key, const Json& label,
                const OrderFacts& order) {
  Ranking& ranking = rankings[key];
  if (ranking.label.is_null()) ranking.label = label;
  ++ranking.orders;
  ranking.quantity += order.quantity;
  ranking.revenue += order.total;
}

struct UsageFigures {
  std::int64_t data_used_mb = 0;
  std::int64_t sized_mb = 0;
  std::int64_t unlimited_mb = 0;
  std::set<std::string> users;

  void add(const OrderFacts& order) {
    data_used_mb += order.data_used_mb;
    const bool unlimited = order.offer != nullptr && order.offer->unlimited;
    (unlimited ? unlimited_mb : sized_mb) += order.data_used_mb;
    users.insert(order.user_id);
  }

  Json toJson() const {
    return Json{{"data_used_mb", data_used_mb},
                {"gb_data_used_mb", sized_mb},
                {"unlimited_data_used_mb", unlimited_mb},
                {"users", users.size()}};
  }
};

struct ChannelFigures {
  std::int64_t orders = 0;
  Money revenue;

  Json toJson(const char* key_name, const std::string& key) const {
    // Average in cents, rounded half up.
    const Money average{(revenue.usd_cents * 2 + orders) / (2 * orders), (revenue.mxn_cents * 2 + orders) / (2 * orders)};
    return Json{{key_name, key},
                {"orders", orders},
                {"revenue", moneyToJson(revenue)},
                {"average_order_value", moneyToJson(average)}};
  }
};

}  // namespace

std::string formatDay(sys_days day) {
  const std::chrono::year_month_day date(day);
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

Json buildSalesReport(Simulator& simulator, const AnalyticsQuery& query) {
  std::map<std::string, SalesFigures> by_period;
  SalesFigures totals;
  for (const OrderFacts& order : collectOrders(simulator, query)) {
    by_period[periodOf(order.day, query.granularity)].add(order);
    totals.add(order);
  }

  Json report = rangeHeader(query);
  report["totals"] = totals.toJson();
  report["periods"] = Json::array();
  for (const std::string& period : periodsOf(query)) {
    Json item = Json{{"period", period}};
    item.update(by_period[period].toJson());
    report["periods"].push_back(std::move(item));
  }
  return report;
}

Json buildTopSalesReport(Simulator& simulator, const AnalyticsQuery& query) {
  std::map<std::string, Ranking> skus;
  std::map<std::string, Ranking> destinations;
  std::map<std::string, Ranking> variants;
  for (const OrderFacts& order : collectOrders(simulator, query)) {
    addRanking(skus, order.sku, Json{{"sku", order.sku}}, order);
    if (order.offer == nullptr) continue;

    // A single-country offer counts for its country, a regional one for its region.
    const Offer& offer = *order.offer;
    const std::string destination = offer.countries.size() == 1 ? offer.countries.front() : offer.region;
    addRanking(destinations, destination, Json{{"destination", destination}}, order);

    const Json data_gb = offer.data_gb ? Json(static_cast<std::int64_t>(*offer.data_gb)) : Json(nullptr);
    const std::string variant = offer.profile + "/" + data_gb.dump() + "/" + std::to_string(offer.validity_days);
    addRanking(variants, variant,
               Json{{"profile", offer.profile}, {"data_gb", data_gb}, {"validity_days", offer.validity_days}}, order);
  }

  Json report = rangeHeader(query);
  report["skus"] = topTen(skus);
  report["destinations"] = topTen(destinations);
  report["variants"] = topTen(variants);
  return report;
}

Json buildUsageReport(Simulator& simulator, const AnalyticsQuery& query) {
  std::map<std::string, UsageFigures> by_period;
  std::map<std::string, UsageFigures> by_country;
  UsageFigures totals;
  for (const OrderFacts& order : collectOrders(simulator, query)) {
    by_period[periodOf(order.day, query.granularity)].add(order);
    // Usage is attributed to the first country of the offer.
    if (order.offer != nullptr) by_country[order.offer->countries.front()].add(order);
    totals.add(order);
  }

  Json report = rangeHeader(query);
  report["totals"] = totals.toJson();
  report["periods"] = Json::array();
  for (const std::string& period : periodsOf(query)) {
    Json item = Json{{"period", period}};
    item.update(by_period[period].toJson());
    report["periods"].push_back(std::move(item));
  }
  report["countries"] = Json::array();
  for (const auto& [country, figures] : by_country) {
    Json item = Json{{"country", country}};
    item.update(figures.toJson());
    report["countries"].push_back(std::move(item));
  }
  return report;
}

Json buildChannelReport(Simulator& simulator, const AnalyticsQuery& query) {
  std::map<std::string, ChannelFigures> channels;
  std::map<std::string, ChannelFigures> processes;
  for (const OrderFacts& order : collectOrders(simulator, query)) {
    for (auto* figures : {&channels[order.channel], &processes[order.process]}) {
      ++figures->orders;
      figures->revenue += order.total;
    }
  }

  Json report = rangeHeader(query);
  report["channels"] = Json::array();
  for (const auto& [channel, figures] : channels) report["channels"].push_back(figures.toJson("channel", channel));
  report["processes"] = Json::array();
  for (const auto& [process, figures] : processes) report["processes"].push_back(figures.toJson("process", process));
  return report;
}

}  // namespace fdsim
