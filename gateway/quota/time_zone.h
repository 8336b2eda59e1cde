#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace fdgw::quota {

// The UTC offsets of one IANA time zone, read from a TZif file of the system
// time zone database. Immutable, so safe to share between threads. Nothing
// here reads or changes the process's TZ.
//
// NOTE: instants after the file's last transition use the last offset, and the
// POSIX rule in the file's footer is not applied. Debian's "fat" zoneinfo
// files list transitions up to 2037.
class TimeZone {
 public:
  static std::shared_ptr<const TimeZone> utc();

  // Reads `file`, or returns nullptr when it is missing or not TZif.
  static std::shared_ptr<const TimeZone> load(const std::filesystem::path& file);

  // Returns local time minus UTC, in seconds, at the instant `utc_seconds`.
  std::int64_t offsetAt(std::int64_t utc_seconds) const;

  // Converts local wall-clock seconds (as if the local time were UTC) to a
  // UTC instant. A time skipped by a DST change maps to a nearby instant.
  std::int64_t localToUtc(std::int64_t local_seconds) const;

 private:
  std::vector<std::int64_t> transitions_;  // UTC seconds, ascending
  std::vector<std::int32_t> offsets_;      // offset in effect from transitions_[i]
  std::int32_t initial_offset_ = 0;        // offset before the first transition
};

// One calendar month in a zone, as UTC instants in seconds.
struct CalendarMonth {
  int year = 1970;
  int month = 1;  // 1..12
  std::int64_t start = 0;
  std::int64_t end = 0;  // the start of the next month
};

CalendarMonth calendarMonthAt(std::int64_t utc_seconds, const TimeZone& zone);

// One calendar day in a zone, as UTC instants in seconds. A day with a DST
// change lasts 23 or 25 hours.
struct CalendarDay {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  std::int64_t start = 0;
  std::int64_t end = 0;  // the start of the next day
};

CalendarDay calendarDayAt(std::int64_t utc_seconds, const TimeZone& zone);

// Loads each zone once. Thread-safe.
class TimeZoneCache {
 public:
  explicit TimeZoneCache(std::filesystem::path zoneinfo_dir = "/usr/share/zoneinfo");

  // Returns the zone `name`, or nullptr when it cannot be loaded.
  std::shared_ptr<const TimeZone> find(const std::string& name);

 private:
  std::filesystem::path dir_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const TimeZone>> zones_;
};

}  // namespace fdgw::quota
