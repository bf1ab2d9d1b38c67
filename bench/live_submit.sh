#!/usr/bin/env bash
# Durable submits and end-to-end throughput of the live cluster (issue targets):
#   16 concurrent keep-alive clients, one job per request   >= 10,000 jobs/s
#   1 sequential client                                     >= 80% of this disk's fsync rate
#   batch submit                                            >= 100,000 jobs/s
#   trivial jobs (`true`) end to end through 4 agents       >= 1,000 jobs/s
#   controller memory per pending job                       <= 2 KB
# Each figure is the median of RUNS runs (default 5); the fsync rate is measured in the same run
# with dd oflag=dsync on the state directory's file system. Needs build/release/zs.
# Every run measures each mode of MODES side by side: "tokens" (the default: every request
# authenticated with a bearer token, agents with node credentials) and "open" (the controller
# run with --insecure-no-auth), so that the cost of authentication shows as a ratio.
# Usage: bench/live_submit.sh   (env: RUNS, MODES="tokens open", JOBS16=20000, JOBS1=2000,
#                                BATCHJOBS=200000)
set -euo pipefail
cd "$(dirname "$0")/.."
ZS=$(pwd)/${ZS:-build/release/zs}
RUNS=${RUNS:-5}; MODES=${MODES:-tokens open}; JOBS16=${JOBS16:-20000}; JOBS1=${JOBS1:-2000}; BATCHJOBS=${BATCHJOBS:-200000}
W=$(mktemp -d /tmp/zs-bench-XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$W"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
start_controller() {  # $1 = state dir; sets URL, CTL and (mode tokens) ZS_TOKEN
  local port; port=$(free_port); URL=http://127.0.0.1:$port
  local open=(); [ "$mode" = open ] && open=(--insecure-no-auth)
  "$ZS" controller --listen 127.0.0.1:$port --state-dir "$1" "${open[@]}" >"$1.log" 2>&1 & CTL=$!; PIDS+=($CTL)
  for _ in $(seq 100); do
    if curl -sf "$URL/api/v1/health" >/dev/null 2>&1; then
      if [ -s "$1/admin.token" ]; then export ZS_TOKEN=$(cat "$1/admin.token"); else unset ZS_TOKEN; fi
      return 0
    fi
    sleep 0.05
  done
  echo "controller did not start" >&2; exit 1
}
node_token() {  # $1 = node, $2 = file: agent flags for a node credential (none without tokens)
  [ -n "${ZS_TOKEN:-}" ] || return 0
  (umask 077; "$ZS" admin node-token create "$1" --controller "$URL" >"$2") && echo "--token-file $2"
}
rate_of() { awk '/submit_rate_jobs_per_s/ {print $2}'; }
rss_kib() { awk '/VmRSS/ {print $2}' /proc/"$1"/status; }

declare -A r16 r1 rb e2e mem
fs=()
for run in $(seq "$RUNS"); do
 dd_out=$(dd if=/dev/zero of="$W/dd" bs=4k count=2000 oflag=dsync 2>&1 | tail -1)
 fs+=("$(awk -v s="$(awk '{for(i=1;i<=NF;i++) if($i=="s,") print $(i-1)}' <<<"$dd_out")" 'BEGIN{printf "%.0f", 2000/s}')")
 # Modes take turns going first: whatever the first of a run meets (the dd test's writes still
 # draining, a cold page cache) is not charged to one mode.
 order=$MODES; [ $((run % 2)) = 0 ] && order=$(tr ' ' '\n' <<<"$MODES" | tac | tr '\n' ' ')
 for mode in $order; do
  # Submits with no agents: jobs stay pending, so only the submit path is measured.
  d=$W/$mode$run
  start_controller "$d-s"
  r16[$mode]+="$("$ZS" bench submit --controller "$URL" --clients 16 --jobs "$JOBS16" | rate_of) "
  r1[$mode]+="$("$ZS" bench submit --controller "$URL" --clients 1 --jobs "$JOBS1" | rate_of) "
  kill "$CTL"; wait "$CTL" 2>/dev/null || true

  start_controller "$d-b"
  before=$(rss_kib "$CTL")
  rb[$mode]+="$("$ZS" bench submit --controller "$URL" --clients 2 --jobs "$BATCHJOBS" --batch 10000 | rate_of) "
  after=$(rss_kib "$CTL")
  mem[$mode]+="$(awk -v a="$after" -v b="$before" -v n="$BATCHJOBS" 'BEGIN{printf "%.0f", (a-b)*1024/n}') "
  kill "$CTL"; wait "$CTL" 2>/dev/null || true

  # End to end: 4 agents with 64 cores each, 4,000 `true` jobs submitted in batches of 100.
  start_controller "$d-e"
  for n in 1 2 3 4; do
    # shellcheck disable=SC2046  # node_token prints words
    "$ZS" agent --controller "$URL" --name n$n --work-dir "$d-n$n" --cpus 64 --mem-mib 262144 \
      $(node_token n$n "$d-n$n.token") >"$d-n$n.log" 2>&1 &
    PIDS+=($!)
  done
  for _ in $(seq 100); do [ "$("$ZS" nodes --controller "$URL" --json | grep -c '"state": "up"')" = 4 ] && break; sleep 0.05; done
  e2e[$mode]+="$("$ZS" bench submit --controller "$URL" --clients 4 --jobs 4000 --batch 100 --wait --work-dir "$W" | awk '/e2e_rate/ {print $2}') "
  kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true; PIDS=()
 done
done
med() { tr ' ' '\n' <<<"$1" | grep . | median; }
mfs=$(printf '%s\n' "${fs[@]}" | median)
echo "runs: $RUNS (medians; all runs in brackets); fsync rate $mfs/s [${fs[*]}]"
for mode in $MODES; do
  m1=$(med "${r1[$mode]}")
  echo "== $mode$([ "$mode" = tokens ] && echo ' (bearer tokens, node credentials)' || echo ' (--insecure-no-auth)')"
  echo "16 clients, 1 job/request:   $(med "${r16[$mode]}") jobs/s   [${r16[$mode]% }]"
  echo "1 sequential client:         $m1 jobs/s   [${r1[$mode]% }]  = $(awk -v a="$m1" -v b="$mfs" 'BEGIN{printf "%.0f", 100*a/b}')% of the fsync rate"
  echo "batch (2 clients x 10,000):  $(med "${rb[$mode]}") jobs/s   [${rb[$mode]% }]"
  echo "end to end, 4 agents, true:  $(med "${e2e[$mode]}") jobs/s   [${e2e[$mode]% }]"
  echo "memory per pending job:      $(med "${mem[$mode]}") bytes   [${mem[$mode]% }]"
done
if [[ " $MODES " == *" tokens "* && " $MODES " == *" open "* ]]; then
  for what in r16 r1 rb e2e; do
    declare -n arr=$what
    awk -v a="$(med "${arr[tokens]}")" -v b="$(med "${arr[open]}")" -v w="$what" \
      'BEGIN{printf "tokens / open, %s: %.3f\n", w, a/b}'
  done
fi
