#!/usr/bin/env bash
# A real controller and three fake-device agents on loopback, used the way a user would: single
# jobs, failures, gangs and their environment, tasks per node, cancel, walltime, logs -f,
# #SBATCH scripts, arrays, dependencies, drain/resume, unhealthy devices, and the tables.
# Usage: live_cluster.sh path/to/zs   (CTest runs it from the project root)
#
# Heartbeats are 200 ms so that everything is quick; --node-lost-ms is raised to 3 s because
# this test is not about lost nodes and a loaded machine can delay an agent's sync by more than
# the default 1.5 heartbeats (live_failures.sh tests node loss).
set -u
source "$(dirname "$0")/live_common.bash"
cd "$W" || exit 1

CTL_ARGS=(--heartbeat-ms 200 --node-lost-ms 3000 --kill-grace-ms 500)
if ! start_controller; then fail "controller did not start"; finish; fi
for n in a b c; do start_agent "$n"; done
if ! wait_until 30 nodes_up 3; then fail "3 agents did not come up: $("$ZS" nodes 2>&1)"; finish; fi
ok "controller on $URL and 3 agents up"
# SIGCHLD is blocked in every thread of an agent: the supervisor reads it from a signalfd. A
# thread without it blocked would receive and drop the exits the supervisor waits for.
chld_open_threads() {
  local t blk n=0
  for t in /proc/"${AGENT_PID[a]}"/task/*; do
    blk=$(awk '/^SigBlk:/ {print $2}' "$t/status")
    (( (16#$blk >> 16) & 1 )) || n=$((n + 1))
  done
  echo "$n"
}
n=$(chld_open_threads)
[ "$n" -eq 0 ] && ok "agent a: SIGCHLD blocked in every thread" \
  || fail "agent a: $n threads leave SIGCHLD unblocked"
# An idle agent's supervisor sleeps until a child exits or a walltime is due; it used to wake
# every 50 ms (20 times a second, times 64 agents on one machine).
supervisor_wakeups() {
  local t
  for t in /proc/"${AGENT_PID[a]}"/task/*; do
    [ "$(cat "$t/comm")" = zs-supervise ] && awk '/^voluntary_ctxt_switches:/ {print $2}' "$t/status"
  done
}
w0=$(supervisor_wakeups); sleep 1; w1=$(supervisor_wakeups)
if [ -z "$w0" ]; then fail "agent a: no thread named zs-supervise"
elif [ $((w1 - w0)) -le 3 ]; then ok "agent a: idle supervisor woke $((w1 - w0)) times in 1 s"
else fail "agent a: idle supervisor woke $((w1 - w0)) times in 1 s (expected at most 3)"; fi

# --- (a) one job: completes with exit 0, default output file, zs logs --------------------------
section "(a) one job"
id=$("$ZS" submit --parsable --accel $T:1 -- sh -c 'echo "hello from job $ZS_JOB_ID"; echo second line')
if [ -z "$id" ]; then
  fail "(a) zs submit --parsable printed no id"
else
  wait_until 30 job_ended "$id"
  st=$(job_state "$id") ec=$(job_field "$id" exit_code)
  want=$(printf 'hello from job %s\nsecond line' "$id")
  got=$(cat "$W/zs-$id.out" 2>/dev/null)
  logs=$("$ZS" logs "$id" 2>&1)
  if [ "$st" = completed ] && [ "$ec" = 0 ] && [ "$got" = "$want" ] && [ "$logs" = "$want" ]; then
    ok "(a) job $id completed, exit 0, zs-$id.out and zs logs hold its output"
  else
    fail "(a) job $id: state=$st exit=$ec file=[$got] logs=[$logs] (wanted [$want])"
  fi
fi

# --- (b) a failing command: failed, with its exit code ------------------------------------------
section "(b) a failing job"
id=$("$ZS" submit --parsable --accel $T:1 -- sh -c 'echo failing >&2; exit 7')
wait_until 30 job_ended "$id"
js=$("$ZS" job "$id" --json 2>/dev/null)
if python3 -c 'import json,sys
j=json.loads(sys.argv[1])["job"]
assert j["state"] == "failed" and j["exit_code"] == 7, j' "$js" 2>/dev/null; then
  ok "(b) 'exit 7' ends failed with exit_code 7 in zs job --json"
else
  fail "(b) 'exit 7': $(echo "$js" | grep -E '"(state|exit_code|reason)"' | tr -d '\n ')"
fi
if "$ZS" job "$id" | grep -qE '^ExitCode +7$'; then ok "(b) zs job shows ExitCode 7"; else fail "(b) zs job: $("$ZS" job "$id" 2>&1 | tr '\n' '|')"; fi

# --- (c) a 3-node gang's environment ------------------------------------------------------------
section "(c) 3-node gang environment"
mkdir -p "$W/gang"
id=$("$ZS" submit --parsable --nodes 3 --accel $T:24 --time 5 -- sh -c "env > $W/gang/\$RANK.env")
wait_until 40 job_ended "$id"
st=$(job_state "$id")
if out=$(python3 - "$W/gang" "$id" <<'EOF' 2>&1
import glob, sys
d, jid = sys.argv[1], sys.argv[2]
envs = []
for f in sorted(glob.glob(d + "/*.env")):
    e = dict(l.split("=", 1) for l in open(f).read().splitlines() if "=" in l)
    envs.append(e)
problems = []
def want(cond, what):
    if not cond: problems.append(what)
want(len(envs) == 3, f"{len(envs)} ranks wrote their env, not 3")
want(sorted(e.get("RANK") for e in envs) == ["0", "1", "2"], "RANK " + str([e.get("RANK") for e in envs]))
want(all(e.get("WORLD_SIZE") == "3" for e in envs), "WORLD_SIZE " + str([e.get("WORLD_SIZE") for e in envs]))
want(sorted(e.get("NODE_RANK") for e in envs) == ["0", "1", "2"], "NODE_RANK " + str([e.get("NODE_RANK") for e in envs]))
want(all(e.get("LOCAL_RANK") == "0" for e in envs), "LOCAL_RANK " + str([e.get("LOCAL_RANK") for e in envs]))
want(len({e.get("MASTER_ADDR") for e in envs}) == 1 and None not in {e.get("MASTER_ADDR") for e in envs},
     "MASTER_ADDR " + str({e.get("MASTER_ADDR") for e in envs}))
ports = {e.get("MASTER_PORT") for e in envs}
want(len(ports) == 1 and all(p and p.isdigit() and 0 < int(p) < 65536 for p in ports), "MASTER_PORT " + str(ports))
for e in envs:
    devs = e.get("CUDA_VISIBLE_DEVICES", "").split(",")
    want(len(devs) == 8 and len(set(devs)) == 8 and all(x.isdigit() for x in devs),
         f"rank {e.get('RANK')} CUDA_VISIBLE_DEVICES={e.get('CUDA_VISIBLE_DEVICES')}")
    want(e.get("ZS_JOB_ID") == jid, f"ZS_JOB_ID={e.get('ZS_JOB_ID')} for job {jid}")
    want(e.get("SLURM_JOB_ID") == jid, f"SLURM_JOB_ID={e.get('SLURM_JOB_ID')}")
    want(e.get("SLURM_PROCID") == e.get("RANK"), f"SLURM_PROCID={e.get('SLURM_PROCID')} RANK={e.get('RANK')}")
    want(e.get("SLURM_NODEID") == e.get("NODE_RANK"), f"SLURM_NODEID={e.get('SLURM_NODEID')}")
    want(e.get("SLURM_NNODES") == "3" and e.get("SLURM_NTASKS") == "3", "SLURM_NNODES/SLURM_NTASKS")
want(len({e.get("ZS_NODE") for e in envs}) == 3, "ranks share a node: " + str([e.get("ZS_NODE") for e in envs]))
# Rank 0 runs on node rank 0 (MASTER_ADDR is that node's address).
r0 = [e for e in envs if e.get("RANK") == "0"]
want(bool(r0) and r0[0].get("NODE_RANK") == "0", "rank 0 is not on node rank 0")
print("; ".join(problems))
sys.exit(1 if problems else 0)
EOF
); then
  [ "$st" = completed ] && ok "(c) 3-node gang $id: RANK/NODE_RANK 0..2, WORLD_SIZE=3, one MASTER_ADDR:PORT, 8 devices each, ZS_JOB_ID" \
    || fail "(c) gang $id env fine but state $st"
else
  fail "(c) gang $id (state $st): $out"
fi

# --- (d) 2 tasks on one node share its 8 devices: both spellings of the option -----------------
section "(d) tasks per node"
for opt in --tasks-per-node --ntasks-per-node; do
  mkdir -p "$W/tpn$opt"
  id=$("$ZS" submit --parsable --nodes 1 $opt 2 --accel $T:8 -- sh -c "env > $W/tpn$opt/\$RANK.env")
  wait_until 30 job_ended "$id"
  st=$(job_state "$id")
  if out=$(python3 - "$W/tpn$opt" <<'EOF' 2>&1
import glob, sys
envs = [dict(l.split("=", 1) for l in open(f).read().splitlines() if "=" in l)
        for f in sorted(glob.glob(sys.argv[1] + "/*.env"))]
p = []
if len(envs) != 2: p.append(f"{len(envs)} tasks, not 2")
if sorted(e.get("RANK") for e in envs) != ["0", "1"]: p.append("RANK " + str([e.get("RANK") for e in envs]))
if sorted(e.get("LOCAL_RANK") for e in envs) != ["0", "1"]: p.append("LOCAL_RANK " + str([e.get("LOCAL_RANK") for e in envs]))
if any(e.get("WORLD_SIZE") != "2" for e in envs): p.append("WORLD_SIZE " + str([e.get("WORLD_SIZE") for e in envs]))
if any(e.get("NODE_RANK") != "0" for e in envs): p.append("NODE_RANK " + str([e.get("NODE_RANK") for e in envs]))
sets = [set(e.get("CUDA_VISIBLE_DEVICES", "").split(",")) - {""} for e in envs]
if any(len(s) != 4 for s in sets): p.append("devices per task " + str([e.get("CUDA_VISIBLE_DEVICES") for e in envs]))
if len(sets) == 2 and sets[0] & sets[1]: p.append("tasks share devices " + str(sets))
print("; ".join(p)); sys.exit(1 if p else 0)
EOF
  ); then
    [ "$st" = completed ] && ok "(d) $opt 2: RANK and LOCAL_RANK 0,1, 4 disjoint devices each" || fail "(d) $opt: state $st"
  else
    fail "(d) $opt 2 (job $id, state $st): $out"
  fi
done

# --- (e) cancel a running job: cancelled, and its process is gone -------------------------------
section "(e) cancel"
id=$("$ZS" submit --parsable --accel $T:1 -- sh -c "echo \$\$ > $W/cancel.pid; exec sleep 300")
if wait_until 30 test -s "$W/cancel.pid" && wait_until 10 job_is "$id" running; then
  pid=$(cat "$W/cancel.pid")
  t0=$(now_ms)
  "$ZS" cancel "$id" || fail "(e) zs cancel $id exited $?"
  wait_until 10 job_is "$id" cancelled
  st=$(job_state "$id")
  wait_until 10 eval "! alive $pid"
  dt=$(($(now_ms) - t0))
  if [ "$st" = cancelled ] && ! alive "$pid"; then ok "(e) cancelled job $id, its process $pid gone after ${dt} ms"
  else fail "(e) after cancel: state=$st process $pid alive=$(alive "$pid" && echo yes || echo no)"; fi
else
  fail "(e) 'sleep 300' job $id did not start: state $(job_state "$id")"
fi

# --- (f) walltime: --time 0:02 on sleep 300 ends timeout within a few seconds -------------------
section "(f) walltime"
# The task ignores SIGTERM, so only the SIGKILL at the end of the kill grace period stops it.
id=$("$ZS" submit --parsable --accel $T:1 --time 0:02 -- sh -c "trap '' TERM; echo \$\$ > $W/wall.pid; exec sleep 300")
if wait_until 30 test -s "$W/wall.pid"; then
  t0=$(now_ms)
  pid=$(cat "$W/wall.pid")
  wait_until 15 job_ended "$id"
  dt=$(($(now_ms) - t0))
  st=$(job_state "$id")
  wait_until 5 eval "! alive $pid"
  wt=$(api_value "/api/v1/jobs/$id" 'd["job"]["spec"]["walltime"]')
  # 2 s limit + 0.5 s kill grace + heartbeats; 6 s leaves room for a loaded machine.
  if [ "$st" = timeout ] && [ "$dt" -le 6000 ] && [ "$dt" -ge 2200 ] && ! alive "$pid" && [ "$wt" = 2000 ]; then
    ok "(f) --time 0:02: walltime 2000 ms, job $id ignored SIGTERM, ended timeout ${dt} ms after it started, process gone"
  else
    fail "(f) --time 0:02: walltime=$wt state=$st after ${dt} ms, process $pid alive=$(alive "$pid" && echo yes || echo no)"
  fi
else
  fail "(f) job $id did not start"
fi

# --- (g) zs logs -f follows the output until the job ends ---------------------------------------
section "(g) zs logs -f"
id=$("$ZS" submit --parsable --accel $T:1 -- sh -c 'for i in 1 2 3 4 5 6; do echo line$i; sleep 0.2; done')
t0=$(now_ms)
timeout 30 "$ZS" logs -f "$id" >"$W/follow.out" 2>"$W/follow.err"
rc=$?
dt=$(($(now_ms) - t0))
st=$(job_state "$id")
want=$(printf 'line%s\n' 1 2 3 4 5 6)
if [ $rc = 0 ] && [ "$(cat "$W/follow.out")" = "$want" ] && [ "$st" = completed ]; then
  ok "(g) zs logs -f printed all 6 lines and exited when job $id ended (${dt} ms)"
else
  fail "(g) zs logs -f: rc=$rc (124 = still following after 30 s), state=$st, output [$(tr '\n' ' ' <"$W/follow.out")] $(cat "$W/follow.err")"
fi

# --- (h) an #SBATCH script ----------------------------------------------------------------------
section "(h) #SBATCH script"
cat >"$W/train.sh" <<'EOF'
#!/bin/sh
#SBATCH -J scripted
#SBATCH -N 1
#SBATCH --gres=gpu:2
#SBATCH -t 1
#SBATCH -o custom-%j.out
echo "name=$SLURM_JOB_NAME nodes=$SLURM_NNODES devices=$CUDA_VISIBLE_DEVICES arg=$1"
EOF
id=$("$ZS" submit --parsable "$W/train.sh" first-arg)
wait_until 30 job_ended "$id"
st=$(job_state "$id")
line=$(cat "$W/custom-$id.out" 2>/dev/null)
spec=$(curl -sf "$URL/api/v1/jobs/$id" | python3 -c 'import json,sys; s=json.load(sys.stdin)["job"]["spec"]; print(s["name"], s["nodes"], s["accel_count"], s["walltime"])')
if [ "$st" = completed ] && [[ $line =~ ^name=scripted\ nodes=1\ devices=[0-9],[0-9]\ arg=first-arg$ ]] &&
   [ "$spec" = "scripted 1 2 60000" ] && [ ! -e "$W/zs-$id.out" ]; then
  ok "(h) #SBATCH script job $id: -J/-N/--gres/-t honoured, output in custom-$id.out: $line"
else
  fail "(h) #SBATCH script job $id: state=$st output=[$line] spec(name nodes accel walltime)=[$spec] files: $(ls "$W" | grep -E "$id" | tr '\n' ' ')"
fi

# --- (i) an array of 4 ----------------------------------------------------------------------------
section "(i) array"
id=$("$ZS" submit --parsable --array 0-3 --accel $T:1 -- sh -c 'echo "task=$SLURM_ARRAY_TASK_ID array=$SLURM_ARRAY_JOB_ID"')
arr() { api_value "/api/v1/jobs?limit=1000" "sorted((j['array_task_id'], j['state']) for j in d['jobs'] if j['array_job_id'] == $id)"; }
all_done() { [ "$(arr)" = "[(0, 'completed'), (1, 'completed'), (2, 'completed'), (3, 'completed')]" ]; }
wait_until 40 all_done
got=$(for k in 0 1 2 3; do cat "$W/zs-${id}_$k.out" 2>/dev/null; done | tr '\n' ';')
want="task=0 array=$id;task=1 array=$id;task=2 array=$id;task=3 array=$id;"
if all_done && [ "$got" = "$want" ]; then
  ok "(i) --array 0-3: 4 jobs, SLURM_ARRAY_TASK_ID 0..3, outputs zs-${id}_0..3.out"
else
  fail "(i) --array 0-3 (id $id): jobs $(arr), outputs [$got]"
fi
# zs job/logs/cancel take "ID_TASK" as zs queue prints array tasks.
task2=$("$ZS" job "${id}_2" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["job"]["array_task_id"])' 2>&1)
hard_check "(i) zs job ${id}_2 shows array task 2 (got task $task2)" test "$task2" = 2
logs2=$("$ZS" logs "${id}_2" 2>&1)
hard_check "(i) zs logs ${id}_2 prints task 2's output (got [$logs2])" test "$logs2" = "task=2 array=$id"

# --- (j) --dependency=afterok waits; a failed dependency never starts the dependent ------------
section "(j) dependencies"
a=$("$ZS" submit --parsable --accel $T:1 -- sh -c "sleep 1.5; echo A >> $W/dep.order")
b=$("$ZS" submit --parsable --accel $T:1 --dependency=afterok:$a -- sh -c "echo B >> $W/dep.order")
wait_until 20 job_is "$a" running
b_while=$(job_state "$b")
wait_until 30 job_ended "$b"
order=$(tr '\n' ' ' <"$W/dep.order" 2>/dev/null)
times=$(curl -sf "$URL/api/v1/jobs?limit=1000" | python3 -c 'import json,sys
j={x["id"]: x for x in json.load(sys.stdin)["jobs"]}
print("ok" if j[int(sys.argv[2])]["start_ms"] >= j[int(sys.argv[1])]["end_ms"] > 0 else "B started before A ended")' "$a" "$b")
if [ "$b_while" = pending ] && [ "$(job_state "$b")" = completed ] && [ "$order" = "A B " ] && [ "$times" = ok ]; then
  ok "(j) afterok:$a: job $b pending while $a ran, started after it ended"
else
  fail "(j) afterok: B while A ran: $b_while, B now $(job_state "$b"), order [$order], $times"
fi
f=$("$ZS" submit --parsable --accel $T:1 -- false)
g=$("$ZS" submit --parsable --accel $T:1 --dependency=afterok:$f -- sh -c "echo ran > $W/dep.never")
wait_until 20 job_ended "$f"
never_ready() { [ "$(job_state "$g")" != pending ] || [[ "$(job_field "$g" reason)" == *"$f"* ]]; }
wait_until 10 never_ready
if [ "$(job_state "$g")" != running ] && [ "$(job_state "$g")" != completed ] && [ ! -e "$W/dep.never" ]; then
  ok "(j) afterok on failed job $f: job $g never runs ($(job_state "$g"): $(job_field "$g" reason))"
else
  fail "(j) afterok on failed job $f: job $g is $(job_state "$g") ($(job_field "$g" reason))"
fi
"$ZS" cancel "$g" >/dev/null 2>&1

# --- (k) drain: no new work on the node; resume: used again -----------------------------------
section "(k) drain and resume"
"$ZS" nodes drain a >/dev/null || fail "(k) zs nodes drain a exited $?"
na=$(api_value /api/v1/nodes '[n["state"] for n in d["nodes"] if n["name"] == "a"][0]')
ids=()
for k in 1 2 3 4; do ids+=("$("$ZS" submit --parsable --accel $T:2 -- sh -c 'sleep 0.3')"); done
gang=$("$ZS" submit --parsable --nodes 3 --accel $T:24 -- true)
for i in "${ids[@]}"; do wait_until 30 job_ended "$i"; done
on_a=$(curl -sf "$URL/api/v1/jobs?limit=1000" | python3 -c 'import json,sys
ids=set(map(int, sys.argv[1:]))
print(sum(1 for j in json.load(sys.stdin)["jobs"] if j["id"] in ids and any(a["node"] == "a" for a in j["assignment"])))' "${ids[@]}")
done_ok=$(for i in "${ids[@]}"; do job_state "$i"; done | sort -u | tr '\n' ' ')
gang_st=$(job_state "$gang")
if [ "$na" = drained ] && [ "$on_a" = 0 ] && [ "$done_ok" = "completed " ] && [ "$gang_st" = pending ]; then
  ok "(k) drained node a: 4 jobs ran elsewhere, a 3-node gang waits"
else
  fail "(k) drained a (state $na): $on_a of 4 jobs ran on a, states [$done_ok], 3-node gang $gang_st"
fi
"$ZS" nodes resume a >/dev/null || fail "(k) zs nodes resume a exited $?"
wait_until 30 job_ended "$gang"
gnodes=$(api_value "/api/v1/jobs/$gang" '",".join(sorted(a["node"] for a in d["job"]["assignment"]))')
if [ "$(job_state "$gang")" = completed ] && [ "$gnodes" = a,b,c ]; then
  ok "(k) resumed node a: the gang ran on a,b,c"
else
  fail "(k) after resume: gang $gang $(job_state "$gang") on [$gnodes]"
fi

# --- (l) an unhealthy device gets no work; (m) the tables ---------------------------------------
section "(l) unhealthy device, (m) tables"
"$ZS" nodes drain b >/dev/null && "$ZS" nodes drain c >/dev/null || fail "(l) could not drain b and c"
echo "3 ecc error" >"$W/agents/a/fake-health"
a_unhealthy() { [ "$(api_value /api/v1/nodes '[n["unhealthy"] for n in d["nodes"] if n["name"] == "a"][0]')" = 8 ]; }
if wait_until 15 a_unhealthy; then
  ok "(l) fake-health '3 ecc error' reported: node a unhealthy mask 8"
else
  fail "(l) node a does not report device 3 unhealthy: $(api_value /api/v1/nodes '[(n["unhealthy"], n["device_problems"]) for n in d["nodes"] if n["name"] == "a"]')"
fi
ids=()
for k in 1 2 3 4 5 6 7 8; do ids+=("$("$ZS" submit --parsable -J sleeper-$k --accel $T:1 -- sleep 300)"); done
seven_running() { [ "$(count_state running)" = 7 ]; }
wait_until 30 seven_running
# Give the scheduler a few more passes to (wrongly) start the eighth on device 3.
max=0
for k in $(seq 8); do r=$(count_state running); [ "${r:-0}" -gt "$max" ] && max=$r; sleep 0.1; done
dev3=$(curl -sf "$URL/api/v1/jobs?state=running" | python3 -c 'import json,sys
print(sum(1 for j in json.load(sys.stdin)["jobs"] for a in j["assignment"] if 3 in a["devices"]))')
pend=$(count_state pending)
if [ "$max" = 7 ] && [ "$pend" = 1 ] && [ "$dev3" = 0 ]; then
  ok "(l) 8 one-device jobs on 8 devices with device 3 unhealthy: 7 run, 1 waits, none on device 3"
else
  fail "(l) unhealthy device 3: at most $max running (want 7), $pend pending (want 1), $dev3 on device 3"
fi

# (m) while 7 run and 1 waits: the tables are aligned and the JSON parses.
check_table() { # name: reads the table on stdin, checks a header and aligned columns
  python3 -c 'import re,sys
name, first = sys.argv[1], sys.argv[2]
lines = sys.stdin.read().rstrip("\n").split("\n")
hdr = lines[0]
starts = [m.start() for m in re.finditer(r"\S+", hdr)]
p = []
if not hdr.startswith(first): p.append("header " + repr(hdr))
if len(lines) < 2: p.append("no rows")
for row in lines[1:]:
    for k, s in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else None
        cell = row[s:end] if end else row[s:]
        if s > 0 and len(row) > s and row[s - 1] != " ": p.append(f"column {k} not aligned: {row!r}")
        if end and not re.fullmatch(r"\S(.*\S)?  +", cell): p.append(f"cell {k} {cell!r} in {row!r}")
print("; ".join(p[:3])); sys.exit(1 if p else 0)' "$1" "$2"
}
q=$("$ZS" queue 2>&1)
if out=$(check_table queue JOBID <<<"$q") && [ "$(grep -c sleeper <<<"$q")" = 8 ] &&
   grep -q '^JOBID  *NAME  *USER  *STATE  *TIME  *NODES  *ACCEL  *NODELIST(REASON)$' <<<"$q"; then
  ok "(m) zs queue: header and 8 aligned rows"
else
  fail "(m) zs queue table: $out"; echo "$q" | sed 's/^/      /'
fi
nd=$("$ZS" nodes 2>&1)
if out=$(check_table nodes NODE <<<"$nd") && [ "$(grep -cE '^[abc] ' <<<"$nd")" = 3 ] &&
   grep -qE '^a +up .*7/8.*device 3: ecc error' <<<"$nd" && grep -qE '^b +drained ' <<<"$nd"; then
  ok "(m) zs nodes: header and 3 aligned rows (a: 7/8 allocated, device 3 problem; b drained)"
else
  fail "(m) zs nodes table: $out"; echo "$nd" | sed 's/^/      /'
fi
if "$ZS" queue --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len([j for j in d["jobs"] if j["spec"]["name"].startswith("sleeper")]) == 8' &&
   "$ZS" queue -a --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["jobs"]) > 8' &&
   "$ZS" nodes --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert sorted(n["name"] for n in d["nodes"]) == ["a","b","c"]' &&
   "$ZS" job "${ids[0]}" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["job"]["state"] == "running"' &&
   "$ZS" submit --json --accel $T:1 -- true | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["ids"] == [d["id"]]'; then
  ok "(m) queue/queue -a/nodes/job/submit --json parse with python3"
else
  fail "(m) some --json output did not parse or was wrong"
fi

# The eighth job starts when a device is freed (and still not on device 3).
"$ZS" cancel "${ids[0]}" >/dev/null
eighth() { [ "$(job_state "${ids[7]}")" = running ]; }
if wait_until 15 eighth && [ "$(api_value "/api/v1/jobs/${ids[7]}" 'd["job"]["assignment"][0]["devices"]')" != "[3]" ]; then
  ok "(l) after a cancel the waiting job starts on the freed device"
else
  fail "(l) after a cancel: job ${ids[7]} is $(job_state "${ids[7]}") on $(api_value "/api/v1/jobs/${ids[7]}" 'd["job"]["assignment"]')"
fi
"$ZS" cancel "${ids[@]}" >/dev/null 2>&1
rm -f "$W/agents/a/fake-health"

# --- (n) the documented submit forms --------------------------------------------------------------
section "(n) submit forms"
id=$("$ZS" submit --parsable --wrap "echo wrapped > $W/wrap.out")
wait_until 20 job_ended "$id"
[ "$(job_state "$id")" = completed ] && [ "$(cat "$W/wrap.out" 2>/dev/null)" = wrapped ] &&
  ok "(n) zs submit --parsable --wrap 'cmd' ran" || fail "(n) --wrap job $id: $(job_state "$id")"
printf '#!/bin/sh\necho "script arg=$1" > %s/script.out\n' "$W" >"$W/plain.sh"
id=$("$ZS" submit --parsable "$W/plain.sh" A1)
wait_until 20 job_ended "$id"
[ "$(cat "$W/script.out" 2>/dev/null)" = "script arg=A1" ] && ok "(n) zs submit script.sh ARG ran with its argument" ||
  fail "(n) script job $id: $(job_state "$id"), output [$(cat "$W/script.out" 2>/dev/null)]"
# Every option form before "--" (flags only, --opt=value, -N1) leaves the command intact.
for form in "-- true" "--parsable -- true" "--json -- true" "--time=1 -- true" "-N1 -- true" \
            "--accel=$T:1 --dependency=afterok:$id -- true"; do
  out=$("$ZS" submit $form 2>&1)
  hard_check "(n) zs submit $form is accepted (got: $(head -1 <<<"$out"))" grep -qE '^([0-9]+|Submitted job [0-9]+|\{.*"id".*)$' <<<"$out"
done

# --- (o) srun inside an sbatch script ---------------------------------------------------------------
section "(o) srun in a script"
"$ZS" nodes resume b >/dev/null && "$ZS" nodes resume c >/dev/null || fail "(o) could not resume b and c"
# The script runs in each of the 4 tasks (2 nodes x 2); srun runs its command in the tasks the
# step covers, renumbered; options srun users write are accepted.
cat >"$W/srun.sh" <<EOF
#!/bin/bash
#SBATCH -N 2 --ntasks-per-node=2 --gres=gpu:2
srun --mpi=pmix --cpu-bind=cores sh -c 'echo "all \$SLURM_PROCID/\$SLURM_NTASKS" >> $W/srun-all.out'
srun -n 1 sh -c 'echo "once \$SLURM_PROCID/\$SLURM_NTASKS" >> $W/srun-once.out'
srun --ntasks-per-node=1 -l sh -c 'echo "node \$SLURM_PROCID/\$SLURM_NTASKS on \$NODE_RANK"' >> $W/srun-label.out
EOF
id=$("$ZS" submit --parsable "$W/srun.sh")
wait_until 30 job_ended "$id"
all=$(sort "$W/srun-all.out" 2>/dev/null | tr '\n' ' ')
once=$(cat "$W/srun-once.out" 2>/dev/null)
label=$(sort "$W/srun-label.out" 2>/dev/null | tr '\n' ' ')
[ "$(job_state "$id")" = completed ] && [ "$all" = "all 0/4 all 1/4 all 2/4 all 3/4 " ] &&
  [ "$once" = "once 0/1" ] && [ "$label" = "0: node 0/2 on 0 1: node 1/2 on 1 " ] &&
  ok "(o) srun: whole step in 4 tasks, -n 1 once, --ntasks-per-node=1 -l once per node, labelled" ||
  fail "(o) srun job $id $(job_state "$id") ($(job_field "$id" reason)): all [$all] once [$once] label [$label]"
out=$("$ZS" srun true 2>&1)
hard_check "(o) zs srun outside a job says so (got: $out)" grep -q "not inside a Zhisuan job" <<<"$out"

finish
