#!/usr/bin/env bash
# Stops the processes that deploy/run-local.sh started, by their recorded ids.
set -uo pipefail
run="$(cd "$(dirname "$0")/.." && pwd)/.run"
for name in gateway sim redis; do
  pid_file="$run/$name.pid"
  [ -f "$pid_file" ] || continue
  pid=$(cat "$pid_file")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "stop-local: stopped $name ($pid)"
  fi
  rm -f "$pid_file"
done
