#include "gateway/catalog/catalog_query.h"

#include "gateway/common/list_page.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace fdgw::catalog {
namespace {

constexpr std::array<std::string_view, 4> kProfiles{"standard", "unlimited-lite", "unlimited-essential",
                                                    "unlimited-plus"};

struct OfferFilter {
  std::optional<std::string> country;
  std::optional<double> min_gb;
  std::optional<double> max_gb;
  std::optional<std::int64_t> min_days;
  std::optional<std::int64_t> max_days;
  std::optional<std::string> sku;
  std::optional<std::string> profile;
  std::optional<std::string> status;
};

common::Error invalid(std::string message) {
  return common::Error{common::ErrorCode::kBadRequest, std::move(message), ""};
}

std::optional<double> parseGigabytes(const std::string& text) {
  if (text.empty() || text.size() > 32 || !std::isdigit(static_cast<unsigned char>(text.front()))) {
    return std::nullopt;
  }
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<common::Error> readFilter(const QueryParameters& query, OfferFilter& filter) {
  if (const std::string* text = common::firstParameter(query, "country")) {
    std::string country = *text;
    std::transform(country.begin(), country.end(), country.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (country.size() != 2 || !std::isalpha(static_cast<unsigned char>(country[0])) ||
        !std::isalpha(static_cast<unsigned char>(country[1]))) {
      return invalid("Invalid country \"" + country + "\": expected an ISO alpha-2 code such as MX");
    }
    filter.country = std::move(country);
  }
  for (const auto& [name, target] : {std::pair{"min_gb", &filter.min_gb}, std::pair{"max_gb", &filter.max_gb}}) {
    const std::string* text = common::firstParameter(query, name);
    if (text == nullptr) continue;
    *target = parseGigabytes(*text);
    if (!*target) return invalid(std::string("Invalid ") + name + " \"" + *text + "\": expected a non-negative number");
  }
  for (const auto& [name, target] :
       {std::pair{"min_days", &filter.min_days}, std::pair{"max_days", &filter.max_days}}) {
    const std::string* text = common::firstParameter(query, name);
    if (text == nullptr) continue;
    *target = common::parseWholeNumber(*text);
    if (!*target || **target > 100000) {
      return invalid(std::string("Invalid ") + name + " \"" + *text + "\": expected a whole number of days");
    }
  }
  if (const std::string* text = common::firstParameter(query, "sku")) filter.sku = *text;
  if (const std::string* text = common::firstParameter(query, "profile")) {
    if (std::find(kProfiles.begin(), kProfiles.end(), *text) == kProfiles.end()) {
      return invalid("Invalid profile \"" + *text +
                     "\": expected standard, unlimited-lite, unlimited-essential or unlimited-plus");
    }
    filter.profile = *text;
  }
  if (const std::string* text = common::firstParameter(query, "status")) {
    if (*text != "active" && *text != "inactive") {
      return invalid("Invalid status \"" + *text + "\": expected active or inactive");
    }
    filter.status = *text;
  }
  return std::nullopt;
}

bool matches(const Offer& offer, const OfferFilter& filter) {
  const auto& countries = offer.facts.countries;
  if (filter.country && std::find(countries.begin(), countries.end(), *filter.country) == countries.end()) {
    return false;
  }
  // Unlimited offers count as larger than any size: they pass min_gb and
  // fail max_gb.
  if (filter.min_gb && offer.data_gb && *offer.data_gb < *filter.min_gb) return false;
  if (filter.max_gb && (!offer.data_gb || *offer.data_gb > *filter.max_gb)) return false;
  if (filter.min_days && (!offer.validity_days || *offer.validity_days < *filter.min_days)) return false;
  if (filter.max_days && (!offer.validity_days || *offer.validity_days > *filter.max_days)) return false;
  if (filter.sku && offer.facts.sku != *filter.sku) return false;
  if (filter.profile && offer.facts.profile != *filter.profile) return false;
  if (filter.status && offer.status != *filter.status) return false;
  return true;
}

// Writes the list envelope around the requested page of `items`.
std::string listBody(const std::vector<const std::string*>& items, const common::ListPage& page) {
  const std::size_t total = items.size();
  const std::size_t begin = std::min(total, static_cast<std::size_t>((page.page - 1) * page.limit));
  const std::size_t end = std::min(total, begin + static_cast<std::size_t>(page.limit));
  std::vector<std::string_view> page_items;
  page_items.reserve(end - begin);
  for (std::size_t i = begin; i < end; ++i) page_items.emplace_back(*items[i]);
  return common::listEnvelope(page_items, page, total);
}

// Appends `text` with its length in front, so that no two different
// requests give the same key whatever bytes their parameters contain.
void appendKeyPart(std::string& key, std::string_view text) {
  key += std::to_string(text.size());
  key += ':';
  key += text;
}

std::string composedBodyKey(std::string_view route_id, std::string_view sku, const QueryParameters& query) {
  std::string key;
  appendKeyPart(key, route_id);
  appendKeyPart(key, sku);
  for (const auto& [name, value] : query) {
    appendKeyPart(key, name);
    appendKeyPart(key, value);
  }
  return key;
}

}  // namespace

bool isCachedCatalogRoute(std::string_view route_id) {
  return route_id == "catalog.offers.list" || route_id == "catalog.offers.get" ||
         route_id == "catalog.destinations";
}

CatalogAnswer answerCatalogRequest(std::string_view route_id, std::string_view sku, const QueryParameters& query,
                                   const CatalogData& data, const PricedCatalog& view) {
  if (route_id == "catalog.offers.get") {
    const auto index = data.findOffer(sku);
    if (!index || view.offer_json[*index].empty()) {
      return {"", common::Error{common::ErrorCode::kNotFound, "Bundle offer " + std::string(sku) + " not found",
                                "no offer with that SKU in the cached catalog"}};
    }
    return {"{\"success\":true,\"data\":" + view.offer_json[*index] + "}", std::nullopt};
  }

  auto read_page = common::readListPage(query);
  if (auto* error = std::get_if<common::Error>(&read_page)) return {"", std::move(*error)};
  const common::ListPage page = std::get<common::ListPage>(read_page);

  std::vector<const std::string*> items;
  if (route_id == "catalog.destinations") {
    for (const std::string& destination : view.destination_json) {
      if (!destination.empty()) items.push_back(&destination);
    }
    return {listBody(items, page), std::nullopt};
  }

  OfferFilter filter;
  if (auto error = readFilter(query, filter)) return {"", std::move(error)};
  const auto& offers = data.offers();
  for (std::size_t i = 0; i < offers.size(); ++i) {
    if (!view.offer_json[i].empty() && matches(offers[i], filter)) items.push_back(&view.offer_json[i]);
  }
  return {listBody(items, page), std::nullopt};
}

CatalogAnswer answerCachedCatalogRequest(std::string_view route_id, std::string_view sku,
                                         const QueryParameters& query, const CatalogData& data,
                                         const PricedCatalog& view) {
  if (view.composed_bodies == nullptr) return answerCatalogRequest(route_id, sku, query, data, view);

  const std::string key = composedBodyKey(route_id, sku, query);
  if (auto body = view.composed_bodies->find(key)) return {*body, std::nullopt};

  CatalogAnswer answer = answerCatalogRequest(route_id, sku, query, data, view);
  if (!answer.error) view.composed_bodies->insert(key, std::make_shared<const std::string>(answer.body));
  return answer;
}

}  // namespace fdgw::catalog
