#!/usr/bin/env bash
# Issue 10, defect 5: hostile HTTP clients must not starve the agents. A controller with two
# agents is attacked from loopback by 2,000 connections that each send a POST head announcing a
# 100-byte body and then one byte (from four addresses, 500 each), plus 600 from one address
# (over the per-address limit of 512), all held open. While they are held: both nodes stay up,
# a job running since before the attack goes on, a new job runs, `zs queue` answers, and the
# connections over the limit are refused.
# The controller has --threads 256: the old listener gave each slow body a thread, so this very
# attack starved it.
# Usage: http_abuse.sh path/to/zs   (CTest runs it from the project root)
set -u
source "$(dirname "$0")/live_common.bash"
cd "$W" || exit 1

HOLD_S=${HOLD_S:-5}
CTL_ARGS=(--heartbeat-ms 500 --node-lost-ms 2000 --kill-grace-ms 500 --threads 256)
start_controller || { fail "the controller did not start"; finish; }
start_agent a
start_agent b
wait_until 30 nodes_up 2 || fail "the agents did not come up"
# A job that runs through the attack: a starved agent would get it ended as node_fail.
long=$("$ZS" submit --parsable --accel $T:1 -- sleep 120 2>"$W/submit.err") ||
  fail "submit of the long job: $(cat "$W/submit.err")"
wait_until 30 job_is "${long:-0}" running || fail "the long job did not start"

section "attack: 2,000 slow bodies from 4 addresses, 600 from one address"
# Opens the connections, writes a summary to $W/attack.json once they are all sent, then holds
# them until $W/release exists (at most 60 s) and closes them. Bounded: 2,600 sockets, loopback.
python3 - "$PORT" "$W" <<'EOF' &
import json, os, socket, sys, time
port, work = int(sys.argv[1]), sys.argv[2]
head = b"POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
def open_from(addr, n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind((addr, 0))
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(head)
        except OSError:
            s.close()
            continue
        socks.append(s)
    return socks
slow = []
for a in ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"):
    slow += open_from(a, 500)
crowd = open_from("127.0.0.6", 600)
def refused(socks):  # answered 503 (over the limit) by now
    n = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(64, socket.MSG_PEEK).startswith(b"HTTP/1.1 503"):
                n += 1
        except OSError:
            pass
    return n
# The refusals come as the controller accepts: give it a moment, polling.
deadline = time.time() + 10
r = refused(crowd)
while r < len(crowd) - 512 and time.time() < deadline:
    time.sleep(0.2)
    r = refused(crowd)
with open(os.path.join(work, "attack.json.tmp"), "w") as f:
    json.dump({"slow": len(slow), "crowd": len(crowd), "crowd_refused": r}, f)
os.rename(os.path.join(work, "attack.json.tmp"), os.path.join(work, "attack.json"))
end = time.time() + 60
while not os.path.exists(os.path.join(work, "release")) and time.time() < end:
    time.sleep(0.1)
answered = sum(1 for s in slow if refused([s]))  # a slow body refused would be a bug too
for s in slow + crowd:
    s.close()
with open(os.path.join(work, "attack.done"), "w") as f:
    json.dump({"slow_refused": answered}, f)
EOF
ATTACKER=$!
PIDS+=("$ATTACKER")
wait_until 60 test -s "$W/attack.json" || fail "the attacker did not get its connections open"
attack() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$W/attack.json" "$1"; }
note "attacker: $(cat "$W/attack.json" 2>/dev/null)"
[ "$(attack slow)" = 2000 ] && ok "2,000 slow-body connections open" || fail "slow connections open: $(attack slow)"
refused=$(attack crowd_refused)
# 600 from one address, 512 allowed: the rest are refused at once (never fewer allowed).
if [ "${refused:-0}" -ge 1 ] && [ "${refused:-0}" -le 88 ]; then
  ok "connections over the per-address limit are refused ($refused of 600)"
else
  fail "per-address limit: $refused of 600 refused (expected 1..88)"
fi
metric() { curl -sf --max-time 10 "$URL/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
held=$(metric zs_http_connections)
note "controller: ${held:-?} connections open, $(metric zs_http_connections_waiting) waiting without a thread"
[ "${held%.*}" -ge 2000 ] 2>/dev/null && ok "the controller holds the slow connections" ||
  fail "the controller holds ${held:-?} connections, expected >= 2000"

# While the attack is held: the agents keep syncing (both nodes up in every sample, each a fresh
# request with a 2 s limit), the job that was running goes on, a new job runs, the CLI answers.
t_end=$(($(now_ms) + HOLD_S * 1000))
bad_samples=0
while [ "$(now_ms)" -lt "$t_end" ]; do
  n=$(curl -sf --max-time 2 "$URL/api/v1/nodes" 2>/dev/null | grep -o '"state":"up"' | wc -l)
  [ "${n:-0}" -ge 2 ] || bad_samples=$((bad_samples + 1))
  sleep 0.2
done
[ "$bad_samples" = 0 ] && ok "both nodes were up in every sample during ${HOLD_S} s of attack" ||
  fail "$bad_samples samples during the attack without both nodes up (or no answer in 2 s)"
[ "$(job_state "${long:-0}")" = running ] && [ "$(job_field "${long:-0}" attempt)" = 1 ] &&
  ok "the job running before the attack still runs (attempt 1)" ||
  fail "the long job is $(job_state "${long:-0}"), attempt $(job_field "${long:-0}" attempt)"
if id=$(timeout 20 "$ZS" submit --parsable --accel $T:1 -- sh -c "echo ran > $W/marker" 2>"$W/submit.err"); then
  wait_until 30 job_is "$id" completed && [ -s "$W/marker" ] &&
    ok "a job submitted during the attack ran ($id)" ||
    fail "the job submitted during the attack did not complete: $(job_state "$id")"
else
  fail "submit during the attack: $(cat "$W/submit.err")"
fi
if out=$(timeout 20 "$ZS" queue 2>&1); then ok "zs queue answers during the attack"; else
  fail "zs queue during the attack: $out"; fi
[ "$(curl -sf --max-time 10 "$URL/api/v1/nodes" | grep -o '"state":"down"' | wc -l)" = 0 ] &&
  ok "no node was declared lost" || fail "a node is down after the attack"

touch "$W/release"
wait_until 30 test -s "$W/attack.done" || fail "the attacker did not finish"
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["slow_refused"])' "$W/attack.done")" = 0 ] &&
  ok "no slow connection under the limit was refused" || fail "slow connections were refused"
conns_back() { local v; v=$(metric zs_http_connections | cut -d. -f1); [ "${v:-999999}" -lt 50 ]; }
wait_until 20 conns_back && ok "the connections are gone once the attacker closes them" ||
  fail "the controller still holds $(metric zs_http_connections) connections"
"$ZS" cancel "${long:-0}" >/dev/null 2>&1
finish
