#include "gateway/proxy/route_matcher.h"

#include <algorithm>

#include "gateway/common/text.h"

namespace fdgw::proxy {
namespace {

constexpr std::size_t kMaxParameterLength = 128;

bool isUnreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool isValidParameter(std::string_view segment) {
  if (segment.empty() || segment.size() > kMaxParameterLength) return false;
  return std::all_of(segment.begin(), segment.end(),
                     [](char c) { return isUnreserved(static_cast<unsigned char>(c)); });
}

std::string percentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  encoded.reserve(text.size());
  for (unsigned char c : text) {
    if (isUnreserved(c)) {
      encoded.push_back(static_cast<char>(c));
    } else {
      encoded.push_back('%');
      encoded.push_back(kHex[c >> 4]);
      encoded.push_back(kHex[c & 0x0f]);
    }
  }
  return encoded;
}

}  // namespace

RouteMatcher::RouteMatcher() {
  for (std::size_t i = 0; i < common::kRoutes.size(); ++i) {
    Template entry{i, {}};
    for (auto segment : common::split(common::kRoutes[i].path, '/')) {
      if (!segment.empty()) entry.segments.emplace_back(segment);
    }
    templates_.push_back(std::move(entry));
  }
}

std::variant<RouteMatch, PathProblem> RouteMatcher::match(std::string_view method,
                                                          std::string_view raw_path) const {
  if (raw_path.empty() || raw_path.front() != '/') return PathProblem::kNotFound;
  const auto decoded = common::percentDecode(raw_path);
  if (!decoded) return PathProblem::kMalformedEscape;

  std::vector<std::string_view> segments;
  for (auto segment : common::split(*decoded, '/')) {
    if (segment.empty()) continue;
    if (segment == "." || segment == "..") return PathProblem::kNotFound;
    segments.push_back(segment);
  }

  // A literal segment beats a parameter (GET /tickets/categories is not
  // tickets.get), so the match with the fewest parameters wins.
  std::optional<RouteMatch> best;
  for (const auto& entry : templates_) {
    const auto& route = common::kRoutes[entry.route_index];
    if (route.method != method || entry.segments.size() != segments.size()) continue;

    RouteMatch result;
    result.route_index = entry.route_index;
    bool matched = true;
    for (std::size_t i = 0; i < segments.size() && matched; ++i) {
      const std::string& expected = entry.segments[i];
      if (expected.front() == '{') {
        matched = isValidParameter(segments[i]);
        if (matched) result.parameters.emplace_back(segments[i]);
        result.upstream_path += "/" + std::string(segments[i]);
      } else {
        matched = common::equalsIgnoreCase(expected, segments[i]);
        result.upstream_path += "/" + expected;
      }
    }
    if (matched && (!best || result.parameters.size() < best->parameters.size())) {
      best = std::move(result);
    }
  }
  if (best) return *std::move(best);
  return PathProblem::kNotFound;
}

std::string encodeQuery(common::QueryParameters decoded) {
  std::sort(decoded.begin(), decoded.end());
  std::string query;
  for (const auto& [name, value] : decoded) {
    query += query.empty() ? "?" : "&";
    query += percentEncode(name) + "=" + percentEncode(value);
  }
  return query;
}

std::optional<std::string> canonicalQuery(
    const std::vector<std::pair<std::string, std::string>>& raw_parameters) {
  common::QueryParameters decoded;
  for (const auto& [raw_name, raw_value] : raw_parameters) {
    auto name = common::percentDecode(raw_name);
    auto value = common::percentDecode(raw_value);
    if (!name || !value) return std::nullopt;
    decoded.emplace_back(std::move(*name), std::move(*value));
  }
  return encodeQuery(std::move(decoded));
}

}  // namespace fdgw::proxy
