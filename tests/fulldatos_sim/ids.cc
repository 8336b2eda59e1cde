#include "ids.h"

#include <cstdio>
#include <ctime>

#include "random.h"

namespace fdsim {

std::string formatTimestamp(Clock::time_point time) {
  const auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  const std::time_t seconds = static_cast<std::time_t>(since_epoch.count() / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(since_epoch.count() % 1000));
  return text;
}

std::string formatDate(Clock::time_point time) { return formatTimestamp(time).substr(0, 10); }

std::uint64_t IdGenerator::nextValue() { return mix64(seed_ * 0x100000001B3ULL + ++counter_); }

std::string IdGenerator::next(std::string_view prefix) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(nextValue()));
  return std::string(prefix) + hex;
}

std::string IdGenerator::nextIccid() {
  // 89 52 01 + 13 serial digits = 19 digits, then the Luhn check digit.
  char serial[16];
  std::snprintf(serial, sizeof serial, "%013llu",
                static_cast<unsigned long long>(nextValue() % 10'000'000'000'000ULL));
  std::string digits = std::string("895201") + serial;

  // Luhn: double every second digit counting from the right of the payload,
  // starting with the rightmost payload digit.
  int sum = 0;
  bool double_it = true;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int digit = *it - '0';
    if (double_it) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double_it = !double_it;
  }
  digits.push_back(static_cast<char>('0' + (10 - sum % 10) % 10));
  return digits;
}

std::string IdGenerator::nextMatchingId() {
  const std::uint64_t high = nextValue();
  const std::uint64_t low = nextValue();
  char text[40];
  std::snprintf(text, sizeof text, "%08llX-%08llX-%08llX-%08llX", static_cast<unsigned long long>(high >> 32),
                static_cast<unsigned long long>(high & 0xFFFFFFFFULL), static_cast<unsigned long long>(low >> 32),
                static_cast<unsigned long long>(low & 0xFFFFFFFFULL));
  return text;
}

}  // namespace fdsim
