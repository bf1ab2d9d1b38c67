#!/usr/bin/env bash
# Issue 10: hostile input against a live controller and agent. Every request below once killed
# the controller, leaked a file of its host or hung a thread; now each gets a clear 4xx and the
# controller keeps serving. Also: the state directory is private, and jobs that can never fit
# are refused at submit.
# Usage: live_hostile.sh path/to/zs   (CTest runs it from the project root)
set -u
source "$(dirname "$0")/live_common.bash"
cd "$W" || exit 1

CTL_ARGS=(--heartbeat-ms 200 --node-lost-ms 3000)
if ! start_controller; then fail "controller did not start"; finish; fi
start_agent a "8x$T"
if ! wait_until 30 nodes_up 1; then fail "agent a did not come up: $(tail -3 "$W/agent.a.log")"; finish; fi

alive_ctl() { kill -0 "$CTL" 2>/dev/null && curl -sf -o /dev/null --max-time 5 "$URL/api/v1/health"; }
# post PATH BODY-FILE: prints the HTTP status.
post() { curl -s -o "$W/answer.json" -w '%{http_code}' --max-time 30 -X POST -H 'Content-Type: application/json' \
  --data-binary "@$2" "$URL$1"; }

section "state directory (defect 9)"
[ "$(stat -c %a "$W/state")" = 700 ] && ok "state dir is 0700" || fail "state dir is $(stat -c %a "$W/state")"
[ "$(stat -c %a "$W/state/state.db")" = 600 ] && ok "state.db is 0600" ||
  fail "state.db is $(stat -c %a "$W/state/state.db")"

section "drain reasons (defects 3, 12)"
printf '{"reason":"a\\u0000b"}' >"$W/nul.json"
code=$(post /api/v1/nodes/a/drain "$W/nul.json")
[ "$code" = 400 ] && alive_ctl && ok "a NUL in a drain reason: 400, controller alive" || fail "NUL reason: HTTP $code"
python3 -c 'import json; print(json.dumps({"reason": "x" * (40 << 20)}))' >"$W/big.json"
code=$(post /api/v1/nodes/a/drain "$W/big.json")
case $code in 400 | 413) alive_ctl && ok "a 40 MB drain reason: $code, controller alive" ;; *) fail "40 MB reason: HTTP $code" ;; esac
printf '{"reason":"fan","force":true}' >"$W/unknown.json"
code=$(post /api/v1/nodes/a/drain "$W/unknown.json")
[ "$code" = 400 ] && grep -q force "$W/answer.json" && ok "an unknown drain field is 400, named" ||
  fail "unknown drain field: HTTP $code $(cat "$W/answer.json")"
printf '{"reason":"  bad fan  "}' >"$W/r1.json"
printf '{"reason":"bad PSU"}' >"$W/r2.json"
post /api/v1/nodes/a/drain "$W/r1.json" >/dev/null
[ "$(api_value /api/v1/nodes 'd["nodes"][0]["reason"]')" = "bad fan" ] && ok "a drain reason is trimmed" ||
  fail "drain reason: '$(api_value /api/v1/nodes 'd["nodes"][0]["reason"]')'"
post /api/v1/nodes/a/drain "$W/r2.json" >/dev/null
[ "$(api_value /api/v1/nodes 'd["nodes"][0]["reason"]')" = "bad PSU" ] && ok "re-draining replaces the reason" ||
  fail "re-drain kept: '$(api_value /api/v1/nodes 'd["nodes"][0]["reason"]')'"
"$ZS" nodes resume a >/dev/null 2>&1 || curl -sf -X POST "$URL/api/v1/nodes/a/resume" >/dev/null

section "paths and names (defect 3)"
# (through the API: one command-line argument cannot be 1 MiB)
python3 -c 'import json; print(json.dumps({"jobs": [{"argv": ["true"], "work_dir": "/tmp", "stdout_path": "/tmp/" + "p" * ((1 << 20) - 64)}]}))' >"$W/long.json"
code=$(post /api/v1/jobs "$W/long.json")
[ "$code" = 400 ] && grep -q stdout_path "$W/answer.json" && alive_ctl &&
  ok "a 1 MiB output path is refused at submit (400, naming stdout_path)" ||
  fail "1 MiB path: HTTP $code $(head -c 200 "$W/answer.json")"
out=$("$ZS" submit -o "/tmp/$(printf 'q%.0s' $(seq 5000))" -- true 2>&1)
[ $? -ne 0 ] && grep -q stdout_path <<<"$out" && ok "zs submit -o with a 5000-byte path: refused (${out:0:70})" ||
  fail "5000-byte path: ${out:0:200}"
python3 -c 'import json; print(json.dumps({"jobs": [{"argv": ["true"], "name": "a\u001b]0;pwned\u0007", "work_dir": "/tmp"}]}))' >"$W/esc.json"
code=$(post /api/v1/jobs "$W/esc.json")
[ "$code" = 400 ] && grep -q '"name"' "$W/answer.json" && ok "a job name with control characters is 400" ||
  fail "control characters in a name: HTTP $code $(cat "$W/answer.json")"

section "logs never read the controller's files (defect 4)"
dep=$("$ZS" submit --parsable -- sleep 30)
id=$("$ZS" submit --parsable -d "afterok:$dep" -o /etc/shadow -- true)
got=$(timeout 10 "$ZS" logs "$id" 2>&1)
if grep -q 'root:' <<<"$got"; then fail "zs logs printed /etc/shadow"; else ok "zs logs of a job that never ran prints no host file (${got:0:80})"; fi
hdr=$(curl -s -D - -o "$W/body" --max-time 10 "$URL/api/v1/jobs/$id/logs" | tr -d '\r' | grep -i '^X-ZS-Log-Error')
[ ! -s "$W/body" ] && grep -qi 'not started' <<<"$hdr" && ok "the logs endpoint says the job has not started" ||
  fail "logs of a job that never ran: ${hdr:-no error header}, $(wc -c <"$W/body") bytes"
"$ZS" cancel "$id" "$dep" >/dev/null 2>&1
mkfifo "$W/fifo"
fid=$("$ZS" submit --parsable -o "$W/fifo" -- echo hello)
wait_until 20 job_ended "$fid"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$URL/api/v1/jobs/$fid/logs")
[ "$code" = 200 ] && alive_ctl && nodes_up 1 && ok "a FIFO as output path: job $(job_state "$fid"), logs answer, agent up" ||
  fail "FIFO output: logs HTTP $code, job $(job_state "$fid")"

section "jobs that can never fit (defect 11)"
for args in "-N 5 -- true" "-c 500 -- true" "--mem 2T -- true" "--accel $T:9 -N 1 -- true" "--accel $T:65 -- true"; do
  # shellcheck disable=SC2086
  out=$("$ZS" submit $args 2>&1)
  rc=$?
  [ $rc -ne 0 ] && grep -qi 'never' <<<"$out" && ok "zs submit $args: refused ($(head -1 <<<"$out" | cut -c1-90))" ||
    fail "zs submit $args: rc $rc: ${out:0:200}"
done
[ "$(count_state pending)" = 0 ] && ok "nothing was queued" || fail "$(count_state pending) jobs pending"

alive_ctl && ok "the controller is still serving" || fail "the controller died"
finish
