#pragma once

#include <pistache/http.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fdgw::http {

using HeaderLines = std::vector<std::pair<std::string, std::string>>;

// Returns every x-api-key and x-api-secret line of a raw header block, in
// order, with names in lowercase and values trimmed.
HeaderLines credentialHeaderLines(std::string_view header_block);

// Pistache's request parser with one addition: it keeps every credential
// header line of the request being parsed. Pistache 0.0.5 stores headers in
// a map that keeps only the first of repeated lines, so without this a
// request with two x-api-key lines would look like it had one.
class CredentialParser final : public Pistache::Http::RequestParser {
 public:
  explicit CredentialParser(std::size_t max_request_bytes);

  void reset() override;

  // Credential lines of the request parsed last; valid until reset().
  const HeaderLines& credentialLines() const { return credential_lines_; }

 private:
  class HeaderCapture;

  HeaderLines credential_lines_;
};

}  // namespace fdgw::http
