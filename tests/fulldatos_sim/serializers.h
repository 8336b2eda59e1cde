// JSON forms of the store's entities. Callers hold the store's mutex.
#pragma once

#include "store.h"

namespace fdsim {

struct Simulator;

Json userToJson(const User& user);
// {"user_id", "reference_id"} of `user_id`, with a null reference id when the
// user no longer exists.
Json userRefToJson(const Store& store, const std::string& user_id);
Json bundleToJson(const Store& store, const Bundle& bundle);
// `with_bundles` adds the eSIM's bundles, as in order responses.
Json esimToJson(const Store& store, const Esim& esim, bool with_bundles);
// The single-eSIM form with data_used_mb, data_remaining_mb and network.
Json esimDetailToJson(const Simulator& simulator, const Esim& esim);
Json transactionToJson(const Transaction& transaction);
Json orderToJson(const Store& store, const Order& order);
Json ticketToJson(const Ticket& ticket);
Json statusEntryToJson(const StatusEntry& entry);

}  // namespace fdsim
