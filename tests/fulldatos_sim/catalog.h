// The immutable bundle-offer catalog with its precomputed JSON forms.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "offer.h"

namespace fdsim {

// Filters of GET /catalog/bundle-offers; an empty field does not filter.
struct OfferFilter {
  std::optional<std::string> country;
  std::optional<double> min_gb;
  std::optional<double> max_gb;
  std::optional<int> min_days;
  std::optional<int> max_days;
  std::optional<std::string> sku;
  std::optional<std::string> profile;
  std::optional<std::string> status;
};

// Catalog offers in SKU order. Read-only after construction, so it is safe
// to share between threads without a lock.
class Catalog {
 public:
  explicit Catalog(std::vector<Offer> offers);

  std::size_t size() const { return offers_.size(); }
  const Offer* find(const std::string& sku) const;
  const Json& offerJson(const std::string& sku) const;

  // Returns the JSON of the matching offers in SKU order.
  std::vector<const Json*> filter(const OfferFilter& filter) const;

  // Destinations in country-code order: one per country covered by at least
  // one active offer.
  const std::vector<Json>& destinations() const { return destinations_; }

  // Distinct provider names in first-seen order.
  const std::vector<std::string>& providerNames() const { return provider_names_; }

 private:
  std::vector<Offer> offers_;
  std::vector<Json> offer_json_;
  std::unordered_map<std::string, std::size_t> index_by_sku_;
  std::vector<Json> destinations_;
  std::vector<std::string> provider_names_;
};

// Reads offers from a JSON file that contains an array of offers or
// {"data": [...]}. Throws std::runtime_error naming the offer index and field
// on the first invalid offer or a duplicate SKU.
std::vector<Offer> loadCatalogFile(const std::string& path, const ExchangeRate& rate);

}  // namespace fdsim
