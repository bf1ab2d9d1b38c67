#!/usr/bin/env bash
# Slurm habits on a live cluster (issue 10, defects 6, 10 and 12): -n without -N and
# --gpus-per-task start every task; zs queue -t with Slurm's state names; zs cancel -u;
# --hold / zs hold / zs release; --begin; --nodelist / --exclude checked at submit; scripts
# without #! or with CRLF refused at submit; --wrap; and no raw control character from a job
# name, user, reason or node name ever reaches the terminal.
# Usage: cli_habits.sh path/to/zs   (CTest runs it from the project root)
set -u
source "$(dirname "$0")/live_common.bash"
cd "$W" || exit 1

# An agent with a fixed number of cores, so that -n 3 fits one node whatever this machine has.
start_agent_cpus() {
  local name=$1 devices=$2
  mkdir -p "$W/agents/$name"
  # shellcheck disable=SC2046  # node_token_args prints words
  "$ZS" agent --controller "$URL" --name "$name" --accelerators "$devices" --cpus 8 \
    --work-dir "$W/agents/$name" $(node_token_args "$name") >>"$W/agent.$name.log" 2>&1 &
  PIDS+=($!)
  AGENT_PID[$name]=$!
  disown $!
}
# POST a JSON body; prints the HTTP status, the answer goes to $W/answer.json.
api_post() {
  curl -s -o "$W/answer.json" -w '%{http_code}' --max-time 10 -X POST "$URL$1" -d "$2"
}
answer() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
    "$W/answer.json" "$1" 2>/dev/null
}
reason_of() { api_value "/api/v1/jobs/$1" 'd["job"]["reason"]'; }
reason_is() { [ "$(reason_of "$1")" = "$2" ]; }
# True when $1 holds no raw control byte (ESC, CR, BEL, ...) other than newlines.
no_raw_controls() { ! LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' <<<"$1"; }
ids_of() { python3 -c 'import json,sys; print(" ".join(str(j["id"]) for j in json.load(sys.stdin)["jobs"]))'; }

CTL_ARGS=(--heartbeat-ms 200 --node-lost-ms 3000 --kill-grace-ms 500)
if ! start_controller; then fail "controller did not start"; finish; fi
start_agent_cpus node1 "4x$T"
start_agent_cpus node2 "4x$T"
if ! wait_until 30 nodes_up 2; then fail "agents did not come up"; finish; fi

# --- defect 6: tasks --------------------------------------------------------------------------
section "tasks: -n without -N, --gpus-per-task"
id=$("$ZS" submit --parsable -n 3 -o "$W/n3-%t.out" -- sh -c 'echo "$RANK/$WORLD_SIZE $SLURM_NTASKS"')
wait_until 30 job_ended "$id"
got=$(cat "$W"/n3-*.out 2>/dev/null | sort | tr '\n' ' ')
[ "$(job_state "$id")" = completed ] && [ "$got" = "0/3 3 1/3 3 2/3 3 " ] &&
  ok "-n 3 without -N started 3 tasks (ranks 0-2 of 3)" ||
  fail "-n 3 without -N: state $(job_state "$id"), task outputs: [$got]"

id=$("$ZS" submit --parsable --gpus-per-task=1 --ntasks=4 -o "$W/gpt-%t.out" -- \
  sh -c 'echo "$RANK $CUDA_VISIBLE_DEVICES"')
wait_until 30 job_ended "$id"
got=$(cat "$W"/gpt-*.out 2>/dev/null | sort | tr '\n' ' ')
devices=$(cat "$W"/gpt-*.out 2>/dev/null | awk '{print $2}' | sort -u | grep -c '^[0-9]$')
[ "$(job_state "$id")" = completed ] && [ "$(ls "$W"/gpt-*.out | wc -l)" = 4 ] && [ "$devices" = 4 ] &&
  ok "--gpus-per-task=1 --ntasks=4: 4 tasks, each with its own device: $got" ||
  fail "--gpus-per-task=1 --ntasks=4: state $(job_state "$id"), outputs: [$got]"

# --- defect 12: scripts refused at submit --------------------------------------------------------
section "scripts: #! and line breaks checked at submit"
printf '#!/bin/sh\r\necho hi\r\n' >"$W/crlf.sh"
printf 'echo no shebang\n' >"$W/plain.sh"
out=$("$ZS" submit "$W/crlf.sh" 2>&1)
rc=$?
[ $rc = 2 ] && [[ $out == *"DOS line breaks"* ]] && ok "a CRLF script is refused (exit 2): $out" ||
  fail "CRLF script: exit $rc, $out"
out=$("$ZS" submit "$W/plain.sh" 2>&1)
rc=$?
[ $rc = 2 ] && [[ $out == *"does not start with #!"* ]] && ok "a script without #! is refused (exit 2)" ||
  fail "script without #!: exit $rc, $out"
code=$(api_post /api/v1/jobs '{"script":"echo hi\n","work_dir":"/tmp"}')
[ "$code" = 400 ] && [ "$(answer 'd["error"]["field"]')" = script ] &&
  ok "the API refuses a script without #! (400, field script)" || fail "API script without #!: HTTP $code"
code=$(api_post /api/v1/jobs '{"script":"#!/bin/sh\r\ntrue\r\n","work_dir":"/tmp"}')
[ "$code" = 400 ] && ok "the API refuses a CRLF script (400)" || fail "API CRLF script: HTTP $code"
id=$("$ZS" submit --parsable --wrap "echo wrapped > $W/wrap.out")
wait_until 30 job_ended "$id"
[ "$(job_state "$id")" = completed ] && [ "$(cat "$W/wrap.out" 2>/dev/null)" = wrapped ] &&
  ok "--wrap runs its command" || fail "--wrap: $(job_state "$id")"

# --- defect 12: hold, release, begin ---------------------------------------------------------------
section "hold, release, begin"
held=$("$ZS" submit --parsable --hold -J held -- true)
wait_until 10 reason_is "$held" JobHeldUser
q=$("$ZS" queue)
[ "$(job_state "$held")" = pending ] && grep -q "^$held .*(JobHeldUser)" <<<"$q" &&
  ok "--hold: pending, zs queue shows (JobHeldUser)" ||
  fail "--hold: state $(job_state "$held"), reason $(reason_of "$held"), queue: $q"
"$ZS" job "$held" | grep -q '^Hold ' && ok "zs job shows the hold" || fail "zs job shows no hold"
"$ZS" release "$held" && wait_until 30 job_ended "$held"
[ "$(job_state "$held")" = completed ] && ok "zs release $held: the job ran" ||
  fail "zs release: state $(job_state "$held")"
out=$("$ZS" hold "$held" 2>&1)
rc=$?
[ $rc = 1 ] && [[ $out == *"only a pending job can be held"* ]] && ok "zs hold on a finished job: exit 1, says why" ||
  fail "zs hold on a finished job: exit $rc, $out"
# An array: holding its id holds every pending task; releasing one task lets only it run.
arr=$("$ZS" submit --parsable --hold --array 0-2 -- true)
"$ZS" release "${arr}_1"
wait_until 30 job_ended "$((arr + 1))"
[ "$(job_state "$((arr + 1))")" = completed ] && [ "$(job_state "$arr")" = pending ] &&
  [ "$(job_state "$((arr + 2))")" = pending ] && ok "zs release ${arr}_1 released that task only" ||
  fail "release of one array task: $(job_state "$arr") $(job_state "$((arr + 1))") $(job_state "$((arr + 2))")"
"$ZS" release "$arr"
wait_until 30 job_ended "$((arr + 2))" && wait_until 10 job_ended "$arr"
[ "$(job_state "$arr")" = completed ] && [ "$(job_state "$((arr + 2))")" = completed ] &&
  ok "zs release $arr released the rest of the array" || fail "zs release of an array"
blocker=$("$ZS" submit --parsable -J blocker -- sleep 300)
wait_until 20 job_is "$blocker" running
pend=$("$ZS" submit --parsable -d "afterok:$blocker" -- true)
"$ZS" hold "$pend" && wait_until 10 reason_is "$pend" JobHeldUser &&
  ok "zs hold on a pending job: reason JobHeldUser" || fail "zs hold: reason $(reason_of "$pend")"
code=$(api_post "/api/v1/jobs/$pend/release" '{"extra":1}')
[ "$code" = 400 ] && ok "release with a body field: 400" || fail "release with a field: HTTP $code"

t0=$(date +%s)
id=$("$ZS" submit --parsable --begin now+3 -- true)
wait_until 10 reason_is "$id" BeginTime && ok "--begin now+3: pending with reason BeginTime" ||
  fail "--begin: reason $(reason_of "$id")"
wait_until 20 job_ended "$id"
start_ms=$(api_value "/api/v1/jobs/$id" 'd["job"]["start_ms"]')
start_s=$((${start_ms:-0} / 1000))
[ "$(job_state "$id")" = completed ] && [ "$start_s" -ge $((t0 + 3)) ] &&
  ok "--begin now+3: started $((start_s - t0)) s after the submit" ||
  fail "--begin: state $(job_state "$id"), started at +$((start_s - t0)) s"
"$ZS" job "$id" | grep -q '^BeginTime ' && ok "zs job shows BeginTime" || fail "zs job shows no BeginTime"
out=$("$ZS" submit --begin someday -- true 2>&1)
[ $? = 2 ] && [[ $out == *"bad begin time"* ]] && ok "--begin someday: exit 2" || fail "--begin someday: $out"

# --- defect 12: nodelist / exclude checked at submit -------------------------------------------------
section "nodelist, exclude"
id=$("$ZS" submit --parsable -w "node[1-2]" -x nodeX1 -- true 2>/dev/null)
[ -z "$id" ] && ok "an unknown node in --exclude is refused" || fail "--exclude nodeX1 was accepted: job $id"
out=$("$ZS" submit -w "node[2-3]" -- true 2>&1)
rc=$?
[ $rc = 2 ] && [[ $out == *"unknown node 'node3'"* ]] && ok "an unknown node in --nodelist is refused: $out" ||
  fail "--nodelist node[2-3]: exit $rc, $out"
out=$("$ZS" submit -N 1 -w "node[1-2]" -- true 2>&1)
[ $? = 2 ] && ok "-N 1 with two listed nodes: exit 2" || fail "-N 1 -w node[1-2]: $out"
code=$(api_post /api/v1/jobs '{"argv":["true"],"nodelist":["node1"],"exclude":["node1"]}')
[ "$code" = 400 ] && ok "API: a node both listed and excluded is 400" || fail "API nodelist+exclude: HTTP $code"
id=$("$ZS" submit --parsable --hold -w "node[1-2]" -x "node[1-2]" -- true 2>/dev/null)
[ -z "$id" ] && ok "listed and excluded on the command line: refused" || fail "accepted job $id"
id=$("$ZS" submit --parsable --hold -w "node[1-2]" --gpus-per-node=1 -- true)
js=$("$ZS" job "$id")
grep -q '^ReqNodeList  node\[1-2\]' <<<"$js" && [ "$(api_value "/api/v1/jobs/$id" 'd["job"]["spec"]["nodes"]')" = 2 ] &&
  ok "-w node[1-2]: stored as two nodes, zs job shows ReqNodeList node[1-2]" || fail "nodelist not stored: $js"
"$ZS" cancel "$id"
# Placement honours them: -w puts the job on the listed node, -x keeps it off the excluded one,
# for accelerator jobs and CPU-only jobs alike.
node_of() { api_value "/api/v1/jobs/$1" '",".join(a["node"] for a in d["job"]["assignment"])'; }
for want in node1 node2; do
  other=$([ $want = node1 ] && echo node2 || echo node1)
  a=$("$ZS" submit --parsable --accel "$T:1" -w $want -- true)
  b=$("$ZS" submit --parsable --accel "$T:1" -x $other -- true)
  c=$("$ZS" submit --parsable -w $want -- true)
  d=$("$ZS" submit --parsable -x $other -- true)
  for j in $a $b $c $d; do wait_until 20 job_ended "$j"; done
  [ "$(node_of "$a")" = $want ] && [ "$(node_of "$b")" = $want ] && [ "$(node_of "$c")" = $want ] &&
    [ "$(node_of "$d")" = $want ] && ok "-w $want / -x $other: all four jobs ran on $want" ||
    fail "-w $want / -x $other: ran on $(node_of "$a") $(node_of "$b") $(node_of "$c") $(node_of "$d")"
done

# --- defect 12: zs queue -t ------------------------------------------------------------------------
section "zs queue -t"
ids() { "$ZS" queue --json "$@" | ids_of; }
has_id() { [[ " $1 " == *" $2 "* ]]; }
pd=$(ids -t PD)
r=$(ids -t r)
all=$(ids -t all)
cd_=$(ids -t CD,F)
if has_id "$pd" "$pend" && ! has_id "$pd" "$blocker" && has_id "$r" "$blocker" && ! has_id "$r" "$pend" &&
  has_id "$all" "$held" && has_id "$all" "$blocker" && has_id "$cd_" "$held" && ! has_id "$cd_" "$blocker"; then
  ok "-t PD, -t r, -t all and -t CD,F select the right jobs"
else
  fail "-t: PD=[$pd] R=[$r] all=[$all] CD,F=[$cd_] (pending $pend, running $blocker, completed $held)"
fi
[ "$(ids -t PENDING,RUNNING)" = "$(ids)" ] && ok "-t PENDING,RUNNING is the default listing" ||
  fail "-t PENDING,RUNNING differs from the default"
[ -z "$(ids -t CG)" ] && ok "-t CG (a Slurm state Zhisuan never has): no jobs, no error" || fail "-t CG listed jobs"
out=$("$ZS" queue -t bogus 2>&1)
[ $? = 2 ] && [[ $out == *"unknown job state"* ]] && ok "-t bogus: exit 2" || fail "-t bogus: $out"

# --- defect 12: zs cancel -u -----------------------------------------------------------------------
section "zs cancel -u"
# Two users of the admin's tenant, each with a token (a job's user is its token's).
for u in alice bob; do
  "$ZS" admin user create $u --tenant default --role member --unix-user root >/dev/null &&
    (umask 077 && "$ZS" admin token create --user $u >"$W/$u.token") || fail "creating user $u"
done
a1=$("$ZS" submit --token-file "$W/alice.token" --parsable --hold -J a-held -- true)
a2=$("$ZS" submit --token-file "$W/alice.token" --parsable --hold -J a-other -- true)
a3=$("$ZS" submit --token-file "$W/alice.token" --parsable -J a-run -- sleep 60)
b1=$("$ZS" submit --token-file "$W/bob.token" --parsable --hold -J b-held -- true)
wait_until 20 job_is "$a3" running
out=$("$ZS" cancel -t PD 2>&1)
[ $? = 2 ] && ok "zs cancel -t PD without -u: refused" || fail "zs cancel -t PD alone: $out"
"$ZS" cancel -u alice -t PD -n a-held
[ "$(job_state "$a1")" = cancelled ] && [ "$(job_state "$a2")" = pending ] && [ "$(job_state "$a3")" = running ] &&
  ok "zs cancel -u alice -t PD -n a-held: only that job" ||
  fail "cancel -u -t -n: $(job_state "$a1") $(job_state "$a2") $(job_state "$a3")"
"$ZS" cancel -u alice
wait_until 20 job_ended "$a3"
[ "$(job_state "$a2")" = cancelled ] && [ "$(job_state "$a3")" = cancelled ] && [ "$(job_state "$b1")" = pending ] &&
  ok "zs cancel -u alice: her pending and running jobs, not bob's" ||
  fail "cancel -u alice: $(job_state "$a2") $(job_state "$a3") bob: $(job_state "$b1")"
"$ZS" cancel --token-file "$W/bob.token" --me "$blocker" "$b1"
[ "$(job_state "$b1")" = cancelled ] && [ "$(job_state "$blocker")" = running ] &&
  ok "zs cancel --me with ids: only the listed jobs that are mine" ||
  fail "cancel --me ids: bob $(job_state "$b1"), other $(job_state "$blocker")"

# --- defect 10: control characters never reach the terminal ------------------------------------------
section "control characters are escaped"
# A job's user is its token's: a request naming another is refused (and names nothing).
code=$(api_post /api/v1/jobs '{"argv":["true"],"hold":true,"user":"\u001b]0;pwned\u0007mallory","work_dir":"/tmp"}')
[ "$code" = 403 ] && [ "$(answer 'd["error"]["field"]')" = user ] && no_raw_controls "$(cat "$W/answer.json")" &&
  ok "a submit naming another user is refused (403 on field user)" || fail "submit as another user: HTTP $code"
# C0 controls (ESC, CR, LF, BEL) in a name: the API may refuse them; if it stores them, zs queue
# and zs job must show them escaped.
code=$(api_post /api/v1/jobs '{"argv":["true"],"hold":true,"name":"evil\u001b]0;pwned\u0007mallory\u001b[31mRED\r\nfake line\u0007","work_dir":"/tmp"}')
if [ "$code" = 400 ]; then
  ok "a name with ESC/CR/LF is refused at the API ($(answer 'd["error"]["field"]'): $(answer 'd["error"]["message"]'))"
else
  evil=$(answer 'd["id"]')
  q=$("$ZS" queue 2>&1)
  j=$("$ZS" job "$evil" 2>&1)
  no_raw_controls "$q$j" && [[ $q == *'mallory\x1b[31mRED\r\nfake'* ]] && [[ $j == *'\x1b]0;pwned\x07mallory'* ]] &&
    ok "a stored name with ESC/CR/LF/BEL is printed escaped" ||
    fail "HTTP $code; raw control characters or missing escapes: queue [$(cat -v <<<"$q")] job [$(cat -v <<<"$j")]"
  "$ZS" cancel "$evil" >/dev/null 2>&1
fi
# What the API accepts but a terminal must not interpret: C1 controls (U+009B is an 8-bit CSI)
# and bidirectional overrides (U+202E reverses what follows) in a name, user and account.
# (Users and tenants are names an admin created: letters, digits, '.', '_' and '-' only.)
code=$(api_post /api/v1/jobs '{"argv":["true"],"hold":true,"name":"c1\u009b2Jx\u202eevil\u2066x","work_dir":"/tmp"}')
odd=$(answer 'd["id"]')
q=$("$ZS" queue 2>&1)
j=$("$ZS" job "$odd" 2>&1)
u=$("$ZS" queue -n $'c1\xc2\x9b2Jx\xe2\x80\xaeevil\xe2\x81\xa6x' 2>&1)
if [ "$code" = 201 ] && no_raw_controls "$q$j$u" && [[ $q == *'c1\u009b2Jx\u202eevil\u2066x'* ]] &&
  [[ $j == *'c1\u009b2Jx\u202eevil\u2066x'* ]] && [[ $u == *"$odd"* ]] &&
  ! LC_ALL=C grep -q $'\xc2\x9b\|\xe2\x80\xae\|\xe2\x81\xa6' <<<"$q$j$u"; then
  ok "C1 controls and bidi overrides in a name are printed escaped (\\u009b, \\u202e)"
else
  fail "HTTP $code; C1/bidi not escaped: queue [$(cat -v <<<"$q")] job [$(cat -v <<<"$j")] -u [$u]"
fi
# A drain reason with an ESC: refused by the API, or shown escaped by zs nodes.
code=$(api_post /api/v1/nodes/node2/drain '{"reason":"fan\u001b[2Jbroken"}')
n=$("$ZS" nodes 2>&1)
if [ "$code" = 400 ] || { [ "$code" = 200 ] && no_raw_controls "$n" && [[ $n == *'fan\x1b[2Jbroken'* ]]; }; then
  ok "a drain reason with ESC is refused or escaped by zs nodes (HTTP $code)"
else
  fail "drain reason: HTTP $code, zs nodes: $(cat -v <<<"$n")"
fi
api_post /api/v1/nodes/node2/resume '{}' >/dev/null
# Errors that quote a name given by anyone: an unknown node with an ESC in its name.
err=$("$ZS" nodes drain $'no\e[2Jde' 2>&1)
no_raw_controls "$err" && [ -n "$err" ] && ok "an error naming an unknown node is escaped: $err" ||
  fail "error with a raw control character: $(cat -v <<<"$err")"
err=$("$ZS" cancel $'1\e[2J' 2>&1)
no_raw_controls "$err" && ok "a bad job id is echoed escaped" || fail "bad id: $(cat -v <<<"$err")"
"$ZS" cancel "$odd" "$pend" "$blocker" >/dev/null 2>&1

finish
