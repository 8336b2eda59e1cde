// Deterministic generation of a bundle-offer catalog from a seed.
#pragma once

#include <cstdint>
#include <vector>

#include "offer.h"

namespace fdsim {

// Generates `target_count` offers for the built-in country table, or all
// 3,456 candidates when fewer exist. Candidates are single-country and
// regional offers with standard (1, 3, 5, 10, 20 GB) and unlimited (lite,
// essential, plus) profiles, each for 7, 15 and 30 days. The same seed and
// count give the same offers. FD-MX-5GB-30D is always present and active.
// With the default count, every country's 5 GB / 30 day offer is present too,
// and so is every MX, US, CA and regional offer. Returns offers sorted by SKU.
std::vector<Offer> generateCatalog(std::uint64_t seed, std::size_t target_count, const ExchangeRate& rate);

}  // namespace fdsim
