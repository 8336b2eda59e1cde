#pragma once

#include <string>

namespace fdgw::spend {

// Lua sources of the spend operations. Each runs atomically in Redis and
// never reads the Redis clock: times come from the gateway in ARGV. Amounts
// are integer cents. The KEYS and ARGV of each script are listed at the top
// of its source.

// Checks every limit and the wallet and, when all have room, holds the
// amount in each and stores the reservation.
const std::string& reserveScriptSource();

// Moves a reservation's hold into committed spend, charges the wallet,
// records the order and appends an `order` ledger entry.
const std::string& commitScriptSource();

// Frees a pending reservation's hold.
const std::string& releaseScriptSource();

// Credits back the refunded units of a recorded order, once per refund id.
const std::string& refundScriptSource();

// Changes a wallet's balance from the command line and appends a ledger
// entry with the operator and reason.
const std::string& walletScriptSource();

// Reads the wallet and the current day and month in one step.
const std::string& balanceScriptSource();

// Reads the ledger's length and one page of entries in one step.
const std::string& ledgerScriptSource();

// Returns the due members of the pending set and pushes their due time
// forward, so other instances skip them while this one settles them.
const std::string& claimScriptSource();

}  // namespace fdgw::spend
