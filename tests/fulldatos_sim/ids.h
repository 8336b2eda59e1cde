// Identifier, ICCID and timestamp generation.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace fdsim {

using Clock = std::chrono::system_clock;

// ISO 8601 UTC with milliseconds, such as "2025-03-01T12:30:05.123Z".
std::string formatTimestamp(Clock::time_point time);

// "YYYY-MM-DD" of `time` in UTC.
std::string formatDate(Clock::time_point time);

// Generates unique ids that look random. Each id is the mix of a seed and a
// counter, and the mix is a bijection, so ids never repeat within a run.
// Not thread-safe: the store calls it under its lock.
class IdGenerator {
 public:
  explicit IdGenerator(std::uint64_t seed) : seed_(seed) {}

  // `prefix` followed by 16 lower-case hex digits, such as "ord_3f9c0a1b2d4e5f60".
  std::string next(std::string_view prefix);

  // A 20-digit ICCID starting with 89 (telecom), 52 (Mexico's country code)
  // and ending with a Luhn check digit.
  std::string nextIccid();

  // 32 upper-case hex digits in four groups, used as the SM-DP+ matching id.
  std::string nextMatchingId();

 private:
  std::uint64_t nextValue();

  std::uint64_t seed_;
  std::uint64_t counter_ = 0;
};

}  // namespace fdsim
