#!/usr/bin/env bash
# A/B of two builds on the Philly replay: runs A and B in turn, RUNS times each (default 3), and
# prints the median user + system CPU seconds of each and B/A. CPU time, not wall time, so that
# other work on the machine's second core counts less; in turn, so that the machine's drift
# through a day hits both alike. Compare builds only this way (docs/benchmarks.md).
# Usage: bench/replay_ab.sh OLD_ZS NEW_ZS POLICY [zs sim flags...]
#   e.g. bench/replay_ab.sh /tmp/zs_old build/release/zs easy --tenants data/tenants/philly.yaml
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { echo "usage: $0 OLD_ZS NEW_ZS POLICY [zs sim flags...]" >&2; exit 2; }
a=$1 b=$2 policy=$3
shift 3
RUNS=${RUNS:-3}
cpu() {
  { /usr/bin/time -f '%U %S' "$1" sim --cluster data/clusters/philly.yaml \
      --trace data/traces/philly/pollux_philly.csv --policy "$policy" "${@:2}" --format csv \
      --no-progress >/dev/null; } 2>&1 | tail -1 | awk '{print $1 + $2}'
}
ta=() tb=()
for ((run = 1; run <= RUNS; run++)); do
  ta+=("$(cpu "$a" "$@")")
  tb+=("$(cpu "$b" "$@")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
ma=$(median "${ta[@]}") mb=$(median "${tb[@]}")
awk -v p="$policy $*" -v a="$ma" -v b="$mb" \
  'BEGIN {printf "%s: A %.2f s  B %.2f s  B/A %.3f (CPU seconds, median of runs in turn)\n", p, a, b, b / a}'
