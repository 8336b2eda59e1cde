#include "gateway/proxy/spend_reconciler.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>

#include "gateway/pricing/price_calculator.h"
#include "gateway/proxy/order_pricing.h"
#include "gateway/proxy/spend_views.h"

namespace fdgw::proxy {
namespace {

using Json = nlohmann::json;

// Largest page the upstream serves, and the most pages read for one user.
constexpr std::int64_t kPageLimit = 500;
constexpr std::int64_t kMaxPages = 10;

std::string percentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      encoded.push_back(static_cast<char>(c));
    } else {
      encoded += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return encoded;
}

// Returns the "data" array of a successful list response, or nullptr.
const Json* listData(const Json& body) {
  if (!body.is_object() || !body.contains("data") || !body["data"].is_array()) return nullptr;
  return &body["data"];
}

}  // namespace

// One reservation on its way to being settled.
struct SpendReconciler::Settlement {
  spend::PendingReservation pending;
  std::shared_ptr<const PolicySnapshot> snapshot;  // keeps `markup` and `target` alive
  const std::optional<config::Markup>* markup = nullptr;
  std::shared_ptr<const upstream::UpstreamTarget> target;
  std::string user_id;
  std::vector<Json> candidates;  // matching upstream orders, nearest creation time first
  std::size_t next_candidate = 0;
  std::function<void(bool settled)> done;
};

SpendReconciler::SpendReconciler(PolicyStore& policies, upstream::UpstreamClient& upstream,
                                 quota::UpstreamBudget& budget, catalog::CatalogSource* catalog,
                                 spend::SpendLedger& ledger, idempotency::IdempotencyStore* idempotency,
                                 log::Logger& logger, metrics::GatewayMetrics& metrics, ReconcilerOptions options)
    : policies_(policies),
      upstream_(upstream),
      budget_(budget),
      catalog_(catalog),
      ledger_(ledger),
      idempotency_(idempotency),
      logger_(logger),
      metrics_(metrics),
      options_(options) {}

SpendReconciler::~SpendReconciler() { stop(); }

void SpendReconciler::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void SpendReconciler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SpendReconciler::run() {
  std::unique_lock lock(mutex_);
  // The first round waits one interval, so Redis is connected by then.
  wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
  while (!stopping_) {
    lock.unlock();
    auto round_done = std::make_shared<std::atomic<bool>>(false);
    runOnce([round_done](std::size_t) { round_done->store(true); });

    // Polls, so that stop() never waits for upstream calls in flight. A
    // round that does not end within the claim time is left behind, and its
    // reservations become due again for any instance.
    const auto give_up = std::chrono::steady_clock::now() + options_.claim;
    lock.lock();
    while (!stopping_ && !round_done->load() && std::chrono::steady_clock::now() < give_up) {
      wake_.wait_for(lock, std::chrono::milliseconds(50));
    }
    if (!stopping_ && !round_done->load()) {
      logger_.warn("spend_reconciliation_stalled", {{"claim_ms", options_.claim.count()}});
    }
    wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
  }
}

void SpendReconciler::runOnce(std::function<void(std::size_t settled)> done) {
  ledger_.claimDue(options_.batch, options_.claim, [this, done = std::move(done)](spend::ClaimResult claim) {
    if (!claim.ok) {
      metrics_.recordRedisError("spend_reconcile");
      logger_.warn("spend_reconciliation_failed", {{"error", claim.error}, {"action", "retried next round"}});
      done(0);
      return;
    }
    if (claim.reservations.empty()) {
      done(0);
      return;
    }

    struct Round {
      std::atomic<std::size_t> waiting;
      std::atomic<std::size_t> settled{0};
      std::function<void(std::size_t)> done;
    };
    auto round = std::make_shared<Round>();
    round->waiting = claim.reservations.size();
    round->done = done;
    for (auto& pending : claim.reservations) {
      auto settlement = std::make_shared<Settlement>();
      settlement->pending = std::move(pending);
      settlement->done = [round](bool settled) {
        if (settled) round->settled.fetch_add(1);
        if (round->waiting.fetch_sub(1) == 1) round->done(round->settled.load());
      };
      settle(std::move(settlement));
    }
  });
}

void SpendReconciler::settle(std::shared_ptr<Settlement> settlement) {
  const spend::PendingReservation& pending = settlement->pending;
  settlement->snapshot = policies_.current();
  const auto tenant = settlement->snapshot->policies.tenants.find(pending.reservation.tenant_id);
  static const std::optional<config::Markup> kNoMarkup;
  if (tenant != settlement->snapshot->policies.tenants.end()) {
    settlement->markup = &tenant->second.plan.markup;
  } else {
    // A tenant removed by a reload still pays what the upstream charged.
    logger_.warn("spend_reconciliation_tenant_unknown",
                 {{"tenant", pending.reservation.tenant_id}, {"reservation", pending.reservation.id},
                  {"action", "priced without markup"}});
    settlement->markup = &kNoMarkup;
  }
  const auto upstream = settlement->snapshot->upstreams.find(pending.upstream);
  if (upstream == settlement->snapshot->upstreams.end()) {
    logger_.error("spend_reconciliation_upstream_unknown",
                  {{"tenant", pending.reservation.tenant_id}, {"reservation", pending.reservation.id},
                   {"upstream", pending.upstream}, {"action", "add the upstream back to settle it"}});
    settlement->done(false);
    return;
  }
  settlement->target = upstream->second.target;

  if (pending.owner_field == "user_id") {
    settlement->user_id = pending.owner;
    fetchOrders(std::move(settlement), 1);
  } else if (pending.owner_field == "reference_id") {
    fetchUser(std::move(settlement));
  } else {
    // The upstream rejects an order without an owner, so none was made.
    release(std::move(settlement));
  }
}

void SpendReconciler::fetchUser(std::shared_ptr<Settlement> settlement) {
  const std::string path = "/users?reference_id=" + percentEncode(settlement->pending.owner);
  get(settlement, path, [this, settlement](upstream::UpstreamResponse answer) {
    const Json body = Json::parse(answer.body, nullptr, false);
    const Json* users = listData(body);
    if (answer.error != upstream::TransportError::kNone || answer.status != 200 || users == nullptr) {
      giveUp(settlement, "user lookup returned status " + std::to_string(answer.status));
      return;
    }
    for (const Json& user : *users) {
      if (user.value("reference_id", "") == settlement->pending.owner && user.contains("user_id") &&
          user["user_id"].is_string()) {
        settlement->user_id = user["user_id"].get<std::string>();
      }
    }
    // An order for a new reference id creates its user, so no user means
    // no order.
    if (settlement->user_id.empty()) {
      release(settlement);
      return;
    }
    fetchOrders(settlement, 1);
  });
}

void SpendReconciler::fetchOrders(std::shared_ptr<Settlement> settlement, std::int64_t page) {
  const std::string path = "/orders?limit=" + std::to_string(kPageLimit) + "&page=" + std::to_string(page) +
                           "&user_id=" + percentEncode(settlement->user_id);
  get(settlement, path, [this, settlement, page](upstream::UpstreamResponse answer) {
    const Json body = Json::parse(answer.body, nullptr, false);
    const Json* orders = listData(body);
    if (answer.error != upstream::TransportError::kNone || answer.status != 200 || orders == nullptr) {
      giveUp(settlement, "order list returned status " + std::to_string(answer.status));
      return;
    }

    const spend::PendingReservation& pending = settlement->pending;
    const std::int64_t earliest_ms = pending.created_at_ms - options_.clock_skew.count();
    for (const Json& order : *orders) {
      if (!order.is_object()) continue;
      const auto created = parseTimestamp(order.value("created_at", ""));
      const bool matches = order.value("sku", "") == pending.sku &&
                           order.value("quantity", std::int64_t{0}) == pending.quantity &&
                           order.value("status", "") == "completed" && created && *created >= earliest_ms;
      if (matches) settlement->candidates.push_back(order);
    }

    const std::int64_t total =
        body.contains("pagination") ? body["pagination"].value("total", std::int64_t{0}) : 0;
    if (page * kPageLimit < total && page < kMaxPages) {
      fetchOrders(settlement, page + 1);
      return;
    }
    std::sort(settlement->candidates.begin(), settlement->candidates.end(),
              [created = pending.created_at_ms](const Json& left, const Json& right) {
                const auto distance = [created](const Json& order) {
                  return std::llabs(parseTimestamp(order.value("created_at", "")).value_or(0) - created);
                };
                return distance(left) < distance(right);
              });
    commitNext(settlement);
  });
}

void SpendReconciler::commitNext(std::shared_ptr<Settlement> settlement) {
  if (settlement->next_candidate >= settlement->candidates.size()) {
    release(std::move(settlement));
    return;
  }
  const Json& order = settlement->candidates[settlement->next_candidate++];
  const std::string order_body = Json{{"success", true}, {"message", "Order completed"}, {"data", order}}.dump();

  auto commit_priced = [this, settlement, order_body](std::shared_ptr<const catalog::CatalogData> data) {
    const pricing::OfferLookup lookup = catalogLookup(data);
    auto charge = chargeOfOrderResponse(order_body, *settlement->markup, lookup);
    if (const auto* error = std::get_if<std::string>(&charge)) {
      giveUp(settlement, "the matching order cannot be priced: " + *error);
      return;
    }
    spend::OrderCharge order_charge = std::get<spend::OrderCharge>(std::move(charge));
    order_charge.source = "reconciliation";
    const std::string order_id = order_charge.order_id;
    // The charge above priced the same body with the same lookup, so this
    // succeeds as well.
    auto priced = pricing::priceResponse("orders.create", order_body, pricing::PriceCalculator(*settlement->markup),
                                         lookup);
    const std::string tenant_body = std::holds_alternative<std::string>(priced) ? std::get<std::string>(priced) : "";
    ledger_.commit(settlement->pending.reservation, std::move(order_charge),
                   [this, settlement, order_id, tenant_body](spend::SettleResult result) {
                     switch (result.status) {
                       case spend::SettleStatus::kSettled:
                         logger_.info("spend_reconciled", {{"tenant", settlement->pending.reservation.tenant_id},
                                                           {"reservation", settlement->pending.reservation.id},
                                                           {"order_id", order_id},
                                                           {"result", "committed"}});
                         completeRecord(settlement, tenant_body);
                         finish(settlement, "committed");
                         return;
                       case spend::SettleStatus::kOrderAlreadyRecorded:
                         commitNext(settlement);
                         return;
                       case spend::SettleStatus::kAlreadySettled:
                       case spend::SettleStatus::kUnknownReservation:
                         settlement->done(true);
                         return;
                       case spend::SettleStatus::kFailed:
                         metrics_.recordRedisError("spend_reconcile");
                         giveUp(settlement, result.error);
                         return;
                     }
                   });
  };
  if (catalog_ == nullptr || !settlement->markup->has_value()) {
    commit_priced(nullptr);
    return;
  }
  catalog_->get(settlement->target,
                [commit_priced](catalog::CatalogLookup lookup) { commit_priced(std::move(lookup.data)); });
}

void SpendReconciler::release(std::shared_ptr<Settlement> settlement) {
  ledger_.release(settlement->pending.reservation, [this, settlement](spend::SettleResult result) {
    if (result.status == spend::SettleStatus::kFailed) {
      metrics_.recordRedisError("spend_reconcile");
      giveUp(settlement, result.error);
      return;
    }
    logger_.info("spend_reconciled", {{"tenant", settlement->pending.reservation.tenant_id},
                                      {"reservation", settlement->pending.reservation.id},
                                      {"result", "released"}});
    if (idempotency_ != nullptr && !settlement->pending.idempotency_record.empty()) {
      idempotency_->abandon(settlement->pending.idempotency_record, settlement->pending.request_id, [](bool) {});
    }
    finish(settlement, "released");
  });
}

void SpendReconciler::completeRecord(const std::shared_ptr<Settlement>& settlement, const std::string& order_body) {
  if (idempotency_ == nullptr || settlement->pending.idempotency_record.empty()) return;
  idempotency_->complete(settlement->pending.idempotency_record, settlement->pending.request_id,
                         idempotency::StoredResponse{201, "application/json", order_body}, [](bool) {});
}

void SpendReconciler::get(const std::shared_ptr<Settlement>& settlement, std::string path_and_query,
                          std::function<void(upstream::UpstreamResponse)> done) {
  const spend::Reservation& reservation = settlement->pending.reservation;
  budget_.acquire(settlement->target->name, settlement->target->requests_per_minute, reservation.tenant_id,
                  /*priority=*/true,
                  [this, settlement, path_and_query = std::move(path_and_query),
                   done = std::move(done)](quota::BudgetDecision decision) mutable {
                    if (!decision.allowed) {
                      upstream::UpstreamResponse busy;
                      busy.status = 429;
                      done(std::move(busy));
                      return;
                    }
                    upstream::UpstreamRequest request;
                    request.target = settlement->target;
                    request.method = "GET";
                    request.path_and_query = std::move(path_and_query);
                    request.headers = {{"accept", "application/json"},
                                       {"x-request-id", settlement->pending.request_id}};
                    upstream_.send(std::move(request), std::move(done));
                  });
}

void SpendReconciler::giveUp(const std::shared_ptr<Settlement>& settlement, const std::string& detail) {
  logger_.warn("spend_reconciliation_failed", {{"tenant", settlement->pending.reservation.tenant_id},
                                               {"reservation", settlement->pending.reservation.id},
                                               {"detail", detail},
                                               {"action", "retried when the claim ends"}});
  settlement->done(false);
}

void SpendReconciler::finish(const std::shared_ptr<Settlement>& settlement, std::string_view result) {
  metrics_.recordReconciliation(result);
  settlement->done(true);
}

}  // namespace fdgw::proxy
