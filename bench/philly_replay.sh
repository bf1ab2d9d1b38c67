#!/usr/bin/env bash
# Wall time and peak memory of replaying the full Philly trace (82,247 jobs) on 64 x 8 V100
# (issue target for las: <= 2 s). Median of 5 runs. Usage: bench/philly_replay.sh [policy ...]
set -euo pipefail
cd "$(dirname "$0")/.."
ZS=${ZS:-build/release/zs}
policies=("$@"); [ ${#policies[@]} -eq 0 ] && policies=(las)
for p in "${policies[@]}"; do
  rows=()
  for run in 1 2 3 4 5; do
    rows+=("$( { /usr/bin/time -f '%e %M' taskset -c 0 "$ZS" sim --cluster data/clusters/philly.yaml \
      --trace data/traces/philly/pollux_philly.csv --policy "$p" --format csv --no-progress >/dev/null; } 2>&1 | tail -1)")
  done
  printf '%s\n' "${rows[@]}" | sort -n | awk -v p="$p" '{t[NR]=$1; m[NR]=$2} END {printf "%s: median %.2f s (min %.2f, max %.2f), peak RSS %.1f MiB\n", p, t[int((NR+1)/2)], t[1], t[NR], m[NR]/1024}'
done
