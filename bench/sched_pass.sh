#!/usr/bin/env bash
# Median time of one scheduling pass on a synthetic snapshot (issue target: easy, 100,000
# pending jobs of 1-512 accelerators, 10,000 nodes x 8: median <= 100 ms on one core).
# Usage: bench/sched_pass.sh [policy ...]   (default: easy). Needs build/release/zs.
# TENANTS=1000 spreads the jobs over that many tenants with quotas (zs bench sched --tenants).
set -euo pipefail
cd "$(dirname "$0")/.."
ZS=${ZS:-build/release/zs}
TENANTS=${TENANTS:-0}
policies=("$@"); [ ${#policies[@]} -eq 0 ] && policies=(easy)
for p in "${policies[@]}"; do
  # Each invocation prints its own median over --passes; take the median of 5 invocations.
  meds=()
  for run in 1 2 3 4 5; do
    meds+=("$(taskset -c 0 "$ZS" bench sched --jobs 100000 --nodes 10000 --per-node 8 --policy "$p" --passes 9 --seed "$run" --tenants "$TENANTS" | tail -1 | awk '{print $NF}')")
  done
  printf '%s\n' "${meds[@]}" | sort -n | awk -v p="$p" '{a[NR]=$1} END {printf "%s: median pass %.1f ms (runs: min %.1f, max %.1f)\n", p, a[int((NR+1)/2)], a[1], a[NR]}'
done
