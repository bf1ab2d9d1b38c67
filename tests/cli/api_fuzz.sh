#!/usr/bin/env bash
# A seeded fuzz of the HTTP API: a few thousand randomized and mutated JSON bodies to
# POST /api/v1/jobs and the agent sync endpoint (api_fuzz.py) for about 25 s, with right, wrong,
# revoked and missing credentials (a denied request changes nothing). The controller
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
# Credentials: the admin's, node credentials for the fuzz's node names, a member of another
# tenant, and a revoked token.
"$ZS" admin tenant create other >/dev/null && "$ZS" admin user create intruder --tenant other --role member >/dev/null ||
  fail "creating the intruder"
intruder=$("$ZS" admin token create --user intruder)
revoked_json=$("$ZS" admin token create --user intruder --json)
"$ZS" admin token revoke "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"]["id"])' "$revoked_json")" >/dev/null
nodes=""
for n in fz0 fz1 fz2 fz-3.x_y; do nodes="$nodes\"$n\": \"$("$ZS" admin node-token create $n)\","; done
(umask 077 && printf '{"admin": "%s", "intruder": "%s", "revoked": "%s", "nodes": {%s}}\n' "$ZS_TOKEN" "$intruder" \
  "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"]["token"])' "$revoked_json")" "${nodes%,}" >"$W/tokens.json")
out=$(python3 "$TESTS_DIR/api_fuzz.py" "$URL" --seed "$SEED" --seconds "$SECS" --max-requests 6000 --tokens "$W/tokens.json" 2>&1)
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
