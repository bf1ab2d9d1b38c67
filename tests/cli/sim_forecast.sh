#!/usr/bin/env bash
# `zs sim --forecasts N`: start-time forecasts made at submit, measured against the real starts.
# Usage: sim_forecast.sh path/to/zs (from the project root)
set -u
ZS=${1:?usage: sim_forecast.sh path/to/zs}
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }

# One node of 8: job 1 holds it for an hour, jobs 2 and 3 (10 min each) queue behind it.
cat >"$d/t.csv" <<'CSV'
id,submit_s,duration_s,accel_count
1,0,3600,8
2,60,600,8
3,120,600,8
CSV
value() {  # value FILE PYTHON-EXPRESSION over the first policy p
  python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["policies"][0]; print(eval(sys.argv[2]))' "$@"
}

# Walltimes equal to the run times: nothing has ended when jobs 2 and 3 arrive, so each is
# predicted to run its walltime, which is exact: the forecasts are right to the second.
if "$ZS" sim --cluster 1x8xV100 --trace "$d/t.csv" --policy fifo --walltime exact --forecasts 3 \
     --format json --no-progress >"$d/exact.json" 2>"$d/err" &&
   [ "$(value "$d/exact.json" 'p["forecast"]["forecasts"]')" = 2 ] &&
   [ "$(value "$d/exact.json" 'p["forecast"]["median_abs_error_s"]')" = 0.0 ] &&
   [ "$(value "$d/exact.json" 'p["forecast"]["median_wait_s"]')" = 3540.0 ]; then
  ok "exact predictions: 2 jobs waited, forecast to the second"
else bad "exact: $(cat "$d/exact.json" "$d/err")"; fi

# Walltimes twice the run times: job 1 is predicted to run 2 h, so job 2 is forecast an hour
# late, and job 3 as late (behind job 2's predicted 20 minutes, which are 10 too many, from
# job 1's real end); two hours ahead the forecast's ticks are 2 minutes long.
if "$ZS" sim --cluster 1x8xV100 --trace "$d/t.csv" --policy fifo --walltime 2x --forecasts 3 \
     --format json --no-progress >"$d/late.json" 2>"$d/err" &&
   [ "$(value "$d/late.json" '3600 <= p["forecast"]["p90_abs_error_s"] <= 3720')" = True ] &&
   [ "$(value "$d/late.json" 'p["forecast"]["early_share"]')" = 0.0 ]; then
  ok "predictions of twice the run time: forecasts an hour late"
else bad "2x: $(cat "$d/late.json" "$d/err")"; fi

# The table block and the CSV columns.
if "$ZS" sim --cluster 1x8xV100 --trace "$d/t.csv" --compare fifo,easy --walltime 2x --forecasts 3 \
     --no-progress >"$d/out" 2>"$d/err" && grep -q "^start-time forecasts" "$d/out" &&
   grep -Eq "^easy\*? +2 +0 " "$d/out"; then ok "the table shows the forecasts per policy"
else bad "table: $(cat "$d/out" "$d/err")"; fi
if "$ZS" sim --cluster 1x8xV100 --trace "$d/t.csv" --policy fifo --walltime 2x --forecasts 3 \
     --format csv --no-progress >"$d/out" 2>"$d/err" && head -1 "$d/out" | grep -q ",forecasts,forecast_median_abs_s,forecast_p90_abs_s$"; then
  ok "CSV columns"
else bad "csv: $(head -2 "$d/out") $(cat "$d/err")"; fi
# Without --forecasts there is no block (and no cost).
"$ZS" sim --cluster 1x8xV100 --trace "$d/t.csv" --policy fifo --no-progress >"$d/out" 2>&1
grep -q "start-time forecasts" "$d/out" && bad "forecasts reported without --forecasts" || ok "off by default"

# Bad values are refused naming the flag.
for v in -1 2000000 x; do
  "$ZS" sim --cluster 1x8xV100 --trace "$d/t.csv" --forecasts "$v" --no-progress >"$d/out" 2>"$d/err"
  rc=$?
  if [ $rc -ne 0 ] && grep -q -- "--forecasts" "$d/err"; then ok "--forecasts $v refused (exit $rc)"
  else bad "--forecasts $v: exit $rc: $(cat "$d/err")"; fi
done
exit $fail
