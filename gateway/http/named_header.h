#pragma once

#include <pistache/http_header.h>

#include <cstdint>
#include <functional>
#include <string>

namespace fdgw::http {

// A response header with a name chosen at run time. Pistache 0.0.5 writes
// only typed headers to the wire, so custom headers such as X-Request-Id
// need a Header subclass.
class NamedHeader final : public Pistache::Http::Header::Header {
 public:
  NamedHeader(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}

  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& stream) const override { stream << value_; }
#ifdef SAFE_HEADER_CAST
  std::uint64_t hash() const override { return std::hash<std::string>{}(name_); }
#endif

 private:
  std::string name_;
  std::string value_;
};

}  // namespace fdgw::http
