#include "store.h"

namespace fdsim {

Store::Store(std::uint64_t seed, Money initial_balance) : ids(seed), random(seed) {
  const std::string now = formatTimestamp(Clock::now());
  recordTransaction("top_up", "usd", initial_balance.usd_cents, std::nullopt, now);
  recordTransaction("top_up", "mxn", initial_balance.mxn_cents, std::nullopt, now);
}

const Transaction& Store::recordTransaction(const std::string& type, const std::string& currency,
                                            std::int64_t cents, const std::optional<std::string>& order_id,
                                            const std::string& created_at) {
  std::int64_t& balance_cents = currency == "usd" ? balance.usd_cents : balance.mxn_cents;
  balance_cents += cents;
  return transactions.insert(Transaction{ids.next("txn_"), type, currency, cents, balance_cents, order_id, created_at});
}

std::string Store::newIccid() {
  std::string iccid = ids.nextIccid();
  while (!issued_iccids.insert(iccid).second) iccid = ids.nextIccid();
  return iccid;
}

User& Store::createUser(const std::string& reference_id, const std::string& created_at) {
  User& user = users.insert(User{ids.next("usr_"), reference_id, created_at});
  user_id_by_reference[reference_id] = user.id;
  return user;
}

}  // namespace fdsim
