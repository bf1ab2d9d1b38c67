#!/usr/bin/env bash
# Issue 15, black box through the CLI and curl: the first admin, tokens and token files, tenants
# and roles, another tenant's jobs, revocation, node credentials and forged agents, keyed log
# servers, the audit log, and a restart that keeps every identity.
# Usage: live_identity.sh path/to/zs
source "$(dirname "$0")/live_common.bash"
cd "$W" || exit 1
export HOME=$W/home XDG_CONFIG_HOME=
mkdir -p "$HOME"

section "the first admin"
CTL_ARGS=(--heartbeat-ms 200 --node-lost-ms 3000)
if ! start_controller; then fail "controller did not start"; finish; fi
st=$(stat -c '%a' "$W/state/admin.token" 2>/dev/null)
dir=$(stat -c '%a' "$W/state")
[ "$st" = 600 ] && [ "$dir" = 700 ] && [[ $ZS_TOKEN == zs_* ]] &&
  grep -q "created cluster admin '$(id -un)'.*admin.token" "$W/controller.1.log" &&
  ok "first start: admin.token (0600, dir 0700) and the message on stderr" ||
  fail "first admin: token mode $st, dir $dir, log: $(head -2 "$W/controller.1.log")"
out=$(env -u ZS_TOKEN "$ZS" queue 2>&1)
[ $? = 2 ] && [[ $out == *"needs a token"* ]] && ok "no token: refused (exit 2): $out" || fail "no token: $out"
out=$(ZS_TOKEN=zs_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA "$ZS" queue 2>&1)
[ $? = 2 ] && [[ $out == *"not valid"* ]] && ok "an unknown token: refused" || fail "bad token: $out"
code=$(command curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/health")
[ "$code" = 200 ] && ok "GET /api/v1/health needs no token" || fail "health without token: $code"
[ "$("$ZS" whoami)" = "$(id -un): cluster-admin of default, jobs run as Unix user $(id -un)" ] &&
  ok "zs whoami: $("$ZS" whoami)" || fail "whoami: $("$ZS" whoami 2>&1)"

section "token files and zs login"
echo "$ZS_TOKEN" >"$W/loose.token"
chmod 644 "$W/loose.token"
out=$(env -u ZS_TOKEN "$ZS" queue --token-file "$W/loose.token" 2>&1)
[ $? = 2 ] && [[ $out == *"readable by other users (mode 0644): chmod 600 $W/loose.token"* ]] &&
  ok "a group/world-readable token file is refused with chmod 600" || fail "loose token file: $out"
out=$("$ZS" login --token-file "$W/state/admin.token" 2>&1)
mode=$(stat -c '%a' "$HOME/.config/zs/token" 2>/dev/null)
[ "$mode" = 600 ] && env -u ZS_TOKEN "$ZS" queue >/dev/null 2>&1 &&
  ok "zs login kept the token in ~/.config/zs/token (0600); later commands use it" ||
  fail "zs login: $out (mode $mode)"
chmod 640 "$HOME/.config/zs/token"
out=$(env -u ZS_TOKEN "$ZS" queue 2>&1)
[ $? = 2 ] && [[ $out == *"chmod 600"* ]] && ok "~/.config/zs/token readable by the group: refused" ||
  fail "loose saved token: $out"
rm -f "$HOME/.config/zs/token"

section "tenants, users, roles"
"$ZS" admin tenant create lab-a >/dev/null && "$ZS" admin tenant create lab-b >/dev/null || fail "tenant create"
mk_user() {  # name role tenants...
  local name=$1 role=$2 t args=()
  shift 2
  for t in "$@"; do args+=(--tenant "$t"); done
  "$ZS" admin user create "$name" --role "$role" --unix-user root "${args[@]}" >/dev/null &&
    (umask 077 && "$ZS" admin token create --user "$name" >"$W/$name.token") || fail "creating $name"
}
mk_user ada member lab-a
mk_user bo member lab-b lab-a
mk_user vic viewer lab-a
mk_user eve member lab-b
token_lines=$(wc -l <"$W/ada.token")
[ "$token_lines" = 1 ] && grep -qE '^zs_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$' "$W/ada.token" &&
  ok "zs admin token create prints the token alone" || fail "token create output: $(cat "$W/ada.token")"
as() { local who=$1; shift; env -u ZS_TOKEN "$ZS" "$@" --token-file "$W/$who.token"; }
submit_as() { local who=$1; shift; env -u ZS_TOKEN "$ZS" submit --token-file "$W/$who.token" "$@"; }
a=$(submit_as ada --parsable --hold --export=ALL,API_KEY=s3cr3t -- true)
b=$(submit_as bo --parsable --hold -A lab-a -- true)
b2=$(submit_as bo --parsable --hold -- true)
[ "$(as ada job "$a" --json | python3 -c 'import json,sys; s=json.load(sys.stdin)["job"]["spec"]; print(s["user"], s["tenant"])')" = "ada lab-a" ] &&
  [ "$(as bo job "$b" --json | python3 -c 'import json,sys; s=json.load(sys.stdin)["job"]["spec"]; print(s["user"], s["tenant"])')" = "bo lab-a" ] &&
  [ "$(as bo job "$b2" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["job"]["spec"]["tenant"])')" = lab-b ] &&
  ok "a job's user is the token's; -A picks one of the user's tenants, the first by default" ||
  fail "user/tenant of jobs $a $b $b2"
out=$(submit_as ada --parsable -A lab-b -- true 2>&1)
[ $? = 2 ] && [[ $out == *"may not charge tenant 'lab-b'"* ]] && ok "-A of another tenant: 403 ($out)" ||
  fail "ada -A lab-b: $out"
out=$(submit_as vic --parsable -- true 2>&1)
[ $? = 2 ] && [[ $out == *"viewer"*"may not submit"* ]] && ok "a viewer may not submit" || fail "viewer submit: $out"
env_seen=$(as vic job "$a" --json | python3 -c 'import json,sys; print([e for e in json.load(sys.stdin)["job"]["spec"]["env"] if e.startswith("API_KEY")])')
env_own=$(as ada job "$a" --json | python3 -c 'import json,sys; print([e for e in json.load(sys.stdin)["job"]["spec"]["env"] if e.startswith("API_KEY")])')
[ "$env_seen" = "['API_KEY=(hidden)']" ] && [ "$env_own" = "['API_KEY=s3cr3t']" ] &&
  ok "environment values: the owner sees them, a viewer of the tenant sees the names" ||
  fail "env: viewer $env_seen, owner $env_own"
out=$(as vic cancel "$a" 2>&1)
[ "$(job_state "$a")" = pending ] && ok "a viewer cannot cancel ($out)" || fail "viewer cancelled $a"

section "another tenant's jobs do not exist"
for cmd in "job $a" "logs $a" "cancel $a" "hold $a" "release $a"; do
  # shellcheck disable=SC2086
  out=$(as eve $cmd 2>&1)
  [[ $out == *"no job $a"* ]] || fail "eve: zs $cmd: $out"
done
missing=$(as eve job 999999 2>&1)
[ "$(job_state "$a")" = pending ] && [ "$(as eve job "$a" 2>&1)" = "${missing//999999/$a}" ] &&
  ok "eve (lab-b): zs job/logs/cancel/hold/release of ada's job: 'no job', as for a job that does not exist; nothing changed" ||
  fail "eve vs ada's job: state $(job_state "$a")"
[ -z "$(as eve queue -h 2>/dev/null | grep -w "$a")" ] && [ -n "$(as vic queue | grep -w "$a")" ] &&
  ok "listings: eve does not see lab-a's jobs, vic (viewer of lab-a) does" || fail "listings"

section "revocation"
id=$(cut -d_ -f2 "$W/eve.token")
"$ZS" admin token revoke "$id" >/dev/null
out=$(as eve queue 2>&1)
[ $? = 2 ] && [[ $out == *"not valid"* ]] && ok "a revoked token is refused at once" || fail "revoked: $out"
"$ZS" admin user update bo --tenant lab-b >/dev/null || fail "zs admin user update"
[ -z "$(as bo queue | grep -w "$b")" ] && as bo job "$b2" >/dev/null &&
  ok "zs admin user update bo --tenant lab-b: bo's token no longer sees lab-a's jobs" ||
  fail "after update, bo sees: $(as bo queue 2>&1)"
"$ZS" admin user delete vic >/dev/null
out=$(as vic queue 2>&1)
[ $? = 2 ] && ok "a deleted user's token is refused" || fail "deleted user: $out"

section "agents are nodes"
out=$("$ZS" admin node-token create n1)
[ "$(wc -l <<<"$out")" = 1 ] && [[ $out == zs_* ]] && ok "node-token create prints the credential alone" ||
  fail "node-token create: $out"
start_agent n1 8x$T
wait_until 30 nodes_up 1 && ok "agent n1 with its credential is up" || fail "agent n1 did not come up"
# A user's token, or n1's credential under another name, does not make a node.
mkdir -p "$W/agents/x2" "$W/agents/x3"
(umask 077 && cp "$W/ada.token" "$W/agents/ada-as-node.token")
"$ZS" agent --controller "$URL" --name x2 --accelerators 8x$T --work-dir "$W/agents/x2" \
  --token-file "$W/agents/ada-as-node.token" >>"$W/agent.x2.log" 2>&1 &
PIDS+=($!)
"$ZS" agent --controller "$URL" --name x3 --accelerators 8x$T --work-dir "$W/agents/x3" \
  --token-file "$W/agents/n1.token" >>"$W/agent.x3.log" 2>&1 &
PIDS+=($!)
sleep 1.5
names=$("$ZS" nodes --json | python3 -c 'import json,sys; print(" ".join(n["name"] for n in json.load(sys.stdin)["nodes"]))')
[ "$names" = n1 ] && grep -q "user tokens may not speak for a node" "$W/agent.x2.log" &&
  ok "an agent with a user token, or with n1's credential under another name, is refused ($names)" ||
  fail "forged agents: nodes '$names'; x2 log: $(tail -2 "$W/agent.x2.log")"
boot=$(api_value /api/v1/nodes 'd["nodes"][0]["boot_id"]')
before=$(api_value /api/v1/nodes 'd["nodes"][0]["state"]')
for tok in "" "$(cat "$W/ada.token")" "$(cat "$W/agents/n1.token")x"; do
  code=$(command curl -s -o "$W/forged.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $tok" \
    "$URL/api/v1/agents/n1/exits" -d "{\"boot_id\":\"$boot\",\"exits\":[{\"job\":$a,\"attempt\":1,\"exit_code\":0,\"reason\":\"\",\"end_ms\":0}]}")
  case $code in 401 | 403) ;; *) fail "forged exits with token '${tok:0:8}': HTTP $code" ;; esac
done
[ "$(job_state "$a")" = pending ] && [ "$(api_value /api/v1/nodes 'd["nodes"][0]["state"]')" = "$before" ] &&
  ok "forged exit reports (no credential, a user token, a wrong secret; boot id copied) are refused and change nothing" ||
  fail "forged reports changed something"

section "log servers"
# An agent whose log server is not at its own address is not followed.
mkdir -p "$W/agents/x4"
(umask 077 && "$ZS" admin node-token create x4 >"$W/agents/x4.token")
"$ZS" agent --controller "$URL" --name x4 --accelerators 8x$T --work-dir "$W/agents/x4" --address 127.0.0.2 \
  --logs-listen 127.0.0.1:0 --token-file "$W/agents/x4.token" >>"$W/agent.x4.log" 2>&1 &
PIDS+=($!)
wait_until 30 nodes_up 2
url4=$(api_value /api/v1/nodes '[n["logs_url"] for n in d["nodes"] if n["name"]=="x4"][0]')
[ -z "$url4" ] && grep -q "node x4 reports its log server at http://127.0.0.1:" "$W/controller.1.log" &&
  ok "a logs_url on another host than the node's address is not followed" ||
  fail "x4 logs_url: '$url4'"
j=$(submit_as ada --parsable -w n1 -- sh -c 'echo secret-output')
wait_until 30 job_ended "$j"
url1=$(api_value /api/v1/nodes '[n["logs_url"] for n in d["nodes"] if n["name"]=="n1"][0]')
[ "$(as ada logs "$j")" = secret-output ] && ok "the owner reads the output through the controller" ||
  fail "ada logs $j: $(as ada logs "$j" 2>&1)"
code=$(curl -s -o "$W/direct.txt" -w '%{http_code}' "$url1/api/v1/attempts/$j.1/log")
[ "$code" = 401 ] && ! grep -q secret-output "$W/direct.txt" &&
  ok "the agent's log server refuses even the cluster admin's token (401)" || fail "direct log read: HTTP $code"
out=$(as bo logs "$j" 2>&1)
[[ $out != *secret-output* ]] && ok "another member of the tenant cannot read the output ($out)" ||
  fail "bo read ada's output"

section "audit, and a restart keeps every identity"
grep -q "zs audit: .* user $(id -un) (cluster-admin): created user ada" "$W/controller.1.log" &&
  grep -q "zs audit: .*denied 404 GET /api/v1/jobs/$a from 127.0.0.1: user 'eve' asked for another tenant's job" "$W/controller.1.log" &&
  grep -q "zs audit: .*revoked token $id of eve" "$W/controller.1.log" &&
  ok "the audit log has the changes and the denials" || fail "audit lines missing"
leaks=0
for f in "$W"/*.token "$W"/agents/*.token "$W/state/admin.token"; do
  secret=$(sed 's/^zs_[0-9a-f]*_//' "$f")  # (a secret may itself hold '_')
  [ ${#secret} = 43 ] || fail "$f does not hold a token"
  grep -qF -- "$secret" "$W"/controller.*.log "$W"/agent.*.log && leaks=$((leaks + 1))
done
[ "$leaks" = 0 ] && ok "no token's secret appears in any log" || fail "$leaks secrets in the logs"
admin_before=$(cat "$W/state/admin.token")
kill -9 "$CTL"
wait_until 10 bash -c "! kill -0 $CTL 2>/dev/null"
start_controller || fail "restart"
[ "$(cat "$W/state/admin.token")" = "$admin_before" ] && ! grep -q "created cluster admin" "$W/controller.2.log" &&
  [ "$(as ada job "$a" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["job"]["spec"]["user"])')" = ada ] &&
  ! as eve queue >/dev/null 2>&1 && [ "$(as bo whoami)" = "bo: member of lab-b, jobs run as Unix user root" ] &&
  ok "after kill -9 and restart: the same admin token, users, tenants; revoked stays revoked" ||
  fail "restart: $(tail -3 "$W/controller.2.log")"
finish
