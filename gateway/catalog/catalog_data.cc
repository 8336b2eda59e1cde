#include "gateway/catalog/catalog_data.h"

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "gateway/pricing/json_price_rewriter.h"
#include "gateway/pricing/price_calculator.h"

namespace fdgw::catalog {
namespace {

using Json = nlohmann::json;

// Reads an optional string member: absent and null give an empty string.
bool readString(const Json& object, const char* key, std::string& out, std::string& error) {
  const auto found = object.find(key);
  if (found == object.end() || found->is_null()) return true;
  if (!found->is_string()) {
    error = std::string("field \"") + key + "\" is not a string";
    return false;
  }
  out = found->get<std::string>();
  return true;
}

std::variant<Offer, std::string> parseOffer(std::string_view text) {
  const Json object = Json::parse(text, nullptr, false);
  if (object.is_discarded() || !object.is_object()) return std::string("offer is not a JSON object");

  Offer offer;
  offer.json = std::string(text);
  std::string error;
  if (!readString(object, "sku", offer.facts.sku, error)) return error;
  if (offer.facts.sku.empty()) return std::string("offer has no \"sku\"");
  const std::string context = "offer " + offer.facts.sku + ": ";
  if (!readString(object, "region", offer.facts.region, error) ||
      !readString(object, "profile", offer.facts.profile, error) ||
      !readString(object, "status", offer.status, error)) {
    return context + error;
  }

  if (const auto countries = object.find("countries"); countries != object.end() && !countries->is_null()) {
    if (!countries->is_array()) return context + "field \"countries\" is not an array";
    for (const Json& code : *countries) {
      if (!code.is_string()) return context + "field \"countries\" has an element that is not a string";
      offer.facts.countries.push_back(code.get<std::string>());
    }
  }
  if (const auto gb = object.find("data_gb"); gb != object.end() && !gb->is_null()) {
    if (!gb->is_number()) return context + "field \"data_gb\" is not a number";
    offer.data_gb = gb->get<double>();
  }
  if (const auto days = object.find("validity_days"); days != object.end() && !days->is_null()) {
    if (!days->is_number_integer()) return context + "field \"validity_days\" is not an integer";
    offer.validity_days = days->get<std::int64_t>();
  }

  const auto price = object.find("price");
  if (price == object.end()) return context + "offer has no \"price\"";
  auto cost = pricing::parseMoney(*price);
  if (const auto* failure = std::get_if<pricing::PricingError>(&cost)) {
    return context + "field \"price\": " + failure->message;
  }
  offer.cost = std::get<pricing::Money>(cost);
  return offer;
}

std::variant<Destination, std::string> parseDestination(std::string_view text) {
  const Json object = Json::parse(text, nullptr, false);
  if (object.is_discarded() || !object.is_object()) return std::string("destination is not a JSON object");

  Destination destination;
  destination.json = std::string(text);
  if (const auto skus = object.find("skus"); skus != object.end() && !skus->is_null()) {
    if (!skus->is_array()) return std::string("destination field \"skus\" is not an array");
    for (const Json& sku : *skus) {
      if (!sku.is_string()) return std::string("destination field \"skus\" has an element that is not a string");
      destination.skus.push_back(sku.get<std::string>());
    }
  }
  return destination;
}

// Reads "pagination.total" of a list page; a page without it counts as the
// whole list.
std::int64_t pageTotal(std::string_view body, std::size_t items_on_page) {
  const Json document = Json::parse(body, nullptr, false);
  if (document.is_object()) {
    const auto pagination = document.find("pagination");
    if (pagination != document.end() && pagination->is_object()) {
      const auto total = pagination->find("total");
      if (total != pagination->end() && total->is_number_integer()) return total->get<std::int64_t>();
    }
  }
  return static_cast<std::int64_t>(items_on_page);
}

template <typename Item, typename ParseItem>
std::variant<Page<Item>, std::string> parsePage(std::string_view body, const char* kind,
                                                ParseItem parse_item) {
  auto elements = pricing::arrayElements(body, {"data"});
  if (const auto* error = std::get_if<pricing::PricingError>(&elements)) {
    return std::string(kind) + " page: " + error->message;
  }
  Page<Item> page;
  for (std::string_view text : std::get<std::vector<std::string_view>>(elements)) {
    auto item = parse_item(text);
    if (auto* error = std::get_if<std::string>(&item)) return std::string(kind) + " page: " + *error;
    page.items.push_back(std::move(std::get<Item>(item)));
  }
  page.total = pageTotal(body, page.items.size());
  return page;
}

void appendFields(std::ostringstream& out, const config::MarkupFields& fields) {
  out << "p" << fields.percent_ten_thousandths.value_or(-1);
  for (config::Currency currency : config::kCurrencies) {
    const auto index = static_cast<std::size_t>(currency);
    out << "|c" << index << ":" << fields.fixed[index].value_or(-1) << "," << fields.min_margin[index].value_or(-1)
        << "," << fields.price[index].value_or(-1) << ",";
    if (fields.rounding[index]) {
      out << static_cast<int>(fields.rounding[index]->mode) << "/" << fields.rounding[index]->amount;
    } else {
      out << "-";
    }
  }
}

}  // namespace

CatalogData::CatalogData(std::vector<Offer> offers, std::vector<Destination> destinations,
                         std::int64_t fetched_at_ms)
    : offers_(std::move(offers)), destinations_(std::move(destinations)), fetched_at_ms_(fetched_at_ms) {
  for (std::size_t i = 0; i < offers_.size(); ++i) index_by_sku_.emplace(offers_[i].facts.sku, i);
}

std::optional<std::size_t> CatalogData::findOffer(std::string_view sku) const {
  const auto found = index_by_sku_.find(std::string(sku));
  if (found == index_by_sku_.end()) return std::nullopt;
  return found->second;
}

std::shared_ptr<const PricedCatalog> CatalogData::priced(const std::string& pricing_key,
                                                         const std::optional<config::Markup>& markup,
                                                         std::vector<std::string>& pricing_errors) const {
  // The lock is held while a new view is computed, so concurrent requests
  // for the same pricing compute it once.
  std::lock_guard lock(views_mutex_);
  auto found = views_.find(pricing_key);
  if (found == views_.end()) {
    if (views_.size() >= kMaxPricedViews) {
      auto oldest = std::min_element(views_.begin(), views_.end(), [](const auto& a, const auto& b) {
        return a.second.last_use < b.second.last_use;
      });
      views_.erase(oldest);
    }
    auto view = std::make_shared<const PricedCatalog>(priceCatalog(*this, markup, pricing_errors));
    found = views_.emplace(pricing_key, CachedView{std::move(view), 0}).first;
  }
  found->second.last_use = ++use_counter_;
  return found->second.view;
}

std::shared_ptr<const std::string> ComposedBodies::find(const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto found = entries_.find(key);
  if (found == entries_.end()) return nullptr;
  found->second.last_use = ++use_counter_;
  return found->second.body;
}

void ComposedBodies::insert(const std::string& key, std::shared_ptr<const std::string> body) {
  if (body == nullptr || body->size() > kMaxBodyBytes) return;
  std::lock_guard lock(mutex_);
  if (entries_.count(key) > 0) return;  // another thread composed it first
  while (!entries_.empty() &&
         (entries_.size() >= kMaxEntries || total_bytes_ + body->size() > kMaxTotalBytes)) {
    auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
      return a.second.last_use < b.second.last_use;
    });
    total_bytes_ -= oldest->second.body->size();
    entries_.erase(oldest);
  }
  total_bytes_ += body->size();
  entries_.emplace(key, Entry{std::move(body), ++use_counter_});
}

std::string markupKey(const std::optional<config::Markup>& markup) {
  if (!markup) return "none";
  std::ostringstream out;
  appendFields(out, markup->base);
  for (const config::MarkupOverride& rule : markup->overrides) {
    out << "\n[";
    for (const std::string& country : rule.match.countries) out << country << ",";
    out << "|" << (rule.match.sku ? "s" + *rule.match.sku : "-") << "|"
        << (rule.match.region ? "r" + *rule.match.region : "-") << "|"
        << (rule.match.profile ? "p" + *rule.match.profile : "-") << "]";
    appendFields(out, rule.fields);
  }
  return out.str();
}

PricedCatalog priceCatalog(const CatalogData& data, const std::optional<config::Markup>& markup,
                           std::vector<std::string>& pricing_errors) {
  PricedCatalog view;
  const auto& offers = data.offers();
  view.offer_json.resize(offers.size());
  view.offer_price.resize(offers.size());

  const pricing::PriceCalculator calculator(markup);
  const std::vector<pricing::MoneySite> price_site{{{"price"}}};
  for (std::size_t i = 0; i < offers.size(); ++i) {
    const Offer& offer = offers[i];
    auto price = calculator.markUp(offer.facts, offer.cost);
    if (const auto* error = std::get_if<pricing::PricingError>(&price)) {
      pricing_errors.push_back("offer " + offer.facts.sku + ": " + error->message);
      continue;
    }
    const pricing::Money tenant_price = std::get<pricing::Money>(price);
    if (!markup) {
      view.offer_json[i] = offer.json;
      view.offer_price[i] = tenant_price;
      continue;
    }
    auto text = pricing::rewriteMoney(offer.json, price_site, [&](const pricing::MoneyOccurrence&) {
      return std::variant<std::optional<pricing::Money>, pricing::PricingError>(tenant_price);
    });
    if (const auto* error = std::get_if<pricing::PricingError>(&text)) {
      pricing_errors.push_back("offer " + offer.facts.sku + ": " + error->message);
      continue;
    }
    view.offer_json[i] = std::move(std::get<std::string>(text));
    view.offer_price[i] = tenant_price;
  }

  const std::vector<pricing::MoneySite> min_price_site{{{"min_price"}}};
  view.destination_json.reserve(data.destinations().size());
  for (const Destination& destination : data.destinations()) {
    if (!markup) {
      view.destination_json.push_back(destination.json);
      continue;
    }
    std::optional<pricing::Money> minimum;
    for (const std::string& sku : destination.skus) {
      const auto index = data.findOffer(sku);
      if (!index || !view.offer_price[*index]) continue;
      const pricing::Money& price = *view.offer_price[*index];
      if (!minimum) {
        minimum = price;
      } else {
        minimum->usd = std::min(minimum->usd, price.usd);
        minimum->mxn = std::min(minimum->mxn, price.mxn);
      }
    }
    auto text = pricing::rewriteJsonAmounts(
        destination.json, min_price_site,
        [&](const pricing::MoneyOccurrence&) {
          return std::variant<std::optional<pricing::Money>, pricing::PricingError>(minimum);
        },
        {}, nullptr);
    // A destination whose offers are all unknown keeps no upstream cost: its
    // minimum is unknown, so the destination is left out.
    if (!minimum || std::holds_alternative<pricing::PricingError>(text)) {
      pricing_errors.push_back("destination without a priced offer: " + destination.json.substr(0, 80));
      view.destination_json.emplace_back();
      continue;
    }
    view.destination_json.push_back(std::move(std::get<std::string>(text)));
  }
  return view;
}

std::variant<Page<Offer>, std::string> parseOfferPage(std::string_view body) {
  return parsePage<Offer>(body, "bundle-offers", parseOffer);
}

std::variant<Page<Destination>, std::string> parseDestinationPage(std::string_view body) {
  return parsePage<Destination>(body, "destinations", parseDestination);
}

std::string serializeCatalog(const CatalogData& data) {
  std::string text = "{\"fetched_at_ms\":" + std::to_string(data.fetchedAtMs()) + ",\"offers\":[";
  for (std::size_t i = 0; i < data.offers().size(); ++i) {
    if (i > 0) text += ',';
    text += data.offers()[i].json;
  }
  text += "],\"destinations\":[";
  for (std::size_t i = 0; i < data.destinations().size(); ++i) {
    if (i > 0) text += ',';
    text += data.destinations()[i].json;
  }
  text += "]}";
  return text;
}

std::variant<std::shared_ptr<CatalogData>, std::string> parseSerializedCatalog(std::string_view text) {
  auto offer_texts = pricing::arrayElements(text, {"offers"});
  if (const auto* error = std::get_if<pricing::PricingError>(&offer_texts)) {
    return "shared catalog: " + error->message;
  }
  std::vector<Offer> offers;
  for (std::string_view offer_text : std::get<std::vector<std::string_view>>(offer_texts)) {
    auto offer = parseOffer(offer_text);
    if (auto* error = std::get_if<std::string>(&offer)) return "shared catalog: " + *error;
    offers.push_back(std::move(std::get<Offer>(offer)));
  }

  auto destination_texts = pricing::arrayElements(text, {"destinations"});
  if (const auto* error = std::get_if<pricing::PricingError>(&destination_texts)) {
    return "shared catalog: " + error->message;
  }
  std::vector<Destination> destinations;
  for (std::string_view destination_text : std::get<std::vector<std::string_view>>(destination_texts)) {
    auto destination = parseDestination(destination_text);
    if (auto* error = std::get_if<std::string>(&destination)) return "shared catalog: " + *error;
    destinations.push_back(std::move(std::get<Destination>(destination)));
  }

  // The prefix was written by serializeCatalog, so a plain scan finds it.
  constexpr std::string_view kPrefix = "{\"fetched_at_ms\":";
  if (text.substr(0, kPrefix.size()) != kPrefix) return std::string("shared catalog: missing fetched_at_ms");
  std::int64_t fetched_at_ms = 0;
  for (std::size_t i = kPrefix.size(); i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    fetched_at_ms = fetched_at_ms * 10 + (text[i] - '0');
  }
  return std::make_shared<CatalogData>(std::move(offers), std::move(destinations), fetched_at_ms);
}

}  // namespace fdgw::catalog
