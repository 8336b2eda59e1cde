// RedisSpendLedger against a real redis-server: limits, wallets, the
// reservation lifecycle, refunds, the ledger and reconciliation claims.

#include "gateway/spend/redis_spend_ledger.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <future>
#include <memory>
#include <vector>

#include "gateway/spend/usd_amount.h"
#include "redis_server_fixture.h"

namespace fdgw::spend {
namespace {

using namespace std::chrono_literals;

constexpr auto kTimeout = 500ms;
// 2025-03-10T12:00:00Z.
constexpr std::int64_t kStartMs = 1741608000LL * 1000;

// Wall-clock time set by the test. Monotonic time stays real, because the
// Redis client measures its timeouts with it.
class FakeClock final : public common::Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(now_ms.load()));
  }
  std::chrono::steady_clock::time_point monotonicNow() const override {
    return std::chrono::steady_clock::now();
  }

  std::atomic<std::int64_t> now_ms{kStartMs};
};

class SpendLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.start()) << "redis-server did not start";
    ledger_ = &addInstance();
  }

  void TearDown() override {
    // Stop the clients first: stopping fails pending calls, which use the ledgers.
    for (auto& client : clients_) client->stop();
    server_.kill();
  }

  // Adds one gateway instance: its own Redis client and ledger.
  RedisSpendLedger& addInstance() {
    clients_.push_back(std::make_unique<redis::AsyncRedis>(config::RedisConfig{server_.url(), kTimeout},
                                                           system_clock_, logger_));
    redis::AsyncRedis& client = *clients_.back();
    EXPECT_TRUE(test::eventually([&] { return client.connected(); }));
    ledgers_.push_back(std::make_unique<RedisSpendLedger>(client, clock_, logger_));
    return *ledgers_.back();
  }

  ReservationRequest request(std::int64_t amount_cents) const {
    ReservationRequest reservation;
    reservation.tenant_id = kTenant;
    reservation.amount_cents = amount_cents;
    reservation.upstream = "main";
    reservation.owner_field = "reference_id";
    reservation.owner = "customer-1";
    reservation.sku = "FD-MX-5GB-30D";
    reservation.quantity = 1;
    reservation.request_id = "req-1";
    reservation.settle_after = 60s;
    return reservation;
  }

  ReserveResult reserve(ReservationRequest reservation, RedisSpendLedger* ledger = nullptr) {
    RedisSpendLedger& target = ledger != nullptr ? *ledger : *ledger_;
    return test::await<ReserveResult>([&](auto done) { target.reserve(std::move(reservation), done); });
  }

  Reservation reserved(std::int64_t amount_cents, bool prepaid = false) {
    ReservationRequest reservation = request(amount_cents);
    reservation.prepaid = prepaid;
    const ReserveResult result = reserve(reservation);
    EXPECT_EQ(result.status, ReserveStatus::kReserved) << result.error;
    return Reservation{kTenant, result.reservation_id, amount_cents};
  }

  SettleResult commit(const Reservation& reservation, const std::string& order_id, std::int64_t unit_cents,
                      std::int64_t quantity) {
    OrderCharge charge{order_id, unit_cents, quantity, "response"};
    return test::await<SettleResult>([&](auto done) { ledger_->commit(reservation, charge, done); });
  }

  SettleResult release(const Reservation& reservation) {
    return test::await<SettleResult>([&](auto done) { ledger_->release(reservation, done); });
  }

  RefundResult refund(const std::string& order_id, const std::string& refund_id, std::int64_t items) {
    RefundCredit credit{kTenant, order_id, refund_id, items, "req-refund"};
    return test::await<RefundResult>([&](auto done) { ledger_->creditRefund(credit, done); });
  }

  BalanceReport balance(const std::string& time_zone = "UTC") {
    return test::await<BalanceReport>([&](auto done) { ledger_->balance(kTenant, time_zone, done); });
  }

  LedgerPage transactions(std::int64_t offset = 0, std::int64_t count = 100) {
    return test::await<LedgerPage>([&](auto done) { ledger_->transactions(kTenant, offset, count, done); });
  }

  WalletChange changeWallet(std::int64_t change_cents, const std::string& type = "top_up") {
    return test::await<WalletChange>(
        [&](auto done) { ledger_->changeWallet(kTenant, change_cents, type, "ops-ana", "invoice 42", done); });
  }

  ClaimResult claim(std::size_t max = 10) {
    return test::await<ClaimResult>([&](auto done) { ledger_->claimDue(max, 30s, done); });
  }

  const std::string kTenant = "acme-travel";
  test::RedisServer server_;
  common::SystemClock system_clock_;
  FakeClock clock_;
  std::FILE* log_sink_ = std::fopen("/dev/null", "w");
  log::Logger logger_{log_sink_};
  std::vector<std::unique_ptr<redis::AsyncRedis>> clients_;
  std::vector<std::unique_ptr<RedisSpendLedger>> ledgers_;
  RedisSpendLedger* ledger_ = nullptr;
};

TEST_F(SpendLedgerTest, ReserveHoldsAmount) {
  ReservationRequest reservation = request(500);
  reservation.daily_limit_cents = 1000;

  const ReserveResult result = reserve(reservation);

  ASSERT_EQ(result.status, ReserveStatus::kReserved) << result.error;
  EXPECT_EQ(result.reservation_id.rfind("rsv_", 0), 0u);
  const BalanceReport report = balance();
  ASSERT_TRUE(report.ok) << report.error;
  EXPECT_EQ(report.day.reserved_cents, 500);
  EXPECT_EQ(report.day.committed_cents, 0);
  EXPECT_EQ(report.month.reserved_cents, 500);
  EXPECT_EQ(report.wallet_reserved_cents, 0);
}

TEST_F(SpendLedgerTest, DailyLimitRejectsExcess) {
  ReservationRequest reservation = request(600);
  reservation.daily_limit_cents = 1000;
  ASSERT_EQ(reserve(reservation).status, ReserveStatus::kReserved);

  const ReserveResult second = reserve(reservation);

  EXPECT_EQ(second.status, ReserveStatus::kOverDailyLimit);
  EXPECT_EQ(second.remaining_cents, 400);
  EXPECT_TRUE(second.reservation_id.empty());
  EXPECT_EQ(balance().day.reserved_cents, 600) << "a rejected reservation holds nothing";
}

TEST_F(SpendLedgerTest, MonthlyLimitRejectsExcess) {
  ReservationRequest reservation = request(600);
  reservation.daily_limit_cents = 10000;
  reservation.monthly_limit_cents = 1000;
  ASSERT_EQ(reserve(reservation).status, ReserveStatus::kReserved);

  const ReserveResult second = reserve(reservation);

  EXPECT_EQ(second.status, ReserveStatus::kOverMonthlyLimit);
  EXPECT_EQ(second.remaining_cents, 400);
}

TEST_F(SpendLedgerTest, LimitAllowsExactFit) {
  ReservationRequest reservation = request(500);
  reservation.daily_limit_cents = 1000;

  EXPECT_EQ(reserve(reservation).status, ReserveStatus::kReserved);
  EXPECT_EQ(reserve(reservation).status, ReserveStatus::kReserved);
  EXPECT_EQ(reserve(reservation).status, ReserveStatus::kOverDailyLimit);
}

TEST_F(SpendLedgerTest, EmptyWalletRejectsPrepaid) {
  ReservationRequest reservation = request(700);
  reservation.prepaid = true;

  const ReserveResult empty = reserve(reservation);
  EXPECT_EQ(empty.status, ReserveStatus::kOverWallet);
  EXPECT_EQ(empty.remaining_cents, 0);

  const WalletChange top_up = changeWallet(1000);
  ASSERT_TRUE(top_up.ok) << top_up.error;
  EXPECT_TRUE(top_up.applied);
  EXPECT_EQ(top_up.balance_cents, 1000);

  const ReserveResult funded = reserve(reservation);
  ASSERT_EQ(funded.status, ReserveStatus::kReserved);
  EXPECT_EQ(funded.state.wallet_available_cents, 300);
  EXPECT_EQ(reserve(reservation).status, ReserveStatus::kOverWallet);
}

TEST_F(SpendLedgerTest, WalletIgnoredWithoutPrepaid) {
  EXPECT_EQ(reserve(request(700)).status, ReserveStatus::kReserved);
  EXPECT_EQ(balance().wallet_reserved_cents, 0);
}

TEST_F(SpendLedgerTest, CommitChargesWalletAndLedger) {
  changeWallet(5000);
  const Reservation reservation = reserved(1000, /*prepaid=*/true);

  const SettleResult result = commit(reservation, "ord_1", 500, 2);

  ASSERT_EQ(result.status, SettleStatus::kSettled) << result.error;
  EXPECT_EQ(result.state.day_committed_cents, 1000);
  EXPECT_EQ(result.state.month_committed_cents, 1000);
  EXPECT_EQ(result.state.wallet_available_cents, 4000);
  const BalanceReport report = balance();
  EXPECT_EQ(report.day.committed_cents, 1000);
  EXPECT_EQ(report.day.reserved_cents, 0);
  EXPECT_EQ(report.wallet_balance_cents, 4000);
  EXPECT_EQ(report.wallet_reserved_cents, 0);

  const LedgerPage page = transactions();
  ASSERT_TRUE(page.ok) << page.error;
  ASSERT_EQ(page.total, 2);
  const LedgerEntry& order = page.entries[1];
  EXPECT_EQ(order.type, "order");
  EXPECT_EQ(order.amount_cents, -1000);
  EXPECT_EQ(order.balance_after_cents, 4000);
  EXPECT_EQ(order.order_id, "ord_1");
  EXPECT_EQ(order.request_id, "req-1");
  EXPECT_EQ(order.created_at_ms, kStartMs);
  EXPECT_EQ(order.transaction_id.rfind("txn_", 0), 0u);
}

TEST_F(SpendLedgerTest, CommitUsesActualTotal) {
  // The upstream charged more than the catalog price that was held.
  const Reservation reservation = reserved(1000);

  ASSERT_EQ(commit(reservation, "ord_1", 600, 2).status, SettleStatus::kSettled);

  const BalanceReport report = balance();
  EXPECT_EQ(report.day.committed_cents, 1200);
  EXPECT_EQ(report.day.reserved_cents, 0);
  EXPECT_FALSE(transactions().entries[0].balance_after_cents.has_value())
      << "a tenant that is not prepaid has no balance";
}

TEST_F(SpendLedgerTest, SecondCommitChangesNothing) {
  const Reservation reservation = reserved(1000);
  ASSERT_EQ(commit(reservation, "ord_1", 500, 2).status, SettleStatus::kSettled);

  EXPECT_EQ(commit(reservation, "ord_1", 500, 2).status, SettleStatus::kAlreadySettled);
  EXPECT_EQ(release(reservation).status, SettleStatus::kAlreadySettled);

  EXPECT_EQ(balance().day.committed_cents, 1000);
  EXPECT_EQ(transactions().total, 1);
}

TEST_F(SpendLedgerTest, ReleaseFreesHold) {
  changeWallet(5000);
  const Reservation reservation = reserved(1000, /*prepaid=*/true);

  const SettleResult result = release(reservation);

  ASSERT_EQ(result.status, SettleStatus::kSettled) << result.error;
  const BalanceReport report = balance();
  EXPECT_EQ(report.day.reserved_cents, 0);
  EXPECT_EQ(report.month.reserved_cents, 0);
  EXPECT_EQ(report.wallet_reserved_cents, 0);
  EXPECT_EQ(report.wallet_balance_cents, 5000);
  EXPECT_EQ(release(reservation).status, SettleStatus::kAlreadySettled);
  EXPECT_EQ(transactions().total, 1) << "only the top-up is in the ledger";
}

TEST_F(SpendLedgerTest, CommitAfterReleaseCharges) {
  // Reconciliation found no order and released the hold, then the upstream's
  // late success arrived: the order exists, so it is charged.
  changeWallet(5000);
  const Reservation reservation = reserved(1000, /*prepaid=*/true);
  ASSERT_EQ(release(reservation).status, SettleStatus::kSettled);

  ASSERT_EQ(commit(reservation, "ord_1", 1000, 1).status, SettleStatus::kSettled);

  const BalanceReport report = balance();
  EXPECT_EQ(report.day.committed_cents, 1000);
  EXPECT_EQ(report.day.reserved_cents, 0);
  EXPECT_EQ(report.wallet_balance_cents, 4000);
  EXPECT_EQ(report.wallet_reserved_cents, 0);
}

TEST_F(SpendLedgerTest, OrderRecordedOnce) {
  const Reservation first = reserved(1000);
  const Reservation second = reserved(1000);
  ASSERT_EQ(commit(first, "ord_1", 1000, 1).status, SettleStatus::kSettled);

  EXPECT_EQ(commit(second, "ord_1", 1000, 1).status, SettleStatus::kOrderAlreadyRecorded);

  const BalanceReport report = balance();
  EXPECT_EQ(report.day.committed_cents, 1000);
  EXPECT_EQ(report.day.reserved_cents, 1000) << "the second reservation is still held";
}

TEST_F(SpendLedgerTest, UnknownReservationReported) {
  const Reservation missing{kTenant, "rsv_missing", 100};

  EXPECT_EQ(commit(missing, "ord_1", 100, 1).status, SettleStatus::kUnknownReservation);
  EXPECT_EQ(release(missing).status, SettleStatus::kUnknownReservation);
}

TEST_F(SpendLedgerTest, RefundCreditsRefundedUnits) {
  changeWallet(10000);
  const Reservation reservation = reserved(1500, /*prepaid=*/true);
  ASSERT_EQ(commit(reservation, "ord_1", 500, 3).status, SettleStatus::kSettled);

  const RefundResult result = refund("ord_1", "rfd_1", 1);

  ASSERT_EQ(result.status, RefundStatus::kCredited) << result.error;
  EXPECT_EQ(result.credited_cents, 500);
  EXPECT_EQ(result.state.day_committed_cents, 1000);
  EXPECT_EQ(result.state.wallet_available_cents, 9000);
  const BalanceReport report = balance();
  EXPECT_EQ(report.wallet_balance_cents, 9000);
  EXPECT_EQ(report.day.committed_cents, 1000);
  EXPECT_EQ(report.month.committed_cents, 1000);

  const LedgerPage page = transactions();
  ASSERT_EQ(page.total, 3);
  const LedgerEntry& credit = page.entries[2];
  EXPECT_EQ(credit.type, "refund");
  EXPECT_EQ(credit.amount_cents, 500);
  EXPECT_EQ(credit.balance_after_cents, 9000);
  EXPECT_EQ(credit.order_id, "ord_1");
  EXPECT_EQ(credit.refund_id, "rfd_1");
}

TEST_F(SpendLedgerTest, RefundCreditedOncePerId) {
  const Reservation reservation = reserved(1500);
  ASSERT_EQ(commit(reservation, "ord_1", 500, 3).status, SettleStatus::kSettled);
  ASSERT_EQ(refund("ord_1", "rfd_1", 1).status, RefundStatus::kCredited);

  EXPECT_EQ(refund("ord_1", "rfd_1", 1).status, RefundStatus::kAlreadyCredited);

  EXPECT_EQ(balance().day.committed_cents, 1000);
  EXPECT_EQ(transactions().total, 2);
}

TEST_F(SpendLedgerTest, RefundNeverExceedsOrderTotal) {
  const Reservation reservation = reserved(1500);
  ASSERT_EQ(commit(reservation, "ord_1", 500, 3).status, SettleStatus::kSettled);
  ASSERT_EQ(refund("ord_1", "rfd_1", 2).status, RefundStatus::kCredited);

  const RefundResult rest = refund("ord_1", "rfd_2", 5);

  ASSERT_EQ(rest.status, RefundStatus::kCredited);
  EXPECT_EQ(rest.credited_cents, 500);
  EXPECT_EQ(balance().day.committed_cents, 0);
}

TEST_F(SpendLedgerTest, RefundOfUnrecordedOrderSkipped) {
  changeWallet(1000);

  const RefundResult result = refund("ord_elsewhere", "rfd_1", 1);

  EXPECT_EQ(result.status, RefundStatus::kOrderNotRecorded);
  EXPECT_EQ(balance().wallet_balance_cents, 1000);
  EXPECT_EQ(transactions().total, 1);
}

TEST_F(SpendLedgerTest, DebitBelowReservedRejected) {
  changeWallet(1000);
  reserved(800, /*prepaid=*/true);

  const WalletChange debit = changeWallet(-300, "adjustment");

  ASSERT_TRUE(debit.ok) << debit.error;
  EXPECT_FALSE(debit.applied);
  EXPECT_EQ(debit.balance_cents, 1000);
  EXPECT_EQ(debit.reserved_cents, 800);

  const WalletChange allowed = changeWallet(-200, "adjustment");
  EXPECT_TRUE(allowed.applied);
  EXPECT_EQ(allowed.balance_cents, 800);
}

TEST_F(SpendLedgerTest, WalletChangeLedgerEntry) {
  changeWallet(2550);
  changeWallet(-50, "adjustment");

  const LedgerPage page = transactions();

  ASSERT_EQ(page.total, 2);
  EXPECT_EQ(page.entries[0].type, "top_up");
  EXPECT_EQ(page.entries[0].amount_cents, 2550);
  EXPECT_EQ(page.entries[0].balance_after_cents, 2550);
  EXPECT_EQ(page.entries[0].operator_name, "ops-ana");
  EXPECT_EQ(page.entries[0].reason, "invoice 42");
  EXPECT_EQ(page.entries[1].type, "adjustment");
  EXPECT_EQ(page.entries[1].amount_cents, -50);
  EXPECT_EQ(page.entries[1].balance_after_cents, 2500);
}

TEST_F(SpendLedgerTest, LedgerReadInPages) {
  for (int i = 1; i <= 5; ++i) changeWallet(i * 100);

  const LedgerPage second = transactions(2, 2);

  ASSERT_TRUE(second.ok);
  EXPECT_EQ(second.total, 5);
  ASSERT_EQ(second.entries.size(), 2u);
  EXPECT_EQ(second.entries[0].amount_cents, 300);
  EXPECT_EQ(second.entries[1].amount_cents, 400);
  EXPECT_TRUE(transactions(10, 2).entries.empty());
}

TEST_F(SpendLedgerTest, InstancesShareOneLimit) {
  RedisSpendLedger& other = addInstance();
  ReservationRequest reservation = request(300);
  reservation.daily_limit_cents = 5000;

  std::vector<std::future<ReserveResult>> results;
  for (int i = 0; i < 40; ++i) {
    RedisSpendLedger* ledger = i % 2 == 0 ? ledger_ : &other;
    results.push_back(std::async(std::launch::async, [this, ledger, reservation] {
      return reserve(reservation, ledger);
    }));
  }
  int reserved_count = 0;
  int rejected_count = 0;
  for (auto& result : results) {
    const ReserveStatus status = result.get().status;
    if (status == ReserveStatus::kReserved) ++reserved_count;
    if (status == ReserveStatus::kOverDailyLimit) ++rejected_count;
  }

  EXPECT_EQ(reserved_count, 16) << "16 × 3.00 fits in 50.00, a 17th does not";
  EXPECT_EQ(rejected_count, 24);
  EXPECT_EQ(balance().day.reserved_cents, 4800);
}

TEST_F(SpendLedgerTest, DayFollowsPlanTimeZone) {
  // 05:30 UTC on 10 March is still 9 March in Mexico City (UTC-6).
  clock_.now_ms = kStartMs - 6 * 3600 * 1000 - 30 * 60 * 1000;
  ReservationRequest reservation = request(100);
  reservation.time_zone = "America/Mexico_City";
  ASSERT_EQ(reserve(reservation).status, ReserveStatus::kReserved);

  const BalanceReport mexico = balance("America/Mexico_City");
  EXPECT_EQ(mexico.day.label, "2025-03-09");
  EXPECT_EQ(mexico.day.reserved_cents, 100);
  EXPECT_EQ(mexico.day.ends_at_ms, 1741586400LL * 1000) << "midnight in Mexico City, 06:00 UTC";
  EXPECT_EQ(mexico.month.label, "2025-03");

  const BalanceReport utc = balance();
  EXPECT_EQ(utc.day.label, "2025-03-10");
  EXPECT_EQ(utc.day.reserved_cents, 0);
}

TEST_F(SpendLedgerTest, ReservationDueAfterSettleTime) {
  ReservationRequest reservation = request(100);
  reservation.settle_after = 5s;
  reservation.owner = "customer-9";
  reservation.quantity = 2;
  reservation.idempotency_record = "fdgw:idem:{acme-travel}:abc";
  const ReserveResult result = reserve(reservation);
  ASSERT_EQ(result.status, ReserveStatus::kReserved);

  EXPECT_TRUE(claim().reservations.empty()) << "not due yet";

  clock_.now_ms += 6000;
  const ClaimResult due = claim();
  ASSERT_TRUE(due.ok) << due.error;
  ASSERT_EQ(due.reservations.size(), 1u);
  const PendingReservation& pending = due.reservations[0];
  EXPECT_EQ(pending.reservation.id, result.reservation_id);
  EXPECT_EQ(pending.reservation.tenant_id, kTenant);
  EXPECT_EQ(pending.reservation.amount_cents, 100);
  EXPECT_EQ(pending.upstream, "main");
  EXPECT_EQ(pending.owner_field, "reference_id");
  EXPECT_EQ(pending.owner, "customer-9");
  EXPECT_EQ(pending.sku, "FD-MX-5GB-30D");
  EXPECT_EQ(pending.quantity, 2);
  EXPECT_EQ(pending.created_at_ms, kStartMs);
  EXPECT_EQ(pending.idempotency_record, "fdgw:idem:{acme-travel}:abc");

  EXPECT_TRUE(claim().reservations.empty()) << "claimed for 30 s";
  clock_.now_ms += 31000;
  EXPECT_EQ(claim().reservations.size(), 1u) << "due again once the claim ends";
}

TEST_F(SpendLedgerTest, SettledReservationNotClaimed) {
  ReservationRequest reservation = request(100);
  reservation.settle_after = 1s;
  const ReserveResult result = reserve(reservation);
  ASSERT_EQ(release({kTenant, result.reservation_id, 100}).status, SettleStatus::kSettled);

  clock_.now_ms += 2000;

  EXPECT_TRUE(claim().reservations.empty());
}

TEST_F(SpendLedgerTest, DeferMovesDueTime) {
  ReservationRequest reservation = request(100);
  reservation.settle_after = 60s;
  const ReserveResult result = reserve(reservation);

  const bool deferred = test::await<bool>([&](auto done) {
    ledger_->defer({kTenant, result.reservation_id, 100}, 2s, done);
  });

  ASSERT_TRUE(deferred);
  clock_.now_ms += 3000;
  EXPECT_EQ(claim().reservations.size(), 1u);
}

TEST_F(SpendLedgerTest, StoppedRedisReportsFailure) {
  server_.kill();

  const ReserveResult result = reserve(request(100));

  EXPECT_EQ(result.status, ReserveStatus::kFailed);
  EXPECT_FALSE(result.error.empty());
}

TEST(UsdAmount, ParsesDollarsAndCents) {
  EXPECT_EQ(parseUsdAmount("25", false), 2500);
  EXPECT_EQ(parseUsdAmount("25.5", false), 2550);
  EXPECT_EQ(parseUsdAmount("0.05", false), 5);
  EXPECT_EQ(parseUsdAmount("-3.25", true), -325);
  EXPECT_EQ(parseUsdAmount("9999999999.99", false), 999999999999);
}

TEST(UsdAmount, RejectsInvalidText) {
  for (const char* text : {"", "-", "1.", ".5", "1.234", "1,5", "+2", "abc", "12345678901", "1e3", " 1"}) {
    EXPECT_FALSE(parseUsdAmount(text, true).has_value()) << text;
  }
  EXPECT_FALSE(parseUsdAmount("-1", false).has_value());
}

TEST(UsdAmount, FormatsTwoDecimals) {
  EXPECT_EQ(formatUsd(2550), "25.50");
  EXPECT_EQ(formatUsd(5), "0.05");
  EXPECT_EQ(formatUsd(-5), "-0.05");
  EXPECT_EQ(formatUsd(0), "0.00");
}

}  // namespace
}  // namespace fdgw::spend
