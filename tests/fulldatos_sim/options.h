// Command-line and environment options of fulldatos-sim.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faults.h"
#include "money.h"

namespace fdsim {

struct Credential {
  std::string key;     // exactly 32 characters, sent as x-api-key
  std::string secret;  // exactly 64 characters, sent as x-api-secret
};

inline constexpr std::size_t kApiKeyLength = 32;
inline constexpr std::size_t kApiSecretLength = 64;
inline constexpr const char* kCredentialsEnvVar = "FULLDATOS_SIM_CREDENTIALS";

// The pair used when no credentials are configured.
Credential demoCredential();

struct Options {
  std::string host = "127.0.0.1";
  int port = 8099;
  std::vector<Credential> credentials;
  bool using_demo_credentials = false;
  int rate_limit_per_minute = 100;
  std::optional<std::string> catalog_file;
  std::uint64_t seed = 1;
  std::size_t offer_count = 1200;
  ExchangeRate exchange_rate{182500};
  std::int64_t balance_usd_cents = 10000 * 100;
  FaultSettings faults;
  int threads = 2;
  bool access_log = false;
};

struct ParsedOptions {
  std::optional<Options> options;  // empty when help was requested or on error
  bool help = false;
  std::string error;  // set on invalid input
};

// Parses `args` (without the program name) and the value of
// FULLDATOS_SIM_CREDENTIALS (null when unset). Both "--name value" and
// "--name=value" are accepted.
ParsedOptions parseOptions(const std::vector<std::string>& args, const char* env_credentials);

std::string helpText();

}  // namespace fdsim
