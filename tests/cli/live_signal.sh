#!/usr/bin/env bash
# A job's own checkpoint signal, sbatch's --signal=[B:]SIG[@TIME], on a live cluster: the agent
# sends SIG TIME seconds before the walltime limit, once, to every task's process group (the
# script and what it started), or with B: to the script's shell only. The scripts trap it, write
# a marker and exit 0, so the jobs complete before their limit.
# Usage: live_signal.sh path/to/zs   (CTest runs it from the project root)
set -u
source "$(dirname "$0")/live_common.bash"
cd "$W" || exit 1

CTL_ARGS=(--heartbeat-ms 200 --kill-grace-ms 2000)
if ! start_controller; then fail "controller did not start"; finish; fi
start_agent a
if ! wait_until 30 nodes_up 1; then fail "agent a did not come up: $(tail -3 "$W/agent.a.log")"; finish; fi

section "refused where it enters"
out=$("$ZS" submit --signal=KILL@10 --wrap true 2>&1)
rc=$?
[ "$rc" = 2 ] && [[ $out == *"--signal: --signal 'KILL@10': SIGKILL cannot be caught"* ]] &&
  ok "zs submit --signal=KILL@10 is refused naming the flag (exit 2)" ||
  fail "zs submit --signal=KILL@10: exit $rc: $out"
printf '#!/bin/sh\n#SBATCH --signal=USR1@70000\ntrue\n' >bad.sh
out=$("$ZS" submit bad.sh 2>&1)
rc=$?
[ "$rc" = 2 ] && [[ $out == *"bad.sh:2: --signal 'USR1@70000': the time after '@'"* ]] &&
  ok "#SBATCH --signal=USR1@70000 is refused naming the line (exit 2)" ||
  fail "#SBATCH --signal=USR1@70000: exit $rc: $out"
code=$(curl -s -o "$W/r.json" -w '%{http_code}' -X POST "$URL/api/v1/jobs" \
  -d '{"argv":["true"],"work_dir":"/tmp","signal":19}')
[ "$code" = 400 ] && grep -q 'SIGSTOP cannot be caught' "$W/r.json" &&
  ok "the API refuses signal 19 (SIGSTOP): 400" || fail "API signal 19: HTTP $code: $(head -c 200 "$W/r.json")"

# The script's shell traps USR1; a child shell traps it too, to show who got it. The walltime is
# 8 s and the signal comes 5 s before it: about 3 s after the start. The shell gives the child a
# second to run its own trap (it may be in its sleep) before it stops it (with B: the child never
# gets the signal).
job_script() {  # job_script FILE SIGNAL-OPTION TAG
  cat >"$1" <<EOF
#!/bin/bash
#SBATCH --time=0:08
#SBATCH --signal=$2
sh -c 'trap "echo child > $W/$3.child; exit 0" USR1; while :; do sleep 0.1; done' &
child=\$!
trap 'echo "shell \$(( \$(date +%s) - start ))" > $W/$3.shell; sleep 1; kill \$child; exit 0' USR1
start=\$(date +%s)
wait
EOF
}

section "--signal=USR1@5: every task's process group"
job_script group.sh USR1@5 group
id=$("$ZS" submit --parsable group.sh)
if wait_until 20 job_ended "$id"; then
  [ "$(job_state "$id")" = completed ] && ok "job $id completed (its trap exited 0 before the limit)" ||
    fail "job $id: $(job_state "$id") ($(job_field "$id" reason))"
else
  fail "job $id did not end: $(job_state "$id")"
fi
grep -qE '^shell [1-5]$' group.shell 2>/dev/null && ok "the script's shell got USR1 ($(cat group.shell) s in)" ||
  fail "the script's shell: '$(cat group.shell 2>/dev/null)'"
[ -e group.child ] && ok "the child shell, in the task's group, got USR1 too" ||
  fail "the child shell did not get USR1"
shown=$("$ZS" job "$id" | grep '^Signal')
[[ $shown == *"SIGUSR1 5 s before the time limit"* ]] && ok "zs job $id: $shown" ||
  fail "zs job $id shows: '$shown'"
[ "$(api_value "/api/v1/jobs/$id" '(d["job"]["spec"]["signal"], d["job"]["spec"]["signal_time"], d["job"]["spec"]["signal_batch"])')" = "(10, 5, False)" ] &&
  ok "the API shows signal 10, signal_time 5, signal_batch false" ||
  fail "API: $(api_value "/api/v1/jobs/$id" 'd["job"]["spec"]')"

section "--signal=B:USR1@5 on the command line: the script's shell only"
job_script batch.sh USR2@1 batch  # the command line replaces the script's
id=$("$ZS" submit --parsable --signal=B:USR1@5 batch.sh)
if wait_until 20 job_ended "$id"; then
  [ "$(job_state "$id")" = completed ] && ok "job $id completed" ||
    fail "job $id: $(job_state "$id") ($(job_field "$id" reason))"
else
  fail "job $id did not end: $(job_state "$id")"
fi
grep -qE '^shell [1-5]$' batch.shell 2>/dev/null && ok "the script's shell got USR1 ($(cat batch.shell) s in)" ||
  fail "the script's shell: '$(cat batch.shell 2>/dev/null)'"
[ ! -e batch.child ] && ok "the child shell did not (B: is the batch shell only)" ||
  fail "B: reached the child shell"
[[ $("$ZS" job "$id" | grep '^Signal') == *"batch shell only"* ]] && ok "zs job $id says B:" ||
  fail "zs job $id: $("$ZS" job "$id" | grep '^Signal')"

section "no trap: the signal ends the job before its limit"
id=$("$ZS" submit --parsable --time=0:08 --signal=USR1@5 -- sleep 30)
if wait_until 20 job_ended "$id"; then
  [ "$(job_state "$id")" = failed ] && [ "$(job_field "$id" exit_code)" = 138 ] &&
    ok "job $id failed with 138 (128 + SIGUSR1): sent to the program itself" ||
    fail "job $id: $(job_state "$id"), exit $(job_field "$id" exit_code) ($(job_field "$id" reason))"
else
  fail "job $id did not end: $(job_state "$id")"
fi

finish
