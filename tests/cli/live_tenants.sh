#!/usr/bin/env bash
# Tenants' shares on a live cluster (zs controller --tenants FILE, docs/tenants.md): a tenant
# without a guarantee borrows an idle node; a tenant within its guarantee takes it back: the
# borrower gets its own checkpoint signal (--signal), SIGKILL after the grace period, and is
# requeued; the reclaiming job starts once the borrower's processes are gone and the borrower
# runs again after it. A tenant the file gives nothing waits with a reason; the controller
# reports guarantees the nodes up cannot hold.
# Usage: live_tenants.sh path/to/zs   (CTest runs it from the project root)
set -u
source "$(dirname "$0")/live_common.bash"
cd "$W" || exit 1

cat >tenants.yaml <<EOF2
tenants:
  - name: owner
    quota: {$T: {guaranteed: 8}}
  - name: guest
    quota: {$T: {guaranteed: 0, borrow: 8}}
preemption: {grace: 3s, min_runtime: 0s}
EOF2
CTL_ARGS=(--heartbeat-ms 200 --tenants "$W/tenants.yaml")
if ! start_controller; then fail "controller did not start"; finish; fi
grep -q "tenants' guarantees exceed the nodes up.*guarantees add up to 8, the cluster has 0" "$W/controller.1.log" &&
  ok "before any agent joined, the controller reports the shortfall" ||
  fail "no shortfall line: $(tail -3 "$W/controller.1.log")"
shortfall_metric() { curl -s --max-time 10 "$URL/metrics" | awk -v t="zs_tenant_guarantee_shortfall{type=\"$T\"}" '$1 == t {print $2}'; }
[ "$(shortfall_metric)" = 8 ] && ok "/metrics: zs_tenant_guarantee_shortfall{type=\"$T\"} 8" ||
  fail "/metrics shortfall: '$(shortfall_metric)'"
"$ZS" usage | grep -q "^shortfall: $T: guarantees add up to 8, the cluster has 0 (8 short)" &&
  ok "zs usage shows the shortfall" || fail "zs usage: $("$ZS" usage 2>&1)"
start_agent a
if ! wait_until 30 nodes_up 1; then fail "agent a did not come up: $(tail -3 "$W/agent.a.log")"; finish; fi
wait_until 10 grep -q "the nodes up now hold every tenant's guarantee" "$W/controller.1.log" &&
  ok "once the node is up: every guarantee fits" || fail "no 'every guarantee fits' line"
[ "$(shortfall_metric)" = 0 ] && ok "/metrics: the shortfall is 0" ||
  fail "/metrics shortfall: '$(shortfall_metric)'"
# The file's tenants were created with it; zs admin tenant create gives one no guarantee.
"$ZS" admin tenant list | grep -q "^guest " && "$ZS" admin tenant list | grep -q "^owner " &&
  ok "the tenants file created its tenants" || fail "tenants: $("$ZS" admin tenant list 2>&1)"
"$ZS" admin tenant create nobody >/dev/null || fail "tenant create"

section "a borrower is reclaimed with its own signal, then runs again"
cat >borrow.sh <<EOF2
#!/bin/bash
#SBATCH --gpus=8
#SBATCH --signal=USR1
trap "date +%s%3N >> $W/borrow.signalled; exit 0" USR1
echo started >> $W/borrow.starts
while :; do sleep 0.1; done
EOF2
guest=$("$ZS" submit --parsable -A guest borrow.sh)
wait_until 20 job_is "$guest" running && ok "guest job $guest borrows the idle node" ||
  fail "guest job $guest: $(job_state "$guest") ($(job_field "$guest" reason))"
owner=$("$ZS" submit --parsable -A owner --gpus=8 --wrap "date +%s%3N > $W/owner.started; sleep 1")
wait_until 30 job_ended "$owner" && [ "$(job_state "$owner")" = completed ] &&
  ok "owner job $owner (within its guarantee) ran and completed" ||
  fail "owner job $owner: $(job_state "$owner") ($(job_field "$owner" reason))"
[ -s borrow.signalled ] && ok "the borrower got its checkpoint signal (USR1)" ||
  fail "the borrower got no USR1"
[ -s owner.started ] && [ "$(cat owner.started)" -ge "$(head -1 borrow.signalled)" ] &&
  ok "the owner's job started after the borrower was signalled and gone ($(($(cat owner.started) - $(head -1 borrow.signalled))) ms later)" ||
  fail "owner started at $(cat owner.started 2>/dev/null), borrower signalled at $(head -1 borrow.signalled 2>/dev/null)"
wait_until 20 job_is "$guest" running &&
  [ "$(job_field "$guest" attempt)" -ge 2 ] &&
  ok "guest job $guest runs again (attempt $(job_field "$guest" attempt)) after the owner's job" ||
  fail "guest job $guest: $(job_state "$guest"), attempt $(job_field "$guest" attempt)"
[ "$(wc -l <borrow.starts)" -ge 2 ] && ok "its script started twice" || fail "starts: $(cat borrow.starts)"
"$ZS" cancel "$guest" >/dev/null

section "a tenant without a quota waits with a reason"
none=$("$ZS" submit --parsable -A nobody --gpus=1 --wrap true)
wait_until 10 sh -c "'$ZS' job $none | grep -q 'has no quota of $T'" &&
  ok "job $none waits: $(job_field "$none" reason)" ||
  fail "job $none: $(job_state "$none") ($(job_field "$none" reason))"
[ "$(job_state "$none")" = pending ] && ok "and does not start on the idle node" ||
  fail "job $none: $(job_state "$none")"
"$ZS" cancel "$none" >/dev/null

section "zs admin apply: declarative, checked, durable"
cat >more.yaml <<EOF2
tenants:
  - name: nobody
    quota: {$T: {borrow: 4}}
  - name: lab2
    quota: {$T: {guaranteed: 0, borrow: 2}}
EOF2
out=$("$ZS" admin apply --dry-run more.yaml 2>&1)
echo "$out" | grep -q "tenants to add: nobody, lab2" && ! "$ZS" admin shares | grep -q nobody &&
  ok "--dry-run says what would change and changes nothing" || fail "dry run: $out"
out=$("$ZS" admin apply more.yaml 2>&1)
echo "$out" | grep -q "tenants created: lab2" && ok "apply adds nobody and creates lab2" || fail "apply: $out"
"$ZS" admin shares | grep -q 'name: "nobody"' && "$ZS" admin shares | grep -q 'name: "owner"' &&
  ok "zs admin shares lists the applied tenant and keeps the others" ||
  fail "shares: $("$ZS" admin shares 2>&1)"
late=$("$ZS" submit --parsable -A nobody --gpus=4 --wrap true)
wait_until 20 job_ended "$late" && [ "$(job_state "$late")" = completed ] &&
  ok "job $late of nobody runs now that it may borrow" ||
  fail "job $late: $(job_state "$late") ($(job_field "$late" reason))"
sed "s/borrow: 4}/guaranteed: 12}/" more.yaml >greedy.yaml
out=$("$ZS" admin apply greedy.yaml 2>&1); rc=$?
[ "$rc" = 2 ] && echo "$out" | grep -q "greedy.yaml.*guarantees add up to 20, the cluster has 8 (12 short)" &&
  ok "guarantees beyond the nodes are refused: $out" || fail "greedy: rc $rc: $out"
printf 'tenants:\n  - name: x\n    qouta: {}\n' >typo.yaml
out=$("$ZS" admin apply typo.yaml 2>&1); rc=$?
[ "$rc" = 2 ] && echo "$out" | grep -q "typo.yaml:3:5" && ok "a typo is refused at file:line:column" ||
  fail "typo: rc $rc: $out"
mkfifo pipe.yaml
out=$(timeout 10 "$ZS" admin apply pipe.yaml 2>&1); rc=$?
[ "$rc" = 2 ] && echo "$out" | grep -q "pipe.yaml: not a regular file" &&
  ok "a FIFO is refused, not read forever" || fail "fifo: rc $rc: $out"
kill "$CTL"; wait_until 10 sh -c "! kill -0 $CTL 2>/dev/null"
if ! start_controller; then fail "controller did not restart"; finish; fi
"$ZS" admin shares | grep -q 'name: "nobody"' && ok "after a restart the applied shares hold" ||
  fail "after restart: $("$ZS" admin shares 2>&1)"

section "zs usage: one record per attempt, totals that reconcile"
wait_until 20 job_ended "$guest" || fail "guest job $guest did not end"
usage_json() { "$ZS" usage -S today -E now+1hour "$@" --json; }
rows=$(usage_json --by job | python3 -c 'import json,sys
for r in json.load(sys.stdin)["rows"]: print(r["job"], r["tenant"], r["attempts"], r["accel_ms"] > 0)')
echo "$rows" | grep -qx "$guest guest 2 True" && ok "the borrower is billed for its 2 attempts" ||
  fail "borrower's rows: $rows"
echo "$rows" | grep -qx "$owner owner 1 True" && ok "the owner's job for its one attempt" ||
  fail "owner's rows: $rows"
echo "$rows" | grep -q "^$none " && fail "job $none never ran but is billed: $rows" ||
  ok "the job that never ran is not billed"
sums=$(for by in tenant user type day job; do usage_json --by "$by" | python3 -c 'import json,sys
a = json.load(sys.stdin)
print(sum(r["accel_ms"] for r in a["rows"]), sum(r["cost_milli"] for r in a["rows"]),
      a["total"]["accel_ms"], a["total"]["cost_milli"])'; done | sort -u)
[ "$(echo "$sums" | wc -l)" = 1 ] && ok "totals by tenant, user, type, day and job reconcile ($sums)" ||
  fail "totals differ: $sums"
"$ZS" usage -S today -E now+1hour --csv | head -1 | grep -qx "tenant,jobs,attempts,accel_ms,accel_hours,cost_milli,cost" &&
  ok "--csv has a header pandas reads" || fail "csv: $("$ZS" usage --csv 2>&1 | head -2)"
"$ZS" usage -A owner | grep -q "^owner " && ok "the table shows the owner's tenant" ||
  fail "table: $("$ZS" usage -A owner 2>&1)"
out=$("$ZS" usage -S 12/25 2>&1); rc=$?
[ "$rc" = 2 ] && echo "$out" | grep -q -- "-S/--starttime" && ok "a bad -S is refused naming the flag" ||
  fail "bad -S: rc $rc: $out"
finish
