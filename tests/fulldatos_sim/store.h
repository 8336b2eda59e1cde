// In-memory state of one simulated FullDatos organization.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ids.h"
#include "money.h"
#include "random.h"

namespace fdsim {

struct User {
  std::string id;
  std::string reference_id;
  std::string created_at;
};

struct Bundle {
  std::string id;
  std::string sku;
  std::string esim_id;
  std::string order_id;
  std::string status;  // active, refunded
  std::optional<std::int64_t> data_total_mb;  // empty when unlimited
  std::int64_t data_used_mb = 0;
  int validity_days = 0;
  std::string activated_at;
  std::string expires_at;
  Money price;
};

struct Esim {
  std::string id;
  std::string iccid;
  std::string matching_id;
  std::string status;  // active, refunded
  std::string user_id;
  std::string order_id;
  std::string created_at;
  std::vector<std::string> bundle_ids;
};

struct Transaction {
  std::string id;
  std::string type;      // order, refund, top_up
  std::string currency;  // usd, mxn
  std::int64_t amount_cents = 0;  // negative for debits
  std::int64_t balance_after_cents = 0;
  std::optional<std::string> order_id;
  std::string created_at;
};

struct Order {
  std::string id;
  std::string status;  // completed
  std::string user_id;
  std::string sku;
  int quantity = 0;
  Money unit_price;
  Money total;
  std::vector<std::string> esim_ids;
  std::vector<std::string> transaction_ids;
  std::string channel;
  std::string process;
  std::string created_at;
};

struct Ticket {
  std::string id;
  std::string category_key;
  std::string subject;
  std::string description;
  std::optional<std::string> order_id;
  std::string status;  // open
  std::string created_at;
};

struct StatusEntry {
  std::string component;
  std::string status;  // operational, degraded, down
  int latency_ms = 0;
  std::string checked_at;
};

// Entities in creation order with lookup by id. Erasing is O(n), which is
// fine for the rare DELETE /users.
template <typename T>
class Table {
 public:
  T& insert(T item) {
    index_.emplace(item.id, items_.size());
    items_.push_back(std::move(item));
    return items_.back();
  }

  T* find(const std::string& id) {
    const auto found = index_.find(id);
    return found == index_.end() ? nullptr : &items_[found->second];
  }
  const T* find(const std::string& id) const { return const_cast<Table*>(this)->find(id); }

  template <typename Predicate>
  void eraseIf(Predicate predicate) {
    std::erase_if(items_, predicate);
    index_.clear();
    for (std::size_t i = 0; i < items_.size(); ++i) index_.emplace(items_[i].id, i);
  }

  const std::vector<T>& items() const { return items_; }

 private:
  std::vector<T> items_;
  std::unordered_map<std::string, std::size_t> index_;
};

// All mutable state. Handlers hold `mutex` for the whole request, so the
// tables and the balance are only touched under it.
struct Store {
  Store(std::uint64_t seed, Money initial_balance);

  std::mutex mutex;
  IdGenerator ids;
  SplitMix64 random;  // simulated health-check latencies
  Money balance;
  Table<User> users;
  std::unordered_map<std::string, std::string> user_id_by_reference;
  Table<Order> orders;
  Table<Esim> esims;
  Table<Bundle> bundles;
  Table<Transaction> transactions;
  Table<Ticket> tickets;
  std::vector<StatusEntry> status_entries;
  std::unordered_set<std::string> issued_iccids;

  // Appends a transaction of `cents` (negative for debits) and applies it to
  // the balance of `currency`.
  const Transaction& recordTransaction(const std::string& type, const std::string& currency, std::int64_t cents,
                                       const std::optional<std::string>& order_id, const std::string& created_at);

  std::string newIccid();
  User& createUser(const std::string& reference_id, const std::string& created_at);
};

}  // namespace fdsim
