#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gateway/pricing/money.h"

namespace fdgw::pricing {

// Maximum nesting of arrays and objects that rewriteMoney accepts. The root
// container is level 1, so a document of 64 nested arrays passes and 65 fail.
inline constexpr std::size_t kMaxJsonNestingDepth = 64;

// Path element that matches any array index or any object key.
inline constexpr std::string_view kAnyPathElement = "*";

// Object keys and array indexes from the document root to a value. Keys are
// unescaped UTF-8 text and indexes are decimal text, so {"data", "0", "price"}
// is the price of the first element of "data".
using JsonPath = std::vector<std::string>;

// A place in a document where money objects sit, such as
// {"data", "*", "price"}.
// NOTE: an index and a key with the same text are the same path element, so
// "0" matches both data[0] and data["0"], and a site cannot match only a key
// that is literally "*".
struct MoneySite {
  JsonPath path;
};

// One money object that rewriteMoney found at a matching site.
struct MoneyOccurrence {
  JsonPath path;  // concrete path of the money object, without wildcards
  Money amount;   // the upstream amounts, read as parseMoney reads them
  // Raw text of the nearest object that contains the money object, such as
  // the whole offer around its "price", for the caller to parse for sku,
  // countries and other facts. Empty when no object contains the money object.
  // The view points into the document passed to rewriteMoney.
  // NOTE: rewriteMoney accepts numbers of any magnitude, such as 1e999, which
  // nlohmann::json rejects as an overflow, so parsing this text can still fail.
  std::string_view enclosing_object;
};

// Returns the new amounts for one occurrence, std::nullopt to leave it
// unchanged, or an error that aborts the whole rewrite.
using MoneyRewrite =
    std::function<std::variant<std::optional<Money>, PricingError>(const MoneyOccurrence& occurrence)>;

// A place in a document where plain numbers sit, such as
// {"data", "transactions", "*", "amount"}.
struct NumberSite {
  JsonPath path;
};

// One number token that rewriteJsonAmounts found at a number site.
struct NumberOccurrence {
  JsonPath path;
  std::string_view token;             // the number as the document spells it
  std::string_view enclosing_object;  // raw text of the nearest containing object, or empty
};

// Returns the replacement text for one number (any JSON value, such as
// "-23.99" or "null"), std::nullopt to keep it, or an error that aborts the
// whole rewrite.
using NumberRewrite =
    std::function<std::variant<std::optional<std::string>, PricingError>(const NumberOccurrence& occurrence)>;

// Returns whether `path` has the length of `pattern` and equals it in every
// element that is not kAnyPathElement.
bool matchesPath(const JsonPath& pattern, const JsonPath& path);

// Writes minor units as the shortest decimal text in major units, with no
// exponent and no trailing zeros: 2399 -> "23.99", 450 -> "4.5", 1200 -> "12",
// 5 -> "0.05", -150 -> "-1.5".
std::string majorUnitsText(std::int64_t minor_units);

// Rewrites the amounts of the money objects at `sites` without re-serialising
// the document. The document is validated completely (RFC 8259 syntax, UTF-8,
// nesting up to kMaxJsonNestingDepth) before `rewrite` runs. `rewrite` is then
// called once per money object at a matching site, in document order.
// The result has the bytes of `document` except the number tokens of "usd" and
// "mxn" whose amount the callback changed, which become majorUnitsText of the
// new amount. A token whose amount stays the same keeps its original spelling,
// such as "4.50".
// Fails on malformed JSON and on a value at a matching site that is not an
// object with exactly one numeric "usd" and one numeric "mxn". Other keys in a
// money object are allowed and kept. Also fails on an amount that
// parseMinorUnits rejects, on a new amount outside 0 to kMaxMinorUnits, and
// with any error that `rewrite` returns.
// NOTE: amounts are read like parseMinorUnits reads them, through a double, so
// upstream text with more than 15 significant digits is rounded before the
// callback sees it.
std::variant<std::string, PricingError> rewriteMoney(std::string_view document,
                                                     const std::vector<MoneySite>& sites,
                                                     const MoneyRewrite& rewrite);

// Does what rewriteMoney does and also calls `number_rewrite` for every number
// token at `number_sites`, in document order. Values of another type at a
// number site are left alone, except that an object at a path that is also
// a money site is read as money.
// NOTE: the number callback's text is inserted as given, so it must be a valid
// JSON value.
std::variant<std::string, PricingError> rewriteJsonAmounts(std::string_view document,
                                                           const std::vector<MoneySite>& money_sites,
                                                           const MoneyRewrite& money_rewrite,
                                                           const std::vector<NumberSite>& number_sites,
                                                           const NumberRewrite& number_rewrite);

// Validates `document` as rewriteMoney does and returns the raw text of every
// element of the arrays at `array_path` (wildcards allowed), in document order.
// The views point into `document`.
std::variant<std::vector<std::string_view>, PricingError> arrayElements(std::string_view document,
                                                                      const JsonPath& array_path);

// Returns the new text of a string value, or std::nullopt to keep it. `key`
// is the object key of the value and `value` its unescaped UTF-8 text.
using StringRewrite = std::function<std::optional<std::string>(const std::string& key, const std::string& value)>;

// Validates `document` as rewriteMoney does and calls `rewrite` for every
// string value whose object key is one of `keys`, at any depth. A replaced
// value is written as a JSON string with nlohmann::json's escaping; every
// other byte is kept.
std::variant<std::string, PricingError> rewriteStrings(std::string_view document,
                                                       const std::vector<std::string>& keys,
                                                       const StringRewrite& rewrite);

}  // namespace fdgw::pricing
