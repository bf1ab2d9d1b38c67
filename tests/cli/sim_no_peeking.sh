#!/usr/bin/env bash
# No peeking, black-box on the Philly trace (docs/prediction.md): change the durations of a few
# jobs (their walltimes stay: they are the users' requests) and replay with every policy through
# --jobs-out, on 64 V100 (a queue forms: decisions matter). For every policy zs sim does not label clairvoyant, every start and end before the
# first moment a changed duration could be known (the end of a changed job, in either run) must
# be the same in both runs; for the clairvoyant srtf it must not (the check can fail).
# Usage: sim_no_peeking.sh path/to/zs [jobs]   (from the project root; default the first 4,000 jobs)
# KEEP_DIR=DIR keeps the traces and outputs there. Six jobs change: with three, srtf once happened
# to decide the same until the first of them ended, and the check could not fail.
set -u
ZS=${1:?usage: sim_no_peeking.sh path/to/zs [jobs]}
N=${2:-4000}
d=${KEEP_DIR:-$(mktemp -d)}; [ -n "${KEEP_DIR:-}" ] || trap "rm -rf $d" EXIT
# Every policy zs knows (from its own error message), so a new one is covered at once.
policies=$("$ZS" sim --cluster 1x8xV100 --trace /dev/null --policy no-such-policy 2>&1 |
  sed -n 's/.*known: \(.*\))$/\1/p' | tr -d ' ')
[ -n "$policies" ] || { echo "FAIL: could not list the policies"; exit 1; }
python3 - data/traces/philly/pollux_philly.csv "$N" "$d" <<'PY' || { echo "FAIL: trace conversion"; exit 1; }
import csv, sys, random, datetime
src, n, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = list(csv.DictReader(open(src)))
t = lambda r: datetime.datetime.strptime(r["timestamp"], "%Y-%m-%d %H:%M:%S")
rows.sort(key=t)
rows = rows[:n]
t0 = t(rows[0])
rng = random.Random(17)
jobs = []
for i, r in enumerate(rows):
    dur = float(r["duration"])
    wall = max(60.0, dur * rng.uniform(1, 4))  # the user's request: fixed before anything runs
    jobs.append([i + 1, (t(r) - t0).total_seconds(), dur, int(float(r["num_gpus"])), wall, r["cluster"]])
changed = [n // 7, n // 5, n // 4, n // 3, n // 2, 2 * n // 3]
for name, edit in (("a", False), ("b", True)):
    with open(f"{d}/{name}.csv", "w") as f:
        f.write("id,submit_s,duration_s,accel_count,walltime_s,tenant\n")
        for j in jobs:
            dur = j[2]
            if edit and j[0] in changed:
                dur = dur * 3 + 600  # runs longer (still cut at its walltime)
            f.write(f"{j[0]},{j[1]},{dur},{j[3]},{j[4]:.3f},{j[5]}\n")
open(f"{d}/changed", "w").write(" ".join(map(str, changed)))
PY
for run in a b; do
  "$ZS" sim --cluster 8x8xV100 --trace "$d/$run.csv" --compare "$policies" \
    --format json --jobs-out "$d/$run.jobs.csv" --no-progress >"$d/$run.json" 2>"$d/$run.err" ||
    { echo "FAIL: zs sim ($run): $(tail -1 "$d/$run.err")"; exit 1; }
done
python3 - "$d" <<'PY'
import csv, json, sys
d = sys.argv[1]
changed = set(open(f"{d}/changed").read().split())
clair = {p["policy"]: p["clairvoyant"] for p in json.load(open(f"{d}/a.json"))["policies"]}
def load(name):
    out = {}
    for r in csv.DictReader(open(f"{d}/{name}.jobs.csv", newline="")):
        out.setdefault(r["policy"], {})[r["id"]] = r
    return out
a, b = load("a"), load("b")
t = lambda s: float(s) if s else None
fail = 0
for policy in a:
    ends = [t(r[i]["end_s"]) for r in (a[policy], b[policy]) for i in changed]
    known = min(e for e in ends if e is not None)
    diff = None
    for i, x in a[policy].items():
        y = b[policy][i]
        def differs(p, q):
            p, q = t(p), t(q)
            return ((p is not None and p < known) or (q is not None and q < known)) and p != q
        both_before = all(t(s) is not None and t(s) < known for s in (x["start_s"], y["start_s"]))
        if differs(x["first_start_s"], y["first_start_s"]) or \
           (both_before and x["start_s"] != y["start_s"]) or \
           (i not in changed and differs(x["end_s"], y["end_s"])):
            diff = f"job {i}: {x['first_start_s']}..{x['start_s']}..{x['end_s']} vs " \
                   f"{y['first_start_s']}..{y['start_s']}..{y['end_s']} (first known at {known})"
            break
    if clair[policy]:
        if diff: print(f"ok: {policy} (clairvoyant) is caught: {diff}")
        else: print(f"FAIL: {policy} reads real run times but decided the same"); fail = 1
    else:
        if diff: print(f"FAIL: {policy} peeks: {diff}"); fail = 1
        else: print(f"ok: {policy} decides the same until a changed duration shows (t < {known:.0f} s)")
sys.exit(fail)
PY
