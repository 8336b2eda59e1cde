#!/usr/bin/env bash
# Benchmark of fulldatos-gateway against a plain nginx reverse proxy in front
# of the same upstreams. Every server listens on 127.0.0.1 only, runs from a
# fresh folder made by mktemp -d, and is stopped by its process id on exit.
# docs/benchmark.md describes the set-up and records a full run.
set -uo pipefail
# Files served by the static nginx must be readable by its workers.
umask 022

usage() {
  cat <<'USAGE'
Usage: tests/bench/run.sh [--smoke] [--profile]

  --smoke     run every step for about 1 second per run, compare nothing with
              the targets, and exit 0 only when every step ran and every
              request class got 2xx responses through the gateway
  --profile   also record the gateway with perf (cpu-clock, call graphs)
              during one extra run of scenario 1 and one of scenario 2, and
              write the top entries to perf-report-scenario1.txt and
              perf-report-scenario2.txt in the results folder
  --help      print this help

Prints the result tables as markdown and writes them to report.md in the
results folder, whose path is printed at the end.
USAGE
}

mode=full
profile=0
for argument in "$@"; do
  case "$argument" in
    --smoke) mode=smoke ;;
    --profile) profile=1 ;;
    --help | -h) usage; exit 0 ;;
    *) echo "error: unknown argument '$argument'" >&2; usage >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/../.." && pwd)
bench_dir="$root/tests/bench"
build="$root/build-bench"
# FDGW_BENCH_GATEWAY and FDGW_BENCH_SIM name prebuilt binaries (CTest passes
# its own build's) and skip the Release build. The figures then reflect
# that build type, not Release.
gateway_binary="${FDGW_BENCH_GATEWAY:-$build/gateway/app/fulldatos-gateway}"
sim_binary="${FDGW_BENCH_SIM:-$build/tests/fulldatos_sim/fulldatos-sim}"
snapshot="$root/../shared/data/esim-catalog/esimgo_catalog_bundles_2025-08-09.json"

work=$(mktemp -d -t fdgw-bench.XXXXXX)
# nginx workers run as an unprivileged user, which must reach the files that
# the static upstream serves. Others may enter the folder but not list it.
chmod 711 "$work"
results="$work/results.txt"
report="$work/report.md"
mkdir -p "$work/wrk" "$work/redis" "$work/static/root" "$work/proxy" "$work/gateway/policies" "$work/capture"
: >"$results"

if [ "$mode" = smoke ]; then
  duration=1
else
  duration=5
fi
# Client connections of the throughput runs. wrk uses one thread because the
# machine the benchmark was written for has 2 cores, shared by the load
# generator and every server.
connections=32
# Steady-rate runs pause this long between the requests of one connection.
half_peak_pause_ms=5
orders_connections=4
orders_pause_ms=20
# Whole-catalog responses are large, so those runs use fewer connections.
offers_connections=8

# Upstream credentials: the simulator's demo account.
sim_key=fdsim0demo0key000000000000000001
sim_secret=fdsim0demo0secret00000000000000000000000000000000000000000000000
# The benchmark tenant's key and secret (32 and 64 characters).
tenant_key=bench0tenant0key0000000000000001
tenant_secret=bench0tenant0secret000000000000000000000000000000000000000000001
orders_tenant_key=bench0orders0key0000000000000002
export FDGW_BENCH_API_KEY=$sim_key
export FDGW_BENCH_API_SECRET=$sim_secret
# MXN per USD for the converted catalog snapshot and the simulator serving it.
exchange_rate=18.50

# ---------------------------------------------------------------------------
# Steps, processes and clean-up.

passed=0
failed=0

pass_step() {
  passed=$((passed + 1))
  echo "ok (${SECONDS}s): $1" >&2
}

fail_step() {
  failed=$((failed + 1))
  echo "FAILED (${SECONDS}s): $1" >&2
}

print_summary() {
  echo "$passed passed, $failed failed"
}

# Ends the run after a failed set-up step, which leaves nothing to measure.
abort() {
  fail_step "$1"
  echo "results folder: $work" >&2
  print_summary
  exit 1
}

started_pids=()

# Starts a command in the background with its output in LOG and sets last_pid.
start_process() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  last_pid=$!
  started_pids+=("$last_pid")
}

stop_process() {
  local pid=$1
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  local kept=()
  for other in "${started_pids[@]}"; do
    if [ "$other" != "$pid" ]; then kept+=("$other"); fi
  done
  started_pids=("${kept[@]}")
}

cleanup() {
  for pid in "${started_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${started_pids[@]}"; do wait "$pid" 2>/dev/null; done
  started_pids=()
  # Access logs grow by one line per request and the captured catalogs hold
  # data derived from the snapshot, so only their tails are kept.
  for log in "$work/gateway/gateway.log" "$work/proxy/access.log"; do
    if [ -f "$log" ]; then
      tail -n 200 "$log" >"$log.tail"
      rm -f "$log"
    fi
  done
  rm -rf "$work/static/root" "$work/capture" "$work/redis"
  # The last responses may come from a catalog converted from the snapshot.
  rm -f "$work/warm.json" "$work/check.json"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits up to 15 seconds until URL responds with any HTTP status.
wait_for_http() {
  local url=$1
  for _ in $(seq 1 150); do
    if curl -s -o /dev/null "$url"; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Prints COUNT free TCP ports on 127.0.0.1, all held open until the last one
# is found so that no port is printed twice.
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
sockets = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    sockets.append(s)
print(" ".join(str(s.getsockname()[1]) for s in sockets))
PY
}

# ---------------------------------------------------------------------------
# Tools and build.

install_missing_packages() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v redis-cli >/dev/null || missing+=(redis-tools)
  [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx-light)
  command -v curl >/dev/null || missing+=(curl)
  command -v python3 >/dev/null || missing+=(python3)
  command -v cmake >/dev/null || missing+=(cmake)
  if [ "$profile" = 1 ]; then command -v perf >/dev/null || missing+=(linux-perf); fi
  if [ "${#missing[@]}" -eq 0 ]; then return 0; fi
  echo "installing missing packages: ${missing[*]}" >&2
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

build_release() {
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFDGW_BUILD_TESTS=OFF >"$work/build.log" 2>&1 &&
    cmake --build "$build" -j2 --target fulldatos-gateway fulldatos-sim >>"$work/build.log" 2>&1
}

install_missing_packages || abort "install wrk, redis-server, nginx, curl and python3 (see the apt-get output above)"
pass_step "tools installed"
nginx_binary=/usr/sbin/nginx
[ -x "$nginx_binary" ] || nginx_binary=$(command -v nginx)

if [ -n "${FDGW_BENCH_GATEWAY:-}" ] && [ -n "${FDGW_BENCH_SIM:-}" ]; then
  [ -x "$gateway_binary" ] && [ -x "$sim_binary" ] || abort "FDGW_BENCH_GATEWAY or FDGW_BENCH_SIM is not an executable"
  pass_step "prebuilt binaries"
else
  echo "building $build (Release, -j2)" >&2
  build_release || abort "release build failed; see $work/build.log"
  pass_step "release build"
fi

read -r redis_port sim_port static_port proxy_port gateway_port admin_port spare_sim_port <<<"$(free_ports 7)"

# ---------------------------------------------------------------------------
# Redis and the simulator.

# The append-only file, as in deployments, so the measurement includes its cost.
start_process "$work/redis/redis.log" redis-server --bind 127.0.0.1 --port "$redis_port" --save "" \
  --appendonly yes --appendfsync everysec --dir "$work/redis" --protected-mode yes
redis_pid=$last_pid
redis_ready=0
for _ in $(seq 1 100); do
  if redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then redis_ready=1; break; fi
  sleep 0.1
done
[ "$redis_ready" = 1 ] || abort "start redis-server; see $work/redis/redis.log"
pass_step "redis-server started (pid $redis_pid)"

# Starts fulldatos-sim on PORT with extra options and sets last_pid.
start_sim() {
  local port=$1 log=$2
  shift 2
  start_process "$log" "$sim_binary" --listen "127.0.0.1:$port" --rate-limit 0 \
    --credentials "$sim_key:$sim_secret" --balance-usd 1000000000 "$@"
  wait_for_http "http://127.0.0.1:$port/status"
}

# Fetches PATH from the simulator on PORT into FILE and fails unless the status is 2xx.
sim_get() {
  local port=$1 path=$2 file=$3
  curl -sf -o "$file" -H "x-api-key: $sim_key" -H "x-api-secret: $sim_secret" "http://127.0.0.1:$port$path"
}

# Saves every page of limit 500 of the simulator's offers and destinations
# in DIR as offers-P.json and destinations-P.json, the files that the static
# upstream serves for ?limit=500&page=P. Sets catalog_pages to the number of
# offer pages.
capture_catalog() {
  local port=$1 dir=$2 kind total pages page
  mkdir -p "$dir" || return 1
  for kind in offers destinations; do
    local path=/catalog/bundle-offers
    [ "$kind" = destinations ] && path=/catalog/destinations
    sim_get "$port" "$path?limit=500&page=1" "$dir/$kind-1.json" || return 1
    total=$(python3 "$bench_dir/bench_data.py" extract "$dir/$kind-1.json" pagination.total) || return 1
    pages=$(((total + 499) / 500))
    for page in $(seq 2 "$pages"); do
      sim_get "$port" "$path?limit=500&page=$page" "$dir/$kind-$page.json" || return 1
    done
    [ "$kind" = offers ] && catalog_pages=$pages
  done
  return 0
}

# Joins the offer pages that capture_catalog saved in DIR into FILE.
merge_offer_pages() {
  local dir=$1 file=$2 page page_files=()
  for page in $(seq 1 "$catalog_pages"); do page_files+=("$dir/offers-$page.json"); done
  python3 "$bench_dir/bench_data.py" merge-pages "$file" "${page_files[@]}"
}

start_sim "$sim_port" "$work/sim.log" || abort "start fulldatos-sim; see $work/sim.log"
sim_pid=$last_pid
pass_step "fulldatos-sim started (pid $sim_pid)"

# The bench upstreams are shared accounts, so the gateway serves an eSIM to
# a tenant only when its user's reference_id starts with "<tenant id>:". The
# order is placed at the simulator under the reference id that the gateway
# would send for the tenant "bench".
capture_responses() {
  capture_catalog "$sim_port" "$catalog_root/generated" || return 1
  order_sku=$(python3 "$bench_dir/bench_data.py" extract "$catalog_root/generated/offers-1.json" data.0.sku) ||
    return 1
  printf '{"reference_id": "bench-customer-1", "sku": "%s", "quantity": 1}' "$order_sku" >"$work/order.json"
  printf '{"reference_id": "bench:bench-customer-1", "sku": "%s", "quantity": 1}' "$order_sku" \
    >"$work/capture/order-request.json"
  curl -sf -o "$work/capture/order.json" -X POST -H "Content-Type: application/json" \
    -H "x-api-key: $sim_key" -H "x-api-secret: $sim_secret" --data-binary "@$work/capture/order-request.json" \
    "http://127.0.0.1:$sim_port/orders" || return 1
  esim_id=$(python3 "$bench_dir/bench_data.py" extract "$work/capture/order.json" data.esims.0.esim_id) || return 1
  sim_get "$sim_port" "/esims/$esim_id" "$work/static/root/esim.json"
}
catalog_root="$work/static/root/catalog"
capture_responses || abort "capture an order, its eSIM and the catalog from the simulator"
generated_offers=$(python3 "$bench_dir/bench_data.py" extract "$catalog_root/generated/offers-1.json" pagination.total)
pass_step "captured GET /esims/$esim_id and the catalog of $generated_offers offers"

# The catalog snapshot is optional test input that must not enter the
# repository, so its converted form lives in the results folder only.
have_snapshot=0
if [ -f "$snapshot" ]; then
  capture_snapshot() {
    python3 "$bench_dir/bench_data.py" convert-snapshot "$snapshot" "$work/capture/snapshot-catalog.json" \
      --exchange-rate "$exchange_rate" || return 1
    start_sim "$spare_sim_port" "$work/sim-snapshot.log" --catalog "$work/capture/snapshot-catalog.json" \
      --exchange-rate "$exchange_rate" || { stop_process "$last_pid"; return 1; }
    local snapshot_sim_pid=$last_pid
    capture_catalog "$spare_sim_port" "$catalog_root/snapshot"
    local status=$?
    stop_process "$snapshot_sim_pid"
    return $status
  }
  # The function starts a process, so it must run in this shell, not in $(...).
  if capture_snapshot; then
    have_snapshot=1
    pass_step "converted the catalog snapshot and captured it from a second simulator"
  else
    fail_step "convert and capture the catalog snapshot; see $work/sim-snapshot.log"
  fi
else
  echo "note: $snapshot not found, skipping the runs on the real catalog" >&2
fi

# Makes the static upstream serve the catalog captured in catalog/NAME.
use_catalog() {
  ln -sfn "$1" "$catalog_root/current.new" && mv -T "$catalog_root/current.new" "$catalog_root/current"
}
use_catalog generated

# ---------------------------------------------------------------------------
# The static upstream and the plain nginx proxy.

nginx_temp_paths() {
  local dir=$1
  cat <<CONF
  client_body_temp_path $dir/client_body;
  proxy_temp_path $dir/proxy_temp;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
CONF
}

cat >"$work/static/nginx.conf" <<CONF
worker_processes 1;
pid $work/static/nginx.pid;
error_log $work/static/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
$(nginx_temp_paths "$work/static")
  map \$arg_page \$catalog_page {
    ~^[0-9]+\$ \$arg_page;
    default 1;
  }
  server {
    listen 127.0.0.1:$static_port;
    keepalive_requests 1000000;
    root $work/static/root;
    default_type application/json;
    location ~ ^/esims/[^/]+\$ { try_files /esim.json =404; }
    # Page P of limit 500 of the current catalog; no page parameter is page 1.
    location = /catalog/bundle-offers { try_files /catalog/current/offers-\$catalog_page.json =404; }
    location = /catalog/destinations { try_files /catalog/current/destinations-\$catalog_page.json =404; }
  }
}
CONF

# The proxy sends the upstream account's credentials on /orders, as the
# gateway does, and logs every request to a file, as the gateway does.
cat >"$work/proxy/nginx.conf" <<CONF
worker_processes 2;
pid $work/proxy/nginx.pid;
error_log $work/proxy/error.log warn;
events { worker_connections 4096; }
http {
  access_log $work/proxy/access.log;
$(nginx_temp_paths "$work/proxy")
  upstream static_upstream {
    server 127.0.0.1:$static_port;
    keepalive 64;
    keepalive_requests 1000000;
  }
  upstream sim_upstream {
    server 127.0.0.1:$sim_port;
    keepalive 16;
  }
  server {
    listen 127.0.0.1:$proxy_port;
    keepalive_requests 1000000;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    location = /orders {
      proxy_set_header Connection "";
      proxy_set_header x-api-key $sim_key;
      proxy_set_header x-api-secret $sim_secret;
      proxy_pass http://sim_upstream;
    }
    location / {
      proxy_pass http://static_upstream;
    }
  }
}
CONF

for dir in "$work/static" "$work/proxy"; do
  mkdir -p "$dir/client_body" "$dir/proxy_temp" "$dir/fastcgi" "$dir/uwsgi" "$dir/scgi"
done

start_process "$work/static/stderr.log" "$nginx_binary" -p "$work/static" -e "$work/static/error.log" \
  -c "$work/static/nginx.conf" -g "daemon off;"
static_pid=$last_pid
wait_for_http "http://127.0.0.1:$static_port/" || abort "start the static nginx; see $work/static/error.log"
pass_step "static upstream (nginx) started (pid $static_pid)"

start_process "$work/proxy/stderr.log" "$nginx_binary" -p "$work/proxy" -e "$work/proxy/error.log" \
  -c "$work/proxy/nginx.conf" -g "daemon off;"
proxy_pid=$last_pid
wait_for_http "http://127.0.0.1:$proxy_port/" || abort "start the nginx proxy; see $work/proxy/error.log"
pass_step "nginx reverse proxy started (pid $proxy_pid)"

# ---------------------------------------------------------------------------
# The gateway.

cat >"$work/gateway/gateway.yaml" <<CONF
listen: 127.0.0.1:$gateway_port
admin_listen: 127.0.0.1:$admin_port
threads: 2
redis:
  url: redis://127.0.0.1:$redis_port/0
  timeout_ms: 100
upstreams:
  static:
    base_url: http://127.0.0.1:$static_port
    api_key_env: FDGW_BENCH_API_KEY
    api_secret_env: FDGW_BENCH_API_SECRET
    shared: true
    requests_per_minute: 1000000
  sim:
    base_url: http://127.0.0.1:$sim_port
    api_key_env: FDGW_BENCH_API_KEY
    api_secret_env: FDGW_BENCH_API_SECRET
    shared: true
    requests_per_minute: 1000000
catalog_cache:
  ttl_seconds: 3600
log_level: info
policies: policies
CONF

# One quota on every route and spend limits, all far above what a run can
# reach, so that their checks run on every request and never reject one. The
# markup is the sample plan's in policies/plans.yaml, so every catalog
# response is priced as a reseller's would be.
cat >"$work/gateway/policies/plans.yaml" <<'CONF'
plans:
  bench:
    quotas:
      - name: bench-requests
        routes: all
        limit: 100000000
        window: 1m
    spend:
      daily_usd: 1000000000
      monthly_usd: 1000000000
    markup:
      percent: 20
      fixed: {usd: 0.50, mxn: 9}
      min_margin: {usd: 0.30, mxn: 5}
      rounding: {usd: {ending: 0.99}, mxn: {nearest: 1}}
      overrides:
        - match: {countries: [US, CA]}
          percent: 12
        - match: {profile: unlimited-plus}
          percent: 30
        - match: {sku: FD-MX-5GB-30D}
          price: {usd: 9.99, mxn: 179}
CONF

# write_tenants FILLER [orders]
# Writes tenants.yaml with FILLER generated tenants, then the tenant "bench"
# on the static upstream and, with "orders", "bench-orders" on the simulator.
write_tenants() {
  local named=(--tenant "bench:static:$tenant_key:$tenant_secret")
  if [ "${2:-}" = orders ]; then named+=(--tenant "bench-orders:sim:$orders_tenant_key:$tenant_secret"); fi
  python3 "$bench_dir/bench_data.py" tenants "$work/gateway/policies/tenants.yaml" --plan bench \
    --filler "$1" --filler-upstream static "${named[@]}"
}

# Starts the gateway with the current config and sets gateway_pid.
start_gateway() {
  "$gateway_binary" --check-config --config "$work/gateway/gateway.yaml" >>"$work/gateway/check.log" 2>&1 || return 1
  start_process "$work/gateway/gateway.log" "$gateway_binary" --config "$work/gateway/gateway.yaml"
  gateway_pid=$last_pid
  for _ in $(seq 1 150); do
    if curl -sf -o /dev/null "http://127.0.0.1:$admin_port/readyz"; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Deletes the catalog copies that gateway instances share through Redis, so
# that the next gateway fetches the catalog that the static upstream serves now.
forget_shared_catalog() {
  local keys
  keys=$(redis-cli -h 127.0.0.1 -p "$redis_port" --scan --pattern 'fdgw:catalog:*') || return 1
  [ -z "$keys" ] || redis-cli -h 127.0.0.1 -p "$redis_port" DEL $keys >/dev/null
}

# Sends one catalog request as the tenant "bench", which fills the catalog
# cache when it is cold, and fails unless the status is 2xx.
warm_catalog() {
  local status
  status=$(curl -s -o "$work/warm.json" -w '%{http_code}' -H "x-api-key: $tenant_key" \
    -H "x-api-secret: $tenant_secret" "http://127.0.0.1:$gateway_port$catalog_path")
  [ "${status:0:1}" = 2 ] || { echo "catalog warm-up returned HTTP $status: $(head -c 300 "$work/warm.json")" >&2; return 1; }
}

# restart_gateway FILLER [orders]
# Replaces the gateway with a fresh one for FILLER generated tenants and
# warms its catalog cache, so its memory figures are its own.
restart_gateway() {
  [ -z "${gateway_pid:-}" ] || stop_process "$gateway_pid"
  forget_shared_catalog && write_tenants "$@" && start_gateway && warm_catalog
}

catalog_path="/catalog/bundle-offers?limit=500"
restart_gateway 0 orders ||
  abort "start the gateway; see $work/gateway/check.log and $work/gateway/gateway.log"
pass_step "gateway started (pid $gateway_pid) and its catalog cache warmed"

# ---------------------------------------------------------------------------
# Measurements.

gateway_url="http://127.0.0.1:$gateway_port"
proxy_url="http://127.0.0.1:$proxy_port"
clock_ticks=$(getconf CLK_TCK)

# Prints the user plus system CPU time of the processes, in clock ticks.
cpu_ticks() {
  local total=0 ticks
  for pid in "$@"; do
    # utime and stime are fields 14 and 15 of /proc/PID/stat. The command name
    # in brackets may contain spaces, so fields are counted after the bracket.
    ticks=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}') || return 1
    total=$((total + ticks))
  done
  echo "$total"
}

# Prints the nginx proxy's master and worker process ids.
proxy_pids() {
  echo "$proxy_pid" $(ps -o pid= --ppid "$proxy_pid")
}

# Prints the total number of Redis commands served, leaving out INFO itself.
redis_calls() {
  redis-cli -h 127.0.0.1 -p "$redis_port" INFO commandstats |
    awk -F'[:=,]' '/^cmdstat_/ && $1 != "cmdstat_info" {sum += $3} END {print sum + 0}'
}

memory_kb() {
  awk -v field="$2:" '$1 == field {print $2}' "/proc/$1/status"
}

# measure KIND CASE SIDE CONNECTIONS PAUSE_MS METHOD PATH BODY_FILE [KEY=VALUE...]
# Runs wrk against SIDE (gateway or nginx), appends one result line and fails
# when wrk saw a non-2xx status, a socket error or no request at all.
measure() {
  local kind=$1 case_name=$2 side=$3 clients=$4 pause_ms=$5 method=$6 path=$7 body_file=$8
  shift 8
  local base pids
  if [ "$side" = gateway ]; then
    base=$gateway_url
    pids=$gateway_pid
  else
    base=$proxy_url
    pids=$(proxy_pids)
  fi

  local cpu_before redis_before redis_cpu_before output="$work/wrk/$kind-$case_name-$side.txt"
  cpu_before=$(cpu_ticks $pids) || return 1
  redis_before=$(redis_calls) || return 1
  redis_cpu_before=$(cpu_ticks "$redis_pid") || return 1
  BENCH_METHOD=$method BENCH_PATH=$path BENCH_BODY_FILE=$body_file BENCH_PAUSE_MS=$pause_ms \
    BENCH_API_KEY=${measure_key:-$tenant_key} BENCH_API_SECRET=$tenant_secret \
    wrk -t1 -c"$clients" -d"${duration}s" --timeout 10s --latency -s "$bench_dir/request.lua" "$base$path" \
    >"$output" 2>&1
  local wrk_status=$?
  local cpu_after redis_after redis_cpu_after
  cpu_after=$(cpu_ticks $pids) || return 1
  redis_after=$(redis_calls) || return 1
  redis_cpu_after=$(cpu_ticks "$redis_pid") || return 1

  local summary
  summary=$(sed -n 's/^BENCH //p' "$output")
  if [ "$wrk_status" -ne 0 ] || [ -z "$summary" ]; then
    echo "wrk failed on $kind $case_name $side; see $output" >&2
    return 1
  fi
  local record="kind=$kind case=$case_name side=$side connections=$clients pause_ms=$pause_ms $summary"
  record+=" cpu_ticks=$((cpu_after - cpu_before)) clock_ticks=$clock_ticks"
  if [ "$side" = gateway ]; then
    record+=" redis_calls=$((redis_after - redis_before)) redis_cpu_ticks=$((redis_cpu_after - redis_cpu_before))"
    record+=" hwm_kb=$(memory_kb "$gateway_pid" VmHWM)"
  fi
  for extra in "$@"; do record+=" $extra"; done
  echo "$record" >>"$results"

  last_requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$summary")
  echo "  $kind $case_name $side: $summary" >&2
  if grep -q "Non-2xx or 3xx responses" "$output" || ! grep -q " status_errors=0 socket_errors=0" <<<" $summary" ||
    [ "${last_requests:-0}" -eq 0 ]; then
    echo "non-2xx responses or socket errors on $kind $case_name $side; see $output" >&2
    return 1
  fi
}

# Runs one case on the gateway and then on the nginx proxy, one step each.
measure_both() {
  local kind=$1 case_name=$2
  shift 2
  local side
  for side in gateway nginx; do
    if measure "$kind" "$case_name" "$side" "$@"; then
      pass_step "$kind $case_name via $side"
    else
      fail_step "$kind $case_name via $side"
    fi
  done
}

# Sends one request through the gateway and the proxy and passes when both are 2xx.
check_request_class() {
  local name=$1 method=$2 path=$3 key=$4
  shift 4
  local base status
  for base in "$gateway_url" "$proxy_url"; do
    status=$(curl -s -o "$work/check.json" -w '%{http_code}' -X "$method" -H "x-api-key: $key" \
      -H "x-api-secret: $tenant_secret" "$@" "$base$path")
    if [ "${status:0:1}" != 2 ]; then
      fail_step "$name via $base returned HTTP $status: $(head -c 300 "$work/check.json")"
      return
    fi
  done
  pass_step "$name returns 2xx via the gateway and nginx"
}

check_request_class "esims.get" GET "/esims/$esim_id" "$tenant_key"
check_request_class "catalog.offers.list" GET "$catalog_path" "$tenant_key"
check_request_class "orders.create" POST /orders "$orders_tenant_key" \
  -H "Content-Type: application/json" --data-binary "@$work/order.json"

if [ "$mode" = full ]; then
  # Warm-up runs fill connection pools and caches. Their figures are not recorded.
  for base in "$gateway_url" "$proxy_url"; do
    BENCH_API_KEY=$tenant_key BENCH_API_SECRET=$tenant_secret BENCH_PATH="/esims/$esim_id" \
      wrk -t1 -c"$connections" -d1s -s "$bench_dir/request.lua" "$base/esims/$esim_id" >/dev/null 2>&1
  done
fi

echo "scenario 1: GET /esims/{id}, $connections connections, ${duration}s per run" >&2
measure_both scenario "1_esims.get" "$connections" 0 GET "/esims/$esim_id" ""
peak_rps=$(awk -v name=1_esims.get '
  { for (i = 1; i <= NF; i++) { split($i, pair, "="); f[pair[1]] = pair[2] } }
  f["kind"] == "scenario" && f["case"] == name && f["side"] == "gateway" {
    print int(f["requests"] / (f["duration_us"] / 1e6))
  }' "$results")
peak_rps=${peak_rps:-0}

# wrk in Debian has no constant-rate option (-R comes from wrk2), so half of
# the gateway's peak is approximated with pauses. Each connection waits
# half_peak_pause_ms before every request, so it sends at most
# 1000 / (pause + latency) requests per second. For each side, a 1-second
# calibration run measures the rate of a first guess of the connection
# count, and the recorded run scales that count by target / achieved rate.
# Both sides then run at about the same rate, which the table shows.
half_peak_rate=$((peak_rps / 2))

# Prints the connection count that brings BASE to half_peak_rate.
calibrate_half_peak() {
  local base=$1 guess output achieved
  guess=$(awk -v rate="$half_peak_rate" -v pause="$half_peak_pause_ms" \
    'BEGIN { c = int(rate * pause / 1000 + 0.5); print (c < 1 ? 1 : c) }')
  output=$(BENCH_API_KEY=$tenant_key BENCH_API_SECRET=$tenant_secret BENCH_PATH="/esims/$esim_id" \
    BENCH_PAUSE_MS=$half_peak_pause_ms \
    wrk -t1 -c"$guess" -d1s -s "$bench_dir/request.lua" "$base/esims/$esim_id" 2>&1)
  achieved=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$output")
  awk -v guess="$guess" -v rate="$half_peak_rate" -v achieved="${achieved:-0}" 'BEGIN {
    c = achieved > 0 ? int(guess * rate / achieved + 0.5) : guess
    if (c < 1) c = 1
    if (c > 256) c = 256
    print c
  }'
}

echo "scenario 1 at half peak: about $half_peak_rate requests/s, ${half_peak_pause_ms} ms pause" >&2
for side in gateway nginx; do
  if [ "$side" = gateway ]; then base=$gateway_url; else base=$proxy_url; fi
  half_peak_connections=$(calibrate_half_peak "$base")
  if measure scenario "1_esims.get_half_peak" "$side" "$half_peak_connections" "$half_peak_pause_ms" \
    GET "/esims/$esim_id" ""; then
    pass_step "scenario 1_esims.get_half_peak via $side ($half_peak_connections connections)"
  else
    fail_step "scenario 1_esims.get_half_peak via $side ($half_peak_connections connections)"
  fi
done

# profile_gateway NAME PATH
# Records the gateway with perf during one run of GET PATH at full load and
# writes the top entries by library and by function to perf-report-NAME.txt.
profile_gateway() {
  local name=$1 path=$2 data="$work/perf-$1.data" report_file="$work/perf-report-$1.txt"
  echo "profiling the gateway with perf during GET $path" >&2
  start_process "$work/perf-record-$name.log" perf record -e cpu-clock -g -p "$gateway_pid" -o "$data" \
    -- sleep "$duration"
  local perf_pid=$last_pid
  BENCH_API_KEY=$tenant_key BENCH_API_SECRET=$tenant_secret BENCH_PATH="$path" \
    wrk -t1 -c"$connections" -d"${duration}s" -s "$bench_dir/request.lua" "$gateway_url$path" \
    >"$work/wrk/profile-$name.txt" 2>&1
  wait "$perf_pid"
  local perf_status=$?
  stop_process "$perf_pid"
  if [ "$perf_status" -eq 0 ] &&
    perf report -i "$data" --no-children --sort dso --stdio -g none >"$report_file" 2>/dev/null &&
    perf report -i "$data" --no-children --sort dso,sym --stdio -g none --percent-limit 0.3 \
      >>"$report_file" 2>/dev/null; then
    pass_step "perf profile of $name written to $report_file"
  else
    fail_step "perf record or report; see $work/perf-record-$name.log"
  fi
}

if [ "$profile" = 1 ]; then
  profile_gateway scenario1 "/esims/$esim_id"
fi

# Scenario 2: the gateway serves the page from its warm catalog cache and prices
# every offer for the tenant. nginx passes the same request to the static
# upstream, which sends the raw page, so nginx does strictly less work.
echo "scenario 2: GET $catalog_path from the warm cache, $generated_offers offers, $connections connections" >&2
measure_both scenario "2_catalog_page_generated" "$connections" 0 GET "$catalog_path" ""
if [ "$profile" = 1 ]; then
  profile_gateway scenario2 "$catalog_path"
fi

echo "scenario 3: POST /orders to the simulator at a steady rate" >&2
measure_key=$orders_tenant_key
measure_both scenario "3_orders.create_steady" "$orders_connections" "$orders_pause_ms" POST /orders "$work/order.json"
unset measure_key

# INFO commandstats also counts the commands that a Lua script runs, so
# the Redis column of the table counts commands, not round trips. MONITOR
# shows commands sent by clients with the client's address and commands run
# by scripts as "lua", so a short sample with MONITOR on counts round trips.
# MONITOR slows Redis down, so this sample stays out of the timing figures.
sample_redis_round_trips() {
  local monitor_log="$work/redis-monitor.txt" output="$work/wrk/redis-sample.txt"
  start_process "$monitor_log" redis-cli -h 127.0.0.1 -p "$redis_port" MONITOR
  local monitor_pid=$last_pid
  sleep 0.3
  BENCH_API_KEY=$tenant_key BENCH_API_SECRET=$tenant_secret BENCH_PATH="/esims/$esim_id" \
    wrk -t1 -c4 -d1s -s "$bench_dir/request.lua" "$gateway_url/esims/$esim_id" >"$output" 2>&1
  sleep 0.3
  stop_process "$monitor_pid"

  local requests client_commands script_commands
  requests=$(sed -n 's/^BENCH requests=\([0-9]*\).*/\1/p' "$output")
  client_commands=$(grep -c '^[0-9.]* \[[0-9]* 127\.0\.0\.1:' "$monitor_log")
  script_commands=$(grep -c '^[0-9.]* \[[0-9]* lua\]' "$monitor_log")
  [ "${requests:-0}" -gt 0 ] || return 1
  echo "kind=redis case=1_esims.get side=gateway connections=4 requests=$requests round_trips=$client_commands" \
    "script_commands=$script_commands" >>"$results"
  echo "  Redis sample: $requests requests, $client_commands commands from clients," \
    "$script_commands run by scripts" >&2
}
if sample_redis_round_trips; then
  pass_step "Redis round trips sampled with MONITOR on scenario 1"
else
  fail_step "Redis round-trip sample; see $work/wrk/redis-sample.txt"
fi

# Which Redis commands the gateway sent, to explain the calls per request.
redis-cli -h 127.0.0.1 -p "$redis_port" INFO commandstats >"$work/redis-commandstats.txt" 2>&1

# The real catalog, after scenario 3 because the gateway is replaced to load it.
if [ "$have_snapshot" = 1 ]; then
  use_catalog snapshot
  if restart_gateway 0; then
    measure_both scenario "2_catalog_page_snapshot" "$connections" 0 GET "$catalog_path" ""
  else
    fail_step "start the gateway with the catalog snapshot; see $work/gateway/gateway.log"
  fi
fi

# Catalog size: a fresh gateway whose cache contains N offers, measured on a
# page of 500 (against nginx passing the raw page) and on a query filtered
# by country, which the static upstream cannot serve. fulldatos-sim
# generates at most a few thousand distinct offers. For larger catalogs its
# offers are repeated under new SKUs and loaded into a second simulator with
# --catalog, so the captured pages still have the simulator's form.
if [ "$mode" = smoke ]; then
  offer_counts=(1000 5000)
else
  offer_counts=(1000 5000 20000)
fi
filtered_path="/catalog/bundle-offers?country=MX&limit=500"

# capture_offers N: captures a catalog of N offers into catalog/offers-N and
# sets offers_case to its label.
capture_offers() {
  local count=$1 dir="$catalog_root/offers-$1" generated
  start_sim "$spare_sim_port" "$work/sim-offers.log" --offers "$count" || { stop_process "$last_pid"; return 1; }
  local sim=$last_pid
  capture_catalog "$spare_sim_port" "$dir"
  local status=$?
  stop_process "$sim"
  [ "$status" -eq 0 ] || return 1

  generated=$(python3 "$bench_dir/bench_data.py" extract "$dir/offers-1.json" pagination.total) || return 1
  offers_case="$count"
  [ "$generated" -lt "$count" ] || return 0
  merge_offer_pages "$dir" "$work/capture/whole-$count.json" &&
    python3 "$bench_dir/bench_data.py" repeat-offers "$work/capture/whole-$count.json" \
      "$work/capture/repeated-$count.json" --count "$count" || return 1
  rm -rf "$dir"
  start_sim "$spare_sim_port" "$work/sim-offers.log" --catalog "$work/capture/repeated-$count.json" ||
    { stop_process "$last_pid"; return 1; }
  sim=$last_pid
  capture_catalog "$spare_sim_port" "$dir"
  status=$?
  stop_process "$sim"
  offers_case="${count}_(${generated}_generated,_repeated_under_new_SKUs)"
  return "$status"
}

# measure_offers CASE CATALOG: replaces the gateway with one that caches
# catalog/CATALOG and measures the page and the filtered query.
measure_offers() {
  local case_name=$1 catalog=$2 page_bytes filtered_bytes rss_warm
  use_catalog "$catalog"
  if ! restart_gateway 0; then
    fail_step "start the gateway with the catalog $catalog; see $work/gateway/gateway.log"
    return
  fi
  rss_warm=$(memory_kb "$gateway_pid" VmRSS)
  page_bytes=$(stat -c %s "$catalog_root/$catalog/offers-1.json")
  filtered_bytes=$(curl -s -o /dev/null -w '%{size_download}' -H "x-api-key: $tenant_key" \
    -H "x-api-secret: $tenant_secret" "$gateway_url$filtered_path")
  measure_both offers "$case_name" "$offers_connections" 0 GET "$catalog_path" "" \
    "response_bytes=$page_bytes" "rss_warm_kb=$rss_warm"
  if measure offers_filtered "$case_name" gateway "$offers_connections" 0 GET "$filtered_path" "" \
    "response_bytes=$filtered_bytes" "rss_warm_kb=$rss_warm"; then
    pass_step "offers_filtered $case_name via gateway"
  else
    fail_step "offers_filtered $case_name via gateway"
  fi
}

for offers in "${offer_counts[@]}"; do
  if ! capture_offers "$offers"; then
    fail_step "capture a catalog of $offers offers; see $work/sim-offers.log"
    continue
  fi
  measure_offers "$offers_case" "offers-$offers"
done
if [ "$have_snapshot" = 1 ]; then
  snapshot_offers=$(python3 "$bench_dir/bench_data.py" extract "$catalog_root/snapshot/offers-1.json" pagination.total)
  measure_offers "${snapshot_offers}_snapshot" snapshot
fi

# Configured tenants: a fresh gateway per count, so its peak memory is its
# own, measured on the warm catalog page.
use_catalog generated
if [ "$mode" = smoke ]; then
  tenant_counts=(1 1000)
else
  tenant_counts=(1 100 1000)
fi
for tenants in "${tenant_counts[@]}"; do
  if ! restart_gateway $((tenants - 1)); then
    fail_step "start the gateway with $tenants tenants; see $work/gateway/gateway.log"
    continue
  fi
  rss_start=$(memory_kb "$gateway_pid" VmRSS)
  if measure tenants "$tenants" gateway "$connections" 0 GET "$catalog_path" "" "rss_start_kb=$rss_start"; then
    pass_step "catalog page via the gateway with $tenants tenants"
  else
    fail_step "catalog page via the gateway with $tenants tenants"
  fi
done

# ---------------------------------------------------------------------------
# Report.

{
  echo "## fulldatos-gateway benchmark ($mode run, ${duration}s per run)"
  echo
  echo "$(nproc) cores, $(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) memory, $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  if [ "$mode" = full ]; then
    python3 "$bench_dir/bench_data.py" report "$results" --targets
  else
    python3 "$bench_dir/bench_data.py" report "$results"
  fi
} >"$report"
if [ -s "$report" ] && grep -q '^|' "$report"; then
  cat "$report"
  pass_step "report written to $report"
else
  fail_step "report; see $results"
fi

echo "results folder: $work" >&2
print_summary
[ "$failed" -eq 0 ]
