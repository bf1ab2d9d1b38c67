#!/usr/bin/env bash
# "When will my job start?" on a live cluster: the controller forecasts the queue forward on
# predicted run times (docs/prediction.md) and shows the estimates in `zs queue --start`,
# `zs job ID` and GET /api/v1/jobs[/ID] (estimated_start_ms, null when there is none).
# Usage: live_forecast.sh path/to/zs   (CTest runs it from the project root)
set -u
source "$(dirname "$0")/live_common.bash"
cd "$W" || exit 1

CTL_ARGS=(--heartbeat-ms 200 --forecast-interval-s 0.5)
if ! start_controller; then fail "controller did not start"; finish; fi
start_agent a
if ! wait_until 30 nodes_up 1; then fail "agent a did not come up: $(tail -3 "$W/agent.a.log")"; finish; fi

estimate() { job_field "$1" estimated_start_ms; }
has_estimate() { case $(estimate "$1") in '' | None) return 1 ;; esac; }

section "a full node, two jobs behind it"
# Nothing has ended yet, so each job is predicted to run its walltime: A (10 min) holds all 8
# devices, B (8 devices, 5 min) starts when A is predicted to end, C (4 devices) after B.
a=$("$ZS" submit --parsable --accel $T:8 --time 10 -- sleep 300)
wait_until 20 job_is "$a" running || fail "job A did not start: $(job_state "$a")"
b=$("$ZS" submit --parsable --accel $T:8 --time 5 -n 1 -- sleep 1)
c=$("$ZS" submit --parsable --accel $T:4 --time 5 -- sleep 1)
h=$("$ZS" submit --parsable --hold --accel $T:1 --time 5 -- sleep 1)
if wait_until 20 has_estimate "$c"; then
  ok "estimates appear within a forecast interval"
else
  fail "no estimate for job $c: $(curl -s "$URL/api/v1/jobs/$c")"
fi
a_start=$(job_field "$a" start_ms)
eb=$(estimate "$b")
ec=$(estimate "$c")
# Forecast ticks are one minute in the first hour: an estimate is at most a tick late.
if [ -n "$eb" ] && [ "$eb" -ge $((a_start + 600000)) ] && [ "$eb" -le $((a_start + 660000)) ]; then
  ok "job B is expected when A's predicted 10 minutes are over ($(((eb - a_start) / 1000)) s after A's start)"
else
  fail "job B estimate $eb, A started $a_start"
fi
if [ -n "$ec" ] && [ "$ec" -ge $((eb + 300000)) ] && [ "$ec" -le $((eb + 360000)) ]; then
  ok "job C is expected after B's predicted 5 minutes ($(((ec - eb) / 1000)) s after B)"
else
  fail "job C estimate $ec, B's $eb"
fi
[ "$(estimate "$a")" = None ] && ok "a running job has no estimate (null)" ||
  fail "running job A: estimated_start_ms '$(estimate "$a")'"
[ "$(estimate "$h")" = None ] && ok "a held job has no estimate (null)" ||
  fail "held job: estimated_start_ms '$(estimate "$h")'"

section "zs queue --start, zs job"
out=$("$ZS" queue --start 2>&1)
echo "$out" | sed 's/^/      /'
lines=$(echo "$out" | awk 'NR > 1 {print $1}' | tr '\n' ' ')
[ "$lines" = "$b $c $h " ] && ok "queue --start lists the pending jobs soonest first, the held one last" ||
  fail "queue --start order: '$lines' (want '$b $c $h ')"
echo "$out" | awk -v h="$h" '$1 == h' | grep -q 'N/A' && ok "the held job shows N/A" ||
  fail "held job line: $(echo "$out" | awk -v h="$h" '$1 == h')"
echo "$out" | awk -v a="$a" '$1 == a' | grep -q . && fail "queue --start lists running job $a" ||
  ok "queue --start shows pending jobs only (like squeue --start)"
"$ZS" job "$b" | grep -Eq '^StartTime +[0-9]{4}-.* \(estimated\)$' &&
  ok "zs job shows the estimated StartTime" || fail "zs job $b: $("$ZS" job "$b" 2>&1)"
"$ZS" queue --start --json | python3 -c '
import json, sys
jobs = {str(j["id"]): j for j in json.load(sys.stdin)["jobs"]}
sys.exit(0 if abs(jobs[sys.argv[1]]["estimated_start_ms"] - int(sys.argv[2])) <= 60000 and jobs[sys.argv[3]]["estimated_start_ms"] is None else 1)
' "$b" "$eb" "$h" && ok "queue --start --json carries estimated_start_ms (null for the held job)" ||
  fail "queue --start --json: $("$ZS" queue --start --json 2>&1 | head -c 400)"
n=$(curl -sf "$URL/api/v1/jobs?state=pending" | python3 -c '
import json, sys
print(sum(1 for j in json.load(sys.stdin)["jobs"] if "estimated_start_ms" in j))')
[ "$n" = 3 ] && ok "GET /api/v1/jobs gives every job estimated_start_ms" || fail "list: $n of 3 with the field"

section "the forecast follows the cluster"
"$ZS" cancel "$a" >/dev/null
wait_until 20 job_is "$b" running || fail "job B did not start after A was cancelled"
wait_until 10 job_ended "$b"
# B ran about a second: C (4 devices) should now be expected at once or start.
if wait_until 20 job_is "$c" running || wait_until 5 job_ended "$c"; then
  ok "job C started once its predecessors were gone"
else
  fail "job C: $(job_state "$c"), estimate $(estimate "$c")"
fi
[ "$(estimate "$c")" = None ] && ok "a started job loses its estimate" || fail "job C still has $(estimate "$c")"
"$ZS" cancel "$h" >/dev/null
finish
