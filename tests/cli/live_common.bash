# Helpers shared by the live-cluster tests (live_cluster.sh, live_failures.sh, api_fuzz.sh).
# Sourced, never run: CTest registers tests/cli/*.sh only, so this file is not a test itself.
#
# The sourcing script passes the path of `zs` as $1. Everything a test starts (controller,
# agents, and every job process, found by their working directory inside the test's own temp
# dir) is killed with SIGKILL when the script exits, and the temp dir is removed.
set -u

ZS=${1:?usage: $0 path/to/zs}
[ -x "$ZS" ] || { echo "FAIL: $ZS is not an executable"; exit 1; }
ZS=$(cd "$(dirname "$ZS")" && pwd)/$(basename "$ZS")
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=A100-SXM4-80GB
# The machine may be a loaded 2-core box running an ASan build: a sanitizer report must fail
# the test, and ASan must not slow it down further with leak checks of killed daemons.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# pyenv's python3 is a shell shim that costs ~0.2 s a call: resolve the interpreter once.
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
[ -x "${PY:-}" ] || { echo "FAIL: python3 is needed"; exit 1; }
python3() { "$PY" "$@"; }

W=$(mktemp -d "${TMPDIR:-/tmp}/zs-$(basename "$0" .sh)-XXXXXX")
W=$(cd "$W" && pwd -P)
FAILS=0
PIDS=()
declare -A AGENT_PID=()
CTL=
CTL_N=0
PORT=0
URL=
unset ZS_CONTROLLER

ok() { echo "ok:   $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
note() { echo "      $*"; }
section() { echo "----- $* [${SECONDS}s]"; }
# hard_check DESCRIPTION command...: ok when the command succeeds, else a failure.
hard_check() {
  local what=$1
  shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}

# Every process whose working directory is inside $W: the daemons and all job tasks (tasks run
# in the submit directory, and a task survives its agent's kill -9).
procs_in_workdir() {
  local d p cwd
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [ "$p" = $$ ] && continue
    cwd=$(readlink "$d/cwd" 2>/dev/null) || continue
    case $cwd in "$W" | "$W"/*) echo "$p" ;; esac
  done
}

# The cgroups of the test's agents (zhisuan/<name>-<work-dir tag>, named in their start-up
# lines): whatever is still in them is killed, then they are removed. Other clusters on this
# machine have other tags, so nothing of theirs is touched.
remove_agent_cgroups() {
  local d base i
  for d in $(cat "$W"/agent.*.log 2>/dev/null | grep -o 'zhisuan/[A-Za-z0-9_.-]*-[0-9a-f]\{8\}' | sort -u); do
    for base in /sys/fs/cgroup /sys/fs/cgroup/*; do
      [ -d "$base/$d" ] || continue
      [ -e "$base/$d/cgroup.kill" ] && echo 1 >"$base/$d/cgroup.kill" 2>/dev/null
      for i in 1 2 3 4 5; do
        find "$base/$d" -depth -type d -exec rmdir {} + 2>/dev/null
        [ -d "$base/$d" ] || break
        sleep 0.1
      done
    done
  done
}

cleanup() {
  local p
  cd /
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  for p in $(procs_in_workdir); do kill -9 "$p" 2>/dev/null; done
  remove_agent_cgroups
  if [ -n "${KEEP_WORKDIR:-}" ]; then echo "      (work dir kept: $W)"; else rm -rf "$W"; fi
}
trap cleanup EXIT

now_ms() { date +%s%3N; }

# The API wants a token: every curl of these tests sends the admin's when there is one, and
# verifies https:// servers with the test's CA ($TLS_CA, set by TLS tests).
TLS_CA=
curl() {
  local tls=()
  [ -n "$TLS_CA" ] && tls=(--cacert "$TLS_CA")
  if [ -n "${ZS_TOKEN:-}" ]; then
    command curl "${tls[@]}" -H "Authorization: Bearer $ZS_TOKEN" "$@"
  else
    command curl "${tls[@]}" "$@"
  fi
}

# wait_until SECONDS command...: polls every 0.1 s until the command succeeds.
wait_until() {
  local deadline=$(($(now_ms) + $1 * 1000))
  shift
  while :; do
    "$@" && return 0
    [ "$(now_ms)" -ge "$deadline" ] && return 1
    sleep 0.1
  done
}

# Starts a controller on $W/state with CTL_ARGS; the first start picks a free port (port 0, read
# back from its log line), a restart reuses $PORT. Sets CTL, URL and ZS_CONTROLLER; URL is
# https:// when CTL_ARGS has --tls-cert (curl then needs TLS_CA).
CTL_ARGS=()
start_controller() {
  CTL_N=$((CTL_N + 1))
  local log="$W/controller.$CTL_N.log" i p scheme=http
  case " ${CTL_ARGS[*]} " in *" --tls-cert "*) scheme=https ;; esac
  "$ZS" controller --listen "127.0.0.1:$PORT" --state-dir "$W/state" "${CTL_ARGS[@]}" >"$log" 2>&1 &
  CTL=$!
  PIDS+=("$CTL")
  disown "$CTL"  # no "Killed" notices when the test kills it
  for i in $(seq 300); do
    if [ "$PORT" = 0 ]; then
      p=$(sed -n 's#.*listening on https*://127\.0\.0\.1:\([0-9][0-9]*\).*#\1#p' "$log" | head -1)
      [ -n "$p" ] && PORT=$p
    fi
    if [ "$PORT" != 0 ] && curl -sf -o /dev/null "$scheme://127.0.0.1:$PORT/api/v1/health"; then
      URL=$scheme://127.0.0.1:$PORT
      export ZS_CONTROLLER=$URL
      # Secure by default: the first start made a cluster admin (us) and wrote its token.
      if [ -s "$W/state/admin.token" ]; then export ZS_TOKEN=$(cat "$W/state/admin.token"); fi
      return 0
    fi
    kill -0 "$CTL" 2>/dev/null || { echo "      controller exited: $(tail -3 "$log")"; return 1; }
    sleep 0.1
  done
  return 1
}

# node_token_args NAME: --token-file with a node credential for NAME (made once per cluster),
# or nothing when the controller runs without authentication.
node_token_args() {
  [ -n "${ZS_TOKEN:-}" ] || return 0
  local file="$W/agents/$1.token"
  [ -s "$file" ] || (umask 077 && "$ZS" admin node-token create "$1" >"$file") || return 1
  echo "--token-file $file"
}

# agent_tls_args NAME: more arguments for agent NAME (TLS tests redefine it to give each agent
# its certificate and the CA); none by default.
agent_tls_args() { :; }

# start_agent NAME [DEVICES]: a fake-device agent with its work dir in $W/agents/NAME.
start_agent() {
  local name=$1 devices=${2:-8x$T}
  mkdir -p "$W/agents/$name"
  # shellcheck disable=SC2046  # node_token_args and agent_tls_args print words
  "$ZS" agent --controller "$URL" --name "$name" --accelerators "$devices" \
    --work-dir "$W/agents/$name" $(node_token_args "$name") $(agent_tls_args "$name") \
    >>"$W/agent.$name.log" 2>&1 &
  PIDS+=($!)
  AGENT_PID[$name]=$!
  disown $!
}

# Stops everything started so far (kill -9) and forgets the controller: the next
# start_controller is a fresh cluster on a new port and an empty state dir. The agents' work
# dirs go too: an agent re-adopts what its work dir records, and the old cluster's attempts
# (job ids start at 1 again) must not meet the new one's. Tasks still running from the old
# cluster are killed by the next agent on the same work dir (its cgroup sweep) or at the end.
reset_cluster() {
  local p
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  PIDS=()
  AGENT_PID=()
  PORT=0
  unset ZS_TOKEN
  rm -rf "$W/state" "$W/agents"
}

# GET a path of the API and print one value of its JSON: api_value PATH PYTHON-EXPRESSION (over d).
api_value() {
  curl -sf --max-time 10 "$URL$1" 2>/dev/null |
    python3 -c 'import json,sys
d=json.load(sys.stdin)
print(eval(sys.argv[1]))' "$2" 2>/dev/null
}

# A job's field, as `zs job ID --json` shows it: job_field ID state|attempt|exit_code|reason.
job_field() {
  "$ZS" job "$1" --json 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["job"].get(sys.argv[1], ""))' "$2" 2>/dev/null
}
# A job's state, straight from the API (cheap enough to poll: no zs, no python).
job_state() {
  curl -sf --max-time 10 "$URL/api/v1/jobs/$1" 2>/dev/null | grep -o '"state":"[a-z_]*"' | head -1 | cut -d'"' -f4
}
job_is() { [ "$(job_state "$1")" = "$2" ]; }
job_ended() {
  case $(job_state "$1") in completed | failed | cancelled | timeout | node_fail) return 0 ;; esac
  return 1
}
# The number of jobs in a state (GET /api/v1/jobs?state=S).
count_state() {
  curl -sf --max-time 10 "$URL/api/v1/jobs?state=$1" 2>/dev/null | grep -o '"state":"[a-z_]*"' | wc -l
}

# Waits until N nodes are up.
nodes_up() {
  local n
  n=$(curl -sf --max-time 10 "$URL/api/v1/nodes" 2>/dev/null | grep -o '"state":"up"' | wc -l)
  [ "${n:-0}" -ge "$1" ]
}

# True while a process exists and is not a zombie.
alive() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }  # the fields after "(comm)", which may hold blanks
  [ -n "$s" ] && [ "${s%% *}" != Z ]
}
pid_in() { [ -s "$1" ] && cat "$1"; }

# Sanitizer or crash reports in any daemon log fail the test.
check_logs() {
  local f bad=0
  for f in "$W"/controller.*.log "$W"/agent.*.log; do
    [ -f "$f" ] || continue
    if grep -qE 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer|terminate called|Segmentation fault' "$f"; then
      fail "sanitizer/crash report in $(basename "$f"):"
      grep -m5 -E 'ERROR:|runtime error:|terminate called|#[0-9] ' "$f" | sed 's/^/      /'
      bad=1
    fi
  done
  return $bad
}

finish() {
  check_logs
  if [ "$FAILS" -eq 0 ]; then echo "all checks passed (${SECONDS}s)"; else echo "$FAILS check(s) failed (${SECONDS}s)"; fi
  exit $((FAILS > 0))
}
