#!/usr/bin/env bash
# Wall time and peak memory of replaying the full Philly trace (82,247 jobs) on 64 x 8 V100
# (issue 16 target: <= 2 s for every policy). Median of RUNS runs (default 5), pinned to one core.
# Usage: bench/philly_replay.sh [policy ...]        (default: las)
#        TENANTS_FILE=data/tenants/philly.yaml bench/philly_replay.sh easy las
#        (the same replay under tenants' shares, as `zs sim --tenants FILE`)
set -euo pipefail
cd "$(dirname "$0")/.."
ZS=${ZS:-build/release/zs}
RUNS=${RUNS:-5}
tenants=()
[ -n "${TENANTS_FILE:-}" ] && tenants=(--tenants "$TENANTS_FILE")
policies=("$@"); [ ${#policies[@]} -eq 0 ] && policies=(las)
for p in "${policies[@]}"; do
  rows=()
  for ((run = 1; run <= RUNS; run++)); do
    rows+=("$( { /usr/bin/time -f '%e %M' taskset -c 0 "$ZS" sim --cluster data/clusters/philly.yaml \
      --trace data/traces/philly/pollux_philly.csv --policy "$p" "${tenants[@]}" --format csv \
      --no-progress >/dev/null; } 2>&1 | tail -1)")
  done
  printf '%s\n' "${rows[@]}" | sort -n | awk -v p="$p${TENANTS_FILE:+ (tenants: $TENANTS_FILE)}" '{t[NR]=$1; m[NR]=$2} END {printf "%s: median %.2f s (min %.2f, max %.2f), peak RSS %.1f MiB\n", p, t[int((NR+1)/2)], t[1], t[NR], m[NR]/1024}'
done
