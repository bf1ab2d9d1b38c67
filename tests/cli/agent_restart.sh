#!/usr/bin/env bash
# Tasks outlive their agent and are re-adopted (docs/agent.md, "Agent restarts"), and every
# attempt is contained in its cgroup:
#  (a) kill -9 of an agent under a 2-node gang and two single-node jobs, one of which ends while
#      no agent runs; the restarted agent re-adopts the running ranks (each started once), reports
#      the one that ended, and every job ends as its script says; a job cancelled while its agent
#      is down is killed once the agent is back;
#  (b) a graceful stop (SIGTERM) also leaves the tasks running for the next agent;
#  (c1) kill -9 of an agent's shim: its task runs on, the agent collects its exit, and a new
#      shim starts the next jobs;
#  (c) `setsid sleep` escapes its task's process group but not its attempt: it dies when the job
#      ends and when it is cancelled; a launch error about a long output path is a bounded
#      message;
#  (d) a second agent on a work directory in use is refused.
# Usage: agent_restart.sh path/to/zs   (CTest runs it from the project root)
set -u
source "$(dirname "$0")/live_common.bash"
cd "$W" || exit 1

# --node-lost-ms far above a restart: the controller must not give up on the node meanwhile.
CTL_ARGS=(--heartbeat-ms 200 --node-lost-ms 30000 --kill-grace-ms 500)
if ! start_controller; then fail "controller did not start"; finish; fi

# A task that notes each start of its rank, then waits for a file and exits with a code.
# task DIR CODE: the command line of such a task.
task() {
  echo "echo \$\$ >> $1/pid.\$ZS_ATTEMPT.\$RANK; echo x >> $1/starts.\$RANK;" \
    "while [ ! -e $1/go ]; do sleep 0.05; done; exit $2"
}
started() { [ "$(ls "$1"/pid.1.* 2>/dev/null | wc -l)" -ge "$2" ]; }
all_alive() { local f; for f in "$1"/pid.1.*; do alive "$(tail -1 "$f")" || return 1; done; }
starts_once() { local f; for f in "$1"/starts.*; do [ "$(wc -l <"$f")" = 1 ] || return 1; done; }
node_of() { api_value "/api/v1/jobs/$1" '",".join(sorted(a["node"] for a in d["job"]["assignment"]))'; }

# --- (a) kill -9 of an agent, restart, re-adoption ---------------------------------------------
section "(a) kill -9 of an agent and its restart"
mkdir -p "$W/g" "$W/e" "$W/d" "$W/k"
start_agent a 16x$T  # room for the single-node jobs and a rank of the gang
wait_until 30 nodes_up 1 || fail "(a) agent a did not come up: $(tail -3 "$W/agent.a.log")"
# Single-node jobs first, while a is the only node: they run there.
E=$("$ZS" submit --parsable --accel $T:2 --ntasks-per-node 2 -- sh -c "$(task "$W/e" 7)")
D=$("$ZS" submit --parsable --accel $T:1 -- sh -c "$(task "$W/d" 0)")
K=$("$ZS" submit --parsable --accel $T:1 -- sh -c "$(task "$W/k" 0)")
wait_until 30 started "$W/e" 1 && wait_until 30 started "$W/d" 1 && wait_until 30 started "$W/k" 1 ||
  fail "(a) the single-node jobs did not start: $(job_state "$E") $(job_state "$D") $(job_state "$K")"
start_agent b
wait_until 30 nodes_up 2 || fail "(a) agent b did not come up"
G=$("$ZS" submit --parsable -N 2 --accel $T:16 -- sh -c "$(task "$W/g" 0)")
wait_until 30 started "$W/g" 2 || fail "(a) gang $G did not start: $(job_state "$G")"
[ "$(node_of "$G")" = a,b ] || fail "(a) gang $G is on [$(node_of "$G")], not a,b"
[ "$(node_of "$E")" = a ] && [ "$(node_of "$D")" = a ] || fail "(a) E/D not on a"

kill -9 "${AGENT_PID[a]}"
sleep 0.3
hard_check "(a) agent a killed: its tasks run on (gang rank and jobs $E, $K)" \
  eval 'all_alive "$W/g" && all_alive "$W/e" && all_alive "$W/k"'
touch "$W/d/go"  # D ends while no agent runs on its node
"$ZS" cancel "$K" >/dev/null 2>&1 || fail "(a) zs cancel $K while its agent is down failed"
d_pid=$(tail -1 "$W"/d/pid.1.0)
wait_until 10 eval '! alive "$d_pid"' || fail "(a) job $D's task did not end"
d_end=$(now_ms)
sleep 0.5
start_agent a 16x$T
wait_until 30 grep -q 're-adopted' "$W/agent.a.log" || fail "(a) agent a did not re-adopt: $(tail -3 "$W/agent.a.log")"
note "(a) agent a: $(grep 're-adopted' "$W/agent.a.log" | tail -1)"
wait_until 20 job_ended "$D" && [ "$(job_state "$D")" = completed ] &&
  ok "(a) job $D, which ended while agent a was down, is completed" ||
  fail "(a) job $D: $(job_state "$D") [$(job_field "$D" reason)]"
d_rec=$(api_value "/api/v1/jobs/$D" 'd["job"]["end_ms"]')
if [ -n "$d_rec" ] && [ "$d_rec" -le "$d_end" ]; then
  note "(a) job $D's end time is when it ended ($d_rec <= $d_end), not when the agent came back"
else
  note "(a) job $D's recorded end $d_rec is after its task ended ($d_end): the controller uses the report time"
fi
wait_until 20 job_ended "$K" && [ "$(job_state "$K")" = cancelled ] && wait_until 10 eval '! all_alive "$W/k"' &&
  ok "(a) job $K, cancelled while agent a was down, was killed once a was back" ||
  fail "(a) job $K: $(job_state "$K"), task alive: $(all_alive "$W/k" && echo yes || echo no)"
sleep 1  # a few syncs of the re-adopted agent
if [ "$(job_state "$G")" = running ] && [ "$(job_state "$E")" = running ] && all_alive "$W/g" &&
  all_alive "$W/e" && starts_once "$W/g" && starts_once "$W/e"; then
  ok "(a) after the restart gang $G and job $E still run, each rank started once"
else
  fail "(a) after the restart: $G $(job_state "$G"), $E $(job_state "$E"), alive: $(all_alive "$W/g" && echo y || echo n)$(all_alive "$W/e" && echo y || echo n), starts: $(cat "$W"/g/starts.* "$W"/e/starts.* | wc -l)"
fi
touch "$W/g/go" "$W/e/go"
wait_until 30 job_ended "$G" && wait_until 30 job_ended "$E"
g="$(job_state "$G") $(job_field "$G" attempt) $(job_field "$G" exit_code)"
e="$(job_state "$E") $(job_field "$E" attempt) $(job_field "$E" exit_code)"
if [ "$g" = "completed 1 0" ] && [ "$e" = "failed 1 7" ] && starts_once "$W/g" && starts_once "$W/e" &&
  [ -z "$(ls "$W"/g/pid.2.* "$W"/e/pid.2.* 2>/dev/null)" ]; then
  ok "(a) gang $G completed and job $E failed with exit 7, attempt 1, no rank started twice"
else
  fail "(a) gang $G: [$g], job $E: [$e] (want completed 1 0 / failed 1 7); starts: $(cat "$W"/g/starts.* "$W"/e/starts.* | wc -l)"
fi
# Their records are freed once the controller has the exits: each file is a 1-byte spare.
held() { find "$W/agents/a/attempts" -type f -size +1c | wc -l; }
wait_until 10 eval '[ "$(held)" = 0 ]' &&
  ok "(a) agent a's attempt records are freed once acknowledged ($(ls "$W/agents/a/attempts" | wc -l) spare files)" ||
  fail "(a) $(held) records still hold an attempt: $(ls -l "$W/agents/a/attempts")"
mode=$(stat -c %a "$W/agents/a")
# Root's agent runs tasks as their users, who may pass through to their scripts, never list.
want=700
[ "$(id -u)" = 0 ] && want=711
[ "$mode" = $want ] && ok "(a) the agent's work directory is private (0$want)" || fail "(a) work dir mode $mode"

# --- (b) SIGTERM: a graceful stop leaves tasks for the next agent --------------------------------
section "(b) graceful stop and restart"
mkdir -p "$W/s"
S=$("$ZS" submit --parsable --accel $T:1 -- sh -c "$(task "$W/s" 3)")
wait_until 30 started "$W/s" 1 || fail "(b) job $S did not start"
kill -TERM "${AGENT_PID[$(node_of "$S")]}"
n=$(node_of "$S")
wait_until 10 eval '! alive "${AGENT_PID[$n]}"' || fail "(b) agent $n did not stop on SIGTERM"
all_alive "$W/s" && ok "(b) agent $n stopped (SIGTERM); job $S's task runs on" || fail "(b) SIGTERM killed the task"
if [ "$n" = a ]; then start_agent a 16x$T; else start_agent "$n"; fi
touch "$W/s/go"
wait_until 30 job_ended "$S"
s="$(job_state "$S") $(job_field "$S" attempt) $(job_field "$S" exit_code)"
[ "$s" = "failed 1 3" ] && starts_once "$W/s" && ok "(b) job $S re-adopted and failed with its exit 3, started once" ||
  fail "(b) job $S: [$s], starts $(cat "$W"/s/starts.* | wc -l)"

# --- (c) setsid escapes die with their attempt ----------------------------------------------------
section "(c) setsid sleep inside a job"
C1=$("$ZS" submit --parsable --accel $T:1 -- sh -c "setsid sleep 300 & echo \$! > $W/esc1; sleep 0.3; exit 0")
wait_until 30 job_ended "$C1"
p1=$(pid_in "$W/esc1")
if [ "$(job_state "$C1")" = completed ] && [ -n "$p1" ] && wait_until 10 eval '! alive "$p1"'; then
  ok "(c) job $C1 completed and its 'setsid sleep 300' (pid $p1) died with it"
else
  fail "(c) job $C1: $(job_state "$C1"); setsid sleep ${p1:-?} alive: $(alive "${p1:-0}" && echo yes || echo no)"
fi
C2=$("$ZS" submit --parsable --accel $T:1 -- sh -c \
  "setsid sh -c 'trap \"\" TERM; exec sleep 300' & echo \$! > $W/esc2; echo \$\$ > $W/main2; exec sleep 300")
wait_until 30 eval '[ -s "$W/esc2" ] && [ -s "$W/main2" ]' || fail "(c) job $C2 did not start"
p2=$(pid_in "$W/esc2")
m2=$(pid_in "$W/main2")
"$ZS" cancel "$C2" >/dev/null
if wait_until 15 job_ended "$C2" && wait_until 10 eval '! alive "$p2" && ! alive "$m2"'; then
  ok "(c) zs cancel $C2: the task and its setsid sleep (ignoring SIGTERM) are gone"
else
  fail "(c) cancel $C2: $(job_state "$C2"); main alive: $(alive "$m2" && echo y || echo n), escaped alive: $(alive "$p2" && echo y || echo n)"
fi

# --- (c1) kill -9 of the shim: the agent takes its tasks over --------------------------------------
section "(c1) kill -9 of an agent's shim"
mkdir -p "$W/x"
X=$("$ZS" submit --parsable --accel $T:1 -- sh -c "$(task "$W/x" 6)")
wait_until 30 started "$W/x" 1 || fail "(c1) job $X did not start"
xn=$(node_of "$X")
shim_of() {
  local c
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    [ "$(cat /proc/"$c"/comm 2>/dev/null)" = zs-shim ] && echo "$c"
  done
}
shim=$(shim_of "${AGENT_PID[$xn]}" | head -1)
if [ -n "$shim" ]; then
  kill -9 "$shim"
  wait_until 10 grep -q "a new shim takes over" "$W/agent.$xn.log" || fail "(c1) agent $xn did not notice its shim's end"
  all_alive "$W/x" && ok "(c1) agent $xn's shim (pid $shim) killed: job $X's task runs on" ||
    fail "(c1) killing the shim killed the task"
  Y=$("$ZS" submit --parsable --accel $T:1 -- true)
  wait_until 30 job_ended "$Y"
  [ "$(job_state "$Y")" = completed ] && ok "(c1) a new job ($Y) runs under the new shim" ||
    fail "(c1) job $Y after the shim's death: $(job_state "$Y") [$(job_field "$Y" reason)]"
  touch "$W/x/go"
  wait_until 30 job_ended "$X"
  x="$(job_state "$X") $(job_field "$X" exit_code)"
  [ "$x" = "failed 6" ] && ok "(c1) job $X ended with its own exit 6, collected by the agent" ||
    fail "(c1) job $X: [$x] [$(job_field "$X" reason)] (want failed 6)"
else
  fail "(c1) agent $xn has no zs-shim child"
fi

# --- (c2) a launch error about a long output path is a bounded message ----------------------------
# (A 1 MiB path used to make a 1 MiB report that stopped the controller; the API now takes paths
# up to 4 KiB, and the agent bounds whatever it reports.)
section "(c2) launch error about a 4 KiB path"
python3 -c 'import json,sys; json.dump({"argv": ["true"], "stdout_path": "/tmp/" + ("o" * 300 + "/") * 13}, sys.stdout)' >"$W/long.json"
L=$(curl -s --max-time 30 -X POST -H 'Content-Type: application/json' --data-binary "@$W/long.json" "$URL/api/v1/jobs" |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("id") or d["ids"][0])' 2>/dev/null)
if [ -n "$L" ] && wait_until 20 job_ended "$L"; then
  len=$(api_value "/api/v1/jobs/$L" 'len(d["job"]["reason"])')
  reason=$(api_value "/api/v1/jobs/$L" 'd["job"]["reason"][:70]')
  if [ "$(job_state "$L")" = failed ] && [ "${len:-0}" -gt 0 ] && [ "$len" -le 1200 ] && curl -sf -o /dev/null "$URL/api/v1/health"; then
    ok "(c2) job $L failed with a $len-byte reason ($reason...); the controller is alive"
  else
    fail "(c2) job $L: $(job_state "$L"), reason of $len bytes: $reason"
  fi
else
  fail "(c2) the job with a 4 KiB output path was not accepted or did not end: '${L}' $(job_state "${L:-0}")"
fi

# --- (d) one agent per work directory -------------------------------------------------------------
section "(d) a second agent on the same work directory"
for name in a other; do
  # shellcheck disable=SC2046  # node_token_args prints words
  out=$(timeout 20 "$ZS" agent --controller "$URL" --name $name --accelerators 8x$T \
    --work-dir "$W/agents/a" $(node_token_args $name) 2>&1)
  rc=$?
  if [ "$rc" != 0 ] && grep -q "is in use by another zs agent (pid ${AGENT_PID[a]})" <<<"$out"; then
    ok "(d) a second agent ($name) on agent a's work directory is refused: $(head -1 <<<"$out")"
  else
    fail "(d) second agent $name on a's work dir: exit $rc: $(head -3 <<<"$out")"
  fi
done
nodes_up 2 && ok "(d) agent a still serves" || fail "(d) agent a is down after the refused start"
finish
