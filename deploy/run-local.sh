#!/usr/bin/env bash
# Installs what is missing, builds, and starts Redis, fulldatos-sim and the
# gateway in the background on 127.0.0.1. With FULLDATOS_API_KEY and
# FULLDATOS_API_SECRET set, the gateway uses config/local-fulldatos.yaml and
# the real FullDatos API instead of the simulator, still on loopback only.
# Stop everything with deploy/stop-local.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-release"
run="$root/.run"

"$root/deploy/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFDGW_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target fulldatos-gateway fulldatos-sim

"$root/deploy/stop-local.sh" >/dev/null 2>&1 || true
mkdir -p "$run"

# Redis keeps an append-only file, written to disk every second, so quota
# counts, wallets, spend reservations and idempotency records survive a
# Redis restart.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --appendonly yes --appendfsync everysec \
    --dir "$run" --pidfile "$run/redis.pid" --logfile "$run/redis.log"
fi

if [ -n "${FULLDATOS_API_KEY:-}" ] && [ -n "${FULLDATOS_API_SECRET:-}" ]; then
  config="$root/config/local-fulldatos.yaml"
  echo "run-local: using the real FullDatos API with the credentials from the environment"
else
  config="$root/config/local.yaml"
  export FULLDATOS_API_KEY=fdsim0demo0key000000000000000001
  export FULLDATOS_API_SECRET=fdsim0demo0secret00000000000000000000000000000000000000000000000
  nohup "$build/tests/fulldatos_sim/fulldatos-sim" --listen 127.0.0.1:8099 \
    --credentials "$FULLDATOS_API_KEY:$FULLDATOS_API_SECRET" >"$run/sim.log" 2>&1 &
  echo $! >"$run/sim.pid"
fi

"$build/gateway/app/fulldatos-gateway" --config "$config" --check-config
nohup "$build/gateway/app/fulldatos-gateway" --config "$config" >"$run/gateway.log" 2>&1 &
echo $! >"$run/gateway.pid"

for _ in $(seq 1 100); do
  if curl -fs http://127.0.0.1:8090/readyz >/dev/null 2>&1; then break; fi
  sleep 0.1
done
if ! curl -fs http://127.0.0.1:8090/readyz >/dev/null; then
  echo "run-local: the gateway did not become ready; see $run/gateway.log" >&2
  tail -n 20 "$run/gateway.log" >&2
  exit 1
fi

cat <<MSG

The gateway is listening on http://127.0.0.1:8080 (admin: http://127.0.0.1:8090).
Logs and process ids are in $run/. Stop everything with deploy/stop-local.sh.

Try a first request as the demo tenant acme-travel:

  curl -s http://127.0.0.1:8080/catalog/bundle-offers?country=MX \\
    -H 'x-api-key: acme0demo0key0000000000000000001' \\
    -H 'x-api-secret: acme0demo0secret000000000000000000000000000000000000000000000000'
MSG
