#include "gateway/spend/redis_spend_ledger.h"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <mutex>

#include "gateway/common/request_id.h"
#include "gateway/spend/spend_keys.h"
#include "gateway/spend/spend_scripts.h"

namespace fdgw::spend {
namespace {

using redis::RedisReply;
using Type = redis::RedisReply::Type;

std::int64_t millisecondsOf(std::chrono::milliseconds duration) { return duration.count(); }

// Returns the integer at `index` of an array reply, or nullopt.
std::optional<std::int64_t> integerAt(const RedisReply& reply, std::size_t index) {
  if (reply.type != Type::kArray || index >= reply.elements.size()) return std::nullopt;
  const RedisReply& element = reply.elements[index];
  if (element.type != Type::kInteger) return std::nullopt;
  return element.integer;
}

std::string failureText(const RedisReply& reply) {
  return reply.isError() ? reply.text : "unexpected reply " + redis::describe(reply);
}

// Reads {status, day committed, month committed} and, when present,
// {prepaid, balance} from `first` on.
SpendState stateFrom(const RedisReply& reply, std::size_t first) {
  SpendState state;
  const auto day = integerAt(reply, first);
  const auto month = integerAt(reply, first + 1);
  if (day && *day >= 0) state.day_committed_cents = day;
  if (month && *month >= 0) state.month_committed_cents = month;
  const auto prepaid = integerAt(reply, first + 2);
  const auto balance = integerAt(reply, first + 3);
  if (prepaid && *prepaid == 1 && balance) state.wallet_available_cents = balance;
  return state;
}

// Reads the reply of the commit and release scripts: 1 settled, 0 settled
// before, -1 unknown reservation, -2 order recorded by another reservation.
SettleResult settleResultOf(const RedisReply& reply) {
  SettleResult result;
  const auto status = integerAt(reply, 0);
  if (!status) {
    result.error = failureText(reply);
  } else if (*status == 1) {
    result.status = SettleStatus::kSettled;
    result.state = stateFrom(reply, 1);
  } else if (*status == 0) {
    result.status = SettleStatus::kAlreadySettled;
  } else if (*status == -2) {
    result.status = SettleStatus::kOrderAlreadyRecorded;
  } else {
    result.status = SettleStatus::kUnknownReservation;
  }
  return result;
}

std::string fieldOf(const std::map<std::string, std::string>& fields, const std::string& name) {
  const auto found = fields.find(name);
  return found == fields.end() ? std::string() : found->second;
}

std::int64_t integerField(const std::map<std::string, std::string>& fields, const std::string& name) {
  const std::string text = fieldOf(fields, name);
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  return end != text.c_str() ? value : 0;
}

}  // namespace

std::string newTransactionId() { return "txn_" + common::newRequestId(); }

std::optional<LedgerEntry> parseLedgerEntry(const std::string& text) {
  const auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object() || !json.contains("transaction_id") || !json["transaction_id"].is_string() ||
      !json.contains("amount") || !json["amount"].is_number()) {
    return std::nullopt;
  }
  LedgerEntry entry;
  entry.transaction_id = json["transaction_id"].get<std::string>();
  entry.type = json.value("type", "");
  entry.amount_cents = json["amount"].get<std::int64_t>();
  if (json.contains("balance_after") && json["balance_after"].is_number()) {
    entry.balance_after_cents = json["balance_after"].get<std::int64_t>();
  }
  entry.order_id = json.value("order_id", "");
  entry.refund_id = json.value("refund_id", "");
  entry.created_at_ms = json.value("created_ms", std::int64_t{0});
  entry.request_id = json.value("request_id", "");
  entry.operator_name = json.value("operator", "");
  entry.reason = json.value("reason", "");
  return entry;
}

RedisSpendLedger::RedisSpendLedger(redis::AsyncRedis& redis, const common::Clock& clock,
                                   log::Logger& logger)
    : redis_(redis),
      clock_(clock),
      logger_(logger),
      reserve_script_(reserveScriptSource()),
      commit_script_(commitScriptSource()),
      release_script_(releaseScriptSource()),
      refund_script_(refundScriptSource()),
      wallet_script_(walletScriptSource()),
      balance_script_(balanceScriptSource()),
      ledger_script_(ledgerScriptSource()),
      claim_script_(claimScriptSource()) {}

std::int64_t RedisSpendLedger::nowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count();
}

SpendWindows RedisSpendLedger::windowsFor(const std::string& time_zone, std::int64_t now_ms) {
  auto zone = zones_.find(time_zone);
  if (zone == nullptr) {
    // Plans are validated against the zone database at load, so this means
    // the file went away since; UTC keeps spend counting.
    logger_.warn("spend_time_zone_unknown", {{"time_zone", time_zone}, {"fallback", "UTC"}});
    zone = quota::TimeZone::utc();
  }
  return spendWindowsAt(now_ms, *zone);
}

void RedisSpendLedger::reserve(ReservationRequest request, std::function<void(ReserveResult)> done) {
  const std::int64_t now = nowMs();
  const SpendWindows windows = windowsFor(request.time_zone, now);
  const std::string reservation_id = "rsv_" + common::newRequestId();

  std::vector<std::string> keys = {dayKey(request.tenant_id, windows.day_label),
                                   monthKey(request.tenant_id, windows.month_label),
                                   walletKey(request.tenant_id),
                                   reservationKey(request.tenant_id, reservation_id),
                                   std::string(kPendingKey)};
  if (!request.idempotency_record.empty()) keys.push_back(request.idempotency_record);
  std::vector<std::string> args = {
      std::to_string(request.amount_cents),
      std::to_string(request.daily_limit_cents.value_or(-1)),
      std::to_string(request.monthly_limit_cents.value_or(-1)),
      request.prepaid ? "1" : "0",
      // Lifetimes, not instants, so a Redis clock that differs from the
      // gateway's cannot expire the keys early.
      std::to_string(windows.day_end_ms + kDayKeptAfterEndMs - now),
      std::to_string(windows.month_end_ms + kMonthKeptAfterEndMs - now),
      std::to_string(now + millisecondsOf(request.settle_after)),
      pendingMember(request.tenant_id, reservation_id),
      std::to_string(std::max<std::int64_t>(millisecondsOf(request.idempotency_lifetime), 1)),
      "upstream", request.upstream,
      "owner_field", request.owner_field,
      "owner", request.owner,
      "sku", request.sku,
      "quantity", std::to_string(request.quantity),
      "created_ms", std::to_string(now),
      "request_id", request.request_id,
      "idempotency", request.idempotency_record,
  };

  redis_.evalScript(reserve_script_, std::move(keys), std::move(args),
                    [reservation_id, done = std::move(done)](RedisReply reply) {
                      ReserveResult result;
                      const auto status = integerAt(reply, 0);
                      const auto room = integerAt(reply, 2);
                      const auto available = integerAt(reply, 5);
                      if (!status || !room || !available || reply.elements.size() != 6 ||
                          reply.elements[1].type != Type::kString) {
                        result.error = failureText(reply);
                        done(std::move(result));
                        return;
                      }
                      result.state.day_committed_cents = integerAt(reply, 3);
                      result.state.month_committed_cents = integerAt(reply, 4);
                      result.state.wallet_available_cents = *available;
                      result.remaining_cents = *room;
                      const std::string& rejected_by = reply.elements[1].text;
                      if (*status == 1) {
                        result.status = ReserveStatus::kReserved;
                        result.reservation_id = reservation_id;
                      } else if (rejected_by == "day") {
                        result.status = ReserveStatus::kOverDailyLimit;
                      } else if (rejected_by == "month") {
                        result.status = ReserveStatus::kOverMonthlyLimit;
                      } else {
                        result.status = ReserveStatus::kOverWallet;
                      }
                      done(std::move(result));
                    });
}

void RedisSpendLedger::commit(const Reservation& reservation, OrderCharge charge,
                              std::function<void(SettleResult)> done) {
  std::vector<std::string> keys = {reservationKey(reservation.tenant_id, reservation.id),
                                   std::string(kPendingKey), ledgerKey(reservation.tenant_id),
                                   orderKey(reservation.tenant_id, charge.order_id)};
  std::vector<std::string> args = {
      std::to_string(charge.unit_cents),
      std::to_string(charge.quantity),
      charge.order_id,
      std::to_string(nowMs()),
      newTransactionId(),
      pendingMember(reservation.tenant_id, reservation.id),
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(kSettledReservationLifetime).count()),
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(kOrderRecordLifetime).count()),
      charge.source,
  };
  redis_.evalScript(commit_script_, std::move(keys), std::move(args),
                    [done = std::move(done)](RedisReply reply) { done(settleResultOf(reply)); });
}

void RedisSpendLedger::release(const Reservation& reservation, std::function<void(SettleResult)> done) {
  std::vector<std::string> keys = {reservationKey(reservation.tenant_id, reservation.id),
                                   std::string(kPendingKey)};
  std::vector<std::string> args = {
      pendingMember(reservation.tenant_id, reservation.id),
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(kSettledReservationLifetime).count())};
  redis_.evalScript(release_script_, std::move(keys), std::move(args),
                    [done = std::move(done)](RedisReply reply) { done(settleResultOf(reply)); });
}

void RedisSpendLedger::defer(const Reservation& reservation, std::chrono::milliseconds delay,
                             std::function<void(bool ok)> done) {
  // XX: only a reservation that is still pending gets a new due time.
  redis_.command({"ZADD", std::string(kPendingKey), "XX", std::to_string(nowMs() + delay.count()),
                  pendingMember(reservation.tenant_id, reservation.id)},
                 [done = std::move(done)](RedisReply reply) { done(reply.type == Type::kInteger); });
}

void RedisSpendLedger::creditRefund(RefundCredit credit, std::function<void(RefundResult)> done) {
  std::vector<std::string> keys = {orderKey(credit.tenant_id, credit.order_id), ledgerKey(credit.tenant_id)};
  std::vector<std::string> args = {credit.refund_id,    std::to_string(credit.item_count),
                                   std::to_string(nowMs()), newTransactionId(),
                                   credit.request_id,   credit.order_id};
  redis_.evalScript(refund_script_, std::move(keys), std::move(args),
                    [done = std::move(done)](RedisReply reply) {
                      RefundResult result;
                      const auto status = integerAt(reply, 0);
                      if (!status) {
                        result.error = failureText(reply);
                      } else if (*status == 1) {
                        result.status = RefundStatus::kCredited;
                        result.credited_cents = integerAt(reply, 1).value_or(0);
                        result.state = stateFrom(reply, 2);
                      } else if (*status == 0) {
                        result.status = RefundStatus::kAlreadyCredited;
                      } else {
                        result.status = RefundStatus::kOrderNotRecorded;
                      }
                      done(std::move(result));
                    });
}

void RedisSpendLedger::balance(const std::string& tenant_id, const std::string& time_zone,
                               std::function<void(BalanceReport)> done) {
  const SpendWindows windows = windowsFor(time_zone, nowMs());
  std::vector<std::string> keys = {walletKey(tenant_id), dayKey(tenant_id, windows.day_label),
                                   monthKey(tenant_id, windows.month_label)};
  redis_.evalScript(balance_script_, std::move(keys), {},
                    [windows, done = std::move(done)](RedisReply reply) {
                      BalanceReport report;
                      std::int64_t values[6] = {};
                      for (std::size_t i = 0; i < 6; ++i) {
                        const auto value = integerAt(reply, i);
                        if (!value) {
                          report.error = failureText(reply);
                          done(std::move(report));
                          return;
                        }
                        values[i] = *value;
                      }
                      report.ok = true;
                      report.wallet_balance_cents = values[0];
                      report.wallet_reserved_cents = values[1];
                      report.day = {windows.day_label, values[2], values[3], windows.day_end_ms};
                      report.month = {windows.month_label, values[4], values[5], windows.month_end_ms};
                      done(std::move(report));
                    });
}

void RedisSpendLedger::transactions(const std::string& tenant_id, std::int64_t offset, std::int64_t count,
                                    std::function<void(LedgerPage)> done) {
  redis_.evalScript(ledger_script_, {ledgerKey(tenant_id)},
                    {std::to_string(offset), std::to_string(offset + std::max<std::int64_t>(count, 1) - 1)},
                    [this, tenant_id, done = std::move(done)](RedisReply reply) {
                      LedgerPage page;
                      const auto total = integerAt(reply, 0);
                      if (!total) {
                        page.error = failureText(reply);
                        done(std::move(page));
                        return;
                      }
                      page.ok = true;
                      page.total = *total;
                      for (std::size_t i = 1; i < reply.elements.size(); ++i) {
                        auto entry = parseLedgerEntry(reply.elements[i].text);
                        if (entry) {
                          page.entries.push_back(std::move(*entry));
                        } else {
                          logger_.error("ledger_entry_invalid", {{"tenant", tenant_id}, {"entry", reply.elements[i].text}});
                        }
                      }
                      done(std::move(page));
                    });
}

void RedisSpendLedger::claimDue(std::size_t max, std::chrono::milliseconds claim,
                                std::function<void(ClaimResult)> done) {
  const std::int64_t now = nowMs();
  redis_.evalScript(
      claim_script_, {std::string(kPendingKey)},
      {std::to_string(now), std::to_string(now + claim.count()), std::to_string(max)},
      [this, done = std::move(done)](RedisReply reply) mutable {
        if (reply.type != Type::kArray) {
          ClaimResult failed;
          failed.error = failureText(reply);
          done(std::move(failed));
          return;
        }
        std::vector<std::string> members;
        for (const auto& element : reply.elements) members.push_back(element.text);
        if (members.empty()) {
          done(ClaimResult{true, {}, ""});
          return;
        }

        // Reads every claimed reservation; `done` runs after the last reply.
        struct Collection {
          std::mutex mutex;
          std::size_t waiting = 0;
          ClaimResult result{true, {}, ""};
          std::function<void(ClaimResult)> done;
        };
        auto collection = std::make_shared<Collection>();
        collection->waiting = members.size();
        collection->done = std::move(done);
        const auto finishOne = [collection](std::optional<PendingReservation> pending) {
          std::unique_lock lock(collection->mutex);
          if (pending) collection->result.reservations.push_back(std::move(*pending));
          if (--collection->waiting > 0) return;
          ClaimResult result = std::move(collection->result);
          lock.unlock();
          collection->done(std::move(result));
        };

        for (const std::string& member : members) {
          std::string tenant_id;
          std::string reservation_id;
          if (!splitPendingMember(member, tenant_id, reservation_id)) {
            logger_.error("spend_pending_member_invalid", {{"member", member}});
            redis_.command({"ZREM", std::string(kPendingKey), member}, [](RedisReply) {});
            finishOne(std::nullopt);
            continue;
          }
          redis_.command(
              {"HGETALL", reservationKey(tenant_id, reservation_id)},
              [this, tenant_id, reservation_id, member, finishOne](RedisReply fields_reply) {
                std::map<std::string, std::string> fields;
                if (fields_reply.type == Type::kArray) {
                  for (std::size_t i = 0; i + 1 < fields_reply.elements.size(); i += 2) {
                    fields[fields_reply.elements[i].text] = fields_reply.elements[i + 1].text;
                  }
                }
                if (fields_reply.type == Type::kArray && fieldOf(fields, "state") != "pending") {
                  // Settled or gone: nothing is held any more.
                  redis_.command({"ZREM", std::string(kPendingKey), member}, [](RedisReply) {});
                  finishOne(std::nullopt);
                  return;
                }
                if (fields_reply.type != Type::kArray) {
                  finishOne(std::nullopt);  // due again when the claim ends
                  return;
                }
                PendingReservation pending;
                pending.reservation = {tenant_id, reservation_id, integerField(fields, "amount")};
                pending.prepaid = fieldOf(fields, "prepaid") == "1";
                pending.upstream = fieldOf(fields, "upstream");
                pending.owner_field = fieldOf(fields, "owner_field");
                pending.owner = fieldOf(fields, "owner");
                pending.sku = fieldOf(fields, "sku");
                pending.quantity = integerField(fields, "quantity");
                pending.created_at_ms = integerField(fields, "created_ms");
                pending.request_id = fieldOf(fields, "request_id");
                pending.idempotency_record = fieldOf(fields, "idempotency");
                finishOne(std::move(pending));
              });
        }
      });
}

void RedisSpendLedger::changeWallet(const std::string& tenant_id, std::int64_t change_cents,
                                    const std::string& type, const std::string& operator_name,
                                    const std::string& reason, std::function<void(WalletChange)> done) {
  std::vector<std::string> args = {std::to_string(change_cents), type, std::to_string(nowMs()),
                                   newTransactionId(), operator_name, reason};
  redis_.evalScript(wallet_script_, {walletKey(tenant_id), ledgerKey(tenant_id)}, std::move(args),
                    [done = std::move(done)](RedisReply reply) {
                      WalletChange change;
                      const auto status = integerAt(reply, 0);
                      const auto balance = integerAt(reply, 1);
                      const auto reserved = integerAt(reply, 2);
                      if (!status || !balance || !reserved) {
                        change.error = failureText(reply);
                      } else {
                        change.ok = true;
                        change.applied = *status == 1;
                        change.balance_cents = *balance;
                        change.reserved_cents = *reserved;
                      }
                      done(std::move(change));
                    });
}

}  // namespace fdgw::spend
