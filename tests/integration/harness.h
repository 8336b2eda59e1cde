#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

// Helpers for integration tests that run the real gateway and simulator
// binaries on free loopback ports.
namespace fdgw::testing {

// The simulator's built-in demo credentials, used as the upstream account.
inline const std::string kSimKey = "fdsim0demo0key000000000000000001";
inline const std::string kSimSecret = "fdsim0demo0secret00000000000000000000000000000000000000000000000";

// Tenants written into every test gateway's policies.
struct TestTenant {
  std::string id;
  std::string key;
  std::string secret;
};
extern const TestTenant kAlpha;    // plan "open": every route
extern const TestTenant kAlphaSecondKey;  // tenant alpha's second key
extern const TestTenant kBeta;     // plan "limited": denies status.check
extern const TestTenant kExpired;  // its only key expired in 2020
extern const TestTenant kGamma;    // plan "open", a quiet third tenant

// Returns a TCP port on 127.0.0.1 that was free a moment ago.
int freePort();

// A child process with its output redirected to a log file. The destructor
// stops it (SIGTERM, then SIGKILL after five seconds).
class Process {
 public:
  Process(std::vector<std::string> argv, std::map<std::string, std::string> extra_env,
          std::filesystem::path log_file);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int number);
  // Sends SIGTERM and waits; returns the exit status or -1 after a SIGKILL.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  std::string log() const;

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
  std::filesystem::path log_file_;
};

struct HttpResult {
  long status = 0;  // 0 when the transfer failed
  std::string body;
  std::map<std::string, std::string> headers;  // lowercase names
  double seconds = 0;
  std::string error;

  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
  // Returns a response header's value, or "" when absent.
  std::string header(const std::string& lowercase_name) const {
    const auto found = headers.find(lowercase_name);
    return found == headers.end() ? "" : found->second;
  }
};

using Headers = std::vector<std::pair<std::string, std::string>>;

HttpResult httpRequest(const std::string& method, const std::string& url,
                       const Headers& headers = {}, const std::string& body = "",
                       long timeout_ms = 10000);

// Waits until GET url returns `status`. Returns false after `timeout`.
bool waitForStatus(const std::string& url, long status, std::chrono::milliseconds timeout);

// A fresh temporary folder removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class SimProcess {
 public:
  explicit SimProcess(const std::filesystem::path& dir, std::vector<std::string> extra_args = {});
  std::string baseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  // GET /__sim/stats.
  nlohmann::json stats();
  long requestsTotal() { return stats().value("requests_total", -1L); }
  void setFaults(const nlohmann::json& faults);
  // Sends a request straight to the simulator with the upstream account's
  // credentials.
  HttpResult direct(const std::string& method, const std::string& path_and_query,
                    const std::string& body = "");
  Process& process() { return *process_; }

 private:
  int port_;
  std::unique_ptr<Process> process_;
};

// A redis-server on a free loopback port with an append-only file (fsync
// every second) in its own folder under `dir`.
class RedisProcess {
 public:
  explicit RedisProcess(const std::filesystem::path& dir);
  // The command line of a server on `port` that keeps its files in
  // `data_dir`, for restarting one on the same data.
  static std::vector<std::string> arguments(int port, const std::filesystem::path& data_dir);
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  int port() const { return port_; }
  const std::filesystem::path& dataDir() const { return data_dir_; }
  Process& process() { return *process_; }
  // Runs redis-cli against this server and returns its output.
  std::string cli(const std::string& arguments) const;

 private:
  int port_;
  std::filesystem::path data_dir_;
  std::unique_ptr<Process> process_;
};

struct GatewayOptions {
  std::string upstream_url;
  long upstream_timeout_ms = 5000;
  bool shared = false;
  int threads = 2;
  std::string redis_url;     // empty: a closed port, so Redis is unreachable
  long redis_timeout_ms = 100;
  int upstream_requests_per_minute = 100000;
  std::string plans_yaml;    // replaces the default plans.yaml when set
  std::string extra_config;  // appended to gateway.yaml
  // YAML lines appended to a tenant's entry in tenants.yaml, by tenant id,
  // such as "    overrides:\n      markup: {percent: 15}\n".
  std::map<std::string, std::string> tenant_extra_yaml;
};

class GatewayProcess {
 public:
  GatewayProcess(const std::filesystem::path& dir, const GatewayOptions& options);
  // Reads the admin listener's /metrics.
  std::string metrics();
  std::string baseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string adminUrl() const { return "http://127.0.0.1:" + std::to_string(admin_port_); }
  int port() const { return port_; }
  const std::filesystem::path& configFile() const { return config_file_; }
  const std::filesystem::path& policiesDir() const { return policies_dir_; }
  // A request as tenant `tenant` (its key and secret added).
  HttpResult call(const TestTenant& tenant, const std::string& method,
                  const std::string& path_and_query, const std::string& body = "",
                  Headers extra = {});
  Process& process() { return *process_; }

 private:
  int port_;
  int admin_port_;
  std::filesystem::path config_file_;
  std::filesystem::path policies_dir_;
  std::unique_ptr<Process> process_;
};

// Writes the plans.yaml and tenants.yaml used by every test gateway.
// `tenant_extra_yaml` is appended to the entries of the tenants it names.
void writeTestPolicies(const std::filesystem::path& dir,
                       const std::map<std::string, std::string>& tenant_extra_yaml = {});

}  // namespace fdgw::testing
