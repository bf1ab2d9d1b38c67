#!/usr/bin/env bash
# `zs sim --jobs-out FILE.csv --per-tenant`: one CSV row per job and policy that the csv module
# reads, consistent times, and per-tenant JSON rows whose accelerator-hours add up to the CSV's.
# Usage: sim_jobs_out.sh path/to/zs (from the project root)
set -u
ZS=${1:?usage: sim_jobs_out.sh path/to/zs}
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
fail=0
trace=data/traces/pollux_workloads/workload-1.csv
if "$ZS" sim --cluster data/clusters/pollux.yaml --trace "$trace" --compare fifo,easy \
     --jobs-out "$d/out.csv" --per-tenant --format json --no-progress >"$d/report.json" 2>"$d/err"; then
  jobs=$(($(wc -l <"$trace") - 1))
  if python3 - "$d/out.csv" "$d/report.json" "$jobs" <<'PY'; then
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
report = json.load(open(sys.argv[2]))["policies"]
jobs = int(sys.argv[3])
header = ("policy,id,tenant,user,submit_s,first_start_s,start_s,end_s,type,count,nodes,attempts,"
          "preemptions,accel_hours,cost,reason,partition").split(",")
assert open(sys.argv[1]).readline().strip() == ",".join(header), "header"
assert len(rows) == 2 * jobs, (len(rows), jobs)
assert [p["policy"] for p in report] == ["fifo", "easy"]
# Policies in --compare order, each a block of rows.
assert [r["policy"] for r in rows] == ["fifo"] * jobs + ["easy"] * jobs
finished = 0
for r in rows:
    if r["end_s"]:
        finished += 1
        assert float(r["end_s"]) >= float(r["start_s"]) >= float(r["submit_s"]), r
        assert float(r["start_s"]) >= float(r["first_start_s"]), r
        assert r["type"] and int(r["attempts"]) >= 1 and float(r["accel_hours"]) > 0, r
    if r["reason"]:
        assert not r["start_s"] and not r["end_s"], r
assert finished > 0
for p in report:
    assert p["tenants"], p["policy"]
    for t in p["tenants"]:
        for k in ("tenant", "jobs", "avg_jct_s", "avg_queue_s", "accel_hours", "cost",
                  "preemptions", "guaranteed", "avg_used"):
            assert k in t, (p["policy"], k)
        assert t["guaranteed"] == 0 and t["avg_used"] >= 0
    mine = [r for r in rows if r["policy"] == p["policy"]]
    csv_h = sum(float(r["accel_hours"]) for r in mine)
    tenant_h = sum(t["accel_hours"] for t in p["tenants"])
    assert abs(csv_h - tenant_h) <= 1e-6 * len(mine) + 1e-6 * len(p["tenants"]), (csv_h, tenant_h)
    assert abs(p["accel_hours"] - tenant_h) <= 1e-6 * (len(p["tenants"]) + 1), p["policy"]
    for t in p["tenants"]:
        own = sum(float(r["accel_hours"]) for r in mine if r["tenant"] == t["tenant"])
        assert abs(own - t["accel_hours"]) <= 1e-6 * len(mine) + 1e-6, (t["tenant"], own)
        pre = sum(int(r["preemptions"]) for r in mine if r["tenant"] == t["tenant"])
        assert pre == t["preemptions"], (t["tenant"], pre)
PY
    echo "ok:   --jobs-out rows, header, times and per-tenant accelerator-hours agree"
  else
    echo "FAIL: --jobs-out / --per-tenant output (see above)"; fail=1
  fi
else
  echo "FAIL: zs sim --jobs-out: $(cat "$d/err")"; fail=1
fi

# Without --per-tenant the JSON has no tenant rows; the old boolean --tenants is gone.
"$ZS" sim --cluster data/clusters/pollux.yaml --trace "$trace" --policy fifo --format json \
  --no-progress >"$d/plain.json" 2>/dev/null
if python3 -c 'import json,sys; sys.exit("tenants" in json.load(open(sys.argv[1]))["policies"][0])' "$d/plain.json"; then
  echo "ok:   no tenant rows without --per-tenant"
else
  echo "FAIL: tenant rows without --per-tenant"; fail=1
fi

# A path that cannot be written is an error naming it (exit 2), before any simulation.
out=$("$ZS" sim --cluster data/clusters/pollux.yaml --trace "$trace" --policy fifo \
  --jobs-out "$d/no/such/dir/out.csv" 2>&1); rc=$?
if [ "$rc" -eq 2 ] && grep -qF "$d/no/such/dir/out.csv: cannot write file" <<<"$out"; then
  echo "ok:   unwritable --jobs-out names the path"
else
  echo "FAIL: unwritable --jobs-out -> exit $rc: $out"; fail=1
fi
exit $fail
