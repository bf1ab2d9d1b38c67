#!/usr/bin/env bash
# Zhisuan and Slurm side by side on this machine, on the workloads of
# ../shared/peers/slurm/bench: (a) N sequential submits of `true` (one CLI process per submit,
# as with sbatch), (b) an ARRAY-task array of `true`, (c) the GPU mix: GPU_JOBS jobs asking
# 1-8 GPUs each (bash RANDOM seeded 42, as the Slurm script), running `sleep 2`, on 64 nodes x 8
# GPUs. Lower bound of (c) = GPU-seconds / 512 GPUs. Zhisuan also runs (a) and (c) through the
# API (one keep-alive client; for (c) also as one batch request).
# Usage: bench/vs_slurm.sh     env: N=2000 ARRAY=2000 GPU_JOBS=500 SLURM=1 (0 = Zhisuan only)
#        AUTH=tokens (default) or open (--insecure-no-auth); bench/auth_cost.sh compares the two
# Needs build/release/zs. Slurm is installed and started by ../shared/peers/slurm's own scripts.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd); ZS=$ROOT/${ZS:-build/release/zs}
N=${N:-2000}; ARRAY=${ARRAY:-2000}; GPU_JOBS=${GPU_JOBS:-500}; JOB_SLEEP=${JOB_SLEEP:-2}
SLURM=${SLURM:-1}; PEER=$ROOT/../shared/peers/slurm
W=$(mktemp -d /tmp/zs-vs-slurm-XXXXXX)
# shellcheck source=bench/zs_auth.bash
source bench/zs_auth.bash
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$W"' EXIT
now() { echo "$EPOCHREALTIME"; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b-a}'; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN{d=b-a; printf "%.1f", (d>0? n/d : 0)}'; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export ZS_CONTROLLER=http://127.0.0.1:$port
# Prints the time when no job is pending or running: /metrics every 10 ms on one keep-alive
# connection (a curl process per poll cost more CPU than the controller and 50 ms of precision).
wait_empty() {
  python3 - "$ZS_CONTROLLER" <<'PY'
import http.client, sys, time, urllib.parse
import os
c = http.client.HTTPConnection(urllib.parse.urlparse(sys.argv[1]).netloc)
H = {"Authorization": "Bearer " + os.environ["ZS_TOKEN"]} if os.environ.get("ZS_TOKEN") else {}
while True:
    c.request("GET", "/metrics", headers=H); text = c.getresponse().read().decode()
    active = sum(float(l.split()[1]) for l in text.splitlines()
                 if l.startswith(("zs_jobs_pending ", "zs_jobs_running ")))
    if active == 0: break
    time.sleep(0.01)
print(f"{time.time():.6f}")
PY
}

# ---- Zhisuan: one controller, 64 agents x 8 fake GPUs, 64 cores each (Slurm's nodes too) ----
# shellcheck disable=SC2046  # the mode's flags are words
"$ZS" controller --listen 127.0.0.1:$port --state-dir "$W/ctl" --threads 512 $(zs_auth_controller_args) >"$W/ctl.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "$ZS_CONTROLLER/api/v1/health" >/dev/null && break; sleep 0.05; done
zs_auth_use_admin "$W/ctl"
for n in $(seq 64); do
  # shellcheck disable=SC2046
  "$ZS" agent --name n$n --accelerators 8xA100-SXM4-80GB --cpus 64 --work-dir "$W/n$n" \
    $(zs_auth_agent_args n$n "$W/n$n.token") >"$W/n$n.log" 2>&1 &
  PIDS+=($!)
done
for _ in $(seq 600); do
  [ "$(curl -s -H "Authorization: Bearer ${ZS_TOKEN:-}" "$ZS_CONTROLLER/metrics" | awk '/^zs_nodes_up /{print $2}')" = 64 ] && break; sleep 0.1
done
cd "$W"
declare -A Z
t0=$(now); for ((i = 0; i < N; i++)); do "$ZS" submit -o /dev/null --wrap=true >/dev/null || echo "submit $i failed"; done
t1=$(now); t2=$(wait_empty)
Z[seq_submit]=$(rate "$N" "$t0" "$t1"); Z[seq_e2e]=$(rate "$N" "$t0" "$t2")
# The same N submits of `true` (sh -c true, output to /dev/null) from one keep-alive API client,
# one job per request and each acknowledged (durable) before the next is sent.
api=$("$ZS" bench submit --clients 1 --jobs "$N" --wait --work-dir "$W")
Z[api_seq_submit]=$(awk '/^submit_rate_jobs_per_s/{print $2}' <<<"$api")
Z[api_seq_e2e]=$(awk '/^e2e_rate_jobs_per_s/{print $2}' <<<"$api")
t0=$(now); "$ZS" submit -o /dev/null --array=0-$((ARRAY - 1)) --wrap=true >/dev/null; t1=$(now); t2=$(wait_empty)
Z[array_submit_s]=$(dt "$t0" "$t1"); Z[array_e2e]=$(rate "$ARRAY" "$t0" "$t2")
D=$W/gpumix; mkdir -p "$D"; RANDOM=42; gpus=0; : >"$D/submit.txt"
t0=$(now)
for ((i = 0; i < GPU_JOBS; i++)); do
  k=$((RANDOM % 8 + 1)); gpus=$((gpus + k)); ts=$(now)
  id=$("$ZS" submit --parsable --gres=gpu:$k --time=1 -o "$D/%j.out" --wrap="date +%s.%N; sleep $JOB_SLEEP") && echo "$id $ts" >>"$D/submit.txt"
done
t1=$(now); t2=$(wait_empty)
waits=$(for f in "$D"/*.out; do j=$(basename "$f" .out); echo "$j $(head -1 "$f")"; done |
  awk 'NR==FNR{s[$1]=$2; next} ($1 in s){print $2-s[$1]}' "$D/submit.txt" - | sort -n)
Z[gpu_submit]=$(rate "$GPU_JOBS" "$t0" "$t1"); Z[gpu_done_s]=$(dt "$t0" "$t2")
Z[gpu_p50]=$(awk '{a[NR]=$1} END{printf "%.2f", a[int((NR+1)/2)]}' <<<"$waits")
Z[gpu_p95]=$(awk '{a[NR]=$1} END{i=int(NR*0.95+0.5); if(i<1)i=1; printf "%.2f", a[i]}' <<<"$waits")
bound=$(awk -v g=$gpus -v s=$JOB_SLEEP 'BEGIN{printf "%.3f", g/512*s}')
# The same GPU mix submitted through the API (one keep-alive connection), one job per request
# and then as one batch request: without the CLI's process start-up, what remains is the
# scheduler's packing and the exit -> commit -> pass -> launch latency of each wave.
gpumix_api() {  # $1 = out dir, $2 = 1 (one request per job) or 500 (one batch)
  local D2=$1; mkdir -p "$D2"; RANDOM=42; local ks=()
  for ((i = 0; i < GPU_JOBS; i++)); do ks+=($((RANDOM % 8 + 1))); done
  local t0
  # t0 is printed by the client just before its first request: the interpreter's start-up is
  # not part of the system under test (the CLI rows do count zs submit's own start).
  t0=$(python3 "$ROOT/bench/gpumix_submit.py" "$ZS_CONTROLLER" "$D2" "$JOB_SLEEP" "$2" "${ks[@]}")
  local t2; t2=$(wait_empty)
  dt "$t0" "$t2"
}
Z[gpu_api_done_s]=$(gpumix_api "$W/gpumix-api" 1)
Z[gpu_batch_done_s]=$(gpumix_api "$W/gpumix-batch" "$GPU_JOBS")
cd "$ROOT"
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; PIDS=()

# ---- Slurm, with the peer's own scripts ----
declare -A S
if [ "$SLURM" = 1 ] && [ -x "$PEER/bench" ]; then
  "$PEER/install" >"$W/slurm-install.log" 2>&1 && "$PEER/start" >"$W/slurm-start.log" 2>&1 &&
    N=$N ARRAY=$ARRAY ARRAY_SUBMIT=0 GPU_JOBS=$GPU_JOBS JOB_SLEEP=$JOB_SLEEP "$PEER/bench" >"$W/slurm.txt" 2>&1
  "$PEER/stop" >/dev/null 2>&1
  val() { awk -v k="$1:" '$1==k {print $2}' "$W/slurm.txt"; }
  S[seq_submit]=$(val seq_submit_rate_jobs_per_s); S[seq_e2e]=$(val seq_e2e_throughput_jobs_per_s)
  S[array_submit_s]=$(val array_submit_time_s); S[array_e2e]=$(val array_e2e_throughput_jobs_per_s)
  S[gpu_submit]=$(val gpu_mix_submit_rate_jobs_per_s); S[gpu_done_s]=$(val gpu_mix_time_to_all_completed_s)
  S[gpu_p50]=$(val gpu_mix_wait_p50_s); S[gpu_p95]=$(val gpu_mix_wait_p95_s)
fi
ratio() { awk -v z="$1" -v s="$2" -v inv="${3:-0}" 'BEGIN{ if (s==""||z==""||s+0==0||z+0==0) {print "-"; exit}
  printf "%.1fx", inv ? s/z : z/s }'; }
printf '%-40s %12s %12s %10s\n' "metric (N=$N, array $ARRAY, GPU mix $GPU_JOBS)" Zhisuan Slurm "Zs/Slurm"
row() { printf '%-40s %12s %12s %10s\n' "$1" "${Z[$2]}" "${S[$2]:--}" "$(ratio "${Z[$2]}" "${S[$2]:-}" "${3:-0}")"; }
row "sequential CLI submits, jobs/s" seq_submit
row "sequential submits end to end, jobs/s" seq_e2e
printf '%-40s %12s %12s %10s\n' "same, API client: submits, jobs/s" "${Z[api_seq_submit]}" "${S[seq_submit]:--}" "$(ratio "${Z[api_seq_submit]}" "${S[seq_submit]:-}")"
printf '%-40s %12s %12s %10s\n' "same, API client: end to end, jobs/s" "${Z[api_seq_e2e]}" "${S[seq_e2e]:--}" "$(ratio "${Z[api_seq_e2e]}" "${S[seq_e2e]:-}")"
row "array submit time, s" array_submit_s 1
row "array end to end, jobs/s" array_e2e
row "GPU mix submit rate, jobs/s" gpu_submit
row "GPU mix all completed, s" gpu_done_s 1
row "GPU mix wait p50, s" gpu_p50 1
row "GPU mix wait p95, s" gpu_p95 1
echo "GPU mix lower bound (GPU-s / 512 GPUs): ${bound} s"
echo "Zhisuan GPU mix, CLI submits: ${Z[gpu_done_s]} s = $(awk -v a="${Z[gpu_done_s]}" -v b="$bound" 'BEGIN{printf "%.3f", a/b}')x the bound"
echo "Zhisuan GPU mix, API, one request per job: ${Z[gpu_api_done_s]} s = $(awk -v a="${Z[gpu_api_done_s]}" -v b="$bound" 'BEGIN{printf "%.3f", a/b}')x the bound"
echo "Zhisuan GPU mix, API, one batch request: ${Z[gpu_batch_done_s]} s = $(awk -v a="${Z[gpu_batch_done_s]}" -v b="$bound" 'BEGIN{printf "%.3f", a/b}')x the bound"
