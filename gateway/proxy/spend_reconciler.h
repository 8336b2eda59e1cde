#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "gateway/catalog/catalog_cache.h"
#include "gateway/common/clock.h"
#include "gateway/idempotency/idempotency_store.h"
#include "gateway/log/logger.h"
#include "gateway/metrics/gateway_metrics.h"
#include "gateway/proxy/policy_store.h"
#include "gateway/quota/upstream_budget.h"
#include "gateway/spend/spend_ledger.h"
#include "gateway/upstream/upstream_client.h"

namespace fdgw::proxy {

struct ReconcilerOptions {
  // Pause between rounds (spend.reconcile_interval_seconds).
  std::chrono::milliseconds interval{10000};
  // Reservations claimed per round.
  std::size_t batch = 20;
  // How long other instances skip a claimed reservation. A round must end
  // within it, so it is well above the upstream calls that one
  // reservation needs.
  std::chrono::milliseconds claim{120000};
  // Difference allowed between the gateway's clock and the upstream's
  // creation times when an order is matched to a reservation.
  std::chrono::milliseconds clock_skew{300000};
};

// Settles spend reservations that no request settled, because the order's
// outcome was unknown (upstream 5xx, timeout, dropped connection) or the
// gateway stopped between the reservation and the upstream's response.
//
// Each due reservation is matched against the upstream's order records:
// the user's orders (GET /users?reference_id=..., GET /orders?user_id=...)
// with the reservation's SKU and quantity, status "completed", created
// within the clock skew of the reservation's lifetime, and not yet recorded
// for the tenant. The first match is committed at the tenant's prices, as
// the request would have done. Without a match the reservation is
// released. The order's Idempotency-Key record is then completed with the
// order, or removed so that a retry runs.
//
// The gateway does not tag upstream orders: tenants keep "channel" and
// "process" for their own analytics. NOTE: two reservations with the same
// user, SKU and quantity in the same span are matched to either order; the
// amounts are equal, so only the order ids in the ledger may swap.
//
// Every instance runs one, and the ledger's claims keep two instances from
// settling the same reservation at once. Upstream calls take from the
// upstream budget with the priority of orders and refunds.
class SpendReconciler {
 public:
  SpendReconciler(PolicyStore& policies, upstream::UpstreamClient& upstream, quota::UpstreamBudget& budget,
                  catalog::CatalogSource* catalog, spend::SpendLedger& ledger,
                  idempotency::IdempotencyStore* idempotency, log::Logger& logger,
                  metrics::GatewayMetrics& metrics, ReconcilerOptions options);
  ~SpendReconciler();

  SpendReconciler(const SpendReconciler&) = delete;
  SpendReconciler& operator=(const SpendReconciler&) = delete;

  // Starts the thread that runs a round every interval.
  void start();
  // Stops the thread without waiting for a round in progress. Callbacks of
  // that round still use this object, so stop the upstream and Redis
  // clients before destroying it.
  void stop();

  // Runs one round: claims due reservations and settles each. `done` gets
  // the number settled, after the last one.
  void runOnce(std::function<void(std::size_t settled)> done);

 private:
  struct Settlement;

  void settle(std::shared_ptr<Settlement> settlement);
  void fetchUser(std::shared_ptr<Settlement> settlement);
  void fetchOrders(std::shared_ptr<Settlement> settlement, std::int64_t page);
  void commitNext(std::shared_ptr<Settlement> settlement);
  void release(std::shared_ptr<Settlement> settlement);
  void completeRecord(const std::shared_ptr<Settlement>& settlement, const std::string& order_body);
  // Sends a GET for the settlement's tenant after taking from the budget.
  void get(const std::shared_ptr<Settlement>& settlement, std::string path_and_query,
           std::function<void(upstream::UpstreamResponse)> done);
  // Logs why a settlement stopped; its reservation is due again once the
  // claim ends.
  void giveUp(const std::shared_ptr<Settlement>& settlement, const std::string& detail);
  void finish(const std::shared_ptr<Settlement>& settlement, std::string_view result);
  void run();

  PolicyStore& policies_;
  upstream::UpstreamClient& upstream_;
  quota::UpstreamBudget& budget_;
  catalog::CatalogSource* catalog_;
  spend::SpendLedger& ledger_;
  idempotency::IdempotencyStore* idempotency_;
  log::Logger& logger_;
  metrics::GatewayMetrics& metrics_;
  const ReconcilerOptions options_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace fdgw::proxy
