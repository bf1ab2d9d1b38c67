#!/usr/bin/env bash
# Bad input to `zs sim` gets a clear message naming what and where, and exit status 2 (never a
# crash). Usage: sim_errors.sh path/to/zs
set -u
ZS=${1:?usage: sim_errors.sh path/to/zs}
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
printf 'id,submit_s,duration_s,accel_count\n1,0,100,8\n' > "$d/ok.csv"
printf 'id,submit_s,duration_s,accel_count,gpus\n1,0,100,8,1\n' > "$d/unknown_col.csv"
printf 'id,submit_s,duration_s,accel_count\n1,0,100,8\n2,10,-5,8\n' > "$d/negative.csv"
printf 'groups:\n  - nodes: 2\n    accelerators: 8xV100\n    islands: 3\n' > "$d/bad.yaml"
fail=0
expect() {  # expected-substring, zs sim args...
  local want=$1; shift
  out=$("$ZS" sim "$@" 2>&1); rc=$?
  if [ "$rc" -eq 2 ] && grep -qF -- "$want" <<<"$out"; then
    echo "ok:   $want"
  else
    echo "FAIL: zs sim $* -> exit $rc: $out (wanted: $want)"; fail=1
  fi
}
expect "unknown policy 'nope'"                 --cluster 2x8xV100 --trace "$d/ok.csv" --policy nope
expect "--walltime: 'soon'"                     --cluster 2x8xV100 --trace "$d/ok.csv" --walltime soon
expect "--format: 'xml'"                        --cluster 2x8xV100 --trace "$d/ok.csv" --format xml
expect "ambiguous accelerator type 'A100'"      --cluster 2x8xA100 --trace "$d/ok.csv"
expect "cannot open cluster file"               --cluster "$d/missing.yaml" --trace "$d/ok.csv"
expect "cannot open trace file"                 --cluster 2x8xV100 --trace "$d/missing.csv"
expect "thresholds must increase"               --cluster 2x8xV100 --trace "$d/ok.csv" --policy las --las-thresholds 100,50
expect "unknown column gpus"                    --cluster 2x8xV100 --trace "$d/unknown_col.csv"
expect "negative.csv:3: column duration_s: negative duration -5" --cluster 2x8xV100 --trace "$d/negative.csv"
expect "bad.yaml:2:5: islands (3) must divide"  --cluster "$d/bad.yaml" --trace "$d/ok.csv"
expect "--load"                                 --cluster 2x8xV100 --trace "$d/ok.csv" --load 0
expect "--preempt-cost-s"                       --cluster 2x8xV100 --trace "$d/ok.csv" --preempt-cost-s -1
# --skip-bad-rows turns the bad row into a counted skip and the run succeeds.
if "$ZS" sim --cluster 2x8xV100 --trace "$d/negative.csv" --skip-bad-rows --format csv >"$d/out" 2>"$d/err" &&
   grep -q "skipped 1 bad row" "$d/err" && grep -q '^easy,1,0,' "$d/out"; then
  echo "ok:   --skip-bad-rows skips and counts"
else
  echo "FAIL: --skip-bad-rows: $(cat "$d/err")"; fail=1
fi
exit $fail
