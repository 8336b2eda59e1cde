#include "gateway/pricing/response_pricer.h"

#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "gateway/pricing/json_price_rewriter.h"

namespace fdgw::pricing {
namespace {

using Json = nlohmann::json;

// Locations of the priced objects in one route's response.
struct RouteLayout {
  std::vector<JsonPath> orders;
  std::vector<JsonPath> esims;  // eSIMs whose "bundles" carry prices
  std::vector<JsonPath> bundles;
  std::vector<JsonPath> refunds;
};

JsonPath join(JsonPath base, std::initializer_list<const char*> tail) {
  for (const char* element : tail) base.emplace_back(element);
  return base;
}

std::optional<RouteLayout> layoutOf(std::string_view route_id) {
  const JsonPath one{"data"};
  const JsonPath each{"data", "*"};
  RouteLayout layout;
  if (route_id == "orders.create" || route_id == "orders.get") {
    layout.orders = {one};
  } else if (route_id == "orders.list") {
    layout.orders = {each};
  } else if (route_id == "users.get") {
    layout.orders = {join(one, {"orders", "*"})};
    layout.esims = {join(one, {"esims", "*"})};
  } else if (route_id == "esims.list") {
    layout.esims = {each};
  } else if (route_id == "esims.get") {
    layout.esims = {one};
  } else if (route_id == "bundles.list") {
    layout.bundles = {each};
  } else if (route_id == "bundles.get") {
    layout.bundles = {one};
  } else if (route_id == "refunds.create") {
    layout.refunds = {one};
  } else {
    return std::nullopt;
  }
  for (const JsonPath& order : layout.orders) layout.esims.push_back(join(order, {"esims", "*"}));
  for (const JsonPath& esim : layout.esims) layout.bundles.push_back(join(esim, {"bundles", "*"}));
  return layout;
}

enum class MoneyKind { kUnitPrice, kTotal, kBundlePrice, kRefundAmount, kRefundItemAmount };
enum class NumberKind { kTransactionAmount, kBalanceAfter };

struct Sites {
  std::vector<MoneySite> money;
  std::vector<MoneyKind> money_kinds;
  std::vector<NumberSite> numbers;
  std::vector<NumberKind> number_kinds;

  void addMoney(JsonPath path, MoneyKind kind) {
    money.push_back({std::move(path)});
    money_kinds.push_back(kind);
  }
  void addTransactions(const JsonPath& owner) {
    numbers.push_back({join(owner, {"transactions", "*", "amount"})});
    number_kinds.push_back(NumberKind::kTransactionAmount);
    numbers.push_back({join(owner, {"transactions", "*", "balance_after"})});
    number_kinds.push_back(NumberKind::kBalanceAfter);
  }
};

Sites sitesOf(const RouteLayout& layout) {
  Sites sites;
  for (const JsonPath& order : layout.orders) {
    sites.addMoney(join(order, {"unit_price"}), MoneyKind::kUnitPrice);
    sites.addMoney(join(order, {"total"}), MoneyKind::kTotal);
    sites.addTransactions(order);
  }
  for (const JsonPath& bundle : layout.bundles) sites.addMoney(join(bundle, {"price"}), MoneyKind::kBundlePrice);
  for (const JsonPath& refund : layout.refunds) {
    sites.addMoney(join(refund, {"amount"}), MoneyKind::kRefundAmount);
    sites.addMoney(join(refund, {"items", "*", "amount"}), MoneyKind::kRefundItemAmount);
    sites.addTransactions(refund);
  }
  return sites;
}

// Visits every value of `document` at `pattern`.
void visit(const Json& value, const JsonPath& pattern, std::size_t depth, const std::function<void(const Json&)>& f) {
  if (depth == pattern.size()) {
    f(value);
    return;
  }
  const std::string& element = pattern[depth];
  if (value.is_object()) {
    if (element == kAnyPathElement) {
      for (const auto& member : value) visit(member, pattern, depth + 1, f);
    } else if (const auto found = value.find(element); found != value.end()) {
      visit(*found, pattern, depth + 1, f);
    }
  } else if (value.is_array()) {
    if (element == kAnyPathElement) {
      for (const auto& item : value) visit(item, pattern, depth + 1, f);
    } else if (!element.empty() && element.find_first_not_of("0123456789") == std::string::npos &&
               element.size() < 10 && std::stoul(element) < value.size()) {
      visit(value[std::stoul(element)], pattern, depth + 1, f);
    }
  }
}

class Pricer {
 public:
  Pricer(const PriceCalculator& calculator, const OfferLookup& lookup) : calculator_(calculator), lookup_(lookup) {}

  // Tenant price of one unit of `sku` with upstream cost `cost`.
  std::variant<Money, PricingError> unitPrice(const std::string& sku, const Money& cost) const {
    const OfferFacts* facts = lookup_ ? lookup_(sku) : nullptr;
    if (facts != nullptr) return calculator_.markUp(*facts, cost);
    OfferFacts bare;
    bare.sku = sku;
    return calculator_.markUp(bare, cost);
  }

  std::variant<Money, PricingError> pricedMoney(const Json& object, const char* money_key) const {
    if (!object.is_object()) return PricingError{"the priced value is not inside an object"};
    const auto sku = object.find("sku");
    if (sku == object.end() || !sku->is_string()) return PricingError{"the object has no string \"sku\""};
    const auto cost_json = object.find(money_key);
    if (cost_json == object.end()) return PricingError{std::string("the object has no \"") + money_key + "\""};
    auto cost = parseMoney(*cost_json);
    if (const auto* error = std::get_if<PricingError>(&cost)) return *error;
    return unitPrice(sku->get<std::string>(), std::get<Money>(cost));
  }

  std::variant<Money, PricingError> orderTotal(const Json& order) const {
    auto unit = pricedMoney(order, "unit_price");
    if (const auto* error = std::get_if<PricingError>(&unit)) return *error;
    const auto quantity = order.find("quantity");
    if (quantity == order.end() || !quantity->is_number_integer() || quantity->get<std::int64_t>() < 1 ||
        quantity->get<std::int64_t>() > 1000000) {
      return PricingError{"the order has no valid \"quantity\""};
    }
    const std::int64_t count = quantity->get<std::int64_t>();
    const Money& price = std::get<Money>(unit);
    if (price.usd > kMaxMinorUnits / count || price.mxn > kMaxMinorUnits / count) {
      return PricingError{"the order total exceeds the largest supported amount"};
    }
    return Money{price.usd * count, price.mxn * count};
  }

  std::variant<Money, PricingError> refundAmount(const Json& refund) const {
    const auto items = refund.find("items");
    if (items == refund.end() || !items->is_array()) return PricingError{"the refund has no \"items\" array"};
    Money sum;
    for (const Json& item : *items) {
      auto price = pricedMoney(item, "amount");
      if (const auto* error = std::get_if<PricingError>(&price)) return *error;
      sum.usd += std::get<Money>(price).usd;
      sum.mxn += std::get<Money>(price).mxn;
      if (sum.usd > kMaxMinorUnits || sum.mxn > kMaxMinorUnits) {
        return PricingError{"the refund amount exceeds the largest supported amount"};
      }
    }
    return sum;
  }

 private:
  const PriceCalculator& calculator_;
  const OfferLookup& lookup_;
};

std::variant<Money, PricingError> parseEnclosing(std::string_view text, Json& out) {
  out = Json::parse(text, nullptr, false);
  if (out.is_discarded() || !out.is_object()) return PricingError{"the enclosing object is not valid JSON"};
  return Money{};
}

}  // namespace

bool routeShowsPrices(std::string_view route_id) { return layoutOf(route_id).has_value(); }

std::variant<std::string, PricingError> priceResponse(std::string_view route_id, std::string_view body,
                                                      const PriceCalculator& calculator,
                                                      const OfferLookup& lookup) {
  const auto layout = layoutOf(route_id);
  if (!layout) return std::string(body);
  const Sites sites = sitesOf(*layout);
  const Pricer pricer(calculator, lookup);

  // Ledger entries name their order but sit apart from its prices, so the
  // tenant totals of every order and refund are computed first. Responses
  // without orders or refunds skip this parse; the rewrite validates them.
  const bool has_ledger = !layout->orders.empty() || !layout->refunds.empty();
  const Json document = has_ledger ? Json::parse(body, nullptr, false) : Json::object();
  if (document.is_discarded()) return PricingError{"the upstream response is not valid JSON"};
  std::map<std::string, Money> order_totals;
  for (const JsonPath& path : layout->orders) {
    visit(document, path, 0, [&](const Json& order) {
      if (!order.is_object() || !order.contains("order_id") || !order["order_id"].is_string()) return;
      auto total = pricer.orderTotal(order);
      if (const auto* money = std::get_if<Money>(&total)) order_totals[order["order_id"].get<std::string>()] = *money;
    });
  }
  std::optional<Money> refund_total;
  for (const JsonPath& path : layout->refunds) {
    visit(document, path, 0, [&](const Json& refund) {
      auto amount = pricer.refundAmount(refund);
      if (const auto* money = std::get_if<Money>(&amount)) refund_total = *money;
    });
  }

  const auto rewrite_money = [&](const MoneyOccurrence& occurrence)
      -> std::variant<std::optional<Money>, PricingError> {
    MoneyKind kind = MoneyKind::kBundlePrice;
    for (std::size_t i = 0; i < sites.money.size(); ++i) {
      if (matchesPath(sites.money[i].path, occurrence.path)) {
        kind = sites.money_kinds[i];
        break;
      }
    }
    Json object;
    if (auto parsed = parseEnclosing(occurrence.enclosing_object, object);
        std::holds_alternative<PricingError>(parsed)) {
      return std::get<PricingError>(parsed);
    }
    std::variant<Money, PricingError> price;
    switch (kind) {
      case MoneyKind::kUnitPrice: price = pricer.pricedMoney(object, "unit_price"); break;
      case MoneyKind::kTotal: price = pricer.orderTotal(object); break;
      case MoneyKind::kBundlePrice: price = pricer.pricedMoney(object, "price"); break;
      case MoneyKind::kRefundItemAmount: price = pricer.pricedMoney(object, "amount"); break;
      case MoneyKind::kRefundAmount: price = pricer.refundAmount(object); break;
    }
    if (const auto* error = std::get_if<PricingError>(&price)) return *error;
    return std::optional<Money>(std::get<Money>(price));
  };

  const auto rewrite_number = [&](const NumberOccurrence& occurrence)
      -> std::variant<std::optional<std::string>, PricingError> {
    NumberKind kind = NumberKind::kBalanceAfter;
    for (std::size_t i = 0; i < sites.numbers.size(); ++i) {
      if (matchesPath(sites.numbers[i].path, occurrence.path)) {
        kind = sites.number_kinds[i];
        break;
      }
    }
    if (kind == NumberKind::kBalanceAfter) return std::optional<std::string>("null");

    const Json entry = Json::parse(occurrence.enclosing_object, nullptr, false);
    if (entry.is_discarded() || !entry.is_object()) return std::optional<std::string>("null");
    const std::string type = entry.value("type", "");
    const std::string currency_name = entry.value("currency", "");
    if (currency_name != "usd" && currency_name != "mxn") return std::optional<std::string>("null");
    const auto currency = currency_name == "usd" ? config::Currency::kUsd : config::Currency::kMxn;

    std::optional<Money> tenant_amount;
    const bool in_refund = !layout->refunds.empty();
    if (type == "order" && !in_refund && entry.contains("order_id") && entry["order_id"].is_string()) {
      const auto found = order_totals.find(entry["order_id"].get<std::string>());
      if (found != order_totals.end()) tenant_amount = found->second;
    } else if (type == "refund" && in_refund) {
      tenant_amount = refund_total;
    }
    if (!tenant_amount) return std::optional<std::string>("null");
    const bool negative = !occurrence.token.empty() && occurrence.token.front() == '-';
    const std::int64_t amount = tenant_amount->amount(currency);
    return std::optional<std::string>(majorUnitsText(negative ? -amount : amount));
  };

  return rewriteJsonAmounts(body, sites.money, rewrite_money, sites.numbers, rewrite_number);
}

}  // namespace fdgw::pricing
