#pragma once

// An exact decimal reference for markup prices, shared by the unit and
// integration tests. It works on decimal digit strings and finds rounded
// values by searching for the multiplier that satisfies each rule's
// definition, instead of dividing as the gateway does.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace fdgw::testing {

// A non-negative decimal: the integer `digits` times 10^-scale.
struct Decimal {
  std::string digits;
  int scale = 0;
};

inline Decimal decimalFromText(const std::string& text) {
  const auto point = text.find('.');
  if (point == std::string::npos) return Decimal{text, 0};
  return Decimal{text.substr(0, point) + text.substr(point + 1),
                 static_cast<int>(text.size() - point - 1)};
}

inline Decimal withScale(Decimal value, int scale) {
  value.digits.append(static_cast<std::size_t>(scale - value.scale), '0');
  value.scale = scale;
  return value;
}

inline std::string withoutLeadingZeros(const std::string& digits) {
  const auto first = digits.find_first_not_of('0');
  return first == std::string::npos ? "0" : digits.substr(first);
}

// Returns -1, 0 or 1.
inline int compareDecimals(const Decimal& left, const Decimal& right) {
  const int scale = std::max(left.scale, right.scale);
  const std::string a = withoutLeadingZeros(withScale(left, scale).digits);
  const std::string b = withoutLeadingZeros(withScale(right, scale).digits);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  if (a == b) return 0;
  return a < b ? -1 : 1;
}

inline Decimal addDecimals(const Decimal& left, const Decimal& right) {
  const int scale = std::max(left.scale, right.scale);
  const std::string a = withScale(left, scale).digits;
  const std::string b = withScale(right, scale).digits;
  std::string sum;
  int carry = 0;
  for (std::size_t i = 0; i < std::max(a.size(), b.size()) || carry != 0; ++i) {
    const int x = i < a.size() ? a[a.size() - 1 - i] - '0' : 0;
    const int y = i < b.size() ? b[b.size() - 1 - i] - '0' : 0;
    const int column = x + y + carry;
    sum.push_back(static_cast<char>('0' + column % 10));
    carry = column / 10;
  }
  std::reverse(sum.begin(), sum.end());
  return Decimal{sum, scale};
}

inline Decimal multiplyDecimals(const Decimal& left, const Decimal& right) {
  const std::string& a = left.digits;
  const std::string& b = right.digits;
  std::vector<int> columns(a.size() + b.size(), 0);
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t j = 0; j < b.size(); ++j) {
      columns[i + j + 1] += (a[i] - '0') * (b[j] - '0');
    }
  }
  for (std::size_t k = columns.size() - 1; k > 0; --k) {
    columns[k - 1] += columns[k] / 10;
    columns[k] %= 10;
  }
  std::string product;
  for (int column : columns) product.push_back(static_cast<char>('0' + column));
  return Decimal{product, left.scale + right.scale};
}

inline Decimal maxDecimal(const Decimal& left, const Decimal& right) {
  return compareDecimals(left, right) >= 0 ? left : right;
}

inline Decimal wholeNumber(std::uint64_t value) { return Decimal{std::to_string(value), 0}; }

inline long double approximateValue(const Decimal& value) {
  return std::stold(value.digits) / std::pow(10.0L, value.scale);
}

// Returns the smallest k >= 0 for which `reaches(k * step)` is true, where
// `reaches` is monotone in k. A long double estimate of value / step only
// picks where the search starts. The window is widened until the exact
// predicate brackets the result and then bisected, so the estimate's error
// cannot change the result.
template <typename Predicate>
std::uint64_t smallestMultiplier(const Decimal& step, const Decimal& value, Predicate reaches) {
  const auto reachesAt = [&](std::uint64_t k) { return reaches(multiplyDecimals(wholeNumber(k), step)); };
  const auto estimate = static_cast<std::uint64_t>(approximateValue(value) / approximateValue(step));

  std::uint64_t low = estimate > 2 ? estimate - 2 : 0;
  while (low > 0 && reachesAt(low)) low /= 2;
  std::uint64_t high = estimate + 2;
  while (!reachesAt(high)) high *= 2;

  while (low < high) {
    const std::uint64_t middle = low + (high - low) / 2;
    if (reachesAt(middle)) {
      high = middle;
    } else {
      low = middle + 1;
    }
  }
  return low;
}

// One rule set written as the decimal text of a policy file. An empty string
// means the field is unset.
struct RuleText {
  std::string percent;
  std::string fixed;
  std::string min_margin;
  std::string rounding_mode;  // "nearest", "up", "ending" or ""
  std::string rounding_amount;
  std::string fixed_price;
};

// Reference price in major units, computed from the rule definitions.
inline Decimal referencePrice(const Decimal& cost, const RuleText& rule) {
  const Decimal zero{"0", 0};
  const Decimal floor =
      addDecimals(cost, rule.min_margin.empty() ? zero : decimalFromText(rule.min_margin));
  if (!rule.fixed_price.empty()) return maxDecimal(decimalFromText(rule.fixed_price), floor);

  // percent / 100 is the percent's digits with the scale raised by two.
  Decimal percent = decimalFromText(rule.percent.empty() ? "0" : rule.percent);
  percent.scale += 2;
  const Decimal factor = addDecimals(Decimal{"1", 0}, percent);
  const Decimal raw = addDecimals(multiplyDecimals(cost, factor),
                                  rule.fixed.empty() ? zero : decimalFromText(rule.fixed));
  const Decimal value = maxDecimal(raw, floor);

  Decimal rounded;
  Decimal step;
  if (rule.rounding_mode == "ending") {
    // Smallest n + ending >= value, n whole.
    const Decimal ending_amount = decimalFromText(rule.rounding_amount);
    step = Decimal{"1", 0};
    const std::uint64_t n = smallestMultiplier(step, value, [&](const Decimal& whole) {
      return compareDecimals(addDecimals(whole, ending_amount), value) >= 0;
    });
    rounded = addDecimals(wholeNumber(n), ending_amount);
  } else if (rule.rounding_mode == "up") {
    // Smallest k * step >= value.
    step = decimalFromText(rule.rounding_amount);
    const std::uint64_t k = smallestMultiplier(
        step, value, [&](const Decimal& multiple) { return compareDecimals(multiple, value) >= 0; });
    rounded = multiplyDecimals(wholeNumber(k), step);
  } else {
    // Half up: the k * step nearest to value, the larger one on a tie, which
    // is the smallest multiple with multiple + step / 2 > value.
    step = decimalFromText(rule.rounding_mode == "nearest" ? rule.rounding_amount : "0.01");
    const Decimal half_step = multiplyDecimals(step, Decimal{"5", 1});
    const std::uint64_t k = smallestMultiplier(step, value, [&](const Decimal& multiple) {
      return compareDecimals(addDecimals(multiple, half_step), value) > 0;
    });
    rounded = multiplyDecimals(wholeNumber(k), step);
  }

  if (compareDecimals(rounded, floor) < 0) rounded = addDecimals(rounded, step);
  return rounded;
}

}  // namespace fdgw::testing
