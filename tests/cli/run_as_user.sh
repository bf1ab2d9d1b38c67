#!/usr/bin/env bash
# Jobs run as their Unix users (issue 15): a root agent starts each task as the account its
# user is bound to (ids, groups, USER/HOME), opens its output files as that user (a user cannot
# make the agent write where they may not), gives the user their script alone, serves logs only
# of the files the attempt wrote, and refuses unknown accounts. An agent that is not root runs
# its own account's jobs, refuses the others', and runs every job as itself with --single-user.
# Needs root (useradd, setpriv); skipped otherwise.
# Usage: run_as_user.sh path/to/zs   (CTest runs it from the project root)
set -u
source "$(dirname "$0")/live_common.bash"

if [ "$(id -u)" != 0 ] || ! command -v useradd >/dev/null || ! command -v setpriv >/dev/null; then
  echo "skipped: needs root, useradd and setpriv"
  exit 0
fi

# Two test accounts, made unless they exist, removed at the end if we made them.
MADE_USERS=()
for u in zs_alice zs_bob; do
  if ! id "$u" >/dev/null 2>&1; then
    useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u" ||
      { echo "FAIL: useradd $u"; exit 1; }
    MADE_USERS+=("$u")
  fi
done
remove_users() {
  local u
  cleanup
  for u in "${MADE_USERS[@]}"; do userdel "$u" 2>/dev/null; done
}
trap remove_users EXIT

# The test's directory: passable for the users (as /home is), each with a private directory.
chmod 0711 "$W"
for u in zs_alice zs_bob; do
  mkdir -p "$W/$u" && chown "$u:$u" "$W/$u" && chmod 0700 "$W/$u"
done
mkdir -p "$W/shared" && chmod 1777 "$W/shared"
A=$W/zs_alice B=$W/zs_bob
cd "$W" || exit 1
as_user() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"; }
node_up() {
  curl -sf --max-time 10 "$URL/api/v1/nodes" | python3 -c 'import json,sys
sys.exit(0 if any(n["name"] == sys.argv[1] and n["state"] == "up" for n in json.load(sys.stdin)["nodes"]) else 1)' "$1"
}
reason_of() { api_value "/api/v1/jobs/$1" 'd["job"]["reason"]'; }
wait_end() { wait_until 30 job_ended "$1"; }

CTL_ARGS=(--heartbeat-ms 200 --node-lost-ms 3000 --kill-grace-ms 500)
if ! start_controller; then fail "controller did not start"; finish; fi
start_agent n1 "2x$T"
wait_until 30 nodes_up 1 || { fail "agent n1 did not come up"; finish; }

"$ZS" admin tenant create ta >/dev/null && "$ZS" admin tenant create tb >/dev/null ||
  fail "creating tenants"
"$ZS" admin user create alice --tenant ta --role member --unix-user zs_alice >/dev/null &&
  "$ZS" admin user create bob --tenant tb --role member --unix-user zs_bob >/dev/null &&
  "$ZS" admin user create carol --tenant tb --role member --unix-user zs_nobody_here >/dev/null ||
  fail "creating users"
for u in alice bob carol; do
  (umask 077 && "$ZS" admin token create --user $u >"$W/$u.token") || fail "token for $u"
done
submit() { local who=$1; shift; "$ZS" submit --token-file "$W/$who.token" --parsable "$@"; }

section "a root agent runs each job as its user"
uid_a=$(id -u zs_alice) gid_a=$(id -g zs_alice) uid_b=$(id -u zs_bob) gid_b=$(id -g zs_bob)
ja=$(submit alice -w n1 -D "$A" -o "$A/ids.out" -- sh -c 'id -u; id -g; id -G; echo "$USER $LOGNAME $HOME"')
jb=$(submit bob -w n1 -D "$B" -o "$B/ids.out" -- sh -c 'id -u; id -g; id -G; echo "$USER $LOGNAME $HOME"')
wait_end "$ja" && wait_end "$jb" || fail "jobs $ja/$jb did not end"
[ "$(job_state "$ja")" = completed ] && [ "$(job_state "$jb")" = completed ] ||
  fail "jobs ended $(job_state "$ja") ($(reason_of "$ja")) / $(job_state "$jb") ($(reason_of "$jb"))"
want_a=$(printf '%s\n%s\n%s\n%s' "$uid_a" "$gid_a" "$(id -G zs_alice)" "zs_alice zs_alice /nonexistent")
want_b=$(printf '%s\n%s\n%s\n%s' "$uid_b" "$gid_b" "$(id -G zs_bob)" "zs_bob zs_bob /nonexistent")
[ "$(cat "$A/ids.out")" = "$want_a" ] && ok "alice's task: uid $uid_a, gid $gid_a, her groups, USER/LOGNAME/HOME" ||
  fail "alice's task said: $(tr '\n' '|' <"$A/ids.out" 2>&1), want $(tr '\n' '|' <<<"$want_a")"
[ "$(cat "$B/ids.out")" = "$want_b" ] && ok "bob's task: uid $uid_b, gid $gid_b, his groups, USER/LOGNAME/HOME" ||
  fail "bob's task said: $(tr '\n' '|' <"$B/ids.out" 2>&1), want $(tr '\n' '|' <<<"$want_b")"
[ "$(stat -c %U:%G "$A/ids.out")" = zs_alice:zs_alice ] && [ "$(stat -c %U "$B/ids.out")" = zs_bob ] &&
  ok "each output file belongs to its job's user" ||
  fail "output owners: $(stat -c %U:%G "$A/ids.out" "$B/ids.out" | tr '\n' ' ')"

section "one user cannot read another's output"
out=$("$ZS" logs --token-file "$W/bob.token" "$ja" 2>&1)
[[ $out == *"not found"* || $out == *"no job"* ]] && ok "zs logs by bob of alice's job $ja: $out" ||
  fail "zs logs by bob of alice's job: $out"
[ "$("$ZS" logs --token-file "$W/alice.token" "$ja" 2>&1 | head -1)" = "$uid_a" ] &&
  ok "alice reads her own output through zs logs" || fail "zs logs by alice: $("$ZS" logs --token-file "$W/alice.token" "$ja" 2>&1)"
if as_user zs_bob cat "$A/ids.out" >/dev/null 2>"$W/err"; then
  fail "bob read alice's output file"
else
  grep -q "Permission denied" "$W/err" && ok "bob cannot read alice's file: $(cat "$W/err")" ||
    fail "bob reading alice's file: $(cat "$W/err")"
fi

section "a job script belongs to its user alone"
printf '#!/bin/sh\necho "$0" > %s/script.path\nstat -c "%%U %%a" "$0"\nid -un\n' "$A" >"$W/job.sh"
js=$(submit alice -w n1 -D "$A" -o "$A/script.out" "$W/job.sh")
wait_end "$js" || fail "script job $js did not end"
[ "$(job_state "$js")" = completed ] && [ "$(cat "$A/script.out")" = "$(printf 'zs_alice 700\nzs_alice')" ] &&
  ok "alice's script is hers, mode 700, and runs as her" ||
  fail "script job $(job_state "$js") ($(reason_of "$js")): $(tr '\n' '|' <"$A/script.out" 2>&1)"
spath=$(cat "$A/script.path" 2>/dev/null)
if [ -n "$spath" ] && [ -e "$spath" ]; then
  as_user zs_bob cat "$spath" >/dev/null 2>&1 && fail "bob read alice's script $spath" ||
    ok "bob cannot read alice's script"
  as_user zs_bob ls "$(dirname "$spath")" >/dev/null 2>&1 && fail "bob listed the scripts directory" ||
    ok "bob cannot list the scripts directory ($(stat -c %a "$(dirname "$spath")"))"
else
  note "(alice's script $spath is gone already)"
fi

section "a user cannot make the agent write where they may not"
jf=$(submit alice -w n1 -D "$A" -o /root/forbidden -- true)
wait_end "$jf" || fail "job $jf did not end"
r=$(reason_of "$jf")
[ "$(job_state "$jf")" = failed ] && [[ $r == *"/root/forbidden"*"Permission denied"* ]] &&
  ok "-o /root/forbidden by alice fails: $r" || fail "-o /root/forbidden: $(job_state "$jf") ($r)"
[ ! -e /root/forbidden ] && ok "and creates nothing" || { fail "/root/forbidden exists"; rm -f /root/forbidden; }

section "the log server serves only the file the attempt wrote"
echo "root's secret" >"$W/secret" && chmod 600 "$W/secret"
jl=$(submit alice -w n1 -D "$A" -o "$A/log.out" -- echo mine)
wait_end "$jl" || fail "job $jl did not end"
[ "$("$ZS" logs --token-file "$W/alice.token" "$jl" 2>&1)" = mine ] && ok "alice's log reads back" ||
  fail "alice's log: $("$ZS" logs --token-file "$W/alice.token" "$jl" 2>&1)"
as_user zs_alice sh -c "rm -f '$A/log.out' && ln -s '$W/secret' '$A/log.out'" || fail "swapping the output"
out=$(curl -s -D - --max-time 10 "$URL/api/v1/jobs/$jl/logs" | tr -d '\r')
[[ $out != *"root's secret"* && $out == *"not the file this attempt wrote"* ]] &&
  ok "after swapping it for a link to a root-only file: $(grep -i '^x-zs-log-error' <<<"$out")" ||
  fail "the agent served a root-only file: $out"

section "an unknown Unix user runs nothing"
jc=$(submit carol -w n1 -D "$W/shared" -o "$W/shared/carol.out" -- touch "$W/shared/carol.ran")
wait_end "$jc" || fail "job $jc did not end"
r=$(reason_of "$jc")
[ "$(job_state "$jc")" = failed ] && [[ $r == *"no Unix user 'zs_nobody_here' on node n1"* ]] &&
  [ ! -e "$W/shared/carol.ran" ] && ok "carol's job fails: $r" ||
  fail "carol's job: $(job_state "$jc") ($r)"

section "an agent that is not root"
# Its own work dir and credential, owned by its account; the root agent leaves.
kill -9 "${AGENT_PID[n1]}" 2>/dev/null
mkdir -p "$W/agents/n2"
targs=$(node_token_args n2)
chown -R zs_alice: "$W/agents/n2" "$W/agents/n2.token"
start_user_agent() {
  # shellcheck disable=SC2086  # targs and $1 are words
  setpriv --reuid=zs_alice --regid=zs_alice --init-groups -- "$ZS" agent --controller "$URL" --name n2 --accelerators "2x$T" \
    --work-dir "$W/agents/n2" $targs ${1:-} >>"$W/agent.n2.log" 2>&1 &
  PIDS+=($!)
  AGENT_PID[n2]=$!
  disown $!
}
start_user_agent
wait_until 30 node_up n2 ||
  fail "agent n2 (as zs_alice) did not come up: $(tail -3 "$W/agent.n2.log")"
grep -q "not running as root: every job runs as 'zs_alice'" "$W/agent.n2.log" &&
  ok "it says so at start: $(grep -m1 'not running as root' "$W/agent.n2.log")" ||
  fail "no start-up line about its user: $(head -5 "$W/agent.n2.log")"
ja2=$(submit alice -w n2 -D "$W/shared" -o "$W/shared/a2.out" -- id -un)
jb2=$(submit bob -w n2 -D "$W/shared" -o "$W/shared/b2.out" -- id -un)
wait_end "$ja2" && wait_end "$jb2" || fail "jobs $ja2/$jb2 did not end"
[ "$(job_state "$ja2")" = completed ] && [ "$(cat "$W/shared/a2.out")" = zs_alice ] &&
  ok "it runs its own account's job" || fail "alice's job on n2: $(job_state "$ja2") ($(reason_of "$ja2"))"
r=$(reason_of "$jb2")
[ "$(job_state "$jb2")" = failed ] && [[ $r == *"does not run jobs of Unix user 'zs_bob'"* ]] &&
  [ ! -e "$W/shared/b2.out" ] && ok "it refuses bob's: $r" ||
  fail "bob's job on n2: $(job_state "$jb2") ($r)"

kill -9 "${AGENT_PID[n2]}" 2>/dev/null
wait_until 10 eval '! alive "${AGENT_PID[n2]}"' || fail "agent n2 did not stop"
start_user_agent --single-user
jb3=$(submit bob -w n2 -D "$W/shared" -o "$W/shared/b3.out" -- id -un)
wait_end "$jb3" || fail "job $jb3 did not end"
[ "$(job_state "$jb3")" = completed ] && [ "$(cat "$W/shared/b3.out")" = zs_alice ] &&
  ok "with --single-user it runs bob's job as itself (zs_alice)" ||
  fail "bob's job on n2 --single-user: $(job_state "$jb3") ($(reason_of "$jb3"))"
grep -q -- "(uid $uid_a) (--single-user)" "$W/agent.n2.log" && ok "and says so at start" ||
  fail "no --single-user start-up line"

finish
