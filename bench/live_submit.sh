#!/usr/bin/env bash
# Durable submits and end-to-end throughput of the live cluster (issue targets):
#   16 concurrent keep-alive clients, one job per request   >= 10,000 jobs/s
#   1 sequential client                                     >= 80% of this disk's fsync rate
#   batch submit                                            >= 100,000 jobs/s
#   trivial jobs (`true`) end to end through 4 agents       >= 1,000 jobs/s
#   controller memory per pending job                       <= 2 KB
# Each figure is the median of RUNS runs (default 5); the fsync rate is measured in the same run
# with dd oflag=dsync on the state directory's file system. Needs build/release/zs.
# Usage: bench/live_submit.sh            (env: RUNS, JOBS16=20000, JOBS1=2000, BATCHJOBS=200000)
set -euo pipefail
cd "$(dirname "$0")/.."
ZS=$(pwd)/${ZS:-build/release/zs}
RUNS=${RUNS:-5}; JOBS16=${JOBS16:-20000}; JOBS1=${JOBS1:-2000}; BATCHJOBS=${BATCHJOBS:-200000}
W=$(mktemp -d /tmp/zs-bench-XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$W"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
start_controller() {  # $1 = state dir; sets URL and CTL
  local port; port=$(free_port); URL=http://127.0.0.1:$port
  "$ZS" controller --listen 127.0.0.1:$port --state-dir "$1" >"$1.log" 2>&1 & CTL=$!; PIDS+=($CTL)
  for _ in $(seq 100); do curl -sf "$URL/api/v1/health" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "controller did not start" >&2; exit 1
}
rate_of() { awk '/submit_rate_jobs_per_s/ {print $2}'; }
rss_kib() { awk '/VmRSS/ {print $2}' /proc/"$1"/status; }

r16=(); r1=(); rb=(); fs=(); e2e=(); mem=()
for run in $(seq "$RUNS"); do
  # Submits with no agents: jobs stay pending, so only the submit path is measured.
  start_controller "$W/s$run"
  r16+=("$("$ZS" bench submit --controller "$URL" --clients 16 --jobs "$JOBS16" | rate_of)")
  r1+=("$("$ZS" bench submit --controller "$URL" --clients 1 --jobs "$JOBS1" | rate_of)")
  dd_out=$(dd if=/dev/zero of="$W/dd" bs=4k count=2000 oflag=dsync 2>&1 | tail -1)
  fs+=("$(awk -v s="$(awk '{for(i=1;i<=NF;i++) if($i=="s,") print $(i-1)}' <<<"$dd_out")" 'BEGIN{printf "%.0f", 2000/s}')")
  kill "$CTL"; wait "$CTL" 2>/dev/null || true

  start_controller "$W/b$run"
  before=$(rss_kib "$CTL")
  rb+=("$("$ZS" bench submit --controller "$URL" --clients 2 --jobs "$BATCHJOBS" --batch 10000 | rate_of)")
  after=$(rss_kib "$CTL")
  mem+=("$(awk -v a="$after" -v b="$before" -v n="$BATCHJOBS" 'BEGIN{printf "%.0f", (a-b)*1024/n}')")
  kill "$CTL"; wait "$CTL" 2>/dev/null || true

  # End to end: 4 agents with 64 cores each, 4,000 `true` jobs submitted in batches of 100.
  start_controller "$W/e$run"
  for n in 1 2 3 4; do
    "$ZS" agent --controller "$URL" --name n$n --work-dir "$W/e$run-n$n" --cpus 64 --mem-mib 262144 >"$W/e$run-n$n.log" 2>&1 &
    PIDS+=($!)
  done
  for _ in $(seq 100); do [ "$("$ZS" nodes --controller "$URL" --json | grep -c '"state": "up"')" = 4 ] && break; sleep 0.05; done
  e2e+=("$("$ZS" bench submit --controller "$URL" --clients 4 --jobs 4000 --batch 100 --wait --work-dir "$W" | awk '/e2e_rate/ {print $2}')")
  kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true; PIDS=()
done
m16=$(printf '%s\n' "${r16[@]}" | median); m1=$(printf '%s\n' "${r1[@]}" | median)
mfs=$(printf '%s\n' "${fs[@]}" | median); mb=$(printf '%s\n' "${rb[@]}" | median)
me=$(printf '%s\n' "${e2e[@]}" | median); mm=$(printf '%s\n' "${mem[@]}" | median)
echo "runs: $RUNS (medians; all runs in brackets)"
echo "16 clients, 1 job/request:   $m16 jobs/s   [${r16[*]}]"
echo "1 sequential client:         $m1 jobs/s   [${r1[*]}]  = $(awk -v a="$m1" -v b="$mfs" 'BEGIN{printf "%.0f", 100*a/b}')% of fsync rate $mfs/s [${fs[*]}]"
echo "batch (2 clients x 10,000):  $mb jobs/s   [${rb[*]}]"
echo "end to end, 4 agents, true:  $me jobs/s   [${e2e[*]}]"
echo "memory per pending job:      $mm bytes   [${mem[*]}]"
