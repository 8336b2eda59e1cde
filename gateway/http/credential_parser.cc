#include "gateway/http/credential_parser.h"

#include "gateway/common/text.h"

namespace fdgw::http {

namespace pistache_private = Pistache::Http::Private;

HeaderLines credentialHeaderLines(std::string_view header_block) {
  HeaderLines lines;
  for (std::string_view line : common::split(header_block, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = common::toLower(common::trim(line.substr(0, colon)));
    if (name != "x-api-key" && name != "x-api-secret") continue;
    lines.emplace_back(name, std::string(common::trim(line.substr(colon + 1))));
  }
  return lines;
}

// Runs Pistache's own header step and, once the header block is complete,
// records its credential lines. It keeps the header step's id, which
// Pistache's timeout checks compare against.
class CredentialParser::HeaderCapture final : public pistache_private::Step {
 public:
  HeaderCapture(Pistache::Http::Request* request, CredentialParser& owner)
      : Step(request), headers_(request), owner_(owner) {}

  pistache_private::StepId id() const override { return pistache_private::HeadersStep::Id; }

  pistache_private::State apply(Pistache::StreamCursor& cursor) override {
    const std::size_t start = cursor;
    const auto state = headers_.apply(cursor);
    if (state == pistache_private::State::Next) {
      const std::size_t end = cursor;
      owner_.credential_lines_ =
          credentialHeaderLines(std::string_view(cursor.offset(start), end - start));
    }
    return state;
  }

 private:
  pistache_private::HeadersStep headers_;
  CredentialParser& owner_;
};

CredentialParser::CredentialParser(std::size_t max_request_bytes)
    : Pistache::Http::RequestParser(max_request_bytes) {
  allSteps[1] = std::make_unique<HeaderCapture>(&request, *this);
}

void CredentialParser::reset() {
  Pistache::Http::RequestParser::reset();
  credential_lines_.clear();
}

}  // namespace fdgw::http
