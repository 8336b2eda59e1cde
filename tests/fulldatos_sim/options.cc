#include "options.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <stdexcept>

namespace fdsim {

namespace {

// Invalid option value; the message is shown to the user as is.
struct OptionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

long long parseWhole(const std::string& option, const std::string& text, long long min, long long max) {
  long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    throw OptionError("invalid " + option + " \"" + text + "\": expected a whole number from " +
                      std::to_string(min) + " to " + std::to_string(max));
  }
  return value;
}

double parseFraction(const std::string& option, const std::string& text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || !(value >= 0.0 && value <= 1.0)) {
    throw OptionError("invalid " + option + " \"" + text + "\": expected a number from 0 to 1");
  }
  return value;
}

Credential parseCredential(const std::string& source, const std::string& text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string::npos) throw OptionError("invalid credentials in " + source + ": expected KEY:SECRET");
  Credential credential{text.substr(0, colon), text.substr(colon + 1)};
  // Never echo the secret; the key's first characters identify the entry.
  const std::string key_hint = credential.key.substr(0, 6);
  if (credential.key.size() != kApiKeyLength) {
    throw OptionError("invalid credentials in " + source + ": key \"" + key_hint + "...\" has " +
                      std::to_string(credential.key.size()) + " characters, expected exactly 32");
  }
  if (credential.secret.size() != kApiSecretLength) {
    throw OptionError("invalid credentials in " + source + ": the secret of key \"" + key_hint + "...\" has " +
                      std::to_string(credential.secret.size()) + " characters, expected exactly 64");
  }
  const auto printable = [](char c) { return c > ' ' && c < 0x7f; };
  if (!std::all_of(credential.key.begin(), credential.key.end(), printable) ||
      !std::all_of(credential.secret.begin(), credential.secret.end(), printable)) {
    throw OptionError("invalid credentials in " + source + ": key \"" + key_hint +
                      "...\" or its secret contains spaces or non-ASCII characters");
  }
  return credential;
}

void parseListen(const std::string& text, Options& options) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw OptionError("invalid --listen \"" + text + "\": expected HOST:PORT such as 127.0.0.1:8099");
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  options.host = host;
  options.port = static_cast<int>(parseWhole("--listen port", text.substr(colon + 1), 1, 65535));
}

// Applies one option with its value; returns false for an unknown name.
bool applyOption(const std::string& name, const std::string& value, Options& options) {
  if (name == "--listen") {
    parseListen(value, options);
  } else if (name == "--credentials") {
    options.credentials.push_back(parseCredential("--credentials", value));
  } else if (name == "--rate-limit") {
    options.rate_limit_per_minute = static_cast<int>(parseWhole(name, value, 0, 1'000'000));
  } else if (name == "--catalog") {
    if (value.empty()) throw OptionError("invalid --catalog: expected a file path");
    options.catalog_file = value;
  } else if (name == "--seed") {
    options.seed = static_cast<std::uint64_t>(parseWhole(name, value, 0, 1'000'000'000'000'000'000LL));
  } else if (name == "--offers") {
    options.offer_count = static_cast<std::size_t>(parseWhole(name, value, 1, 100'000));
  } else if (name == "--exchange-rate") {
    const auto rate = ExchangeRate::parse(value);
    if (!rate) {
      throw OptionError("invalid --exchange-rate \"" + value +
                        "\": expected MXN per USD as a positive number with at most 4 decimals, such as 18.25");
    }
    options.exchange_rate = *rate;
  } else if (name == "--balance-usd") {
    const auto cents = parseCents(value);
    if (!cents || *cents > 1'000'000'000'00LL) {
      throw OptionError("invalid --balance-usd \"" + value +
                        "\": expected a non-negative amount with at most 2 decimals, up to 1000000000");
    }
    options.balance_usd_cents = *cents;
  } else if (name == "--latency-ms") {
    options.faults.latency_ms = static_cast<int>(parseWhole(name, value, 0, kMaxLatencyMs));
  } else if (name == "--error-rate") {
    options.faults.error_rate = parseFraction(name, value);
  } else if (name == "--drop-rate") {
    options.faults.drop_rate = parseFraction(name, value);
  } else if (name == "--threads") {
    options.threads = static_cast<int>(parseWhole(name, value, 1, 256));
  } else {
    return false;
  }
  return true;
}

void finishCredentials(const char* env_credentials, Options& options) {
  if (env_credentials != nullptr) {
    const std::string text(env_credentials);
    std::size_t start = 0;
    while (start <= text.size()) {
      std::size_t end = text.find(',', start);
      if (end == std::string::npos) end = text.size();
      const std::string pair = text.substr(start, end - start);
      if (!pair.empty()) options.credentials.push_back(parseCredential(kCredentialsEnvVar, pair));
      start = end + 1;
    }
  }
  if (options.credentials.empty()) {
    options.credentials.push_back(demoCredential());
    options.using_demo_credentials = true;
  }

  std::set<std::string> keys;
  for (const Credential& credential : options.credentials) {
    if (!keys.insert(credential.key).second) {
      throw OptionError("invalid credentials: key \"" + credential.key.substr(0, 6) + "...\" is given twice");
    }
  }
}

}  // namespace

Credential demoCredential() {
  Credential credential{"fdsim0demo0key000000000000000001", "fdsim0demo0secret"};
  credential.secret.resize(kApiSecretLength, '0');
  return credential;
}

ParsedOptions parseOptions(const std::vector<std::string>& args, const char* env_credentials) {
  ParsedOptions result;
  Options options;
  try {
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string& arg = args[i];
      if (arg == "--help" || arg == "-h") {
        result.help = true;
        return result;
      }
      if (arg == "--access-log") {
        options.access_log = true;
        continue;
      }

      std::string name = arg;
      std::string value;
      const std::size_t equals = arg.find('=');
      if (arg.rfind("--", 0) == 0 && equals != std::string::npos) {
        name = arg.substr(0, equals);
        value = arg.substr(equals + 1);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        throw OptionError("option " + arg + " needs a value, or is unknown; see --help");
      }
      if (!applyOption(name, value, options)) throw OptionError("unknown option " + name + "; see --help");
    }

    if (const char* reason = validateFaultSettings(options.faults); *reason != '\0') {
      throw OptionError(std::string("invalid fault settings: ") + reason);
    }
    finishCredentials(env_credentials, options);
  } catch (const OptionError& error) {
    result.error = error.what();
    return result;
  }
  result.options = std::move(options);
  return result;
}

std::string helpText() {
  return R"(Usage: fulldatos-sim [OPTIONS]

In-memory simulator of the FullDatos eSIM wholesale API, for tests and demos.

Options:
  --listen HOST:PORT       address to listen on (default 127.0.0.1:8099)
  --credentials KEY:SECRET accepted API key (exactly 32 characters) and secret
                           (exactly 64 characters); repeatable. The environment
                           variable FULLDATOS_SIM_CREDENTIALS adds comma-separated
                           KEY:SECRET pairs. Without any, a built-in demo pair is used.
  --rate-limit N           requests per minute per API key, fixed 60-second
                           windows (default 100; 0 disables)
  --catalog FILE           load bundle offers from a JSON file (an array of
                           offers or {"data": [...]}) instead of generating them
  --seed N                 seed of the generated catalog and ids (default 1)
  --offers N               number of generated offers (default 1200)
  --exchange-rate R        MXN per USD for derived MXN amounts (default 18.25)
  --balance-usd N          initial credit balance in USD (default 10000); the MXN
                           balance is derived with the exchange rate
  --latency-ms N           latency added to every FullDatos response, in
                           milliseconds (default 0)
  --error-rate F           share of requests that get a 500, 502 or 503
                           response, from 0 to 1 (default 0)
  --drop-rate F            share of requests whose connection is closed without
                           a response, from 0 to 1 (default 0)
  --threads N              server threads (default 2)
  --access-log             log one JSON line per request to stderr
  -h, --help               show this help

Test control endpoints (no authentication):
  GET  /__sim/stats         request counters and the current balance
  POST /__sim/reset-stats   zero the counters
  GET  /__sim/faults        current latency_ms, error_rate and drop_rate
  POST /__sim/faults        change them, e.g. {"latency_ms": 300, "error_rate": 0.1}

Exit status: 0 after SIGINT or SIGTERM, 1 when the server fails to start,
2 for invalid options or an invalid catalog file.
)";
}

}  // namespace fdsim
