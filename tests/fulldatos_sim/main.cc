// fulldatos-sim: serves an in-memory FullDatos organization until SIGINT or
// SIGTERM. Run with --help for the options.

#include <sys/resource.h>

#include <csignal>
#include <iostream>
#include <pthread.h>

#include "catalog.h"
#include "catalog_generator.h"
#include "http_server.h"
#include "json_log.h"
#include "options.h"
#include "simulator.h"

namespace {

constexpr int kExitStartFailed = 1;
constexpr int kExitUsage = 2;

// Raises the soft open-file limit to the hard limit, so that a thousand
// concurrent test connections fit; returns the resulting soft limit.
rlim_t raiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

std::vector<fdsim::Offer> loadOffers(const fdsim::Options& options) {
  if (options.catalog_file) return fdsim::loadCatalogFile(*options.catalog_file, options.exchange_rate);
  return fdsim::generateCatalog(options.seed, options.offer_count, options.exchange_rate);
}

fdsim::Json startupFields(const fdsim::Options& options, const fdsim::Simulator& simulator, rlim_t open_files) {
  fdsim::Json key_prefixes = fdsim::Json::array();
  for (const fdsim::Credential& credential : options.credentials) key_prefixes.push_back(credential.key.substr(0, 6));

  fdsim::Json fields;
  fields["listen"] = options.host + ":" + std::to_string(options.port);
  fields["offers"] = simulator.catalog.size();
  fields["destinations"] = simulator.catalog.destinations().size();
  fields["catalog"] = options.catalog_file ? *options.catalog_file : "generated, seed " + std::to_string(options.seed);
  fields["exchange_rate_mxn_per_usd"] = options.exchange_rate.toString();
  fields["balance"] = fdsim::moneyToJson(simulator.store.balance);
  fields["rate_limit_per_minute"] = options.rate_limit_per_minute;
  fields["latency_ms"] = options.faults.latency_ms;
  fields["error_rate"] = options.faults.error_rate;
  fields["drop_rate"] = options.faults.drop_rate;
  fields["threads"] = options.threads;
  fields["api_key_prefixes"] = std::move(key_prefixes);
  fields["demo_credentials"] = options.using_demo_credentials;
  fields["open_file_limit"] = open_files;
  return fields;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const fdsim::ParsedOptions parsed = fdsim::parseOptions(args, std::getenv(fdsim::kCredentialsEnvVar));
  if (parsed.help) {
    std::cout << fdsim::helpText();
    return 0;
  }
  if (!parsed.options) {
    std::cerr << "fulldatos-sim: " << parsed.error << '\n';
    return kExitUsage;
  }
  const fdsim::Options& options = *parsed.options;

  std::vector<fdsim::Offer> offers;
  try {
    offers = loadOffers(options);
  } catch (const std::exception& error) {
    std::cerr << "fulldatos-sim: " << error.what() << '\n';
    return kExitUsage;
  }
  if (offers.empty()) {
    std::cerr << "fulldatos-sim: the catalog has no offers\n";
    return kExitUsage;
  }

  const fdsim::Money initial_balance = options.exchange_rate.fromUsd(options.balance_usd_cents);
  fdsim::Simulator simulator(fdsim::Catalog(std::move(offers)), options.exchange_rate, options.seed, initial_balance);
  fdsim::runHealthChecks(simulator);

  // Block the stop signals before any thread starts, so that every thread
  // inherits the mask and only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  const rlim_t open_files = raiseOpenFileLimit();

  auto state = std::make_shared<fdsim::ServerState>(simulator, options);
  fdsim::SimServer server(state, options.host, options.port, options.threads);
  try {
    server.start();
  } catch (const std::exception& error) {
    fdsim::logEvent("error", "start_failed",
                    fdsim::Json{{"listen", options.host + ":" + std::to_string(options.port)}, {"error", error.what()}});
    return kExitStartFailed;
  }
  fdsim::logEvent("info", "started", startupFields(options, simulator, open_files));

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  fdsim::logEvent("info", "stopping", fdsim::Json{{"signal", signal_number == SIGINT ? "SIGINT" : "SIGTERM"}});
  server.stop();
  fdsim::logEvent("info", "stopped");
  return 0;
}
