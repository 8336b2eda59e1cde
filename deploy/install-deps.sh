#!/usr/bin/env bash
# Installs the Debian 12 packages that building, running and testing need,
# skipping those already present. Run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libpistache-dev libcurl4-openssl-dev nlohmann-json3-dev libhiredis-dev
  libyaml-cpp-dev prometheus-cpp-dev libssl-dev
  libgtest-dev libgmock-dev zlib1g-dev
  redis-server curl prometheus
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
