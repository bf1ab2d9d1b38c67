#!/usr/bin/env bash
# The long fault-injection run (issue 10): tests/fault/fault_driver.py against the Release build
# for MINUTES minutes of fault rounds (default 10), then every job must end. Prints the report
# (rounds, kills by kind, jobs, invariant checks, violations with details) and writes it as JSON.
# Needs build/release/zs (cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release; cmake --build
# build/release --target zs). The short version is tests/cli/fault_injection.sh (CTest).
# Usage: bench/fault_injection.sh [MINUTES]
#   env: SEED (default 7), ZS (default build/release/zs), REPORT (default
#        fault-injection-report.json), MAX_ACTIVE (default 12), KEEP=1 keeps the work dir,
#        FAULTS / SHAPES (comma-separated subsets, to reproduce one kind of trouble)
set -u
cd "$(dirname "$0")/.."
MINUTES=${1:-10}
ZS=$(pwd)/${ZS:-build/release/zs}
[ -x "$ZS" ] || { echo "no $ZS: build the Release binary first" >&2; exit 2; }
PY=$(python3 -c 'import sys; print(sys.executable)')
extra=()
[ -n "${KEEP:-}" ] && extra+=(--keep)
[ -n "${FAULTS:-}" ] && extra+=(--faults "$FAULTS")
[ -n "${SHAPES:-}" ] && extra+=(--shapes "$SHAPES")
exec "$PY" tests/fault/fault_driver.py --zs "$ZS" --seed "${SEED:-7}" \
  --duration "$(awk -v m="$MINUTES" 'BEGIN{print m*60}')" --drain 90 \
  --max-active "${MAX_ACTIVE:-12}" --json "${REPORT:-fault-injection-report.json}" "${extra[@]}"
