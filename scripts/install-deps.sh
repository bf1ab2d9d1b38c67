#!/usr/bin/env bash
# Installs the Debian 12 packages Zhisuan builds and tests with. Idempotent: does nothing (and
# needs no network) when they are all present. Run as root, or with sudo available.
set -euo pipefail
packages=(
  cmake g++ make pkg-config python3
  nlohmann-json3-dev libcli11-dev libyaml-cpp-dev libfmt-dev
  libsqlite3-dev  # live cluster
  libssl-dev libssl3  # tokens (libcrypto, loaded at run time: src/api/openssl_runtime.h)
  curl procps
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev   # libFuzzer targets
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
