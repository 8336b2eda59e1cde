#include "gateway/quota/time_zone.h"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <iterator>
#include <optional>

namespace fdgw::quota {
namespace {

constexpr std::size_t kHeaderSize = 44;
constexpr std::size_t kMaxFileSize = 1 << 20;

std::int64_t readBigEndian(const std::string& data, std::size_t offset, std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    value = (value << 8) | static_cast<unsigned char>(data[offset + i]);
  }
  // Sign-extend 32-bit fields.
  if (width == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(value));
  return static_cast<std::int64_t>(value);
}

// The six counts of a TZif header (RFC 8536, section 3.1).
struct TzifCounts {
  std::size_t utc_indicators, standard_indicators, leap_seconds, transitions, types, chars;

  std::size_t dataSize(std::size_t time_width) const {
    return transitions * time_width + transitions + types * 6 + chars +
           leap_seconds * (time_width + 4) + standard_indicators + utc_indicators;
  }
};

std::optional<TzifCounts> readHeader(const std::string& data, std::size_t offset) {
  if (data.size() < offset + kHeaderSize || data.compare(offset, 4, "TZif") != 0) {
    return std::nullopt;
  }
  auto count = [&](int index) {
    return static_cast<std::size_t>(readBigEndian(data, offset + 20 + 4 * index, 4));
  };
  return TzifCounts{count(0), count(1), count(2), count(3), count(4), count(5)};
}

std::int64_t civilToSeconds(int year, int month, int day) {
  std::tm parts{};
  parts.tm_year = year - 1900;
  parts.tm_mon = month - 1;  // timegm normalises month 12 to January of the next year
  parts.tm_mday = day;
  return static_cast<std::int64_t>(timegm(&parts));
}

// Splits the local wall-clock time of the instant `utc_seconds` in `zone`.
std::tm localParts(std::int64_t utc_seconds, const TimeZone& zone) {
  const std::time_t local = static_cast<std::time_t>(utc_seconds + zone.offsetAt(utc_seconds));
  std::tm parts{};
  gmtime_r(&local, &parts);
  return parts;
}

}  // namespace

std::shared_ptr<const TimeZone> TimeZone::utc() {
  static const auto zone = std::make_shared<const TimeZone>();
  return zone;
}

std::shared_ptr<const TimeZone> TimeZone::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return nullptr;
  std::string data;
  data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (data.size() > kMaxFileSize) return nullptr;

  const auto first = readHeader(data, 0);
  if (!first) return nullptr;
  // Version 2 and later repeat the data with 64-bit times after the
  // version 1 block, and those are the ones to use.
  std::size_t offset = 0;
  std::size_t time_width = 4;
  TzifCounts counts = *first;
  if (data[4] >= '2') {
    const std::size_t second_header = kHeaderSize + first->dataSize(4);
    const auto second = readHeader(data, second_header);
    if (!second) return nullptr;
    offset = second_header;
    time_width = 8;
    counts = *second;
  }
  const std::size_t body = offset + kHeaderSize;
  if (counts.types == 0 || data.size() < body + counts.dataSize(time_width)) return nullptr;

  const std::size_t type_indices = body + counts.transitions * time_width;
  const std::size_t type_records = type_indices + counts.transitions;
  auto typeOffset = [&](std::size_t type) {
    return static_cast<std::int32_t>(readBigEndian(data, type_records + 6 * type, 4));
  };

  auto zone = std::make_shared<TimeZone>();
  zone->initial_offset_ = typeOffset(0);
  zone->transitions_.reserve(counts.transitions);
  zone->offsets_.reserve(counts.transitions);
  for (std::size_t i = 0; i < counts.transitions; ++i) {
    const auto type = static_cast<unsigned char>(data[type_indices + i]);
    if (type >= counts.types) return nullptr;
    zone->transitions_.push_back(readBigEndian(data, body + i * time_width, time_width));
    zone->offsets_.push_back(typeOffset(type));
  }
  return zone;
}

std::int64_t TimeZone::offsetAt(std::int64_t utc_seconds) const {
  const auto after = std::upper_bound(transitions_.begin(), transitions_.end(), utc_seconds);
  if (after == transitions_.begin()) return initial_offset_;
  return offsets_[static_cast<std::size_t>(after - transitions_.begin()) - 1];
}

std::int64_t TimeZone::localToUtc(std::int64_t local_seconds) const {
  // The offset at `local_seconds` read as UTC is at most one transition
  // away from the right one, so a second step settles it.
  const std::int64_t guess = local_seconds - offsetAt(local_seconds);
  return local_seconds - offsetAt(guess);
}

CalendarMonth calendarMonthAt(std::int64_t utc_seconds, const TimeZone& zone) {
  const std::tm parts = localParts(utc_seconds, zone);

  CalendarMonth month;
  month.year = parts.tm_year + 1900;
  month.month = parts.tm_mon + 1;
  month.start = zone.localToUtc(civilToSeconds(month.year, month.month, 1));
  month.end = zone.localToUtc(civilToSeconds(month.year, month.month + 1, 1));
  return month;
}

CalendarDay calendarDayAt(std::int64_t utc_seconds, const TimeZone& zone) {
  const std::tm parts = localParts(utc_seconds, zone);

  CalendarDay day;
  day.year = parts.tm_year + 1900;
  day.month = parts.tm_mon + 1;
  day.day = parts.tm_mday;
  day.start = zone.localToUtc(civilToSeconds(day.year, day.month, day.day));
  day.end = zone.localToUtc(civilToSeconds(day.year, day.month, day.day + 1));
  return day;
}

TimeZoneCache::TimeZoneCache(std::filesystem::path zoneinfo_dir) : dir_(std::move(zoneinfo_dir)) {}

std::shared_ptr<const TimeZone> TimeZoneCache::find(const std::string& name) {
  if (name.empty() || name == "UTC" || name == "Etc/UTC") return TimeZone::utc();
  // Names come from validated config, but never let one leave the directory.
  if (name.front() == '/' || name.find("..") != std::string::npos) return nullptr;

  std::lock_guard lock(mutex_);
  auto found = zones_.find(name);
  if (found != zones_.end()) return found->second;
  auto zone = TimeZone::load(dir_ / name);
  zones_.emplace(name, zone);  // a failed load is remembered too, as nullptr
  return zone;
}

}  // namespace fdgw::quota
