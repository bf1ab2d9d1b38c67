"""The checks made after every round, from the controller's records, the tasks' markers and
the lock violations the tasks wrote themselves."""
import json
import os
import time

from cluster import ApiDown, DEVICE_VARIABLE
from workload import TERMINAL

# The faults that may end a job as node_fail: its node was gone longer than --node-lost-ms. A
# flap shorter than that must go unnoticed, and a controller restart must not cost any job.
AGENT_FAULTS = {"agent_kill", "agent_flap_long", "drain_flap"}
SLACK_MS = 2000  # clock reads of the driver, the tasks and the controller are not simultaneous


def now_ms():
    return int(time.time() * 1000)


class Markers:
    """The tasks' start/end markers, read incrementally."""

    def __init__(self, directory):
        self.dir = directory
        self.seen = set()
        self.starts = {}   # job -> [start marker dict (with "end" when its .end exists)]
        self.by_base = {}
        self.new_starts = []

    def refresh(self):
        self.new_starts = []
        try:
            names = os.listdir(self.dir)
        except OSError:
            return
        for name in sorted(names, key=lambda n: n.endswith(".end")):  # starts first
            if name in self.seen or ".tmp" in name:
                continue
            base, _, kind = name.rpartition(".")
            try:
                with open(os.path.join(self.dir, name)) as f:
                    m = json.load(f)
            except (OSError, ValueError):
                continue  # being written: next round
            self.seen.add(name)
            if kind == "start":
                self.by_base[base] = m
                self.starts.setdefault(m["job"], []).append(m)
                self.new_starts.append(m)
            elif kind == "end" and base in self.by_base:
                self.by_base[base]["end"] = m

    def of(self, job_id):
        return self.starts.get(job_id, [])


class Checker:
    def __init__(self, cluster, workload, report, shared_dir):
        self.cluster, self.wl, self.report = cluster, workload, report
        self.markers = Markers(os.path.join(shared_dir, "markers"))
        self.violation_dir = os.path.join(shared_dir, "violations")
        self.seen_violation_files = set()
        self.attempt_runs = {}  # (job, attempt, rank) -> set of pids seen starting it
        self.last_records = {}
        self.drains = []  # (node, from_ms, to_ms): no attempt may start there meanwhile

    def watch_drain(self, node, from_ms, to_ms):
        # An attempt already on its way when the drain was acknowledged may still start: slack.
        self.drains.append((node, from_ms + SLACK_MS, to_ms))

    # --- faults that explain a node failure ---------------------------------------------------
    def job_nodes(self, job_id, rec):
        nodes = {m["node"] for m in self.markers.of(job_id)}
        nodes.update(a["node"] for a in (rec or {}).get("assignment", []))
        return nodes

    def explaining_faults(self, job_id, rec):
        nodes = self.job_nodes(job_id, rec)
        starts = [m["start_ms"] for m in self.markers.of(job_id)]
        begin = min(starts) if starts else (rec or {}).get("submit_ms", 0)
        end = (rec or {}).get("end_ms") or now_ms()
        return [f for f in self.report.faults
                if f["kind"] in AGENT_FAULTS and f["target"] in nodes
                and f["start_ms"] <= end + SLACK_MS and (f["end_ms"] or now_ms()) >= begin - SLACK_MS]

    # --- the round check ----------------------------------------------------------------------
    def check_round(self, final=False):
        self.markers.refresh()
        self.task_violations()
        self.marker_checks()
        asked_ms = now_ms()
        try:
            records = self.cluster.all_jobs(timeout=20.0)
        except ApiDown as e:
            self.report.violation("controller_answers", "listing the jobs failed after the round: %s" % e)
            return None
        by_id = {r["id"]: r for r in records}
        self.wl.adopt(records)
        self.acknowledged(by_id, asked_ms)
        self.per_submit(records)
        for job in list(self.wl.jobs.values()):
            rec = by_id.get(job.id)
            if rec is None:
                continue
            self.final_state(job, rec)
            self.dependency_order(job, rec)
        self.last_records = by_id
        self.drained_nodes(by_id)
        return by_id

    def task_violations(self):
        """What the tasks found when they started: one violation per task and kind of lock."""
        try:
            names = sorted(os.listdir(self.violation_dir))
        except OSError:
            return
        grouped = {}
        for name in names:
            if name in self.seen_violation_files or ".tmp" in name:
                continue
            try:
                with open(os.path.join(self.violation_dir, name)) as f:
                    v = json.load(f)
            except (OSError, ValueError):
                continue
            self.seen_violation_files.add(name)
            grouped.setdefault((v["pid"], v["kind"]), []).append(v)
        for (pid, kind), vs in sorted(grouped.items()):
            v = vs[0]
            holders = sorted({h.get("holder", "?").strip() for h in vs})
            if kind == "attempt_concurrent":
                inv, what = "no_attempt_twice", "another process of the same job and rank still ran"
            else:
                inv = "no_device_twice"
                what = "device(s) %s were held" % ", ".join(h["lock"][4:] for h in vs)
            self.report.violation(inv, "job %d attempt %d rank %d on %s (pid %d) started while %s, by %s"
                                  % (v["job"], v["attempt"], v["rank"], v["node"], pid, what,
                                     "; ".join(holders)), job=v["job"], node=v["node"])

    def marker_checks(self):
        for m in self.markers.new_starts:
            self.report.count("check_marker")
            key = (m["job"], m["attempt"], m["rank"])
            pids = self.attempt_runs.setdefault(key, set())
            pids.add((m["node"], m["pid"]))
            if len(pids) > 1:
                self.report.violation("no_attempt_twice", "job %d attempt %d rank %d was started %d times: %s"
                                      % (m["job"], m["attempt"], m["rank"], len(pids), sorted(pids)),
                                      job=m["job"])
            typ = self.cluster.node_type.get(m["node"])
            want = [DEVICE_VARIABLE[typ]] if m["devices"] else []
            self.report.count("check_placement")
            if m["devices"] and m["variables"] != want:
                self.report.violation("placement", "job %d attempt %d rank %d on %s (%s) got its devices %s in %s"
                                      % (m["job"], m["attempt"], m["rank"], m["node"], typ, m["devices"],
                                         m["variables"]), job=m["job"], node=m["node"])
            bad = [d for d in m["devices"] if not isinstance(d, int) or not 0 <= d < 8]
            if bad:
                self.report.violation("placement", "job %d on %s got devices that do not exist: %s"
                                      % (m["job"], m["node"], bad), job=m["job"])
            job = self.wl.jobs.get(m["job"])
            if job is None:
                continue
            req = job.sub.requests
            if req.get("type") and typ != req["type"]:
                self.report.violation("placement", "job %d (%s) asked for %s but rank %d ran on %s (%s)"
                                      % (m["job"], job.sub.label(), req["type"], m["rank"], m["node"], typ),
                                      job=m["job"], node=m["node"])
            same = {self.cluster.node_type.get(o["node"]) for o in self.markers.of(m["job"])
                    if o["attempt"] == m["attempt"]}
            if len(same) > 1 and ("mixed", m["job"], m["attempt"]) not in self.seen_violation_files:
                self.seen_violation_files.add(("mixed", m["job"], m["attempt"]))
                self.report.violation("placement", "job %d (%s) attempt %d mixes accelerator types: %s"
                                      % (m["job"], job.sub.label(), m["attempt"], sorted(same)), job=m["job"])

    def drained_nodes(self, by_id):
        """No attempt the controller started after a drain runs on the drained node. (A launch
        decided before the drain and delivered late is another matter: not judged here.)"""
        for node, t0, t1 in self.drains:
            for ms in self.markers.starts.values():
                for m in ms:
                    key = ("drain", m["job"], m["attempt"], m["rank"])
                    rec = by_id.get(m["job"], {})
                    started = rec.get("start_ms", 0) if rec.get("attempt") == m["attempt"] else 0
                    if m["node"] == node and t0 <= started <= t1 and key not in self.seen_violation_files:
                        self.seen_violation_files.add(key)
                        self.report.violation("drain_survives", "job %d attempt %d rank %d started on %s while it was drained"
                                              % (m["job"], m["attempt"], m["rank"], node), job=m["job"], node=node)
        self.report.count("check_drained_no_start", len(self.drains))

    def acknowledged(self, by_id, asked_ms):
        for sub in list(self.wl.submissions):
            if not sub.acked or sub.acked_ms >= asked_ms:
                continue  # answered after the listing was asked for: the next round checks it
            for jid in sub.ids:
                self.report.count("check_acknowledged")
                if jid not in by_id:
                    key = ("lost", jid)
                    if key not in self.seen_violation_files:
                        self.seen_violation_files.add(key)
                        self.report.violation("acknowledged_job_known",
                                              "job %d (%s) was acknowledged but the controller does not know it"
                                              % (jid, sub.tag), job=jid)

    def per_submit(self, records):
        count = {}
        for r in records:
            name = r.get("spec", {}).get("name", "")
            if name.startswith("fi-"):
                count[name[3:]] = count.get(name[3:], 0) + 1
        for sub in self.wl.submissions:
            n = count.get(sub.tag, 0)
            self.report.count("check_one_job_per_submit")
            if n > sub.array_size:
                key = ("dup", sub.tag)
                if key not in self.seen_violation_files:
                    self.seen_violation_files.add(key)
                    self.report.violation("one_job_per_submit", "submit %s made %d jobs, expected %d"
                                          % (sub.tag, n, sub.array_size))

    def final_state(self, job, rec):
        state = rec["state"]
        if job.final is not None:
            self.report.count("check_final_stable")
            if state != job.final["state"]:
                self.report.violation("final_state_stable", "job %d (%s) ended %s, now it is %s (%s)"
                                      % (job.id, job.sub.tag, job.final["state"], state, rec.get("reason")),
                                      job=job.id)
                job.final = rec
        if state not in TERMINAL:
            return
        if job.final is None:
            job.final = rec
        if job.checked:
            return
        exp = job.expect(self.wl)
        if exp is None:
            return  # depends on jobs that have not ended
        job.checked = True
        self.report.count("check_final_state")
        ok = state == exp["state"] and ("exit_code" not in exp or rec.get("exit_code") == exp["exit_code"])
        faults = self.explaining_faults(job.id, rec)
        if not ok and state == "node_fail" and faults:
            for kind in sorted({f["kind"] for f in faults}):
                self.report.count("final_node_fail_explained_by_" + kind)
            return
        if not ok:
            why = exp.get("why", "")
            self.report.violation(
                "final_state", "job %d (%s%s) ended %s exit %s after %d attempt(s) (%s); expected %s%s%s; faults on its nodes: %s"
                % (job.id, job.sub.label(), ", " + job.sub.detail if job.sub.detail else "", state, rec.get("exit_code"),
                   rec.get("attempt", 0), rec.get("reason", ""), exp["state"],
                   " exit %d" % exp["exit_code"] if "exit_code" in exp else "", " (" + why + ")" if why else "",
                   ", ".join("%s %s r%d" % (f["kind"], f["target"], f["round"]) for f in faults) or "none"),
                job=job.id)
            return
        self.end_time(job, rec)
        if state == "completed":
            self.completed_attempt(job, rec)

    def end_time(self, job, rec):
        """A job's end_ms is when its last task ended, not when the exit reached the controller
        (after a controller restart, say). A node whose agent was stopped or dead cannot know
        better than when it reaped the task: those are left out."""
        if rec["state"] not in ("completed", "failed"):
            return
        ms = [m for m in self.markers.of(job.id) if m["attempt"] == rec.get("attempt")]
        if not ms or any("end" not in m for m in ms):
            return
        last = max(m["end"]["end_ms"] for m in ms)
        nodes = {m["node"] for m in ms}
        if any(f["kind"] in AGENT_FAULTS | {"agent_flap_short", "drain_flap"} and f["target"] in nodes
               and f["start_ms"] <= rec["end_ms"] and f["end_ms"] >= last - SLACK_MS for f in self.report.faults):
            return
        self.report.count("check_end_time")
        if abs(rec["end_ms"] - last) > 1500:
            self.report.violation("end_time", "job %d (%s) ended at %d by the controller's record, its last task at %d (%+.1f s)"
                                  % (job.id, job.sub.label(), rec["end_ms"], last, (rec["end_ms"] - last) / 1000.0),
                                  job=job.id)

    def completed_attempt(self, job, rec):
        """The attempt that completed started every task it should, with the devices asked for."""
        req = job.sub.requests
        ms = [m for m in self.markers.of(job.id) if m["attempt"] == rec.get("attempt")]
        self.report.count("check_tasks")
        if rec.get("attempt", 0) < req.get("min_attempts", 0):
            self.report.violation("final_state", "job %d (%s) completed in attempt %d, but its first attempt exits 3"
                                  % (job.id, job.sub.label(), rec.get("attempt", 0)), job=job.id)
        ranks = sorted({m["rank"] for m in ms})
        want = req.get("tasks")
        if want and ranks != list(range(want)):
            self.report.violation("placement", "job %d (%s%s) completed with ranks %s; it asked for %d task(s)"
                                  % (job.id, job.sub.label(), ", " + job.sub.detail if job.sub.detail else "", ranks, want),
                                  job=job.id)
        nodes = {}
        for m in ms:
            nodes.setdefault(m["node"], []).extend(m["devices"])
        if req.get("nodes") and len(nodes) != req["nodes"]:
            self.report.violation("placement", "job %d (%s) ran on %d node(s) %s; it asked for %d"
                                  % (job.id, job.sub.label(), len(nodes), sorted(nodes), req["nodes"]), job=job.id)
        for node, devs in nodes.items():
            if len(devs) != len(set(devs)):
                self.report.violation("placement", "job %d: two tasks on %s share devices %s"
                                      % (job.id, node, devs), job=job.id)
            if "devices_per_node" in req and len(devs) != req["devices_per_node"]:
                self.report.violation("placement", "job %d (%s) got %d device(s) on %s; it asked for %d per node"
                                      % (job.id, job.sub.label(), len(devs), node, req["devices_per_node"]), job=job.id)
        if "devices_per_task" in req:
            for m in ms:
                if len(m["devices"]) != req["devices_per_task"]:
                    self.report.violation("placement", "job %d (%s, %s) rank %d got devices %s; it asked for %d per task"
                                          % (job.id, job.sub.label(), job.sub.detail, m["rank"], m["devices"],
                                             req["devices_per_task"]), job=job.id)
                    break

    def dependency_order(self, job, rec):
        if not job.sub.deps or job.sub.dep_kind not in ("afterok", "afterany"):
            return
        ms = self.markers.of(job.id)
        if not ms or getattr(job, "order_checked", False):
            return
        first = min(m["start_ms"] for m in ms)
        deps = [d for dep_id in job.sub.deps for d in self.wl.jobs_of_array(dep_id)]
        self.report.count("check_dependency_order")
        job.order_checked = True
        for d in deps:
            end = (d.final or {}).get("end_ms") or 0
            if d.final is None or first + 50 < end:
                self.report.violation(
                    "dependency_order", "job %d (%s, %s:%d) started at %d while its dependency %d (%s) %s"
                    % (job.id, job.sub.label(), job.sub.dep_kind, job.sub.deps[0], first, d.id, d.sub.tag,
                       "had not ended" if d.final is None else "ended only at %d" % end), job=job.id)
                return
        if job.sub.dep_kind == "afterok":
            bad = [d for d in deps if d.final and d.final["state"] != "completed"]
            if bad:
                self.report.violation(
                    "dependency_order", "job %d (%s, afterok:%d) ran although dependency %d ended %s"
                    % (job.id, job.sub.label(), job.sub.deps[0], bad[0].id, bad[0].final["state"]), job=job.id)
