#include "gateway/pricing/json_price_rewriter.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

namespace fdgw::pricing {
namespace {

// Position of one number token in the document.
struct TokenSpan {
  std::size_t offset = 0;
  std::size_t length = 0;
};

// A money object that the scanner found, before the callback runs.
struct FoundMoney {
  JsonPath path;
  Money amount;
  TokenSpan usd;
  TokenSpan mxn;
  TokenSpan enclosing_object;  // length 0 when no object contains the money object
};

// A number token at a number site, before the callback runs.
struct FoundNumber {
  JsonPath path;
  TokenSpan token;
  TokenSpan enclosing_object;  // length 0 when no object contains the number
};

// A string value of a watched object key.
struct FoundString {
  std::string key;
  std::string value;  // unescaped UTF-8
  TokenSpan token;    // including the quotes
};

// Number tokens of "usd" and "mxn" among the direct members of a money object.
struct MoneyMembers {
  std::optional<TokenSpan> usd;
  std::optional<TokenSpan> mxn;
};

// An object that is open while the scanner reads its members.
struct OpenObject {
  std::size_t offset = 0;
  std::vector<std::size_t> enclosed_money;    // indexes into the found money objects
  std::vector<std::size_t> enclosed_numbers;  // indexes into the found numbers
};

std::string joinPath(const JsonPath& path) {
  if (path.empty()) return "(document root)";
  std::string text;
  for (const std::string& element : path) {
    if (!text.empty()) text += '/';
    text += element;
  }
  return text;
}

bool isJsonWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool isDigit(char c) { return c >= '0' && c <= '9'; }

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void appendUtf8(std::uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

// Reads the document in a single pass, validating it and recording every money
// object at a matching site. Each parse function expects the cursor at the
// first byte of its token and returns false after storing an error, so invalid
// input is reported as a value rather than an exception.
class MoneyScanner {
 public:
  MoneyScanner(std::string_view text, const std::vector<MoneySite>& sites,
               const std::vector<NumberSite>& number_sites)
      : text_(text), sites_(sites), number_sites_(number_sites) {}

  std::optional<PricingError> scan() {
    skipWhitespace();
    if (!parseValue()) return error_;
    skipWhitespace();
    if (pos_ != text_.size()) {
      fail("unexpected data after the end of the JSON value");
      return error_;
    }
    return std::nullopt;
  }

  std::vector<FoundMoney>& found() { return found_; }
  std::vector<FoundNumber>& foundNumbers() { return found_numbers_; }

  // Makes scan() record every string value of an object member named in
  // `keys`, at any depth.
  void collectStringsOf(const std::vector<std::string>& keys) { string_keys_ = &keys; }
  const std::vector<FoundString>& strings() const { return strings_; }

  // Makes scan() record the span of every element of the arrays at `path`.
  void collectElementsOf(JsonPath path) { element_parent_ = std::move(path); }
  const std::vector<TokenSpan>& elements() const { return elements_; }

 private:
  bool atEnd() const { return pos_ >= text_.size(); }
  char peek() const { return atEnd() ? '\0' : text_[pos_]; }

  void skipWhitespace() {
    while (!atEnd() && isJsonWhitespace(text_[pos_])) ++pos_;
  }

  bool fail(std::string_view problem) {
    if (atEnd()) {
      error_ = PricingError{"invalid JSON: " + std::string(problem) + " (the document ends after " +
                            std::to_string(text_.size()) + " bytes)"};
    } else {
      error_ = PricingError{"invalid JSON at byte " + std::to_string(pos_) + ": " + std::string(problem)};
    }
    return false;
  }

  bool failMoney(std::string_view problem) {
    error_ = PricingError{"money object at " + joinPath(path_) + " " + std::string(problem) +
                          "; expected an object such as {\"usd\": 4.5, \"mxn\": 81.9}"};
    return false;
  }

  bool pathMatchesSite() const {
    return std::any_of(sites_.begin(), sites_.end(),
                       [this](const MoneySite& site) { return matchesPath(site.path, path_); });
  }

  bool pathMatchesNumberSite() const {
    return std::any_of(number_sites_.begin(), number_sites_.end(),
                       [this](const NumberSite& site) { return matchesPath(site.path, path_); });
  }

  bool parseValue() {
    if ((peek() == '-' || isDigit(peek())) && !number_sites_.empty() && pathMatchesNumberSite()) {
      const std::size_t start = pos_;
      if (!parseNumber()) return false;
      if (!open_objects_.empty()) open_objects_.back().enclosed_numbers.push_back(found_numbers_.size());
      found_numbers_.push_back(FoundNumber{path_, TokenSpan{start, pos_ - start}, TokenSpan{}});
      return true;
    }
    if (pathMatchesSite()) {
      if (peek() != '{') return atEnd() ? fail("expected a value") : failMoney("is not an object");
      return parseMoneyObject();
    }

    switch (peek()) {
      case '{':
        return parseObject(nullptr);
      case '[':
        return parseArray();
      case '"':
        return parseString(nullptr);
      case 't':
        return parseLiteral("true");
      case 'f':
        return parseLiteral("false");
      case 'n':
        return parseLiteral("null");
      default:
        if (peek() == '-' || isDigit(peek())) return parseNumber();
        return fail("expected a value");
    }
  }

  bool parseMoneyObject() {
    MoneyMembers members;
    if (!parseObject(&members)) return false;

    if (!members.usd) return failMoney("is missing a numeric \"usd\"");
    if (!members.mxn) return failMoney("is missing a numeric \"mxn\"");

    FoundMoney money{path_, Money{}, *members.usd, *members.mxn, TokenSpan{}};
    if (!readAmount(money.usd, "usd", money.amount.usd)) return false;
    if (!readAmount(money.mxn, "mxn", money.amount.mxn)) return false;

    // The money object's own frame is closed, so the innermost open object,
    // if any, is the one that contains it.
    if (!open_objects_.empty()) open_objects_.back().enclosed_money.push_back(found_.size());
    found_.push_back(std::move(money));
    return true;
  }

  // Reads a validated number token with parseMinorUnits.
  bool readAmount(TokenSpan span, std::string_view key, std::int64_t& minor_units) {
    const std::string_view token = text_.substr(span.offset, span.length);
    const nlohmann::json number = nlohmann::json::parse(token, nullptr, /*allow_exceptions=*/false);
    auto parsed = parseMinorUnits(number);
    if (const auto* error = std::get_if<PricingError>(&parsed)) {
      return failMoney("has an invalid \"" + std::string(key) + "\": " + error->message);
    }
    minor_units = std::get<std::int64_t>(parsed);
    return true;
  }

  // Parses an object. With `money`, also records the number tokens of its
  // direct "usd" and "mxn" members.
  bool parseObject(MoneyMembers* money) {
    if (++depth_ > kMaxJsonNestingDepth) {
      return fail("nesting is deeper than " + std::to_string(kMaxJsonNestingDepth) + " levels");
    }
    open_objects_.push_back(OpenObject{pos_, {}});
    ++pos_;  // '{'

    skipWhitespace();
    if (peek() == '}') return closeObject();

    while (true) {
      if (peek() != '"') return fail("expected a string key");
      std::string key;
      if (!parseString(&key)) return false;

      skipWhitespace();
      if (peek() != ':') return fail("expected ':' after an object key");
      ++pos_;
      skipWhitespace();

      if (money != nullptr && (key == "usd" || key == "mxn")) {
        if (!parseMoneyMember(*money, key)) return false;
      } else if (peek() == '"' && string_keys_ != nullptr &&
                 std::find(string_keys_->begin(), string_keys_->end(), key) != string_keys_->end()) {
        const std::size_t start = pos_;
        std::string value;
        if (!parseString(&value)) return false;
        strings_.push_back(FoundString{std::move(key), std::move(value), TokenSpan{start, pos_ - start}});
      } else {
        path_.push_back(std::move(key));
        if (!parseValue()) return false;
        path_.pop_back();
      }

      skipWhitespace();
      if (peek() == ',') {
        ++pos_;
        skipWhitespace();
        continue;
      }
      if (peek() == '}') return closeObject();
      return fail("expected ',' or '}' after an object member");
    }
  }

  // Parses the value of "usd" or "mxn" in a money object. path_ is still the
  // path of the money object, so errors name it.
  bool parseMoneyMember(MoneyMembers& money, const std::string& key) {
    std::optional<TokenSpan>& slot = key == "usd" ? money.usd : money.mxn;
    if (slot) return failMoney("has \"" + key + "\" more than once");
    if (peek() != '-' && !isDigit(peek())) {
      if (atEnd()) return fail("expected a value");
      return failMoney("has a \"" + key + "\" that is not a number");
    }

    const std::size_t start = pos_;
    if (!parseNumber()) return false;
    slot = TokenSpan{start, pos_ - start};
    return true;
  }

  bool closeObject() {
    ++pos_;  // '}'
    --depth_;
    const TokenSpan span{open_objects_.back().offset, pos_ - open_objects_.back().offset};
    for (std::size_t index : open_objects_.back().enclosed_money) found_[index].enclosing_object = span;
    for (std::size_t index : open_objects_.back().enclosed_numbers) {
      found_numbers_[index].enclosing_object = span;
    }
    open_objects_.pop_back();
    return true;
  }

  bool parseArray() {
    if (++depth_ > kMaxJsonNestingDepth) {
      return fail("nesting is deeper than " + std::to_string(kMaxJsonNestingDepth) + " levels");
    }
    ++pos_;  // '['

    skipWhitespace();
    if (peek() == ']') {
      ++pos_;
      --depth_;
      return true;
    }

    const bool collect = element_parent_ && matchesPath(*element_parent_, path_);
    for (std::size_t index = 0;; ++index) {
      const std::size_t start = pos_;
      path_.push_back(std::to_string(index));
      if (!parseValue()) return false;
      path_.pop_back();
      if (collect) elements_.push_back(TokenSpan{start, pos_ - start});

      skipWhitespace();
      if (peek() == ',') {
        ++pos_;
        skipWhitespace();
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        --depth_;
        return true;
      }
      return fail("expected ',' or ']' after an array element");
    }
  }

  bool parseLiteral(std::string_view literal) {
    if (text_.substr(pos_, literal.size()) != literal) return fail("invalid literal, expected true, false or null");
    pos_ += literal.size();
    return true;
  }

  // Number grammar of RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool parseNumber() {
    if (peek() == '-') ++pos_;

    if (peek() == '0') {
      ++pos_;
    } else if (isDigit(peek())) {
      while (isDigit(peek())) ++pos_;
    } else {
      return fail("expected a digit in a number");
    }

    if (peek() == '.') {
      ++pos_;
      if (!isDigit(peek())) return fail("expected a digit after the decimal point");
      while (isDigit(peek())) ++pos_;
    }

    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!isDigit(peek())) return fail("expected a digit in the exponent");
      while (isDigit(peek())) ++pos_;
    }
    return true;
  }

  // Parses a string token. With `decoded`, also stores its unescaped UTF-8 text.
  bool parseString(std::string* decoded) {
    ++pos_;  // opening quote
    while (true) {
      if (atEnd()) return fail("unterminated string");
      const char c = text_[pos_];
      const auto byte = static_cast<unsigned char>(c);

      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        if (!parseEscape(decoded)) return false;
        continue;
      }
      if (byte < 0x20) return fail("unescaped control character in a string");
      if (byte >= 0x80) {
        const std::size_t start = pos_;
        if (!skipUtf8Sequence()) return false;
        if (decoded != nullptr) decoded->append(text_.substr(start, pos_ - start));
        continue;
      }

      if (decoded != nullptr) *decoded += c;
      ++pos_;
    }
  }

  bool parseEscape(std::string* decoded) {
    ++pos_;  // backslash
    if (atEnd()) return fail("unterminated escape sequence");

    char replacement = '\0';
    switch (text_[pos_]) {
      case '"': replacement = '"'; break;
      case '\\': replacement = '\\'; break;
      case '/': replacement = '/'; break;
      case 'b': replacement = '\b'; break;
      case 'f': replacement = '\f'; break;
      case 'n': replacement = '\n'; break;
      case 'r': replacement = '\r'; break;
      case 't': replacement = '\t'; break;
      case 'u': return parseUnicodeEscape(decoded);
      default: return fail("invalid escape sequence");
    }
    ++pos_;
    if (decoded != nullptr) *decoded += replacement;
    return true;
  }

  // Reads the four hex digits after "\u". The cursor is at the 'u'.
  bool readHexQuad(std::uint32_t& value) {
    ++pos_;  // 'u'
    if (text_.size() - pos_ < 4) {
      pos_ = text_.size();
      return fail("truncated \\u escape");
    }
    value = 0;
    for (int i = 0; i < 4; ++i) {
      const int digit = hexValue(text_[pos_]);
      if (digit < 0) return fail("expected four hex digits after \\u");
      value = value * 16 + static_cast<std::uint32_t>(digit);
      ++pos_;
    }
    return true;
  }

  // A \uD800-\uDBFF escape must be followed by a \uDC00-\uDFFF escape, and the
  // pair encodes one code point above U+FFFF. Either half alone is invalid.
  bool parseUnicodeEscape(std::string* decoded) {
    std::uint32_t code_point = 0;
    if (!readHexQuad(code_point)) return false;

    if (code_point >= 0xDC00 && code_point <= 0xDFFF) {
      pos_ -= 6;
      return fail("low surrogate escape without a preceding high surrogate");
    }
    if (code_point >= 0xD800 && code_point <= 0xDBFF) {
      if (text_.substr(pos_, 2) != "\\u") return fail("high surrogate escape without a following low surrogate");
      ++pos_;  // backslash
      std::uint32_t low = 0;
      if (!readHexQuad(low)) return false;
      if (low < 0xDC00 || low > 0xDFFF) {
        pos_ -= 6;
        return fail("high surrogate escape without a following low surrogate");
      }
      code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
    }

    if (decoded != nullptr) appendUtf8(code_point, *decoded);
    return true;
  }

  // Validates one multi-byte UTF-8 sequence (RFC 3629): no overlong forms, no
  // encoded surrogates and nothing above U+10FFFF.
  bool skipUtf8Sequence() {
    const auto lead = static_cast<unsigned char>(text_[pos_]);
    std::size_t continuation_count = 0;
    unsigned char second_min = 0x80;
    unsigned char second_max = 0xBF;

    if (lead >= 0xC2 && lead <= 0xDF) {
      continuation_count = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      continuation_count = 2;
      if (lead == 0xE0) second_min = 0xA0;
      if (lead == 0xED) second_max = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      continuation_count = 3;
      if (lead == 0xF0) second_min = 0x90;
      if (lead == 0xF4) second_max = 0x8F;
    } else {
      return fail("invalid UTF-8 lead byte in a string");
    }

    if (text_.size() - pos_ <= continuation_count) {
      pos_ = text_.size();
      return fail("truncated UTF-8 sequence in a string");
    }
    for (std::size_t i = 1; i <= continuation_count; ++i) {
      const auto byte = static_cast<unsigned char>(text_[pos_ + i]);
      const unsigned char min = i == 1 ? second_min : 0x80;
      const unsigned char max = i == 1 ? second_max : 0xBF;
      if (byte < min || byte > max) {
        pos_ += i;
        return fail("invalid UTF-8 continuation byte in a string");
      }
    }
    pos_ += continuation_count + 1;
    return true;
  }

  std::string_view text_;
  const std::vector<MoneySite>& sites_;
  const std::vector<NumberSite>& number_sites_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  JsonPath path_;
  std::vector<OpenObject> open_objects_;
  std::vector<FoundMoney> found_;
  std::vector<FoundNumber> found_numbers_;
  std::optional<JsonPath> element_parent_;
  const std::vector<std::string>* string_keys_ = nullptr;
  std::vector<FoundString> strings_;
  std::vector<TokenSpan> elements_;
  PricingError error_;
};

// One number token to replace, and its new text.
struct Replacement {
  TokenSpan span;
  std::string text;
};

std::optional<PricingError> checkNewAmount(std::int64_t minor_units, std::string_view key,
                                           const JsonPath& path) {
  if (minor_units >= 0 && minor_units <= kMaxMinorUnits) return std::nullopt;
  return PricingError{"rewritten money object at " + joinPath(path) + " has \"" + std::string(key) +
                      "\" " + majorUnitsText(minor_units) +
                      ", outside the allowed range 0 to 9999999999999.99"};
}

// Calls `rewrite` for each found money object and collects the tokens whose
// amount changed, in document order.
std::variant<std::vector<Replacement>, PricingError> collectReplacements(std::string_view document,
                                                                         const std::vector<FoundMoney>& found,
                                                                         const MoneyRewrite& rewrite) {
  std::vector<Replacement> replacements;
  for (const FoundMoney& money : found) {
    const std::string_view enclosing =
        document.substr(money.enclosing_object.offset, money.enclosing_object.length);
    auto result = rewrite(MoneyOccurrence{money.path, money.amount, enclosing});
    if (auto* error = std::get_if<PricingError>(&result)) {
      return PricingError{"rewriting the money object at " + joinPath(money.path) + " failed: " +
                          error->message};
    }

    const std::optional<Money>& new_amount = std::get<std::optional<Money>>(result);
    if (!new_amount) continue;
    if (auto error = checkNewAmount(new_amount->usd, "usd", money.path)) return *error;
    if (auto error = checkNewAmount(new_amount->mxn, "mxn", money.path)) return *error;

    if (new_amount->usd != money.amount.usd) {
      replacements.push_back({money.usd, majorUnitsText(new_amount->usd)});
    }
    if (new_amount->mxn != money.amount.mxn) {
      replacements.push_back({money.mxn, majorUnitsText(new_amount->mxn)});
    }
  }

  return replacements;
}

// Calls `rewrite` for each found number and appends the replacements it
// returns to `replacements`.
std::optional<PricingError> collectNumberReplacements(std::string_view document,
                                                      const std::vector<FoundNumber>& found,
                                                      const NumberRewrite& rewrite,
                                                      std::vector<Replacement>& replacements) {
  for (const FoundNumber& number : found) {
    const std::string_view enclosing =
        document.substr(number.enclosing_object.offset, number.enclosing_object.length);
    const std::string_view token = document.substr(number.token.offset, number.token.length);
    auto result = rewrite(NumberOccurrence{number.path, token, enclosing});
    if (auto* error = std::get_if<PricingError>(&result)) {
      return PricingError{"rewriting the number at " + joinPath(number.path) + " failed: " +
                          error->message};
    }
    auto& text = std::get<std::optional<std::string>>(result);
    if (text && *text != token) replacements.push_back({number.token, std::move(*text)});
  }
  return std::nullopt;
}

std::string applyReplacements(std::string_view document, const std::vector<Replacement>& replacements) {
  std::string output;
  output.reserve(document.size() + replacements.size() * 4);

  std::size_t copied_up_to = 0;
  for (const Replacement& replacement : replacements) {
    output.append(document.substr(copied_up_to, replacement.span.offset - copied_up_to));
    output.append(replacement.text);
    copied_up_to = replacement.span.offset + replacement.span.length;
  }
  output.append(document.substr(copied_up_to));
  return output;
}

}  // namespace

bool matchesPath(const JsonPath& pattern, const JsonPath& path) {
  if (pattern.size() != path.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != kAnyPathElement && pattern[i] != path[i]) return false;
  }
  return true;
}

std::string majorUnitsText(std::int64_t minor_units) {
  const bool negative = minor_units < 0;
  // Unsigned arithmetic keeps the magnitude of INT64_MIN representable.
  const std::uint64_t magnitude =
      negative ? 0 - static_cast<std::uint64_t>(minor_units) : static_cast<std::uint64_t>(minor_units);
  const std::uint64_t whole = magnitude / kMinorUnitsPerMajorUnit;
  const std::uint64_t fraction = magnitude % kMinorUnitsPerMajorUnit;

  std::string text = negative ? "-" : "";
  text += std::to_string(whole);
  if (fraction != 0) {
    text += '.';
    text += static_cast<char>('0' + fraction / 10);
    if (fraction % 10 != 0) text += static_cast<char>('0' + fraction % 10);
  }
  return text;
}

std::variant<std::string, PricingError> rewriteMoney(std::string_view document,
                                                     const std::vector<MoneySite>& sites,
                                                     const MoneyRewrite& rewrite) {
  return rewriteJsonAmounts(document, sites, rewrite, {}, nullptr);
}

std::variant<std::vector<std::string_view>, PricingError> arrayElements(std::string_view document,
                                                                      const JsonPath& array_path) {
  const std::vector<MoneySite> no_money_sites;
  const std::vector<NumberSite> no_number_sites;
  MoneyScanner scanner(document, no_money_sites, no_number_sites);
  scanner.collectElementsOf(array_path);
  if (auto error = scanner.scan()) return *error;

  std::vector<std::string_view> elements;
  elements.reserve(scanner.elements().size());
  for (const TokenSpan& span : scanner.elements()) elements.push_back(document.substr(span.offset, span.length));
  return elements;
}

std::variant<std::string, PricingError> rewriteStrings(std::string_view document,
                                                       const std::vector<std::string>& keys,
                                                       const StringRewrite& rewrite) {
  const std::vector<MoneySite> no_money_sites;
  const std::vector<NumberSite> no_number_sites;
  MoneyScanner scanner(document, no_money_sites, no_number_sites);
  scanner.collectStringsOf(keys);
  if (auto error = scanner.scan()) return *error;

  std::vector<Replacement> replacements;
  for (const FoundString& found : scanner.strings()) {
    std::optional<std::string> value = rewrite(found.key, found.value);
    if (!value) continue;
    replacements.push_back({found.token, nlohmann::json(*value).dump()});
  }
  return applyReplacements(document, replacements);
}

std::variant<std::string, PricingError> rewriteJsonAmounts(std::string_view document,
                                                           const std::vector<MoneySite>& money_sites,
                                                           const MoneyRewrite& money_rewrite,
                                                           const std::vector<NumberSite>& number_sites,
                                                           const NumberRewrite& number_rewrite) {
  if (!money_rewrite) return PricingError{"rewriteMoney was called without a rewrite callback"};
  if (!number_sites.empty() && !number_rewrite) {
    return PricingError{"rewriteJsonAmounts was called with number sites but without a number callback"};
  }

  MoneyScanner scanner(document, money_sites, number_sites);
  if (auto error = scanner.scan()) return *error;

  auto collected = collectReplacements(document, scanner.found(), money_rewrite);
  if (auto* error = std::get_if<PricingError>(&collected)) return *error;
  auto& replacements = std::get<std::vector<Replacement>>(collected);
  if (auto error = collectNumberReplacements(document, scanner.foundNumbers(), number_rewrite, replacements)) {
    return *error;
  }

  // "mxn" may come before "usd" inside one object, and numbers are collected
  // after money objects.
  std::sort(replacements.begin(), replacements.end(),
            [](const Replacement& a, const Replacement& b) { return a.span.offset < b.span.offset; });
  return applyReplacements(document, replacements);
}

}  // namespace fdgw::pricing
