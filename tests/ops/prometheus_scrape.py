#!/usr/bin/env python3
"""Run every dashboard query against a real Prometheus that scrapes a real gateway.

Starts redis-server, fulldatos-sim, fulldatos-gateway and Prometheus on free
127.0.0.1 ports in a fresh temporary folder. Prometheus scrapes the gateway's
admin /metrics every second. The script then sends a short mixed load. It
contains two tenants' successful requests, orders (one tenant's against spend
limits), catalog requests, 400,
401 and 404 responses and quota 429s. It also injects upstream errors and
dropped connections through the simulator's /__sim/faults, stops Redis
briefly (SIGSTOP), and exceeds the simulator's rate limit to get upstream
429s. After Prometheus has scraped
the final counts, every target expression of every dashboard in dashboards/
runs as an instant query with the Grafana variables replaced by the values
in GRAFANA_VARIABLE_VALUES.

Prints PASS, SKIP or FAIL for each query, then a summary. Exits 1 when a
query fails, returns no data, or reads a metric from
EXPECTED_MISSING_METRICS that the gateway now exports. Every process is
stopped by its process id on exit, on failure and on SIGTERM, SIGINT or
SIGHUP. When the script is killed with SIGKILL, Linux sends each child
SIGTERM (PR_SET_PDEATHSIG).

Needs python3 (standard library only), Debian's prometheus and
redis-server packages, and the gateway and simulator binaries, which CTest
passes as --gateway and --simulator.
"""

import argparse
import concurrent.futures
import ctypes
import glob
import hashlib
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Metrics that dashboards query before the gateway exports them. An empty
# result of a query that reads one of them is reported as SKIP, not FAIL.
# Remove a metric once the gateway exports it: the test fails until then.
EXPECTED_MISSING_METRICS = {}

# Values for the Grafana variables in the dashboards' queries. The load
# below gives tenant "alpha" every kind of response that the tenant
# dashboard shows. A rate interval of 1m covers the whole load at the
# 1-second scrape interval used here.
GRAFANA_VARIABLE_VALUES = {
    "tenant": "alpha",
    "upstream": "main",
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "1h",
}

SCRAPE_JOB = "fulldatos-gateway"

# The simulator's built-in demo account, used as the upstream account.
SIM_KEY = "fdsim0demo0key000000000000000001"
SIM_SECRET = "fdsim0demo0secret00000000000000000000000000000000000000000000000"

# Upstream requests per minute that the simulator admits. The load before
# the last step makes about 85 upstream calls within one of the simulator's
# 60-second windows. The last step exceeds the limit to get upstream 429s.
SIM_RATE_LIMIT = 150
LOAD_ROUNDS = 10

# Tenant alpha's catalog.compatibility quota is small, so its requests get
# 429 rate_limited after the first few. Its spend limits make its orders
# reserve spend, so the spend metrics have series.
PLANS_YAML = """\
plans:
  small-quota:
    quotas:
      - {name: per-minute, routes: all, limit: 10000, window: 1m}
      - {name: compatibility-per-minute, routes: [catalog.compatibility], limit: 3, window: 1m}
    spend: {daily_usd: 5000, monthly_usd: 50000}
  open:
    quotas:
      - {name: per-minute, routes: all, limit: 10000, window: 1m}
"""


class Tenant:
    def __init__(self, tenant_id, plan):
        self.id = tenant_id
        self.plan = plan
        self.key = (tenant_id + "key").ljust(32, "0")
        self.secret = (tenant_id + "secret").ljust(64, "1")

    def headers(self):
        return {"x-api-key": self.key, "x-api-secret": self.secret}


ALPHA = Tenant("alpha", "small-quota")
BETA = Tenant("beta", "open")


class TestFailure(Exception):
    """A step of the test failed. The message names the step and the reason."""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_request(method, url, headers=None, body=None, timeout=5.0):
    """Send one request and return (status, body). Status is 0 when no response arrived."""
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError):
        return 0, ""


def wait_until(condition, timeout, description):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise TestFailure(f"timed out after {timeout:g} s waiting for {description}")


# Loaded before any fork, so that the child only calls prctl().
LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def set_parent_death_signal():
    """Ask Linux to send SIGTERM to this child when the test process dies.

    This covers a test runner that kills the script with SIGKILL (such as a
    CTest timeout), which skips the cleanup in main().
    """
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Processes:
    """Child processes started by this test, each stopped by its process id."""

    def __init__(self, work_dir):
        self.work_dir = work_dir
        self.started = []  # (name, Popen, log path)

    def start(self, name, argv, env=None):
        log_path = os.path.join(self.work_dir, f"{name}.log")
        with open(log_path, "wb") as log:
            try:
                process = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    env={**os.environ, **(env or {})}, cwd=self.work_dir,
                    preexec_fn=set_parent_death_signal)
            except OSError as error:
                raise TestFailure(f"cannot start {name} ({argv[0]}): {error}")
        self.started.append((name, process, log_path))
        return process

    def check_running(self):
        for name, process, log_path in self.started:
            if process.poll() is not None:
                raise TestFailure(f"{name} exited with status {process.returncode}; "
                                  f"last lines of its log:\n{tail(log_path)}")

    def stop_all(self):
        for name, process, _ in reversed(self.started):
            if process.poll() is not None:
                continue
            # A process stopped with SIGSTOP would not act on SIGTERM.
            process.send_signal(signal.SIGCONT)
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                print(f"{name} (pid {process.pid}) did not stop within 5 s of SIGTERM: "
                      "sending SIGKILL", file=sys.stderr)
                process.kill()
                process.wait()

    def print_logs(self):
        for name, _, log_path in self.started:
            print(f"--- last lines of {name}.log ---\n{tail(log_path)}")


def tail(path, lines=20):
    try:
        with open(path, encoding="utf-8", errors="replace") as log:
            return "".join(log.readlines()[-lines:])
    except OSError as error:
        return f"(cannot read {path}: {error})"


def write_policies(policies_dir):
    os.makedirs(policies_dir)
    with open(os.path.join(policies_dir, "plans.yaml"), "w", encoding="utf-8") as plans:
        plans.write(PLANS_YAML)
    with open(os.path.join(policies_dir, "tenants.yaml"), "w", encoding="utf-8") as tenants:
        tenants.write("tenants:\n")
        for tenant in (ALPHA, BETA):
            secret_sha256 = hashlib.sha256(tenant.secret.encode()).hexdigest()
            tenants.write(f"  {tenant.id}:\n"
                          f"    plan: {tenant.plan}\n"
                          f"    upstream: main\n"
                          f"    keys:\n"
                          f"      - key: {tenant.key}\n"
                          f"        secret_sha256: {secret_sha256}\n")


class Servers:
    """Redis, the simulator, the gateway and Prometheus of one test run."""

    def __init__(self, processes, work_dir, args):
        self.processes = processes
        self.work_dir = work_dir
        self.args = args

    def start(self):
        self.start_redis()
        self.start_simulator()
        self.start_gateway()
        self.start_prometheus()

    def start_redis(self):
        port = free_port()
        self.redis = self.processes.start("redis", [
            self.args.redis_server, "--port", str(port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
            "--dir", self.work_dir])
        self.redis_url = f"redis://127.0.0.1:{port}/0"

        def redis_answers():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                    connection.sendall(b"PING\r\n")
                    return connection.recv(16).startswith(b"+PONG")
            except OSError:
                return False

        wait_until(redis_answers, 10, f"redis-server on 127.0.0.1:{port}")

    def start_simulator(self):
        self.sim_url = f"http://127.0.0.1:{free_port()}"
        self.processes.start("fulldatos-sim", [
            self.args.simulator, "--listen", self.sim_url.removeprefix("http://"),
            "--credentials", f"{SIM_KEY}:{SIM_SECRET}",
            "--rate-limit", str(SIM_RATE_LIMIT)])
        wait_until(lambda: http_request("GET", self.sim_url + "/__sim/stats")[0] == 200, 10,
                   f"fulldatos-sim at {self.sim_url}")

    def start_gateway(self):
        gateway_dir = os.path.join(self.work_dir, "gateway")
        write_policies(os.path.join(gateway_dir, "policies"))
        port, admin_port = free_port(), free_port()
        self.gateway_url = f"http://127.0.0.1:{port}"
        self.admin_address = f"127.0.0.1:{admin_port}"
        config_path = os.path.join(gateway_dir, "gateway.yaml")
        with open(config_path, "w", encoding="utf-8") as config:
            # The gateway's own upstream budget is far above the simulator's
            # rate limit, so that the simulator is the one that returns 429.
            config.write(f"listen: 127.0.0.1:{port}\n"
                         f"admin_listen: {self.admin_address}\n"
                         "threads: 2\n"
                         "redis:\n"
                         f"  url: {self.redis_url}\n"
                         "  timeout_ms: 100\n"
                         "upstreams:\n"
                         "  main:\n"
                         f"    base_url: {self.sim_url}\n"
                         "    api_key_env: FDGW_SCRAPE_UPSTREAM_KEY\n"
                         "    api_secret_env: FDGW_SCRAPE_UPSTREAM_SECRET\n"
                         "    requests_per_minute: 100000\n"
                         "    timeout_ms: 2000\n"
                         "policies: policies\n")
        self.gateway = self.processes.start(
            "fulldatos-gateway", [self.args.gateway, "--config", config_path],
            env={"FDGW_SCRAPE_UPSTREAM_KEY": SIM_KEY, "FDGW_SCRAPE_UPSTREAM_SECRET": SIM_SECRET})
        wait_until(lambda: http_request("GET", f"http://{self.admin_address}/readyz")[0] == 200,
                   10, f"fulldatos-gateway to become ready at {self.admin_address}")

    def start_prometheus(self):
        config_path = os.path.join(self.work_dir, "prometheus.yml")
        with open(config_path, "w", encoding="utf-8") as config:
            config.write("global:\n"
                         "  scrape_interval: 1s\n"
                         "  scrape_timeout: 1s\n"
                         "  evaluation_interval: 1s\n"
                         "scrape_configs:\n"
                         f"  - job_name: {SCRAPE_JOB}\n"
                         "    metrics_path: /metrics\n"
                         "    static_configs:\n"
                         f"      - targets: ['{self.admin_address}']\n")
        self.prometheus_url = f"http://127.0.0.1:{free_port()}"
        self.processes.start("prometheus", [
            self.args.prometheus, f"--config.file={config_path}",
            f"--storage.tsdb.path={os.path.join(self.work_dir, 'prometheus-data')}",
            "--storage.tsdb.retention.time=1h",
            f"--web.listen-address={self.prometheus_url.removeprefix('http://')}"])
        wait_until(lambda: http_request("GET", self.prometheus_url + "/-/ready")[0] == 200, 20,
                   f"Prometheus to become ready at {self.prometheus_url}")
        # In runs of this test, Prometheus 2.42 first scraped the gateway
        # about 5 s after it started.
        wait_until(lambda: query_values(self.prometheus_url, f'up{{job="{SCRAPE_JOB}"}}') == [1.0],
                   20, "Prometheus's first successful scrape of the gateway")

    def wait_for_scrape_after(self, wall_time):
        """Wait until Prometheus has scraped the gateway at a time after wall_time (Unix seconds)."""
        query = f'timestamp(up{{job="{SCRAPE_JOB}"}})'
        wait_until(lambda: (query_first_value(self.prometheus_url, query) or 0) > wall_time, 10,
                   "the next scrape of the gateway")

    def set_faults(self, **faults):
        status, body = http_request("POST", self.sim_url + "/__sim/faults",
                                    body=json.dumps(faults))
        if status != 200:
            raise TestFailure(f"POST /__sim/faults {faults} returned {status}: {body}")


def run_query(prometheus_url, expr):
    """Run an instant query and return its result list, or raise TestFailure on an API error."""
    url = f"{prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    status, body = http_request("GET", url, timeout=10)
    try:
        answer = json.loads(body)
    except ValueError:
        raise TestFailure(f"Prometheus returned {status} with a body that is not JSON: {body[:200]}")
    if answer.get("status") != "success":
        raise TestFailure(f"Prometheus rejected the query ({status}): "
                          f"{answer.get('errorType')}: {answer.get('error')}")
    data = answer["data"]
    if data["resultType"] in ("scalar", "string"):
        return [{"value": data["result"]}]
    return data["result"]


def query_values(prometheus_url, expr):
    """Return the sample values of an instant query, or None when the query fails."""
    try:
        return [float(item["value"][1]) for item in run_query(prometheus_url, expr)]
    except TestFailure:
        return None


def query_first_value(prometheus_url, expr):
    """Return the first sample value of an instant query, or None without one."""
    values = query_values(prometheus_url, expr)
    return values[0] if values else None


class Load:
    """Sends the mixed load and counts the responses by status and error code."""

    def __init__(self, servers):
        self.servers = servers
        self.responses = {}  # "status code" -> count

    def send(self, method, path, tenant=None, body=None, headers=None):
        all_headers = dict(tenant.headers() if tenant else {})
        all_headers.update(headers or {})
        status, text = http_request(method, self.servers.gateway_url + path, all_headers, body)
        try:
            code = json.loads(text).get("code", "") if status >= 400 else ""
        except (ValueError, AttributeError):
            code = ""
        return f"{status} {code}".strip()

    def send_all(self, requests, workers=4):
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(self.send, *request) for request in requests]
            for future in futures:
                outcome = future.result()
                self.responses[outcome] = self.responses.get(outcome, 0) + 1

    def mixed_round(self, round_index):
        order = json.dumps({"reference_id": f"scrape-{round_index}", "sku": "FD-MX-5GB-30D",
                            "quantity": 1})
        requests = [
            ("GET", "/tickets/categories", ALPHA),
            ("GET", "/tickets/categories", BETA),
            ("GET", "/catalog/bundle-offers?country=MX&limit=5", ALPHA),
            ("GET", "/catalog/bundle-offers/FD-MX-5GB-30D", BETA),
            ("GET", "/catalog/compatibility", ALPHA),
            ("GET", "/catalog/bundle-offers/FD-NOPE-1GB-1D", ALPHA),
            ("GET", "/credits/balance", BETA),
            ("POST", "/orders", ALPHA, "[1]"),
            ("GET", "/tickets/categories", None),
            ("GET", "/tickets/categories", None,
             None, {"x-api-key": "z" * 32, "x-api-secret": ALPHA.secret}),
            ("GET", "/tickets/categories", None,
             None, {"x-api-key": ALPHA.key, "x-api-secret": BETA.secret}),
            ("GET", "/no-such-route", ALPHA),
        ]
        if round_index % 3 == 0:
            requests.append(("POST", "/orders", ALPHA, order))
        self.send_all(requests)

    def upstream_failures(self, label):
        """Send requests while the simulator fails every call, then clear the faults."""
        order = json.dumps({"reference_id": f"scrape-fault-{label}", "sku": "FD-MX-5GB-30D",
                            "quantity": 1})
        # The simulator responds with 500, 502 or 503.
        self.servers.set_faults(error_rate=1.0)
        self.send_all([("GET", "/tickets/categories", ALPHA),
                       ("GET", "/tickets/categories", BETA),
                       ("GET", "/credits/balance", ALPHA),
                       ("POST", "/orders", ALPHA, order)])
        # The simulator closes the connection without a response.
        self.servers.set_faults(error_rate=0, drop_rate=1.0)
        self.send_all([("GET", "/tickets/categories", ALPHA),
                       ("GET", "/tickets/categories", BETA)])
        self.servers.set_faults(error_rate=0, drop_rate=0)

    def redis_outage(self):
        """Send requests while Redis is stopped with SIGSTOP.

        The quota and budget checks time out after redis.timeout_ms (100 ms)
        and fall back to the gateway's memory.
        """
        self.servers.redis.send_signal(signal.SIGSTOP)
        try:
            self.send_all([("GET", "/tickets/categories", ALPHA),
                           ("GET", "/tickets/categories", BETA)])
        finally:
            self.servers.redis.send_signal(signal.SIGCONT)
        # Time for the gateway to reconnect.
        time.sleep(0.5)

    def exceed_simulator_rate_limit(self):
        """Call upstream until the simulator's rate limit responds with 429.

        After the first upstream 429, the gateway blocks the upstream for the
        Retry-After time and responds with 429 upstream_busy without calling it.
        """
        for _ in range(SIM_RATE_LIMIT + 50):
            outcome = self.send("GET", "/tickets/categories", BETA)
            self.responses[outcome] = self.responses.get(outcome, 0) + 1
            if outcome == "429 upstream_busy":
                break

    def run(self):
        # Prometheus counts no increase before a series' first sample. So
        # every kind of response comes both before and after a scrape, which
        # makes the dashboards' rates above 0 where the load produced data.
        for half in range(2):
            for round_index in range(half * LOAD_ROUNDS // 2, (half + 1) * LOAD_ROUNDS // 2):
                self.mixed_round(round_index)
                time.sleep(0.2)
            self.upstream_failures(half)
            self.redis_outage()
            if half == 0:
                # A reload of unchanged policies, for the reload panels.
                self.servers.gateway.send_signal(signal.SIGHUP)
                self.servers.wait_for_scrape_after(time.time())

        self.exceed_simulator_rate_limit()
        self.servers.wait_for_scrape_after(time.time())
        self.send_all([("GET", "/tickets/categories", BETA),
                       ("GET", "/tickets/categories", ALPHA)])

    def check_variety(self):
        """Fail unless the load got every kind of response the dashboards show."""
        expected = ["200", "201", "400 bad_request", "401 unauthorized", "404 not_found",
                    "429 rate_limited", "429 upstream_busy", "502 upstream_unavailable"]
        missing = [outcome for outcome in expected if outcome not in self.responses]
        if missing:
            raise TestFailure(f"the load got no {', '.join(missing)} responses; "
                              f"responses by status and code: {self.responses}")


def read_metrics_text(admin_address):
    status, text = http_request("GET", f"http://{admin_address}/metrics")
    if status != 200:
        raise TestFailure(f"GET http://{admin_address}/metrics returned {status}")
    return text


def total_requests(metrics_text):
    total = 0.0
    for line in metrics_text.splitlines():
        if line.startswith("fdgw_requests_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def wait_for_final_counts(servers):
    """Wait for a scrape after the load and check that Prometheus has the final counts."""
    servers.wait_for_scrape_after(time.time())
    expected = total_requests(read_metrics_text(servers.admin_address))
    scraped = query_first_value(servers.prometheus_url, "sum(fdgw_requests_total)")
    if scraped != expected:
        raise TestFailure(f"Prometheus has sum(fdgw_requests_total) = {scraped}, but the "
                          f"gateway's /metrics has {expected:g}")


def iter_panels(panels):
    for panel in panels:
        yield panel
        yield from iter_panels(panel.get("panels", []))


def substitute_variables(expr):
    """Replace $name, ${name} and ${name:format} with GRAFANA_VARIABLE_VALUES."""
    unknown = []

    def replace(match):
        name = match.group(1) or match.group(2)
        if name not in GRAFANA_VARIABLE_VALUES:
            unknown.append(name)
            return match.group(0)
        return GRAFANA_VARIABLE_VALUES[name]

    text = re.sub(r"\$(\w+)|\$\{(\w+)(?::\w+)?\}", replace, expr)
    if unknown:
        raise TestFailure(f"no test value for the Grafana variable(s) {', '.join(unknown)}: "
                          "add them to GRAFANA_VARIABLE_VALUES")
    return text


class Report:
    def __init__(self):
        self.counts = {"PASS": 0, "SKIP": 0, "FAIL": 0}
        self.notes = []

    def add(self, verdict, where, detail):
        self.counts[verdict] += 1
        print(f"{verdict}: {where}: {detail}")

    def failed(self):
        return self.counts["FAIL"] > 0


def check_variables(dashboard, name, prometheus_url, report):
    """Check that each query variable's label_values() lists the value the test uses."""
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        where = f"{name} variable {variable['name']}"
        query = variable.get("query")
        if isinstance(query, dict):
            query = query.get("query", "")
        match = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", query or "")
        value = GRAFANA_VARIABLE_VALUES.get(variable["name"])
        if not match or value is None:
            report.add("FAIL", where, f"the test has no value for this variable or cannot "
                                      f"read its query: {query}")
            continue
        selector, label = match.group(1), match.group(2)
        url = (f"{prometheus_url}/api/v1/label/{label}/values?"
               + urllib.parse.urlencode({"match[]": selector}))
        status, body = http_request("GET", url)
        values = json.loads(body).get("data", []) if status == 200 else []
        if value in values:
            report.add("PASS", where, f"{query} lists {value!r}")
        else:
            report.add("FAIL", where, f"{query} returned {values}, without {value!r}")


def check_expected_missing(prometheus_url, report):
    """Fail for each metric listed as missing that Prometheus has scraped."""
    missing = set()
    for metric in sorted(EXPECTED_MISSING_METRICS):
        if run_query(prometheus_url, f"count({metric})"):
            report.add("FAIL", f"EXPECTED_MISSING_METRICS {metric}",
                       "the gateway exports this metric now: remove it from "
                       "EXPECTED_MISSING_METRICS in tests/ops/prometheus_scrape.py")
        else:
            missing.add(metric)
    return missing


def is_zero_or_nan(item):
    value = float(item["value"][1])
    return value == 0 or math.isnan(value)


def check_dashboards(dashboards_dir, prometheus_url, report):
    missing_metrics = check_expected_missing(prometheus_url, report)
    paths = sorted(glob.glob(os.path.join(dashboards_dir, "*.json")))
    if not paths:
        raise TestFailure(f"no dashboards (*.json) found in {dashboards_dir}")
    for path in paths:
        name = os.path.basename(path)
        with open(path, encoding="utf-8") as source:
            dashboard = json.load(source)
        check_variables(dashboard, name, prometheus_url, report)
        for panel in iter_panels(dashboard.get("panels", [])):
            for target in panel.get("targets", []):
                check_target(name, panel, target, prometheus_url, missing_metrics, report)


def check_target(dashboard_name, panel, target, prometheus_url, missing_metrics, report):
    where = f"{dashboard_name} \"{panel.get('title', '')}\" {target.get('refId', '')}"
    expr = " ".join(target.get("expr", "").split())
    try:
        result = run_query(prometheus_url, substitute_variables(expr))
    except TestFailure as error:
        report.add("FAIL", where, f"{error}; query: {expr}")
        return
    if result:
        if all(is_zero_or_nan(item) for item in result):
            report.notes.append(f"{where}: only 0 or NaN: {expr}")
        report.add("PASS", where, expr)
        return
    absent = [metric for metric in missing_metrics if re.search(rf"\b{metric}\b", expr)]
    if absent:
        reasons = "; ".join(f"{metric}: {EXPECTED_MISSING_METRICS[metric]}" for metric in absent)
        report.add("SKIP", where, f"metric not yet exported ({reasons}): {expr}")
    else:
        report.add("FAIL", where, f"no data: {expr}")


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", required=True, help="path of the fulldatos-gateway binary")
    parser.add_argument("--simulator", required=True, help="path of the fulldatos-sim binary")
    parser.add_argument("--prometheus", default=shutil.which("prometheus"),
                        help="path of the prometheus binary (default: prometheus on PATH)")
    parser.add_argument("--redis-server", default=shutil.which("redis-server"),
                        help="path of the redis-server binary (default: redis-server on PATH)")
    parser.add_argument("--dashboards", default=os.path.join(ROOT, "dashboards"),
                        help="folder whose *.json Grafana dashboards are checked "
                             "(default: dashboards/ of this repository)")
    arguments = parser.parse_args()
    for option, package in (("prometheus", "prometheus"), ("redis_server", "redis-server")):
        if not getattr(arguments, option):
            parser.error(f"{package} not found on PATH: install Debian's {package} package "
                         f"or pass --{option.replace('_', '-')}")
    # The servers run in the temporary folder, so relative paths would break.
    for option in ("gateway", "simulator", "prometheus", "redis_server"):
        setattr(arguments, option, os.path.abspath(getattr(arguments, option)))
    return arguments


def stop_on_signal(number, _frame):
    print(f"stopping on signal {signal.Signals(number).name}", file=sys.stderr)
    raise SystemExit(128 + number)


def main():
    arguments = parse_arguments()
    started = time.monotonic()
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, stop_on_signal)

    work_dir = tempfile.mkdtemp(prefix="fdgw-prometheus-scrape.")
    processes = Processes(work_dir)
    report = Report()
    status = 1
    try:
        servers = Servers(processes, work_dir, arguments)
        servers.start()
        print(f"servers ready after {time.monotonic() - started:.1f} s: gateway "
              f"{servers.gateway_url}, Prometheus {servers.prometheus_url}")

        load = Load(servers)
        load.run()
        print(f"load sent after {time.monotonic() - started:.1f} s; responses by status "
              f"and code: {dict(sorted(load.responses.items()))}")
        processes.check_running()
        load.check_variety()

        wait_for_final_counts(servers)
        check_dashboards(arguments.dashboards, servers.prometheus_url, report)
        for note in report.notes:
            print(f"NOTE: {note}")
        print(f"{report.counts['PASS']} passed, {report.counts['SKIP']} skipped, "
              f"{report.counts['FAIL']} failed in {time.monotonic() - started:.1f} s")
        status = 1 if report.failed() else 0
    except TestFailure as error:
        print(f"FAIL: {error}")
        processes.print_logs()
    finally:
        processes.stop_all()
        if os.environ.get("FDGW_KEEP_TEST_DIRS"):
            print(f"kept {work_dir} because FDGW_KEEP_TEST_DIRS is set")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
