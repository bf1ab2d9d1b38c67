#!/usr/bin/env bash
# Failures of the live cluster: kill -9 of the controller under a stream of submits, kill -9 of
# an agent under a running gang (requeue with --retries, node_fail without), malformed API
# requests, an unreachable controller and bad command-line input.
# Usage: live_failures.sh path/to/zs   (CTest runs it from the project root)
set -u
source "$(dirname "$0")/live_common.bash"
cd "$W" || exit 1

jobs_json() { curl -sf --max-time 20 "$URL/api/v1/jobs?limit=100000"; }

# --- (a) kill -9 the controller while submits stream in and jobs run ----------------------------
section "(a) kill -9 of the controller"
# --node-lost-ms 3 s: the agents must survive the controller's absence without their jobs being
# declared lost (that is part (b)'s subject).
CTL_ARGS=(--heartbeat-ms 200 --node-lost-ms 3000 --kill-grace-ms 500)
if start_controller; then
  start_agent a
  start_agent b
  wait_until 30 nodes_up 2 || fail "(a) agents did not come up"
  : >"$W/acked"
  : >"$W/runs"
  : >"$W/submit.failed"
  (
    end=$(($(now_ms) + 45000))
    while [ ! -e "$W/stop-submits" ] && [ "$(now_ms)" -lt "$end" ]; do
      if id=$("$ZS" submit --parsable --accel $T:1 -- sh -c "echo \$ZS_JOB_ID >> $W/runs; sleep 0.5" 2>>"$W/submit.err"); then
        echo "$id" >>"$W/acked"
      else
        echo x >>"$W/submit.failed"
      fi
    done
  ) &
  SUB=$!
  PIDS+=("$SUB")
  acked() { wc -l <"$W/acked"; }
  busy() { [ "$(acked)" -ge 12 ] && [ "$(count_state running)" -ge 1 ]; }
  wait_until 40 busy || fail "(a) the submit loop did not get going: $(acked) acked"
  running_at_kill=$(count_state running)
  kill -9 "$CTL"
  acked_at_kill=$(acked)
  # The loop goes on against a dead controller: let a few submits fail, then restart.
  refused() { [ "$(wc -l <"$W/submit.failed")" -ge 2 ]; }
  wait_until 15 refused || fail "(a) submits to the dead controller did not fail"
  if start_controller; then
    restarted=$(acked)
    more() { [ "$(acked)" -ge $((restarted + 10)) ]; }
    wait_until 40 more || fail "(a) submits did not resume after the restart ($(acked) acked)"
  else
    fail "(a) the controller did not restart on the same port and state dir"
  fi
  touch "$W/stop-submits"
  wait "$SUB" 2>/dev/null
  all_done() {
    jobs_json | python3 -c 'import json,sys
st={j["id"]: j["state"] for j in json.load(sys.stdin)["jobs"]}
ids=[int(x) for x in open(sys.argv[1]).read().split()]
sys.exit(0 if all(st.get(i) == "completed" for i in ids) else 1)' "$W/acked"
  }
  wait_until 60 all_done
  if out=$(jobs_json | python3 -c 'import json,sys,collections
jobs={j["id"]: j for j in json.load(sys.stdin)["jobs"]}
acked=[int(x) for x in open(sys.argv[1]).read().split()]
runs=collections.Counter(int(x) for x in open(sys.argv[2]).read().split())
p=[]
if len(set(acked)) != len(acked): p.append("an id was acknowledged twice")
missing=[i for i in acked if i not in jobs]
if missing: p.append(f"{len(missing)} acknowledged jobs lost: {missing[:10]}")
bad=[(i, jobs[i]["state"]) for i in acked if i in jobs and jobs[i]["state"] != "completed"]
if bad: p.append(f"{len(bad)} acknowledged jobs not completed: {bad[:10]}")
twice=[i for i, n in runs.items() if n > 1]
if twice: p.append(f"{len(twice)} jobs ran twice: {twice[:10]}")
never=[i for i in acked if runs[i] == 0]
if never: p.append(f"{len(never)} acknowledged jobs never ran: {never[:10]}")
again=[i for i in acked if i in jobs and jobs[i]["attempt"] != 1]
if again: p.append(f"{len(again)} jobs with attempt != 1: {again[:10]}")
extra=[i for i in runs if i not in jobs]
if extra: p.append(f"jobs ran that the controller does not know: {extra[:10]}")
print("; ".join(p) if p else f"{len(acked)} acked, {len(jobs)} known, {sum(runs.values())} runs")
sys.exit(1 if p else 0)' "$W/acked" "$W/runs" 2>&1); then
    ok "(a) kill -9 controller with $running_at_kill jobs running after $acked_at_kill acked submits," \
      "$(wc -l <"$W/submit.failed") submits refused while down: $out, none lost, none ran twice"
  else
    fail "(a) kill -9 controller: $out"
  fi
else
  fail "(a) controller did not start"
fi
reset_cluster

# --- (b) kill -9 an agent under a running 3-node gang --------------------------------------------
section "(b) kill -9 of an agent under a gang"
HB=500
LEASE=1500
# The node is down after 1.5 heartbeats, but its jobs are given up only after the node lease,
# the kill grace period and a margin (a heartbeat + 2% of the lease), when its shim has stopped
# the tasks; + 1 s for a loaded 2-core ASan machine.
BOUND=$((LEASE + 500 + HB + LEASE / 50 + 1000))
CTL_ARGS=(--heartbeat-ms $HB --kill-grace-ms 500 --node-lease-ms $LEASE)
if start_controller; then
  for n in a b c; do start_agent $n; done
  wait_until 30 nodes_up 3 || fail "(b) agents did not come up"
  mkdir -p "$W/nl"
  id=$("$ZS" submit --parsable --nodes 3 --accel $T:24 --retries 1 -- sh -c \
    "echo \$\$ > $W/nl/pid.\$ZS_ATTEMPT.\$RANK; echo \$ZS_NODE > $W/nl/node.\$ZS_ATTEMPT.\$RANK
     if [ \"\$ZS_ATTEMPT\" = 1 ]; then exec sleep 300; fi; echo attempt \$ZS_ATTEMPT rank \$RANK done")
  three() { [ "$(ls "$W"/nl/pid.1.* 2>/dev/null | wc -l)" = 3 ] && [ "$(ls "$W"/nl/node.1.* 2>/dev/null | wc -l)" = 3 ]; }
  if wait_until 30 three && wait_until 10 job_is "$id" running; then
    others=()
    victim=
    for r in 0 1 2; do
      if [ "$(cat "$W/nl/node.1.$r")" = c ]; then victim=$(pid_in "$W/nl/pid.1.$r"); else others+=("$(pid_in "$W/nl/pid.1.$r")"); fi
    done
    gone() { local p; for p in "${others[@]}"; do alive "$p" && return 1; done; return 0; }
    t0=$(now_ms)
    kill -9 "${AGENT_PID[c]}"
    t_gone= t_pend=
    while [ $(($(now_ms) - t0)) -lt 10000 ]; do
      [ -z "$t_gone" ] && gone && t_gone=$(($(now_ms) - t0))
      if [ -z "$t_pend" ] && [ "$(job_state "$id")" = pending ]; then
        t_pend=$(($(now_ms) - t0))
        victim_at_requeue=$(alive "$victim" && echo running || echo gone)
      fi
      [ -n "$t_gone" ] && [ -n "$t_pend" ] && break
      sleep 0.05
    done
    reason=$(api_value "/api/v1/jobs/$id" 'd["job"]["reason"]')
    note "(b) agent c killed: other ranks gone after ${t_gone:-never} ms, job pending after ${t_pend:-never} ms (bound ${BOUND} ms: lease ${LEASE} ms + grace + margin + 1 s)"
    if [ -n "$t_gone" ] && [ -n "$t_pend" ] && [ "$t_gone" -lt $BOUND ] && [ "$t_pend" -lt $BOUND ]; then
      ok "(b) node loss under a gang with --retries 1: ranks on a,b stopped in ${t_gone} ms, job requeued (pending) in ${t_pend} ms"
    else
      fail "(b) node loss: ranks on a,b gone after ${t_gone:-never} ms, pending after ${t_pend:-never} ms (bound $BOUND ms), reason [$reason]"
    fi
    # Its agent is dead, but its shim went by the lease: the rank on c was stopped before the
    # job was requeued, so attempt 2 can never run beside it.
    if [ -n "$victim" ] && [ "${victim_at_requeue:-}" = gone ]; then
      ok "(b) the rank on c (agent killed) was stopped by its shim when the lease ran out, before the requeue"
    else
      fail "(b) the rank on c (pid ${victim:-?}) was ${victim_at_requeue:-?} when the job was requeued"
    fi
    # Not enough nodes now: it waits; a replacement node (new name) lets attempt 2 run.
    sleep 0.3
    [ "$(job_state "$id")" = pending ] || fail "(b) with 2 nodes left the 3-node gang is $(job_state "$id"), not pending"
    start_agent d
    wait_until 30 job_ended "$id"
    js=$("$ZS" job "$id" --json 2>/dev/null)
    att=$(python3 -c 'import json,sys; j=json.loads(sys.argv[1])["job"]; print(j["state"], j["attempt"], ",".join(sorted(a["node"] for a in j["assignment"])))' "$js" 2>&1)
    n2=$(ls "$W"/nl/pid.2.* 2>/dev/null | wc -l)
    if [ "$att" = "completed 2 a,b,d" ] && [ "$n2" = 3 ]; then
      ok "(b) after agent d joined, job $id ran again on a,b,d and completed: attempt 2 in zs job --json"
    else
      fail "(b) after agent d joined: state/attempt/nodes = [$att], $n2 ranks of attempt 2 started"
    fi
  else
    fail "(b) gang $id did not start: $(job_state "$id")"
  fi

  # Without --retries: node_fail.
  mkdir -p "$W/nl2"
  id=$("$ZS" submit --parsable --nodes 3 --accel $T:24 -- sh -c \
    "echo \$\$ > $W/nl2/pid.\$RANK; echo \$ZS_NODE > $W/nl2/node.\$RANK; exec sleep 300")
  three2() { [ "$(ls "$W"/nl2/pid.* 2>/dev/null | wc -l)" = 3 ] && [ "$(ls "$W"/nl2/node.* 2>/dev/null | wc -l)" = 3 ]; }
  if wait_until 30 three2 && wait_until 10 job_is "$id" running; then
    others=()
    for r in 0 1 2; do [ "$(cat "$W/nl2/node.$r")" = d ] || others+=("$(pid_in "$W/nl2/pid.$r")"); done
    t0=$(now_ms)
    kill -9 "${AGENT_PID[d]}"
    wait_until 10 job_is "$id" node_fail
    t_fail=$(($(now_ms) - t0))
    wait_until 5 gone
    t_gone=$(($(now_ms) - t0))
    st=$(job_field "$id" state)
    att=$(job_field "$id" attempt)
    if [ "$st" = node_fail ] && [ "$att" = 1 ] && gone && [ "$t_fail" -lt $BOUND ]; then
      ok "(b) without --retries: node_fail after ${t_fail} ms, ranks on a,b stopped after ${t_gone} ms"
    else
      fail "(b) without --retries: state $st attempt $att after ${t_fail} ms (bound $BOUND), ranks on a,b gone: $(gone && echo yes || echo no)"
    fi
  else
    fail "(b) second gang $id did not start: $(job_state "$id")"
  fi
else
  fail "(b) controller did not start"
fi
reset_cluster

# --- (c) malformed requests: 4xx with a JSON error body, nothing created, controller alive ------
section "(c) malformed requests"
CTL_ARGS=(--heartbeat-ms 200)
if start_controller; then
  nreq=0
  mkdir -p "$W/resp"
  : >"$W/requests"
  # req STATUS-REGEX METHOD PATH [BODY-FILE [curl options...]]: the answers are checked together
  # at the end (one python3 run instead of one per request).
  req() {
    local want=$1 method=$2 path=$3 body=${4:-} code
    shift 4 2>/dev/null || shift $#
    nreq=$((nreq + 1))
    local args=(-s -o "$W/resp/$nreq" -w '%{http_code}' --max-time 60 -X "$method" -H 'Content-Type: application/json')
    [ -n "$body" ] && args+=(--data-binary "@$body")
    # The admin's token, or REQ_TOKEN (a node credential for the agents' routes).
    code=$(command curl "${args[@]}" -H "Authorization: Bearer ${REQ_TOKEN:-${ZS_TOKEN:-}}" "$@" "$URL$path")
    printf '%s\t%s\t%s\t%s %s %s\n' "$nreq" "$want" "$code" "$method" "$path" \
      "$(head -c 60 "${body:-/dev/null}" | tr -c '[:print:]' '?')" >>"$W/requests"
  }
  body() { printf "$@" >"$W/body"; echo "$W/body"; } # printf FORMAT [ARGS]: a body file
  J=/api/v1/jobs
  # Invalid JSON, and JSON that is not an object.
  for t in '' '{' '{"argv":["true"]' 'nul' '{"argv":["true"],}' "{'argv':['true']}" '[]' '"x"' '42' 'null' \
           '{"argv":["\xff\xfe"]}' '{"argv":["true"]} trailing'; do
    req 400 POST $J "$(body '%s' "$t")"
  done
  req 400 POST $J "$(body '{"argv":["\xff\xfe"]}')"  # invalid UTF-8 bytes
  # Wrong types.
  for t in '{"argv":"true"}' '{"argv":[1]}' '{"argv":["true"],"nodes":"2"}' '{"argv":["true"],"accel_count":1.5}' \
           '{"argv":["true"],"env":"A=1"}' '{"argv":["true"],"priority":1e20}' '{"argv":["true"],"name":null}' \
           '{"argv":["true"],"walltime":true}' '{"argv":["true"],"after_ok":["1"]}' '{"argv":["true"],"cpus_per_task":"2"}' \
           '{"jobs":{"argv":["true"]}}' '{"jobs":[1]}'; do
    req 400 POST $J "$(body '%s' "$t")"
  done
  # Negative and out-of-range counts.
  for f in accel_count nodes tasks_per_node ntasks max_retries walltime mem_mib accel_per_node; do
    req 400 POST $J "$(body '{"argv":["true"],"%s":-1}' "$f")"
  done
  for t in '{"argv":["true"],"accel_count":99999999999}' '{"argv":["true"],"nodes":18446744073709551616}' \
           '{"argv":["true"],"max_retries":101}' '{"argv":["true"],"tasks_per_node":0}' '{"argv":["true"],"cpus_per_task":-0.5}' \
           '{"argv":["true"],"priority":2147483648}' '{"argv":["true"],"walltime":1e300}'; do
    req 400 POST $J "$(body '%s' "$t")"
  done
  # Unknown fields, at the top, in a batch and in a batch entry.
  for t in '{"argv":["true"],"gpus":2}' '{"jobs":[{"argv":["true"]}],"extra":1}' '{"jobs":[{"argv":["true"],"bogus":1}]}' \
           '{"argv":["true"],"spec":{}}'; do
    req 400 POST $J "$(body '%s' "$t")"
  done
  # Well-formed but meaningless.
  for t in '{}' '{"argv":[]}' '{"argv":[""]}' '{"jobs":[]}' '{"argv":["true"],"accel_type":"NoSuchGPU","accel_count":1}' \
           '{"argv":["true"],"accel_type":"A100-SXM4-80GB"}' '{"argv":["true"],"after_ok":[999999]}' \
           '{"argv":["true"],"work_dir":"relative/dir"}' '{"argv":["true"],"env":["NOEQUALS"]}' '{"argv":["true"],"env":["=x"]}' \
           '{"argv":["true"],"array":"5-1"}' '{"argv":["true"],"array":"x"}' '{"argv":["true"],"nodes":3,"accel_count":4}' \
           '{"jobs":[{"argv":["true"]},{"argv":["true"],"nodes":-1}]}' '{"argv":["true\u0000x"]}'; do
    req 400 POST $J "$(body '%s' "$t")"
  done
  req '400|413' POST $J "$(body '{"argv":["true"],"array":"0-99999999"}')"
  # Deep nesting and long strings.
  python3 -c 'import sys; sys.stdout.write("[" * 200000 + "]" * 200000)' >"$W/deep.json"
  req 400 POST $J "$W/deep.json"
  python3 -c 'import sys; sys.stdout.write("{\"argv\":[\"true\"],\"name\":\"" + "x" * (2 << 20) + "\"}")' >"$W/long.json"
  req 400 POST $J "$W/long.json"
  # Over the 48 MiB request limit: with Content-Length, without Expect, and chunked.
  head -c $((49 << 20)) /dev/zero | tr '\0' ' ' >"$W/huge.json"
  req 413 POST $J "$W/huge.json"
  req 413 POST $J "$W/huge.json" -H 'Expect:'
  rm -f "$W/huge.json"
  # Unknown routes and methods.
  req 404 GET /api/v1/nope
  req 404 POST /api/v2/jobs "$(body '{"argv":["true"]}')"
  req 404 GET /
  req '404|405' PUT $J "$(body '{"argv":["true"]}')"
  req '404|405' PATCH /api/v1/jobs/1 "$(body '{}')"
  # A POST without a body and without Content-Length (curl -X POST URL) is answered at once with
  # 411 Length Required, not held until the read timeout.
  t0=$(now_ms)
  code=$(curl -s -o "$W/resp.nobody" -w '%{http_code}' --max-time 3 -X POST "$URL/api/v1/nodes/nosuch/resume")
  took=$(($(now_ms) - t0))
  [ "$code" = 411 ] && [ "$took" -lt 2000 ] && ok "(c) POST without Content-Length: 411 after $took ms" \
    || fail "(c) POST without a body (no Content-Length): HTTP $code after $took ms"
  # Bad job ids and query parameters.
  for p in /api/v1/jobs/abc /api/v1/jobs/-1 /api/v1/jobs/1.5 /api/v1/jobs/18446744073709551616 \
           '/api/v1/jobs/%20' /api/v1/jobs/999999 /api/v1/jobs/0; do
    req '400|404' GET "$p"
  done
  for p in /api/v1/jobs/abc/cancel /api/v1/jobs/999999/cancel; do req '400|404' POST "$p" "$(body '{}')"; done
  req '400|404' DELETE /api/v1/jobs/abc
  req '400|404' GET '/api/v1/jobs/1/logs?offset=abc'
  req '400|404' GET '/api/v1/jobs/999999/logs'
  for q in 'state=bogus' 'limit=0' 'limit=abc' 'after=-1' 'limit=100001'; do req 400 GET "$J?$q"; done
  # Node and agent endpoints.
  req 404 POST /api/v1/nodes/nosuch/drain "$(body '{}')"
  req 400 POST /api/v1/nodes/nosuch/drain "$(body '{"reason":5}')"
  req 404 POST /api/v1/nodes/nosuch/resume "$(body '{}')"
  S=/api/v1/agents
  mkdir -p "$W/agents"
  node_token_args x1 >/dev/null && node_token_args nosuch >/dev/null
  REQ_TOKEN=$(cat "$W/agents/x1.token")
  for t in '{"accel_count":"8"}' '{"accel_count":1000}' '{"unknown":1}' '{"accel_count":8}' \
           '{"accel_type":"Nope","accel_count":8}' '{"running":[{"job":-1,"attempt":1}]}' '{"wait_ms":-5}' '[]' '{'; do
    req 400 POST $S/x1/sync "$(body '%s' "$t")"
  done
  # A node credential speaks for its node only; a user token for none.
  req 403 POST "$S/bad%20name/sync" "$(body '{}')"
  req 403 POST "$S/$(printf 'n%.0s' $(seq 70))/sync" "$(body '{}')"
  req 403 POST $S/nosuch/sync "$(body '{}')"
  REQ_TOKEN=$(cat "$W/agents/nosuch.token")
  req 404 POST $S/nosuch/exits "$(body '{"exits":[]}')"
  req 400 POST $S/nosuch/exits "$(body '{"exits":5}')"
  REQ_TOKEN=zs_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
  req 401 POST $S/x1/sync "$(body '{}')"
  REQ_TOKEN=
  req 403 POST $S/x1/sync "$(body '{}')"

  # The limit is checked against Content-Length from the head alone, so chunked bodies are
  # refused (411) before any of the body is read. Shown on a second controller with --max-request-mib 1.
  head -c $((3 << 20)) /dev/zero | tr '\0' ' ' >"$W/3mib.json"
  "$ZS" controller --listen 127.0.0.1:0 --state-dir "$W/state-small" --max-request-mib 1 >"$W/controller.small.log" 2>&1 &
  SMALL=$!
  PIDS+=("$SMALL")
  disown "$SMALL"
  small_url() { SURL=$(sed -n 's#.*listening on \(http://127\.0\.0\.1:[0-9][0-9]*\).*#\1#p' "$W/controller.small.log"); [ -n "$SURL" ]; }
  if wait_until 30 small_url && wait_until 10 curl -sf -o /dev/null "$SURL/api/v1/health"; then
    code=$(curl -s -o "$W/resp.small" -w '%{http_code}' --max-time 60 -X POST -H 'Content-Type: application/json' \
      --data-binary "@$W/3mib.json" "$SURL$J")
    [ "$code" = 413 ] && ok "(c) --max-request-mib 1: a 3 MiB body is refused with 413" || fail "(c) --max-request-mib 1: 3 MiB body got $code"
    code=$(curl -s -o "$W/resp.small" -w '%{http_code}' --max-time 60 -X POST -H 'Content-Type: application/json' \
      -H 'Transfer-Encoding: chunked' --data-binary "@$W/3mib.json" "$SURL$J")
    [ "$code" = 411 ] && ok "(c) a chunked body is refused with 411 before it is read" \
      || fail "(c) a chunked body got $code: $(head -c 100 "$W/resp.small")"
  else
    fail "(c) the second controller (--max-request-mib 1) did not start"
  fi
  kill -9 "$SMALL"

  nbad=$(python3 - "$W/requests" "$W/resp" <<'EOF'
import json, re, sys
bad = 0
for line in open(sys.argv[1]):
    n, want, code, what = line.rstrip("\n").split("\t", 3)
    try:
        body = open(f"{sys.argv[2]}/{n}", "rb").read()
    except OSError:
        body = b""
    problem = None
    if not re.fullmatch(f"({want})", code):
        problem = f"HTTP {code}, wanted {want}"
    else:
        try:
            e = json.loads(body)["error"]
            assert isinstance(e["code"], str) and e["code"] and isinstance(e["message"], str) and e["message"]
        except Exception:
            problem = f"HTTP {code} without a JSON error body"
    if problem:
        bad += 1
        print(f"FAIL: (c) {what}: {problem}: {body[:200]!r}")
print(bad)
EOF
  )
  grep '^FAIL' <<<"$nbad"
  nbad=$(tail -1 <<<"$nbad")
  FAILS=$((FAILS + nbad))
  jobs=$(api_value "$J" 'len(d["jobs"])')
  nodes=$(api_value /api/v1/nodes 'len(d["nodes"])')
  if [ "$nbad" = 0 ] && [ "$jobs" = 0 ] && [ "$nodes" = 0 ] && kill -0 "$CTL" 2>/dev/null &&
     curl -sf "$URL/api/v1/health" >/dev/null; then
    ok "(c) $nreq malformed requests: each a 4xx with a JSON error; no job or node created; controller alive"
  else
    fail "(c) $nbad of $nreq malformed requests answered wrongly; jobs=$jobs nodes=$nodes; controller alive: $(kill -0 "$CTL" 2>/dev/null && echo yes || echo no)"
  fi

  # --- (d) bad input at the command line ---------------------------------------------------------
  section "(d) unreachable controller, bad command-line input"
  # expect EXIT-STATUS SUBSTRING command...: the command exits so and says the substring.
  expect() {
    local want_rc=$1 want=$2 out rc
    shift 2
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" = "$want_rc" ] && grep -qF -- "$want" <<<"$out"; then
      ok "(d) exit $rc, '$want': $(head -1 <<<"$out")"
    else
      fail "(d) ${*#"$ZS"} -> exit $rc: $out (wanted exit $want_rc and '$want')"
    fi
  }
  t0=$(now_ms)
  expect 1 "cannot reach the controller" "$ZS" queue --controller http://127.0.0.1:1
  note "(d) (unreachable controller reported in $(($(now_ms) - t0)) ms)"
  ZS_CONTROLLER=http://127.0.0.1:1 expect 1 "cannot reach the controller" "$ZS" nodes
  expect 2 "expected a URL" "$ZS" queue --controller localhost:7070
  # Checked before the controller is contacted: exit 2 even with no controller.
  export ZS_CONTROLLER=http://127.0.0.1:1
  expect 2 "1:2:3:4" "$ZS" submit --time 1:2:3:4 -- true
  expect 2 "--time" "$ZS" submit --time 1:2:3:4 -- true
  expect 2 "unknown option --bogus" "$ZS" submit -J x --bogus -- true
  # An unknown option before "--" is named, whatever the other words are.
  out=$("$ZS" submit --bogus -- true 2>&1)
  hard_check "(d) zs submit --bogus -- true names the unknown option (got: $(head -1 <<<"$out"))" \
    grep -q -- "--bogus" <<<"$out"
  printf '#!/bin/sh\n#SBATCH -N 1\n#SBATCH --frobnicate=3\ntrue\n' >"$W/bad-directive.sh"
  expect 2 "unknown directive --frobnicate" "$ZS" submit "$W/bad-directive.sh"
  expect 2 "bad-directive.sh:3" "$ZS" submit "$W/bad-directive.sh"
  printf '#!/bin/sh\n#SBATCH -t soon\ntrue\n' >"$W/bad-time.sh"
  expect 2 "bad-time.sh:2" "$ZS" submit "$W/bad-time.sh"
  expect 2 "nothing to run" "$ZS" submit --parsable
  export ZS_CONTROLLER=$URL
  expect 2 "no job 999999" "$ZS" job 999999
  expect 2 "expected a job id" "$ZS" job abc
  expect 2 "unknown accelerator type 'NoSuchGPU'" "$ZS" submit --accel NoSuchGPU:1 -- true
  expect 2 "--leaf" "$ZS" agent --name x --work-dir "$W/bad-leaf" --accelerators 8x$T --leaf 'a b'
  # A second controller on the running one's state directory is refused, not run beside it.
  expect 1 "in use by another process" "$ZS" controller --listen 127.0.0.1:0 --state-dir "$W/state"
  [ "$(api_value "$J" 'len(d["jobs"])')" = 0 ] && ok "(d) no job was created by the bad submits" ||
    fail "(d) bad submits created jobs: $(api_value "$J" '[j["id"] for j in d["jobs"]]')"

  # The agent report's strings are checked like the user API's: a NUL byte in boot_id is a 400,
  # not a record the store refuses later (which would stop the controller).
  section "(c) agent sync with a NUL byte in boot_id"
  code=$(curl -s -o "$W/resp.nul" -w '%{http_code}' --max-time 10 -X POST -H 'Content-Type: application/json' \
    --data-binary '{"boot_id":"x\u0000y","accel_type":"A100-SXM4-80GB","accel_count":8}' "$URL/api/v1/agents/nul1/sync")
  alive_after() { kill -0 "$CTL" 2>/dev/null && curl -sf -o /dev/null "$URL/api/v1/health"; }
  sleep 0.3
  hard_check "(c) a sync whose boot_id holds a NUL byte is refused and the controller survives (got HTTP $code; $(tail -1 "$W/controller.$CTL_N.log" | cut -c1-160))" \
    eval '[[ $code == 4?? ]] && alive_after'
else
  fail "(c) controller did not start"
fi

# --- (e) idle and half-sent connections do not starve the controller ------------------------
# 8 HTTP threads; 64 connections that say nothing and 8 that send half a request head stay open
# for 8 s. Meanwhile a new agent must register and a submitted job must run. They used to hold
# every free thread until their 30 s idle timeout, so new connections waited for them.
section "(e) idle and slow connections"
reset_cluster
CTL_ARGS=(--heartbeat-ms 200 --node-lost-ms 1500 --threads 8)
if start_controller; then
  start_agent a
  start_agent b
  if wait_until 30 nodes_up 2; then
    python3 - "$PORT" >"$W/hold.out" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(64)]
for _ in range(8):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /api/v1/jobs HTTP/1.1\r\nContent-Type: appl")
    held.append(s)
print("holding", len(held), flush=True)
time.sleep(8)
print("released", flush=True)
PY
    hold_pid=$!
    wait_until 10 grep -q holding "$W/hold.out"
    start_agent c
    id=$("$ZS" submit --parsable --accel $T:1 -- true)
    wait_until 20 eval 'job_ended "$id" && nodes_up 3'
    st=$(job_state "$id")
    if grep -q released "$W/hold.out"; then
      fail "(e) with 72 idle connections open, job $id ($st) and agent c waited until they closed"
    elif [ "$st" = completed ] && nodes_up 3; then
      ok "(e) 72 idle or half-sent connections on 8 threads: agent c registered, job $id completed"
    else
      fail "(e) with 72 idle connections: job $id $st, nodes: $("$ZS" nodes 2>&1 | tr '\n' ' ')"
    fi
    kill "$hold_pid" 2>/dev/null
    # More agents than threads: each long-poll sync holds a thread, and a full pool used to
    # serve the first connections forever. Now connections take turns, and every node stays up.
    for n in d e f g h i j k; do start_agent $n; done
    if wait_until 30 nodes_up 11; then
      sleep 1.5  # five heartbeats, the node-lost time
      down=$(curl -sf --max-time 10 "$URL/api/v1/nodes" | grep -o '"state":"down"' | wc -l)
      [ "$down" = 0 ] && nodes_up 11 && ok "(e) 11 agents on 8 threads stay up" ||
        fail "(e) 11 agents on 8 threads: $down down: $("$ZS" nodes 2>&1 | tr '\n' ' ')"
    else
      fail "(e) 11 agents on 8 threads did not all come up: $("$ZS" nodes 2>&1 | tr '\n' ' ')"
    fi
  else
    fail "(e) 2 agents did not come up"
  fi
else
  fail "(e) controller did not start"
fi

reset_cluster

# --- (f) the controller away for longer than the node lease --------------------------------------
# Down (nothing listens: a crash, an upgrade): the agents renew their lease on the refusals, so
# the job runs on and completes in its first attempt. Frozen (connections hang, as with a
# partition): the agents stop their tasks when the lease runs out, and the job runs again only
# after its first attempt's task is gone.
section "(f) controller away for longer than the node lease"
CTL_ARGS=(--heartbeat-ms 200 --node-lost-ms 600 --node-lease-ms 1000 --kill-grace-ms 300)
if start_controller; then
  start_agent a
  wait_until 30 nodes_up 1 || fail "(f) agent did not come up"
  mkdir -p "$W/away"
  # task DIR: notes its pid per attempt, waits for DIR/go.
  away_task() { echo "echo \$\$ > $1/pid.\$ZS_ATTEMPT; while [ ! -e $1/go ]; do sleep 0.05; done"; }
  id=$("$ZS" submit --parsable --accel $T:1 --retries 1 -- sh -c "$(away_task "$W/away")")
  if wait_until 20 job_is "$id" running && wait_until 10 test -s "$W/away/pid.1"; then
    p1=$(pid_in "$W/away/pid.1")
    kill -9 "$CTL"
    sleep 3  # three leases
    if start_controller && wait_until 10 nodes_up 1; then
      if alive "$p1" && [ "$(job_state "$id")" = running ] && [ "$(job_field "$id" attempt)" = 1 ]; then
        ok "(f) controller down 3 s (3 x the lease): the agent renewed its lease on the refusals, job $id still runs attempt 1"
      else
        fail "(f) controller down 3 s: task alive: $(alive "$p1" && echo yes || echo no), job $(job_state "$id") attempt $(job_field "$id" attempt)"
      fi
      touch "$W/away/go"
      wait_until 20 job_ended "$id"
      [ "$(job_state "$id") $(job_field "$id" attempt)" = "completed 1" ] &&
        ok "(f) ... and completed in attempt 1" ||
        fail "(f) after the controller restart job $id ended $(job_state "$id") attempt $(job_field "$id" attempt)"
    else
      fail "(f) the controller did not come back"
    fi
  else
    fail "(f) job $id did not start: $(job_state "$id")"
  fi
  # Frozen controller: its port accepts connections but nothing answers.
  mkdir -p "$W/frozen"
  id=$("$ZS" submit --parsable --accel $T:1 --retries 1 -- sh -c "$(away_task "$W/frozen")")
  if wait_until 20 job_is "$id" running && wait_until 10 test -s "$W/frozen/pid.1"; then
    p1=$(pid_in "$W/frozen/pid.1")
    kill -STOP "$CTL"
    stopped_in=
    t0=$(now_ms)
    while [ $(($(now_ms) - t0)) -lt 4000 ]; do
      if ! alive "$p1"; then stopped_in=$(($(now_ms) - t0)); break; fi
      sleep 0.05
    done
    kill -CONT "$CTL"
    if [ -n "$stopped_in" ]; then
      ok "(f) controller frozen: the agent stopped the task ${stopped_in} ms later (lease 1000 ms + grace 300 ms)"
    else
      fail "(f) controller frozen for 4 s (lease 1 s): the task still runs"
    fi
    touch "$W/frozen/go"
    wait_until 20 job_ended "$id"
    st="$(job_state "$id") $(job_field "$id" attempt)"
    if [ "$st" = "completed 2" ] && [ -s "$W/frozen/pid.2" ]; then
      ok "(f) ... and the job ran again (attempt 2) and completed"
    else
      fail "(f) after the frozen controller job $id is [$st] (want completed 2)"
    fi
  else
    fail "(f) job $id did not start: $(job_state "$id")"
  fi
else
  fail "(f) controller did not start"
fi

finish
