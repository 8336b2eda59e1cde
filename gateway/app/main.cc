// fulldatos-gateway: multi-tenant gateway in front of the FullDatos API.

#include <curl/curl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "gateway/app/gateway_app.h"
#include "gateway/app/wallet_command.h"
#include "gateway/config/config_error.h"
#include "gateway/config/gateway_config.h"
#include "gateway/config/policies.h"
#include "gateway/log/logger.h"

namespace {

constexpr const char* kUsage =
    "Usage: fulldatos-gateway [--config FILE] [--check-config]\n"
    "       fulldatos-gateway wallet show|top-up|adjust|ledger --tenant ID [options]\n"
    "\n"
    "  --config FILE    gateway config (default: config/gateway.yaml); its\n"
    "                   `policies` key names the folder of plans.yaml and tenants.yaml\n"
    "  --check-config   validate the config and policies, print every problem\n"
    "                   with file, line and key, and exit (0 valid, 2 invalid)\n"
    "  --help           print this help\n"
    "\n"
    "Signals: SIGHUP reloads the policies; SIGINT and SIGTERM drain requests in\n"
    "flight (up to 20 seconds) and stop.\n"
    "\n"
    "`fulldatos-gateway wallet --help` describes the wallet commands.\n";

void printIssues(const fdgw::config::ConfigErrors& errors) {
  for (const auto& issue : errors.issues()) std::cerr << "error: " << issue.describe() << '\n';
}

// Keeps memory that large responses free inside the allocator for reuse.
// Pistache 0.0.5 copies each response body several times into new buffers.
// With glibc's defaults, buffers of a few hundred KB, such as a catalog page
// of 500 offers, go back to the kernel when freed (mmap and heap trimming),
// so every response faults in fresh zeroed pages. In a smoke run of
// tests/bench/run.sh on 2 cores, fixed thresholds cut the gateway's CPU time
// per catalog page from 455 to 328 µs, for a few MB more resident memory.
// NOTE: that run set larger thresholds (32 and 128 MiB) through
// GLIBC_TUNABLES. These values were measured only together with the stored
// catalog bodies.
void keepFreedMemoryForReuse() {
#ifdef __GLIBC__
  // Settings that the operator gives through GLIBC_TUNABLES take precedence.
  if (std::getenv("GLIBC_TUNABLES") != nullptr) return;
  constexpr int kMmapThresholdBytes = 4 << 20;
  constexpr int kTrimThresholdBytes = 32 << 20;
  mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);
  mallopt(M_TRIM_THRESHOLD, kTrimThresholdBytes);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "wallet") return fdgw::app::runWalletCommand(argc - 1, argv + 1);

  std::string config_file = "config/gateway.yaml";
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    if (argument == "--config" && i + 1 < argc) {
      config_file = argv[++i];
    } else if (argument == "--check-config") {
      check_only = true;
    } else if (argument == "--help" || argument == "-h") {
      std::cout << kUsage;
      return 0;
    } else {
      std::cerr << "error: unknown argument '" << argument << "'\n\n" << kUsage;
      return 2;
    }
  }

  fdgw::config::GatewayConfig config;
  try {
    config = fdgw::config::loadGatewayConfig(config_file);
    const auto policies = fdgw::config::loadPolicies(config.policies_dir, config);
    if (check_only) {
      try {
        fdgw::app::resolveUpstreams(config);
      } catch (const fdgw::config::ConfigErrors& missing) {
        for (const auto& issue : missing.issues()) {
          std::cerr << "warning: " << issue.describe() << '\n';
        }
      }
      std::cout << "config valid: " << config.file.string() << " with " << policies.plans.size()
                << " plans and " << policies.tenants.size() << " tenants from "
                << config.policies_dir.string() << '\n';
      return 0;
    }
  } catch (const fdgw::config::ConfigErrors& errors) {
    printIssues(errors);
    return 2;
  }

  keepFreedMemoryForReuse();
  fdgw::log::Logger logger(stderr, *fdgw::log::parseLevel(config.log_level));
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int exit_code = 0;
  try {
    exit_code = fdgw::app::runGateway(config, logger);
  } catch (const fdgw::config::ConfigErrors& errors) {
    printIssues(errors);
    exit_code = 2;
  } catch (const std::exception& error) {
    logger.error("start_failed", {{"error", error.what()}});
    exit_code = 1;
  }
  curl_global_cleanup();
  return exit_code;
}
