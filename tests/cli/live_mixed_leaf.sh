#!/usr/bin/env bash
# Issue 10, defect 1, black-box: leaf switches that hold nodes of two accelerator types. A real
# controller and four fake-device agents, two per leaf (node1/node3 MLU590, node2/node4 A100),
# as `zs up --nodes 4 --accelerators 8xMLU590 --accelerators 8xA100-SXM4-80GB --nodes-per-leaf 2`
# lays them out. Every 2-node gang runs on one type, each rank gets its type's visible-devices
# variable, and a gang of the type that is not first under the leaves starts while its nodes
# are idle (it used to wait forever).
# Usage: live_mixed_leaf.sh path/to/zs   (CTest runs it from the project root)
set -u
source "$(dirname "$0")/live_common.bash"
cd "$W" || exit 1

CTL_ARGS=(--heartbeat-ms 200 --node-lost-ms 3000 --kill-grace-ms 500)
if ! start_controller; then fail "controller did not start"; finish; fi
# start_agent with a leaf switch.
agent_on_leaf() {
  local name=$1 devices=$2 leaf=$3
  mkdir -p "$W/agents/$name"
  # shellcheck disable=SC2046  # node_token_args prints words
  "$ZS" agent --controller "$URL" --name "$name" --accelerators "$devices" --leaf "$leaf" \
    --work-dir "$W/agents/$name" $(node_token_args "$name") >>"$W/agent.$name.log" 2>&1 &
  PIDS+=($!)
  AGENT_PID[$name]=$!
  disown $!
}
agent_on_leaf node1 8xMLU590 leaf0
agent_on_leaf node2 "8x$T" leaf0
agent_on_leaf node3 8xMLU590 leaf1
agent_on_leaf node4 "8x$T" leaf1
if ! wait_until 30 nodes_up 4; then fail "4 agents did not come up: $("$ZS" nodes 2>&1)"; finish; fi
ok "controller on $URL and 4 agents up, two types under each leaf"

nodes_of() { api_value "/api/v1/jobs/$1" '",".join(sorted(a["node"] for a in d["job"]["assignment"]))'; }
# Every rank of job $1 (its env in $W/env/$1.RANK) has variable $2 and not $3.
ranks_see() {
  local f n=0
  for f in "$W/env/$1".*; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    grep -q "^$2=" "$f" || return 1
    grep -q "^$3=" "$f" && return 1
  done
  [ "$n" = 2 ]
}
mkdir -p "$W/env"
gang() {  # gang ACCEL: a 2-node gang that records each rank's env, prints its id
  "$ZS" submit --parsable --nodes 2 --accel "$1" --time 5 -- \
    sh -c "env > $W/env/\$ZS_JOB_ID.\$RANK; sleep 1"
}

section "one gang of each type, side by side"
a100=$(gang "$T:16")
mlu=$(gang MLU590:16)
wait_until 40 job_ended "$a100"
wait_until 40 job_ended "$mlu"
hard_check "A100 gang $a100 completed on node2,node4 ($(job_state "$a100") on $(nodes_of "$a100"))" \
  test "$(job_state "$a100"),$(nodes_of "$a100")" = "completed,node2,node4"
hard_check "MLU590 gang $mlu completed on node1,node3 ($(job_state "$mlu") on $(nodes_of "$mlu"))" \
  test "$(job_state "$mlu"),$(nodes_of "$mlu")" = "completed,node1,node3"
hard_check "every A100 rank has CUDA_VISIBLE_DEVICES, none MLU_VISIBLE_DEVICES" \
  ranks_see "$a100" CUDA_VISIBLE_DEVICES MLU_VISIBLE_DEVICES
hard_check "every MLU590 rank has MLU_VISIBLE_DEVICES, none CUDA_VISIBLE_DEVICES" \
  ranks_see "$mlu" MLU_VISIBLE_DEVICES CUDA_VISIBLE_DEVICES

section "gangs of any type"
any=()
for i in 1 2 3; do any+=("$(gang 16)"); done
for id in "${any[@]}"; do
  wait_until 60 job_ended "$id"
  where=$(nodes_of "$id")
  case "$(job_state "$id"),$where" in
    completed,node1,node3 | completed,node2,node4) ok "any-type gang $id ran on one type ($where)" ;;
    *) fail "any-type gang $id: $(job_state "$id") on $where" ;;
  esac
done

section "a gang waits rather than mix types"
# One A100 busy: a 2-node A100 gang must wait for it, though node1 and node3 are idle.
hold=$("$ZS" submit --parsable --accel "$T:1" --time 5 -- sleep 2)
wait_until 20 job_is "$hold" running
late=$(gang "$T:16")
sleep 0.5
st=$(job_state "$late")
[ "$st" = pending ] && ok "A100 gang $late waits while an A100 node is busy" \
  || fail "A100 gang $late is $st on $(nodes_of "$late") while an A100 node is busy"
wait_until 40 job_ended "$late"
hard_check "A100 gang $late ran on node2,node4 once the node was free ($(job_state "$late") on $(nodes_of "$late"))" \
  test "$(job_state "$late"),$(nodes_of "$late")" = "completed,node2,node4"
finish
