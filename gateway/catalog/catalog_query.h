#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/catalog/catalog_data.h"
#include "gateway/common/error.h"
#include "gateway/common/list_page.h"

namespace fdgw::catalog {

// Query parameters after %-decoding, sorted by name and value. When a name
// repeats, the first one wins, as at the upstream.
using QueryParameters = common::QueryParameters;

// A catalog request served from the cache: a success body, or an error for
// the tenant (400 for an invalid filter, 404 for an unknown SKU).
struct CatalogAnswer {
  std::string body;
  std::optional<common::Error> error;
};

// Returns whether the route is served from the catalog cache.
bool isCachedCatalogRoute(std::string_view route_id);

// Serves GET /catalog/bundle-offers, /catalog/bundle-offers/{sku} and
// /catalog/destinations from `data` as the tenant sees it in `view`, with the
// upstream's filters, validation and pagination ("page" from 1, "limit" 1 to
// 500, default 50). Offers keep the upstream's order. `sku` is the path
// parameter of the single-offer route.
CatalogAnswer answerCatalogRequest(std::string_view route_id, std::string_view sku,
                                   const QueryParameters& query, const CatalogData& data,
                                   const PricedCatalog& view);

// Returns what answerCatalogRequest returns, but reuses the success body composed
// earlier from `view` for the same route, SKU and query, which must be sorted
// as the pipeline sorts them. Error answers are not stored.
CatalogAnswer answerCachedCatalogRequest(std::string_view route_id, std::string_view sku,
                                         const QueryParameters& query, const CatalogData& data,
                                         const PricedCatalog& view);

}  // namespace fdgw::catalog
