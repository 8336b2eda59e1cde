// The simulated organization: catalog, mutable store and fixed settings that
// the API handlers share.
#pragma once

#include <string>
#include <vector>

#include "catalog.h"
#include "money.h"
#include "store.h"

namespace fdsim {

struct Simulator {
  Simulator(Catalog catalog_in, ExchangeRate rate_in, std::uint64_t seed, Money initial_balance)
      : catalog(std::move(catalog_in)), rate(rate_in), store(seed, initial_balance) {}

  const Catalog catalog;
  const ExchangeRate rate;
  Store store;
};

// Appends one status entry for the API, the database and each provider of
// the catalog, as POST /status/check does, and returns them. Locks the store.
std::vector<StatusEntry> runHealthChecks(Simulator& simulator);

}  // namespace fdsim
