#!/usr/bin/env bash
# Installs what is missing, builds everything with tests, and runs every
# test (unit and integration) with CTest. Exits non-zero when any test fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="${FDGW_BUILD_DIR:-$root/build}"

"$root/deploy/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFDGW_BUILD_TESTS=ON
cmake --build "$build" -j"$(nproc)"
# Integration tests start real processes and measure latency, so they run
# one at a time.
ctest --test-dir "$build" --output-on-failure --timeout 600
