#!/usr/bin/env bash
# Configures and builds one flavour: release (build/release) or asan (build/asan:
# AddressSanitizer + UndefinedBehaviorSanitizer, with tests).
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
jobs=${ZS_BUILD_JOBS:-$(nproc)}
case "$flavour" in
  release) cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DZS_BUILD_TESTS=ON >/dev/null ;;
  asan)    cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZS_SANITIZE=ON -DZS_BUILD_TESTS=ON >/dev/null ;;
  *) echo "usage: scripts/build.sh [release|asan]" >&2; exit 2 ;;
esac
cmake --build "build/$flavour" -j "$jobs"
