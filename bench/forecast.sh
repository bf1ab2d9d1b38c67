#!/usr/bin/env bash
# Issue 17, "when will my job start?":
#  1. the cost of one start-time forecast of 10,000 waiting jobs on 10,000 nodes x 8 (target
#     <= 1 s on one core), per policy: `zs bench forecast` (synthetic snapshot, 90% busy), the
#     median of RUNS forecasts, pinned to one core;
#  2. the forecast error on Philly with honest walltimes (--walltime uniform:1-4): estimates
#     made at FORECASTS submits against the real starts, per policy.
# Usage: bench/forecast.sh [policy ...]     (default: every policy a controller can run)
set -euo pipefail
cd "$(dirname "$0")/.."
ZS=${ZS:-build/release/zs}
RUNS=${RUNS:-5}
FORECASTS=${FORECASTS:-2000}
policies=("$@"); [ ${#policies[@]} -eq 0 ] && policies=(fifo easy las hetero easy-pred spf)
echo "## forecast of 10,000 waiting jobs on 10,000 nodes x 8 (median of $RUNS, one core)"
for p in "${policies[@]}"; do
  taskset -c 0 "$ZS" bench forecast --policy "$p" --jobs 10000 --nodes 10000 --runs "$RUNS" |
    awk -v p="$p" '/^estimates/ {e=$0} /^runs/ {r=$0} /^median copy/ {c=$4} /^median forecast/ {f=$4}
      END {printf "%-10s forecast %7.1f ms (copy %.1f ms); %s; %s\n", p, f, c, r, e}'
done
echo
echo "## forecast error on Philly, --walltime uniform:1-4, $FORECASTS submits"
list=$(IFS=,; echo "${policies[*]}")
"$ZS" sim --cluster data/clusters/philly.yaml --trace data/traces/philly/pollux_philly.csv \
  --walltime uniform:1-4 --compare "$list" --forecasts "$FORECASTS" --no-progress |
  sed -n '/^start-time forecasts/,$p'
