#!/usr/bin/env bash
# `zs sim` on SWF logs (Parallel Workloads Archive): detection, the MaxProcs check against the
# cluster, --swf-per-node / --swf-type, jobs that never ran counted on stderr.
# Usage: sim_swf.sh path/to/zs (from the project root)
set -u
ZS=${1:?usage: sim_swf.sh path/to/zs}
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
swf=tests/data/swf

# Detected without --trace-format; the table names the format.
if "$ZS" sim --cluster 2x8xV100 --trace $swf/basic.swf --policy easy --no-progress >"$d/out" 2>"$d/err" &&
   grep -q "3 jobs (swf trace)" "$d/out"; then ok "basic.swf detected and replayed"
else bad "basic.swf: $(cat "$d/out" "$d/err")"; fi

# Jobs that never ran: skipped, counted on stderr, the rest replayed.
if "$ZS" sim --cluster 2x8xV100 --trace $swf/not_run.swf --no-progress >"$d/out" 2>"$d/err" &&
   grep -q "skipped 2 job(s) of $swf/not_run.swf that never ran" "$d/err" &&
   grep -q "2 jobs (swf trace)" "$d/out"; then ok "jobs that never ran are counted"
else bad "not_run.swf: $(cat "$d/out" "$d/err")"; fi

# MaxProcs larger than the cluster: refused (exit 2, both sizes named) unless told otherwise.
"$ZS" sim --cluster 2x8xV100 --trace $swf/big_machine.swf --no-progress >"$d/out" 2>"$d/err"
rc=$?
if [ $rc -ne 0 ] && grep -q "MaxProcs" "$d/err" && grep -q "1024" "$d/err" && grep -q "16 V100" "$d/err"; then
  ok "MaxProcs above the cluster refused (exit $rc)"
else bad "big_machine.swf accepted or unclear (exit $rc): $(cat "$d/err")"; fi
if "$ZS" sim --cluster 2x8xV100 --trace $swf/big_machine.swf --swf-ignore-maxprocs --no-progress \
     --jobs-out "$d/jobs.csv" >"$d/out" 2>"$d/err" &&
   python3 - "$d/jobs.csv" <<'PY'; then ok "--swf-ignore-maxprocs replays it, the large job rejected"
import csv, sys
rows = {r["id"]: r for r in csv.DictReader(open(sys.argv[1], newline=""))}
assert rows["1"]["end_s"] and not rows["1"]["reason"], rows["1"]
assert rows["2"]["reason"] and not rows["2"]["start_s"], rows["2"]
assert rows["1"]["partition"] == "1", rows["1"]
PY
else bad "--swf-ignore-maxprocs: $(cat "$d/err")"; fi

# --swf-per-node 8: the 12-processor job spans two nodes (6 + 6), the others one.
if "$ZS" sim --cluster 4x8xV100 --trace $swf/basic.swf --swf-per-node 8 --no-progress \
     --jobs-out "$d/jobs.csv" >"$d/out" 2>"$d/err" &&
   python3 - "$d/jobs.csv" <<'PY'; then ok "--swf-per-node groups processors into nodes"
import csv, sys
rows = {r["id"]: r for r in csv.DictReader(open(sys.argv[1], newline=""))}
assert rows["2"]["nodes"] == "2" and rows["2"]["count"] == "12", rows["2"]
assert rows["1"]["nodes"] == "1" and rows["3"]["nodes"] == "1", rows
assert rows["2"]["tenant"] == "7" and rows["2"]["user"] == "4", rows["2"]
PY
else bad "--swf-per-node: $(cat "$d/err")"; fi

# --swf-type on a mixed cluster: every job runs on that type; a type the cluster lacks is refused.
if "$ZS" sim --cluster 2x8xV100+4x8xA100-SXM4-80GB --trace $swf/basic.swf --swf-type V100 \
     --no-progress --jobs-out "$d/jobs.csv" >"$d/out" 2>"$d/err" &&
   python3 - "$d/jobs.csv" <<'PY'; then ok "--swf-type V100 places every job on V100"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert len(rows) == 3 and all(r["type"].startswith("V100") for r in rows), rows
PY
else bad "--swf-type: $(cat "$d/out" "$d/err")"; fi
"$ZS" sim --cluster 2x8xV100 --trace $swf/basic.swf --swf-type MLU590 --no-progress >"$d/out" 2>"$d/err"
rc=$?
if [ $rc -ne 0 ] && grep -q "swf-type" "$d/err"; then ok "--swf-type the cluster lacks refused"
else bad "--swf-type MLU590 on V100 cluster (exit $rc): $(cat "$d/err")"; fi

# A bad row: file:line and the field, non-zero exit.
"$ZS" sim --cluster 2x8xV100 --trace $swf/bad_number.swf --no-progress >"$d/out" 2>"$d/err"
rc=$?
if [ $rc -ne 0 ] && grep -q "bad_number.swf:3: field 5" "$d/err"; then ok "bad row names file:line and field"
else bad "bad_number.swf (exit $rc): $(cat "$d/err")"; fi

# Bad flags: named, non-zero exit.
for args in "--swf-per-node -1" "--spf-size-weight 0" "--spf-size-weight nan"; do
  # shellcheck disable=SC2086
  "$ZS" sim --cluster 2x8xV100 --trace $swf/basic.swf --policy spf $args --no-progress >"$d/out" 2>"$d/err"
  rc=$?
  flag=${args%% *}
  if [ $rc -ne 0 ] && grep -q -- "$flag" "$d/err"; then ok "$args refused"
  else bad "$args (exit $rc): $(cat "$d/err")"; fi
done

exit $fail
