#!/usr/bin/env bash
# What authentication costs the CLI (issue 15: within 10% of --insecure-no-auth): the rows of
# bench/vs_slurm.sh that run a `zs submit` process per job — N sequential submits of `true`
# (sbatch-style), and the same N end to end through 4 agents — with tokens (the CLI reads
# ZS_TOKEN; agents hold node credentials) and with --insecure-no-auth, taking turns in each run.
# Also the start of `zs submit` itself (--help: no request), with and without a token file.
# Usage: bench/auth_cost.sh     env: RUNS=5 N=500 ZS=build/release/zs
set -uo pipefail
cd "$(dirname "$0")/.."
ZS=$(pwd)/${ZS:-build/release/zs}
RUNS=${RUNS:-5}; N=${N:-500}
W=$(mktemp -d /tmp/zs-authcost-XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$W"' EXIT
# shellcheck source=bench/zs_auth.bash
source bench/zs_auth.bash
now() { echo "$EPOCHREALTIME"; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN{printf "%.1f", n/(b-a)}'; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
active() {
  curl -s -H "Authorization: Bearer ${ZS_TOKEN:-}" "$ZS_CONTROLLER/metrics" |
    awk '/^zs_jobs_(pending|running) /{s+=$2} END{print s+0}'
}

declare -A submit e2e
for run in $(seq "$RUNS"); do
  order="tokens open"; [ $((run % 2)) = 0 ] && order="open tokens"
  for AUTH in $order; do
    d=$W/$AUTH$run; mkdir -p "$d"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    export ZS_CONTROLLER=http://127.0.0.1:$port
    # shellcheck disable=SC2046
    "$ZS" controller --listen 127.0.0.1:$port --state-dir "$d/ctl" $(zs_auth_controller_args) >"$d/ctl.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do curl -sf "$ZS_CONTROLLER/api/v1/health" >/dev/null && break; sleep 0.05; done
    zs_auth_use_admin "$d/ctl"
    for n in 1 2 3 4; do
      # shellcheck disable=SC2046
      "$ZS" agent --name n$n --cpus 64 --work-dir "$d/n$n" $(zs_auth_agent_args n$n "$d/n$n.token") \
        >"$d/n$n.log" 2>&1 &
      PIDS+=($!)
    done
    for _ in $(seq 200); do [ "$("$ZS" nodes --json | grep -c '"state": "up"')" = 4 ] && break; sleep 0.05; done
    cd "$d" || exit 1
    t0=$(now)
    for ((i = 0; i < N; i++)); do "$ZS" submit -o /dev/null --wrap=true >/dev/null || echo "submit $i failed"; done
    t1=$(now)
    while [ "$(active)" != 0 ]; do sleep 0.01; done
    t2=$(now)
    cd - >/dev/null || exit 1
    submit[$AUTH]+="$(rate "$N" "$t0" "$t1") "
    e2e[$AUTH]+="$(rate "$N" "$t0" "$t2") "
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null; PIDS=()
  done
done
# zs submit's own start, no request: with ZS_TOKEN set and without.
start_ms() {
  local t0 t1; t0=$(now)
  for _ in $(seq 200); do "$ZS" submit --help >/dev/null; done
  t1=$(now); awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/200*1000}'
}
with="" without=""
for _ in 1 2 3; do  # taking turns: the first batch of execs warms the page cache for both
  without+="$(env -u ZS_TOKEN bash -c "$(declare -f now start_ms); ZS=$ZS start_ms") "
  with+="$(ZS_TOKEN=zs_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA start_ms) "
done
with=$(median <<<"$with"); without=$(median <<<"$without")
echo "runs: $RUNS x $N sequential zs submit processes (medians; all runs in brackets)"
for AUTH in tokens open; do
  echo "$AUTH: CLI submits $(median <<<"${submit[$AUTH]}") jobs/s [${submit[$AUTH]% }], end to end $(median <<<"${e2e[$AUTH]}") jobs/s [${e2e[$AUTH]% }]"
done
awk -v a="$(median <<<"${submit[tokens]}")" -v b="$(median <<<"${submit[open]}")" 'BEGIN{printf "tokens / open, CLI submits: %.3f\n", a/b}'
awk -v a="$(median <<<"${e2e[tokens]}")" -v b="$(median <<<"${e2e[open]}")" 'BEGIN{printf "tokens / open, end to end: %.3f\n", a/b}'
echo "zs submit --help (process start, no request): ${with} ms with ZS_TOKEN, ${without} ms without"
