"""What a fault-injection run found: checks made, violations (with details), faults, jobs."""
import json
import threading
import time

# What each invariant means, for the report's readers.
INVARIANTS = {
    "acknowledged_job_known": "every job whose submit returned an id is known to the controller",
    "one_job_per_submit": "a submit creates its jobs once (found by the tag in the job name)",
    "no_attempt_twice": "no attempt of a job runs twice, and no two attempts of a job run at once",
    "no_untracked_process": "no task process runs where the controller does not run its attempt",
    "no_device_twice": "no device is held by two jobs (lock files the tasks hold, live processes)",
    "devices_held_until_gone": "devices stay allocated while a task process still holds them",
    "running_means_running": "a job the controller calls running has its processes running",
    "final_state": "every job ends in the state its script asks for (node_fail only where a "
                   "fault on one of its nodes explains it)",
    "final_state_stable": "a finished job's state never changes",
    "dependency_order": "a dependent job starts after its dependencies end, and never when one failed",
    "placement": "a job runs on the accelerator type it asked for, one type per gang, with the "
                 "devices, tasks and nodes it asked for, each in its vendor's variable",
    "end_time": "a finished job's end time is when its last task ended, not when that was reported",
    "drain_survives": "a drained node stays drained through a silence of its agent and gets no new work",
    "job_finishes": "every job ends once the faults stop",
    "controller_answers": "the controller answers (health, and the observer's queries)",
    "cluster_recovers": "after a fault, the controller answers and every node is up again",
    "daemon_alive": "no daemon exits by itself (a crash, an _Exit)",
    "sanitizer": "no sanitizer report or crash message in a daemon log",
}


class Report:
    def __init__(self, max_details=40):
        self.lock = threading.Lock()
        self.checks = {}
        self.violations = []
        self.violation_counts = {}
        self.notes = []
        self.faults = []
        self.faults_by_kind = {}
        self.rounds = 0
        self.round = 0
        self.max_details = max_details
        self.started = time.time()
        self.jobs = {}
        self.meta = {}

    def count(self, what, n=1):
        with self.lock:
            self.checks[what] = self.checks.get(what, 0) + n

    def violation(self, invariant, detail, **extra):
        with self.lock:
            self.violation_counts[invariant] = self.violation_counts.get(invariant, 0) + 1
            # Details are kept per invariant, so a frequent kind does not hide a rare one.
            if self.violation_counts[invariant] <= self.max_details:
                v = {"invariant": invariant, "round": self.round,
                     "t_s": round(time.time() - self.started, 1), "detail": detail}
                v.update(extra)
                self.violations.append(v)
        print("VIOLATION [%s] round %d: %s" % (invariant, self.round, detail), flush=True)

    def note(self, text):
        with self.lock:
            if text not in self.notes:
                self.notes.append(text)

    def fault(self, kind, target, start_ms, end_ms, **extra):
        f = {"kind": kind, "target": target, "start_ms": start_ms, "end_ms": end_ms, "round": self.round}
        f.update(extra)
        with self.lock:
            self.faults.append(f)
            self.faults_by_kind[kind] = self.faults_by_kind.get(kind, 0) + 1
        return f

    def total_violations(self):
        return sum(self.violation_counts.values())

    def as_json(self):
        return {
            "meta": self.meta,
            "duration_s": round(time.time() - self.started, 1),
            "rounds": self.rounds,
            "faults_by_kind": self.faults_by_kind,
            "faults": self.faults,
            "jobs": self.jobs,
            "invariant_checks": self.checks,
            "violations_total": self.total_violations(),
            "violations_by_invariant": self.violation_counts,
            "violations": self.violations,
            "notes": self.notes,
            "invariants": INVARIANTS,
        }

    def text(self):
        lines = ["fault injection: %d rounds in %.0f s (seed %s)" % (
            self.rounds, time.time() - self.started, self.meta.get("seed"))]
        lines.append("  faults: " + (", ".join("%s %d" % kv for kv in sorted(self.faults_by_kind.items())) or "none"))
        j = self.jobs
        lines.append("  jobs: %d submits (%d acknowledged, %d answer lost), %d jobs; final states: %s" % (
            j.get("submits", 0), j.get("acknowledged_submits", 0), j.get("unacknowledged_submits", 0),
            j.get("jobs", 0), ", ".join("%s %d" % kv for kv in sorted(j.get("final_states", {}).items()))))
        lines.append("  by shape: " + ", ".join("%s %d" % kv for kv in sorted(j.get("by_shape", {}).items())))
        lines.append("  invariant checks: %d (%s)" % (sum(self.checks.values()), ", ".join(
            "%s %d" % kv for kv in sorted(self.checks.items()))))
        lines.append("  violations: %d%s" % (self.total_violations(), "" if not self.violation_counts else " (" + ", ".join(
            "%s %d" % kv for kv in sorted(self.violation_counts.items())) + ")"))
        for inv in sorted(self.violation_counts):
            shown = [v for v in self.violations if v["invariant"] == inv]
            for v in shown:
                lines.append("    [%s] round %d, %.1f s: %s" % (inv, v["round"], v["t_s"], v["detail"]))
            if len(shown) < self.violation_counts[inv]:
                lines.append("    [%s] ... %d more" % (inv, self.violation_counts[inv] - len(shown)))
        for n in self.notes:
            lines.append("  note: " + n)
        return "\n".join(lines)

    def write(self, json_path, text_path):
        if json_path:
            with open(json_path, "w") as f:
                json.dump(self.as_json(), f, indent=1)
        if text_path:
            with open(text_path, "w") as f:
                f.write(self.text() + "\n")
