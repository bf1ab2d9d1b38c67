#!/usr/bin/env bash
# A seeded fuzz of the HTTP API: a few thousand randomized and mutated JSON bodies to
# POST /api/v1/jobs and the agent sync endpoint (api_fuzz.py) for about 25 s. The controller
# must never answer 5xx nor die, every refusal must be a JSON error, and every 2xx submit must
# have created a job that is listed. No agent runs, so no fuzzed command is executed.
# Usage: api_fuzz.sh path/to/zs   (ZS_FUZZ_SEED=N and ZS_FUZZ_SECONDS=S to vary a run)
set -u
source "$(dirname "$0")/live_common.bash"
cd "$W" || exit 1

SEED=${ZS_FUZZ_SEED:-20261125}
SECS=${ZS_FUZZ_SECONDS:-25}
CTL_ARGS=(--heartbeat-ms 200)
if ! start_controller; then fail "controller did not start"; finish; fi
out=$(python3 "$TESTS_DIR/api_fuzz.py" "$URL" --seed "$SEED" --seconds "$SECS" --max-requests 6000 2>&1)
rc=$?
echo "$out" | sed -n '1p' | sed 's/^/      /'
echo "$out" | grep '^FAIL' | head -20
if [ $rc = 0 ] && kill -0 "$CTL" 2>/dev/null; then
  ok "API fuzz (seed $SEED): no 5xx, every refusal a JSON error, every accepted job listed, controller alive"
else
  fail "API fuzz (seed $SEED, rerun with ZS_FUZZ_SEED=$SEED): exit $rc, controller alive: $(kill -0 "$CTL" 2>/dev/null && echo yes || echo no)"
  echo "$out" | grep -v '^FAIL' | tail -n +2 | head -20
fi
finish
