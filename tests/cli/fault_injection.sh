#!/usr/bin/env bash
# The short fault-injection run (issue 10): a real controller and four fake-device agents on
# loopback, jobs of every shape, and in rounds kill -9 of the controller and of agents and
# SIGSTOP/SIGCONT flaps around --node-lost-ms; fails on any broken invariant (the report lists
# them with details). Fixed seed, bounded to ~90 s and a small load, as CI runs it on the ASan
# build. The long run is bench/fault_injection.sh (docs/benchmarks.md, "Fault injection").
# Usage: fault_injection.sh path/to/zs   (env: FI_SEED, FI_DURATION, FI_KEEP=1 keeps the work dir)
set -u
ZS=${1:?usage: $0 path/to/zs}
[ -x "$ZS" ] || { echo "FAIL: $ZS is not an executable"; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
# pyenv's python3 is a shim: run the interpreter itself (the tasks use it too).
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
[ -x "${PY:-}" ] || { echo "FAIL: python3 is needed"; exit 1; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/zs-fault-injection-XXXXXX")
trap 'rm -rf "$OUT"' EXIT
keep=()
[ -n "${FI_KEEP:-}" ] && keep=(--keep)
"$PY" "$HERE/../fault/fault_driver.py" --zs "$ZS" --seed "${FI_SEED:-1}" \
  --duration "${FI_DURATION:-40}" --drain 25 --max-active 6 \
  --json "$OUT/report.json" "${keep[@]}"
rc=$?
case $rc in
  0) echo "all checks passed" ;;
  1) echo "FAIL: invariant violations (above)" ;;
  *) echo "FAIL: the fault-injection harness failed (status $rc)" ;;
esac
exit $rc
