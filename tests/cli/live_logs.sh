#!/usr/bin/env bash
# zs logs for a job whose output only its node can see (no shared file system). The agent runs
# in its own mount namespace with a private tmpfs over the output directory, so the controller
# cannot open the files and fetches them from the agent's log server.
# Usage: live_logs.sh path/to/zs   (CTest runs it from the project root)
set -u
source "$(dirname "$0")/live_common.bash"
cd "$W" || exit 1

P=$W/private
mkdir -p "$P" "$W/agents/r"
if ! unshare -m --propagation private true 2>/dev/null; then
  note "no mount namespaces here (they need root): nothing to test"
  finish
fi
CTL_ARGS=(--heartbeat-ms 200 --node-lost-ms 3000)
if ! start_controller; then fail "controller did not start"; finish; fi
# shellcheck disable=SC2016
tokens=$(node_token_args r)
# shellcheck disable=SC2016,SC2086
unshare -m --propagation private sh -c 'mount -t tmpfs tmpfs "$1" && exec "$2" agent \
  --controller "$3" --name r --accelerators 8xMLU590 --work-dir "$4" $5' \
  sh "$P" "$ZS" "$URL" "$W/agents/r" "$tokens" >>"$W/agent.r.log" 2>&1 &
PIDS+=($!)
AGENT_PID[r]=$!
disown $!
if ! wait_until 30 nodes_up 1; then fail "agent r did not come up: $(tail -3 "$W/agent.r.log")"; finish; fi

logs_url=$(api_value /api/v1/nodes 'd["nodes"][0]["logs_url"]')
[[ $logs_url == http://127.0.0.1:* ]] && ok "agent r serves logs at $logs_url" ||
  fail "agent r reports no log server: '$logs_url'"

id=$("$ZS" submit --parsable --accel MLU590:1 -o "$P/out-%j.txt" -e "$P/err-%j.txt" -- \
  sh -c 'for i in 1 2 3; do echo line $i; sleep 0.3; done; echo oops >&2; echo last')
# Followed while it runs: every line, then zs logs -f ends with the job.
follow=$(timeout 30 "$ZS" logs -f "$id")
[ "$(job_state "$id")" = completed ] && [ "$follow" = $'line 1\nline 2\nline 3\nlast' ] &&
  ok "zs logs -f $id printed its 4 lines from agent r and ended with the job" ||
  fail "zs logs -f $id: state $(job_state "$id"), got: $(tr '\n' '|' <<<"$follow")"
[ ! -e "$P/out-$id.txt" ] && ok "the controller's host cannot see $P/out-$id.txt (private tmpfs)" ||
  fail "the output file is visible outside agent r's namespace: the test proves nothing"
[ "$("$ZS" logs "$id" --stderr)" = oops ] && ok "zs logs --stderr $id: the separate error file" ||
  fail "zs logs --stderr $id: $("$ZS" logs "$id" --stderr 2>&1)"
part=$(curl -s "$URL/api/v1/jobs/$id/logs?offset=7")
[ "$part" = $'line 2\nline 3\nlast' ] && ok "offset 7 starts at the second line" ||
  fail "offset 7: $(tr '\n' '|' <<<"$part")"

# The agent's own endpoint serves the controller only (a key it sends in its reports): not a
# user, not even the cluster admin's token, and not without credentials.
for who in "admin token" "no token"; do
  if [ "$who" = "no token" ]; then get() { command curl "$@"; }; else get() { curl "$@"; }; fi
  code=$(get -s -o "$W/r.json" -w '%{http_code}' "$logs_url/api/v1/attempts/$id.1/log")
  [ "$code" = 401 ] && python3 -c 'import json,sys; json.load(open(sys.argv[1]))["error"]' "$W/r.json" &&
    ! grep -q line "$W/r.json" && ok "agent: its log server refuses a request with $who (401)" ||
    fail "agent log server, $who: HTTP $code: $(head -c 200 "$W/r.json")"
done

# With the agent gone the controller still answers, with no data and the reason in a header.
kill -9 "${AGENT_PID[r]}"
hdrs=$(curl -s -D - -o "$W/body" "$URL/api/v1/jobs/$id/logs")
grep -q '^HTTP/1.1 200' <<<"$hdrs" && grep -qi '^X-ZS-Log-Error: agent http://127.0.0.1' <<<"$hdrs" &&
  [ ! -s "$W/body" ] && ok "agent gone: 200, no data, X-ZS-Log-Error says why" ||
  fail "agent gone: $(tr '\r\n' '  ' <<<"$hdrs")"
finish
