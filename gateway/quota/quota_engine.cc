#include "gateway/quota/quota_engine.h"

namespace fdgw::quota {

std::string_view outcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAllowed: return "allowed";
    case Outcome::kRejected: return "rejected";
    case Outcome::kFailedOpen: return "failed_open";
    case Outcome::kFailedClosed: return "failed_closed";
    case Outcome::kLocal: return "local";
  }
  return "allowed";
}

}  // namespace fdgw::quota
