#!/usr/bin/env bash
# README command 2: install what is needed, build with AddressSanitizer +
# UndefinedBehaviorSanitizer, and run every test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh asan
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd build/asan
ctest --output-on-failure -j "$(nproc)" --timeout 600
