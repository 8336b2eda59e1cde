#include "gateway/spend/spend_scripts.h"

namespace fdgw::spend {
namespace {

// Shared by the scripts that settle a reservation or credit a refund. A
// window key that no longer exists (expired long after its window ended) is
// left alone, so a late settlement cannot recreate it without an expiry.
constexpr const char* kHelpers = R"lua(
local function number(value)
  return tonumber(value) or 0
end

local function unhold(key, amount)
  if redis.call('EXISTS', key) == 0 then return end
  local left = number(redis.call('HGET', key, 'reserved')) - amount
  redis.call('HSET', key, 'reserved', math.max(left, 0))
end

local function add_committed(key, amount)
  if redis.call('EXISTS', key) == 0 then return -1 end
  local committed = number(redis.call('HGET', key, 'committed')) + amount
  committed = math.max(committed, 0)
  redis.call('HSET', key, 'committed', committed)
  return committed
end
)lua";

std::string withHelpers(const char* body) { return std::string(kHelpers) + body; }

}  // namespace

const std::string& reserveScriptSource() {
  // KEYS: day, month, wallet, reservation, pending set, and optionally the
  //       Idempotency-Key record that the order holds.
  // ARGV: amount, daily limit (-1: none), monthly limit (-1: none),
  //       prepaid (1/0), day key lifetime (ms), month key lifetime (ms),
  //       due time (Unix ms), pending member, idempotency record lifetime (ms),
  //       then field/value pairs stored in the reservation.
  // Reply: {1, '', 0, day committed, month committed, wallet available after}
  //        or {0, 'day'|'month'|'wallet', room left, day committed,
  //        month committed, wallet available}.
  static const std::string kSource = R"lua(
local amount = tonumber(ARGV[1])
local daily_limit = tonumber(ARGV[2])
local monthly_limit = tonumber(ARGV[3])
local prepaid = ARGV[4] == '1'

local function read(key, first, second)
  local values = redis.call('HMGET', key, first, second)
  return tonumber(values[1]) or 0, tonumber(values[2]) or 0
end

local day_committed, day_reserved = read(KEYS[1], 'committed', 'reserved')
local month_committed, month_reserved = read(KEYS[2], 'committed', 'reserved')
local balance, wallet_reserved = read(KEYS[3], 'balance', 'reserved')
local available = balance - wallet_reserved

local rejected_by, room = '', 0
if daily_limit >= 0 and day_committed + day_reserved + amount > daily_limit then
  rejected_by, room = 'day', daily_limit - day_committed - day_reserved
elseif monthly_limit >= 0 and month_committed + month_reserved + amount > monthly_limit then
  rejected_by, room = 'month', monthly_limit - month_committed - month_reserved
elseif prepaid and available < amount then
  rejected_by, room = 'wallet', available
end
if rejected_by ~= '' then
  return {0, rejected_by, math.max(room, 0), day_committed, month_committed, available}
end

redis.call('HINCRBY', KEYS[1], 'reserved', amount)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('HINCRBY', KEYS[2], 'reserved', amount)
redis.call('PEXPIRE', KEYS[2], ARGV[6])
if prepaid then
  redis.call('HINCRBY', KEYS[3], 'reserved', amount)
  available = available - amount
end
redis.call('HSET', KEYS[4], 'state', 'pending', 'amount', amount, 'prepaid', ARGV[4],
           'day', KEYS[1], 'month', KEYS[2], 'wallet', KEYS[3], unpack(ARGV, 10))
redis.call('ZADD', KEYS[5], ARGV[7], ARGV[8])
if KEYS[6] then
  redis.call('HSET', KEYS[6], 'reservation', KEYS[4])
  redis.call('PEXPIRE', KEYS[6], ARGV[9])
end
return {1, '', 0, day_committed, month_committed, available}
)lua";
  return kSource;
}

const std::string& commitScriptSource() {
  // KEYS: reservation, pending set, ledger, order record.
  // ARGV: unit price, quantity, order id, now (Unix ms), transaction id,
  //       pending member, lifetime of the settled reservation (ms), lifetime
  //       of the order record (ms), source.
  // Reply: {1, day committed, month committed, prepaid (1/0), balance after},
  //        {0} when already committed, {-1} for an unknown reservation,
  //        {-2} when another reservation recorded this order.
  static const std::string kSource = withHelpers(R"lua(
local fields = redis.call('HMGET', KEYS[1], 'state', 'amount', 'prepaid', 'day', 'month',
                          'wallet', 'request_id')
local state = fields[1]
if not state then return {-1} end
if state == 'committed' then return {0} end
if redis.call('EXISTS', KEYS[4]) == 1 then return {-2} end

-- A released reservation holds nothing any more, but the order exists.
local pending = state == 'pending'
local reserved = number(fields[2])
local unit = tonumber(ARGV[1])
local quantity = tonumber(ARGV[2])
local total = unit * quantity
local prepaid = fields[3] == '1'

if pending then
  unhold(fields[4], reserved)
  unhold(fields[5], reserved)
end
local day_committed = add_committed(fields[4], total)
local month_committed = add_committed(fields[5], total)
local balance_after = 0
if prepaid then
  if pending then unhold(fields[6], reserved) end
  balance_after = redis.call('HINCRBY', fields[6], 'balance', -total)
end

local entry = {transaction_id = ARGV[5], type = 'order', amount = -total, order_id = ARGV[3],
               created_ms = tonumber(ARGV[4]), request_id = fields[7], source = ARGV[9]}
if prepaid then entry.balance_after = balance_after end
redis.call('RPUSH', KEYS[3], cjson.encode(entry))

redis.call('HSET', KEYS[4], 'unit', unit, 'quantity', quantity, 'total', total, 'refunded', 0,
           'prepaid', fields[3], 'day', fields[4], 'month', fields[5], 'wallet', fields[6],
           'reservation', KEYS[1])
redis.call('PEXPIRE', KEYS[4], ARGV[8])
redis.call('HSET', KEYS[1], 'state', 'committed', 'order_id', ARGV[3], 'committed', total)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
redis.call('ZREM', KEYS[2], ARGV[6])
return {1, day_committed, month_committed, prepaid and 1 or 0, balance_after}
)lua");
  return kSource;
}

const std::string& releaseScriptSource() {
  // KEYS: reservation, pending set.
  // ARGV: pending member, lifetime of the settled reservation (ms).
  // Reply: {1, day committed, month committed}, {0} when not pending, {-1}
  //        for an unknown reservation.
  static const std::string kSource = withHelpers(R"lua(
local fields = redis.call('HMGET', KEYS[1], 'state', 'amount', 'prepaid', 'day', 'month', 'wallet')
if not fields[1] then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return {-1}
end
if fields[1] ~= 'pending' then return {0} end
local reserved = number(fields[2])
unhold(fields[4], reserved)
unhold(fields[5], reserved)
if fields[3] == '1' then unhold(fields[6], reserved) end
redis.call('HSET', KEYS[1], 'state', 'released')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1])
return {1, add_committed(fields[4], 0), add_committed(fields[5], 0)}
)lua");
  return kSource;
}

const std::string& refundScriptSource() {
  // KEYS: order record, ledger.
  // ARGV: refund id, refunded item count, now (Unix ms), transaction id,
  //       request id, order id.
  // Reply: {1, credit, day committed, month committed, prepaid (1/0),
  //        balance after}, {0} when this refund was credited before, {-1}
  //        when the order is not recorded.
  static const std::string kSource = withHelpers(R"lua(
local order = redis.call('HMGET', KEYS[1], 'unit', 'total', 'refunded', 'prepaid', 'day', 'month',
                         'wallet')
if not order[1] then return {-1} end
local refund_field = 'refund:' .. ARGV[1]
if redis.call('HEXISTS', KEYS[1], refund_field) == 1 then return {0} end

-- Never more than what the order cost minus what was credited before.
local unit, total, refunded = number(order[1]), number(order[2]), number(order[3])
local credit = math.max(math.min(unit * tonumber(ARGV[2]), total - refunded), 0)
redis.call('HSET', KEYS[1], 'refunded', refunded + credit, refund_field, credit)

local day_committed = add_committed(order[5], -credit)
local month_committed = add_committed(order[6], -credit)
local prepaid = order[4] == '1'
local balance_after = 0
if prepaid then balance_after = redis.call('HINCRBY', order[7], 'balance', credit) end

local entry = {transaction_id = ARGV[4], type = 'refund', amount = credit, order_id = ARGV[6],
               refund_id = ARGV[1], created_ms = tonumber(ARGV[3]), request_id = ARGV[5]}
if prepaid then entry.balance_after = balance_after end
redis.call('RPUSH', KEYS[2], cjson.encode(entry))
return {1, credit, day_committed, month_committed, prepaid and 1 or 0, balance_after}
)lua");
  return kSource;
}

const std::string& walletScriptSource() {
  // KEYS: wallet, ledger.
  // ARGV: change (cents, may be negative), entry type, now (Unix ms),
  //       transaction id, operator, reason.
  // Reply: {1, balance after, reserved}, or {0, balance, reserved} when a
  //        debit would leave less than the reserved amount.
  static const std::string kSource = R"lua(
local values = redis.call('HMGET', KEYS[1], 'balance', 'reserved')
local balance, reserved = tonumber(values[1]) or 0, tonumber(values[2]) or 0
local change = tonumber(ARGV[1])
local after = balance + change
if change < 0 and after < reserved then return {0, balance, reserved} end
redis.call('HSET', KEYS[1], 'balance', after, 'reserved', reserved)
local entry = {transaction_id = ARGV[4], type = ARGV[2], amount = change, balance_after = after,
               created_ms = tonumber(ARGV[3]), operator = ARGV[5], reason = ARGV[6]}
redis.call('RPUSH', KEYS[2], cjson.encode(entry))
return {1, after, reserved}
)lua";
  return kSource;
}

const std::string& balanceScriptSource() {
  // KEYS: wallet, day, month.
  // Reply: {balance, wallet reserved, day committed, day reserved,
  //        month committed, month reserved}.
  static const std::string kSource = R"lua(
local reply = {}
for i, pair in ipairs({{KEYS[1], 'balance', 'reserved'}, {KEYS[2], 'committed', 'reserved'},
                       {KEYS[3], 'committed', 'reserved'}}) do
  local values = redis.call('HMGET', pair[1], pair[2], pair[3])
  reply[#reply + 1] = tonumber(values[1]) or 0
  reply[#reply + 1] = tonumber(values[2]) or 0
end
return reply
)lua";
  return kSource;
}

const std::string& ledgerScriptSource() {
  // KEYS: ledger. ARGV: first index, last index (inclusive).
  // Reply: {length, entry...}.
  static const std::string kSource = R"lua(
local reply = {redis.call('LLEN', KEYS[1])}
for _, entry in ipairs(redis.call('LRANGE', KEYS[1], ARGV[1], ARGV[2])) do
  reply[#reply + 1] = entry
end
return reply
)lua";
  return kSource;
}

const std::string& claimScriptSource() {
  // KEYS: pending set. ARGV: now (Unix ms), claimed until (Unix ms), count.
  // Reply: the claimed members.
  static const std::string kSource = R"lua(
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], member)
end
return due
)lua";
  return kSource;
}

}  // namespace fdgw::spend
