#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "gateway/pricing/markup.h"
#include "gateway/pricing/money.h"

namespace fdgw::catalog {

// One bundle offer of the upstream catalog: the facts that filters and markup
// need, and the offer object exactly as the upstream sent it.
struct Offer {
  pricing::OfferFacts facts;        // sku, countries, region, profile
  std::string status;               // "active" or "inactive"; empty when absent
  std::optional<double> data_gb;    // std::nullopt for unlimited offers
  std::optional<std::int64_t> validity_days;
  pricing::Money cost;              // the upstream "price"
  std::string json;                 // raw object text
};

// One destination of GET /catalog/destinations.
struct Destination {
  std::vector<std::string> skus;  // the offers that the upstream counted for it
  std::string json;               // raw object text
};

// Success bodies composed from one priced view, keyed by request (see
// answerCachedCatalogRequest), so that a repeated request skips filtering
// and composing. Bounded by entry count and total bytes, the least recently
// used body going first. Thread-safe.
class ComposedBodies {
 public:
  // Returns the body stored under `key`, or null.
  std::shared_ptr<const std::string> find(const std::string& key);
  // Stores `body` under `key` unless it is larger than kMaxBodyBytes.
  void insert(const std::string& key, std::shared_ptr<const std::string> body);

  // NOTE: the limits apply per priced view, and a catalog keeps up to
  // CatalogData::kMaxPricedViews views, so the worst case is 32 times these.
  static constexpr std::size_t kMaxEntries = 64;
  static constexpr std::size_t kMaxTotalBytes = 8u << 20;
  static constexpr std::size_t kMaxBodyBytes = 2u << 20;

 private:
  struct Entry {
    std::shared_ptr<const std::string> body;
    std::uint64_t last_use = 0;
  };

  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::size_t total_bytes_ = 0;
  std::uint64_t use_counter_ = 0;
};

// The tenant-facing view of a catalog under one markup: every offer and
// destination as the tenant sees it.
struct PricedCatalog {
  // Per offer index. An offer whose price could not be computed has an empty
  // text and is left out of every response, so its cost never leaks.
  std::vector<std::string> offer_json;
  std::vector<std::optional<pricing::Money>> offer_price;
  std::vector<std::string> destination_json;
  // Bodies already composed from this view. Shared, so copies of the view
  // reuse them.
  std::shared_ptr<ComposedBodies> composed_bodies = std::make_shared<ComposedBodies>();
};

// A complete copy of one upstream account's catalog. Immutable except for
// the cache of priced views, which is guarded by its own mutex.
class CatalogData {
 public:
  CatalogData(std::vector<Offer> offers, std::vector<Destination> destinations,
              std::int64_t fetched_at_ms);

  const std::vector<Offer>& offers() const { return offers_; }
  const std::vector<Destination>& destinations() const { return destinations_; }
  // Unix time in milliseconds at which the upstream sent this copy.
  std::int64_t fetchedAtMs() const { return fetched_at_ms_; }
  // Returns the index of the offer with `sku`, or std::nullopt.
  std::optional<std::size_t> findOffer(std::string_view sku) const;

  // Returns the view under `markup`, computing it on first use. `pricing_key`
  // must identify the markup (see markupKey), so tenants with equal markup
  // share one view. At most kMaxPricedViews views are kept, the least
  // recently used going first.
  std::shared_ptr<const PricedCatalog> priced(const std::string& pricing_key,
                                              const std::optional<config::Markup>& markup,
                                              std::vector<std::string>& pricing_errors) const;

  static constexpr std::size_t kMaxPricedViews = 32;

 private:
  struct CachedView {
    std::shared_ptr<const PricedCatalog> view;
    std::uint64_t last_use = 0;
  };

  std::vector<Offer> offers_;
  std::vector<Destination> destinations_;
  std::unordered_map<std::string, std::size_t> index_by_sku_;
  std::int64_t fetched_at_ms_;

  mutable std::mutex views_mutex_;
  mutable std::map<std::string, CachedView> views_;
  mutable std::uint64_t use_counter_ = 0;
};

// Returns a text that is equal for two markups exactly when they price every
// offer the same way, field by field. "none" stands for no markup.
std::string markupKey(const std::optional<config::Markup>& markup);

// Computes the tenant-facing view of `data` under `markup`. Offers are
// priced with PriceCalculator; each destination's "min_price" becomes, per
// currency, the minimum tenant price over the offers of its "skus". Every
// failure is appended to `pricing_errors` for the operator's log.
PricedCatalog priceCatalog(const CatalogData& data, const std::optional<config::Markup>& markup,
                           std::vector<std::string>& pricing_errors);

// Items of one upstream list page, with the page total that the upstream
// reported in "pagination".
template <typename Item>
struct Page {
  std::vector<Item> items;
  std::int64_t total = 0;
};

// Parses one page of GET /catalog/bundle-offers. Fails, naming the offer, on
// invalid JSON, a missing or invalid "sku" or "price", or wrong field types.
std::variant<Page<Offer>, std::string> parseOfferPage(std::string_view body);

// Parses one page of GET /catalog/destinations.
std::variant<Page<Destination>, std::string> parseDestinationPage(std::string_view body);

// Writes `data` in the form that gateway instances share through Redis:
// {"fetched_at_ms": N, "offers": [...], "destinations": [...]}, with every
// object in its raw upstream text.
std::string serializeCatalog(const CatalogData& data);

// Reads what serializeCatalog wrote.
std::variant<std::shared_ptr<CatalogData>, std::string> parseSerializedCatalog(std::string_view text);

}  // namespace fdgw::catalog
