#include "catalog.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>

#include "countries.h"

namespace fdsim {

namespace {

struct DestinationSummary {
  std::vector<std::string> skus;
  std::optional<Money> min_price;
};

}  // namespace

Catalog::Catalog(std::vector<Offer> offers) : offers_(std::move(offers)) {
  std::sort(offers_.begin(), offers_.end(), [](const Offer& a, const Offer& b) { return a.sku < b.sku; });

  std::map<std::string, DestinationSummary> by_country;
  for (std::size_t i = 0; i < offers_.size(); ++i) {
    const Offer& offer = offers_[i];
    index_by_sku_.emplace(offer.sku, i);
    offer_json_.push_back(offerToJson(offer));
    if (std::find(provider_names_.begin(), provider_names_.end(), offer.provider_name) == provider_names_.end()) {
      provider_names_.push_back(offer.provider_name);
    }
    if (!offer.isActive()) continue;

    for (const std::string& code : offer.countries) {
      DestinationSummary& summary = by_country[code];
      summary.skus.push_back(offer.sku);
      // The minimum is taken on USD; MXN follows the same offer.
      if (!summary.min_price || offer.price.usd_cents < summary.min_price->usd_cents) summary.min_price = offer.price;
    }
  }

  for (const auto& [code, summary] : by_country) {
    const Country* country = findCountry(code);
    Json destination = Json::object();
    destination["country"] = code;
    destination["name"] = country != nullptr ? std::string(country->name) : code;
    destination["name_es"] = country != nullptr ? std::string(country->name_es) : code;
    destination["bundle_count"] = summary.skus.size();
    destination["skus"] = summary.skus;
    destination["min_price"] = moneyToJson(*summary.min_price);
    destinations_.push_back(std::move(destination));
  }
}

const Offer* Catalog::find(const std::string& sku) const {
  const auto found = index_by_sku_.find(sku);
  return found == index_by_sku_.end() ? nullptr : &offers_[found->second];
}

const Json& Catalog::offerJson(const std::string& sku) const { return offer_json_.at(index_by_sku_.at(sku)); }

std::vector<const Json*> Catalog::filter(const OfferFilter& filter) const {
  std::vector<const Json*> result;
  for (std::size_t i = 0; i < offers_.size(); ++i) {
    const Offer& offer = offers_[i];
    if (filter.country &&
        std::find(offer.countries.begin(), offer.countries.end(), *filter.country) == offer.countries.end()) {
      continue;
    }
    // Unlimited offers count as larger than any size: they pass min_gb and
    // fail max_gb.
    if (filter.min_gb && offer.data_gb && *offer.data_gb < *filter.min_gb) continue;
    if (filter.max_gb && (!offer.data_gb || *offer.data_gb > *filter.max_gb)) continue;
    if (filter.min_days && offer.validity_days < *filter.min_days) continue;
    if (filter.max_days && offer.validity_days > *filter.max_days) continue;
    if (filter.sku && offer.sku != *filter.sku) continue;
    if (filter.profile && offer.profile != *filter.profile) continue;
    if (filter.status && offer.status != *filter.status) continue;
    result.push_back(&offer_json_[i]);
  }
  return result;
}

std::vector<Offer> loadCatalogFile(const std::string& path, const ExchangeRate& rate) {
  std::ifstream input(path);
  if (!input) throw std::runtime_error("cannot open catalog file " + path);

  const Json document = Json::parse(input, nullptr, false);
  if (document.is_discarded()) throw std::runtime_error("catalog file " + path + " is not valid JSON");
  const Json* entries = &document;
  if (document.is_object() && document.contains("data")) entries = &document["data"];
  if (!entries->is_array()) {
    throw std::runtime_error("catalog file " + path + " must hold a JSON array of offers or {\"data\": [...]}");
  }

  std::vector<Offer> offers;
  std::set<std::string> skus;
  for (std::size_t i = 0; i < entries->size(); ++i) {
    std::string field;
    std::string message;
    std::optional<Offer> offer = offerFromJson((*entries)[i], rate, field, message);
    if (!offer) {
      throw std::runtime_error("catalog file " + path + ": offer " + std::to_string(i) + ": field " + field + " " +
                               message);
    }
    if (!skus.insert(offer->sku).second) {
      throw std::runtime_error("catalog file " + path + ": offer " + std::to_string(i) + ": field sku \"" +
                               offer->sku + "\" is a duplicate");
    }
    offers.push_back(std::move(*offer));
  }
  return offers;
}

}  // namespace fdsim
