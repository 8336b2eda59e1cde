#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <tuple>

#include "gateway/common/text.h"

extern char** environ;

namespace fdgw::testing {

const TestTenant kAlpha{"alpha", "alphakey000000000000000000000001",
                        std::string("alphasecret") + std::string(53, '1')};
const TestTenant kAlphaSecondKey{"alpha", "alphakey000000000000000000000002",
                                  std::string("alphasecret") + std::string(53, '2')};
const TestTenant kBeta{"beta", "betakey0000000000000000000000002",
                       std::string("betasecret") + std::string(54, '2')};
const TestTenant kGamma{"gamma", "gammakey000000000000000000000004",
                        std::string("gammasecret") + std::string(53, '4')};
const TestTenant kExpired{"expired", "expiredkey0000000000000000000003",
                          std::string("expiredsecret") + std::string(51, '3')};

int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind a probe socket on 127.0.0.1");
  }
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  const int port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

Process::Process(std::vector<std::string> argv, std::map<std::string, std::string> extra_env,
                 std::filesystem::path log_file)
    : log_file_(std::move(log_file)) {
  std::vector<std::string> environment;
  for (char** entry = environ; *entry; ++entry) {
    const std::string text(*entry);
    const auto name = text.substr(0, text.find('='));
    if (!extra_env.count(name)) environment.push_back(text);
  }
  for (const auto& [name, value] : extra_env) environment.push_back(name + "=" + value);

  std::vector<char*> argv_pointers;
  for (auto& argument : argv) argv_pointers.push_back(argument.data());
  argv_pointers.push_back(nullptr);
  std::vector<char*> env_pointers;
  for (auto& entry : environment) env_pointers.push_back(entry.data());
  env_pointers.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file_.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  const int failed = posix_spawn(&pid_, argv_pointers[0], &actions, nullptr, argv_pointers.data(),
                                 env_pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  if (failed != 0) throw std::runtime_error("cannot start " + argv[0]);
}

Process::~Process() { stop(); }

bool Process::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
    return false;
  }
  return true;
}

void Process::signal(int number) {
  if (pid_ > 0) ::kill(pid_, number);
}

int Process::stop(std::chrono::milliseconds grace) {
  if (!running()) return exit_status_;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return exit_status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  exit_status_ = -1;
  return -1;
}

std::string Process::log() const {
  std::ifstream in(log_file_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

namespace {

std::size_t appendBody(char* data, std::size_t size, std::size_t count, void* context) {
  static_cast<std::string*>(context)->append(data, size * count);
  return size * count;
}

std::size_t appendHeader(char* data, std::size_t size, std::size_t count, void* context) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(context);
  std::string line(data, size * count);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    (*headers)[common::toLower(line.substr(0, colon))] = value;
  }
  return size * count;
}

}  // namespace

HttpResult httpRequest(const std::string& method, const std::string& url, const Headers& headers,
                       const std::string& body, long timeout_ms) {
  HttpResult result;
  CURL* easy = curl_easy_init();
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &appendBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &appendHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &result.headers);
  if (method == "GET") {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.data());
  }
  curl_slist* list = nullptr;
  for (const auto& [name, value] : headers) list = curl_slist_append(list, (name + ": " + value).c_str());
  if (!body.empty()) list = curl_slist_append(list, "Content-Type: application/json");
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);

  const auto started = std::chrono::steady_clock::now();
  const CURLcode code = curl_easy_perform(easy);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (code == CURLE_OK) {
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &result.status);
  } else {
    result.error = curl_easy_strerror(code);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(easy);
  return result;
}

bool waitForStatus(const std::string& url, long status, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (httpRequest("GET", url, {}, "", 1000).status == status) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TempDir::TempDir() {
  std::random_device random;
  path_ = std::filesystem::temp_directory_path() /
          ("fdgw-test-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  if (!std::getenv("FDGW_KEEP_TEST_DIRS")) std::filesystem::remove_all(path_, ignored);
}

SimProcess::SimProcess(const std::filesystem::path& dir, std::vector<std::string> extra_args)
    : port_(freePort()) {
  std::vector<std::string> argv = {FDGW_SIM_BINARY, "--listen",
                                   "127.0.0.1:" + std::to_string(port_), "--credentials",
                                   kSimKey + ":" + kSimSecret};
  for (auto& argument : extra_args) argv.push_back(argument);
  process_ = std::make_unique<Process>(argv, std::map<std::string, std::string>{},
                                       dir / ("sim-" + std::to_string(port_) + ".log"));
  if (!waitForStatus(baseUrl() + "/__sim/stats", 200, std::chrono::seconds(10))) {
    throw std::runtime_error("fulldatos-sim did not start; log:\n" + process_->log());
  }
}

nlohmann::json SimProcess::stats() {
  return httpRequest("GET", baseUrl() + "/__sim/stats").json();
}

void SimProcess::setFaults(const nlohmann::json& faults) {
  const auto result = httpRequest("POST", baseUrl() + "/__sim/faults", {}, faults.dump());
  if (result.status != 200) throw std::runtime_error("cannot set simulator faults: " + result.body);
}

HttpResult SimProcess::direct(const std::string& method, const std::string& path_and_query,
                              const std::string& body) {
  return httpRequest(method, baseUrl() + path_and_query,
                     {{"x-api-key", kSimKey}, {"x-api-secret", kSimSecret}}, body);
}

void writeTestPolicies(const std::filesystem::path& dir,
                       const std::map<std::string, std::string>& tenant_extra_yaml) {
  std::filesystem::create_directories(dir);
  std::ofstream plans(dir / "plans.yaml");
  plans << "plans:\n"
           "  open: {}\n"
           "  limited:\n"
           "    routes:\n"
           "      deny: [status.check]\n";
  std::ofstream tenants(dir / "tenants.yaml");
  tenants << "tenants:\n";
  for (const auto& [tenant, plan, expires] :
       {std::tuple{kAlpha, "open", ""}, std::tuple{kBeta, "limited", ""},
        std::tuple{kExpired, "open", "2020-01-01T00:00:00Z"}, std::tuple{kGamma, "open", ""}}) {
    tenants << "  " << tenant.id << ":\n"
            << "    plan: " << plan << "\n"
            << "    upstream: main\n"
            << "    keys:\n"
            << "      - key: " << tenant.key << "\n"
            << "        secret_sha256: " << common::sha256Hex(tenant.secret) << "\n";
    if (tenant.id == kAlpha.id) {
      tenants << "      - key: " << kAlphaSecondKey.key << "\n"
              << "        secret_sha256: " << common::sha256Hex(kAlphaSecondKey.secret) << "\n";
    }
    if (std::string(expires).size() > 0) tenants << "        expires: " << expires << "\n";
    if (const auto extra = tenant_extra_yaml.find(tenant.id); extra != tenant_extra_yaml.end()) {
      tenants << extra->second;
    }
  }
}

RedisProcess::RedisProcess(const std::filesystem::path& dir) : port_(freePort()) {
  data_dir_ = dir / ("redis-" + std::to_string(port_));
  std::filesystem::create_directories(data_dir_);
  process_ = std::make_unique<Process>(arguments(port_, data_dir_), std::map<std::string, std::string>{},
                                       dir / ("redis-" + std::to_string(port_) + ".log"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (cli("PING").find("PONG") == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("redis-server did not start; log:\n" + process_->log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<std::string> RedisProcess::arguments(int port, const std::filesystem::path& data_dir) {
  // The gateway keeps quota counts, wallets, reservations and idempotency
  // records here, so the server runs as deployments should: with an
  // append-only file written to disk every second.
  return {"/usr/bin/redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "",
          "--appendonly", "yes", "--appendfsync", "everysec", "--dir", data_dir.string()};
}

std::string RedisProcess::cli(const std::string& arguments) const {
  const std::string command =
      "redis-cli -h 127.0.0.1 -p " + std::to_string(port_) + " " + arguments + " 2>&1";
  std::string output;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[256];
    while (std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
    ::pclose(pipe);
  }
  return output;
}

std::string GatewayProcess::metrics() { return httpRequest("GET", adminUrl() + "/metrics").body; }

GatewayProcess::GatewayProcess(const std::filesystem::path& dir, const GatewayOptions& options)
    : port_(freePort()), admin_port_(freePort()) {
  const auto folder = dir / ("gateway-" + std::to_string(port_));
  policies_dir_ = folder / "policies";
  writeTestPolicies(policies_dir_, options.tenant_extra_yaml);
  if (!options.plans_yaml.empty()) std::ofstream(policies_dir_ / "plans.yaml") << options.plans_yaml;
  const std::string redis_url = options.redis_url.empty()
                                    ? "redis://127.0.0.1:" + std::to_string(freePort()) + "/0"
                                    : options.redis_url;
  config_file_ = folder / "gateway.yaml";
  std::ofstream config(config_file_);
  config << "listen: 127.0.0.1:" << port_ << "\n"
         << "admin_listen: 127.0.0.1:" << admin_port_ << "\n"
         << "threads: " << options.threads << "\n"
         << "redis:\n"
         << "  url: " << redis_url << "\n"
         << "  timeout_ms: " << options.redis_timeout_ms << "\n"
         << "upstreams:\n"
         << "  main:\n"
         << "    base_url: " << options.upstream_url << "\n"
         << "    api_key_env: TEST_UPSTREAM_KEY\n"
         << "    api_secret_env: TEST_UPSTREAM_SECRET\n"
         << "    shared: " << (options.shared ? "true" : "false") << "\n"
         << "    timeout_ms: " << options.upstream_timeout_ms << "\n"
         << "    requests_per_minute: " << options.upstream_requests_per_minute << "\n"
         << "policies: policies\n"
         << options.extra_config;
  config.close();

  process_ = std::make_unique<Process>(
      std::vector<std::string>{FDGW_GATEWAY_BINARY, "--config", config_file_.string()},
      std::map<std::string, std::string>{{"TEST_UPSTREAM_KEY", kSimKey},
                                         {"TEST_UPSTREAM_SECRET", kSimSecret}},
      folder / "gateway.log");
  if (!waitForStatus(adminUrl() + "/readyz", 200, std::chrono::seconds(10))) {
    throw std::runtime_error("fulldatos-gateway did not become ready; log:\n" + process_->log());
  }
}

HttpResult GatewayProcess::call(const TestTenant& tenant, const std::string& method,
                                const std::string& path_and_query, const std::string& body,
                                Headers extra) {
  extra.emplace_back("x-api-key", tenant.key);
  extra.emplace_back("x-api-secret", tenant.secret);
  return httpRequest(method, baseUrl() + path_and_query, extra, body);
}

}  // namespace fdgw::testing
