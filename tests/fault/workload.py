"""Jobs of every shape, submitted through the CLI (and a few through the HTTP API), with what
each one must end as.

A submission carries a tag in its job name (fi-<tag>), so a job the controller stored although
the submit's answer was lost (the controller was killed mid-request) is found and checked too.
Expectations are functions of the job's array index and of its dependencies' final states, so
they are evaluated when the job ends.
"""
import json
import os
import subprocess
import threading
import time

from cluster import ApiDown

TYPES = ["MLU590", "A100-SXM4-80GB"]
TERMINAL = {"completed", "failed", "cancelled", "timeout", "node_fail"}

# shape -> weight. "afterany" falls back to nothing when the CLI does not know it (noted).
SHAPES = {"single": 5, "gang": 3, "array": 2, "dep": 2, "dep_array": 1, "afterany": 1,
          "retry": 2, "cancel": 2, "timeout": 1, "cpu": 1, "ntasks": 1, "script": 1, "wrap": 1,
          "api_batch": 1, "selfkill": 1, "escape": 1}


def now_ms():
    return int(time.time() * 1000)


class Job:
    """One controller job (each array task is one)."""

    def __init__(self, jid, sub, index=None):
        self.id, self.sub, self.index = jid, sub, index
        self.final = None          # the job record when first seen terminal
        self.checked = False       # its final state has been judged
        self.cancel_sent_ms = None

    def expect(self, registry):
        return self.sub.expect(self, registry)


class Submission:
    def __init__(self, tag, shape, expect, array_size=1, deps=(), dep_kind="afterok", detail=""):
        self.tag, self.shape, self.expect = tag, shape, expect
        self.array_size, self.deps, self.dep_kind, self.detail = array_size, list(deps), dep_kind, detail
        self.ids = []
        self.acked = False
        self.acked_ms = None  # when the answer came (a listing asked for earlier may lack it)
        self.error = None
        self.sent_ms = now_ms()
        self.cancel_at_ms = None
        self.requests = {}  # what the placement must honour: type, nodes, tasks, devices per task
        self.how = ""       # the submit's options, to reproduce it

    def label(self):
        return "%s: %s" % (self.tag, self.how) if self.how else self.tag


def simple(state, code=None):
    def f(job, reg):
        e = {"state": state}
        if code is not None:
            e["exit_code"] = code
        return e
    return f


def after(deps_kind, own):
    """A dependent job: its own expectation once its dependencies allow it to run, else
    cancelled. afterok (Slurm): every dependency (each task of an array) completed."""
    def f(job, reg):
        finals = []
        for dep_id in job.sub.deps:
            for d in reg.jobs_of_array(dep_id):
                if d.final is None:
                    return None  # not decidable yet
                finals.append(d.final["state"])
        if deps_kind == "afterany" or all(s == "completed" for s in finals):
            return own(job, reg)
        return {"state": "cancelled", "why": "a dependency ended %s" % sorted(set(finals))}
    return f


class Workload:
    def __init__(self, cluster, rng, shared_dir, jobs_dir, python, task_path, run_id, log):
        self.cluster, self.rng = cluster, rng
        self.shared, self.jobs_dir = shared_dir, jobs_dir
        self.python, self.task = python, task_path
        self.run_id, self.log = run_id, log
        self.lock = threading.Lock()
        self.submissions = []
        self.jobs = {}            # id -> Job
        self.unacked = []         # submissions whose answer was lost
        self.notes = []
        self.counter = 0
        self.afterany_supported = None
        self.shape_names = list(SHAPES)
        self.cancels = []         # jobs to cancel: (due_ms, Job)
        self.submit_failures = 0
        self.env = dict(os.environ)
        self.env["FI_RUN"] = run_id
        self.env["ZS_CONTROLLER"] = cluster.url
        if cluster.token:
            self.env["ZS_TOKEN"] = cluster.token
        self.env.pop("ZS_JOB_ID", None)

    # --- registry -----------------------------------------------------------------------------
    def jobs_of_array(self, first_id):
        j = self.jobs.get(first_id)
        if j is None:
            return []
        return [self.jobs[i] for i in j.sub.ids if i in self.jobs]

    def register(self, sub):
        with self.lock:
            self.submissions.append(sub)
            for n, jid in enumerate(sub.ids):
                self.jobs[jid] = Job(jid, sub, n if sub.array_size > 1 else None)

    def adopt(self, controller_jobs):
        """Jobs stored by the controller for submits whose answer never came."""
        by_tag = {}
        for s in self.unacked:
            by_tag[s.tag] = s
        found = 0
        for rec in controller_jobs:
            name = rec.get("spec", {}).get("name", "")
            if not name.startswith("fi-"):
                continue
            s = by_tag.get(name[3:])
            if s is None or rec["id"] in self.jobs:
                continue
            s.ids.append(rec["id"])
            with self.lock:
                self.jobs[rec["id"]] = Job(rec["id"], s, rec.get("array_task_id", -1)
                                           if s.array_size > 1 else None)
            found += 1
        return found

    # --- submitting ---------------------------------------------------------------------------
    def _tag(self, shape):
        self.counter += 1
        return "%s-%d" % (shape, self.counter)

    def task_cmd(self, args):
        return [self.python, self.task, "--dir", self.shared] + [str(a) for a in args]

    def cli(self, args, timeout=20):
        try:
            p = subprocess.run([self.cluster.zs] + args, env=self.env, cwd=self.jobs_dir,
                               capture_output=True, text=True, timeout=timeout)
            return p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired:
            return 124, "", "timed out after %d s" % timeout

    def submit_cli(self, sub, opts, task_args=None, script=None, wrap=None):
        argv = ["submit", "--json", "-J", "fi-" + sub.tag] + opts
        sub.how = "zs submit " + " ".join(opts + (["script.sh"] if script is not None else
                                                  ["--wrap ..."] if wrap is not None else
                                                  ["--", "fi_task.py"] + [str(a) for a in task_args or []]))
        if script is not None:
            path = os.path.join(self.jobs_dir, sub.tag + ".sh")
            with open(path, "w") as f:
                f.write(script)
            argv.append(path)
        elif wrap is not None:
            argv += ["--wrap", wrap]
        else:
            argv += ["--"] + self.task_cmd(task_args)
        sub.sent_ms = now_ms()
        code, out, err = self.cli(argv)
        return self._answer(sub, code, out, err, argv)

    def submit_api(self, sub, specs):
        sub.sent_ms = now_ms()
        sub.how = "POST /api/v1/jobs %d jobs, accel %s:%s" % (len(specs), specs[0].get("accel_type"),
                                                              specs[0].get("accel_count"))
        try:
            ans = self.cluster.request("POST", "/api/v1/jobs", {"jobs": specs}, timeout=20)
            return self._answer(sub, 0, json.dumps(ans), "", ["POST /api/v1/jobs"])
        except ApiDown as e:
            return self._answer(sub, 1, "", str(e), ["POST /api/v1/jobs"])

    def _answer(self, sub, code, out, err, argv):
        if code == 0:
            try:
                sub.ids = [int(i) for i in json.loads(out)["ids"]]
                sub.acked = True
                sub.acked_ms = now_ms()
            except (ValueError, KeyError, TypeError):
                sub.error = "unreadable answer %r" % out[:200]
        else:
            sub.error = (err or out).strip()[-300:]
        if sub.acked:
            self.register(sub)
        else:
            self.submit_failures += 1
            with self.lock:
                self.submissions.append(sub)
                self.unacked.append(sub)
            self.log("submit %s failed (%s): %s" % (sub.tag, " ".join(argv[:6]), sub.error))
        return sub.acked

    def accel_opt(self, count, typ):
        return ["--accel", ("%s:%d" % (typ, count)) if typ else str(count)]

    def pick_type(self):
        return self.rng.choice(TYPES + [None])

    def submit_random(self):
        weights = [SHAPES[s] for s in self.shape_names]
        shape = self.rng.choices(self.shape_names, weights)[0]
        getattr(self, "shape_" + shape)()

    # --- shapes -------------------------------------------------------------------------------
    def shape_single(self):
        typ, k = self.pick_type(), self.rng.choice([1, 2, 4, 8])
        code = 3 if self.rng.random() < 0.2 else 0
        dur = round(self.rng.uniform(0.5, 4), 2)
        sub = Submission(self._tag("single"), "single",
                         simple("completed") if code == 0 else simple("failed", code))
        sub.requests = {"type": typ, "tasks": 1, "devices_per_node": k}
        self.submit_cli(sub, self.accel_opt(k, typ), ["--dur", dur, "--exit", code])

    def shape_gang(self):
        typ = self.pick_type()
        fail = self.rng.random() < 0.2
        sub = Submission(self._tag("gang"), "gang",
                         simple("failed", 3) if fail else simple("completed"))
        sub.requests = {"type": typ, "nodes": 2, "tasks": 2, "devices_per_node": 8, "one_type": True}
        args = ["--dur", round(self.rng.uniform(1, 4), 2)] + (["--exit", 3, "--exit-rank", 1] if fail else [])
        self.submit_cli(sub, ["-N", "2"] + self.accel_opt(16, typ), args)

    def _array(self, size, fail_index):
        typ = self.pick_type()

        def expect(job, reg):
            if fail_index is not None and job.index == fail_index:
                return {"state": "failed", "exit_code": 3}
            return {"state": "completed"}
        sub = Submission(self._tag("array"), "array", expect, array_size=size)
        sub.requests = {"type": typ, "tasks": 1, "devices_per_node": 1}
        args = ["--dur", round(self.rng.uniform(0.5, 3), 2)]
        if fail_index is not None:
            args += ["--exit", 3, "--exit-index", fail_index]
        self.submit_cli(sub, ["--array", "0-%d%%2" % (size - 1)] + self.accel_opt(1, typ), args)
        return sub

    def shape_array(self):
        self._array(4, 2 if self.rng.random() < 0.3 else None)

    def _dependent(self, shape, kind, dep_ids):
        sub = Submission(self._tag(shape), shape, after(kind, simple("completed")),
                         deps=dep_ids, dep_kind=kind)
        sub.requests = {"type": None, "tasks": 1, "devices_per_node": 1}
        dep = "%s:%s" % (kind, ":".join(str(i) for i in dep_ids))
        self.submit_cli(sub, ["-d", dep, "--accel", "1"], ["--dur", round(self.rng.uniform(0.3, 2), 2)])
        return sub

    def _first(self, fail_p):
        code = 3 if self.rng.random() < fail_p else 0
        sub = Submission(self._tag("depA"), "dep_first",
                         simple("completed") if code == 0 else simple("failed", code))
        sub.requests = {"type": None, "tasks": 1, "devices_per_node": 1}
        self.submit_cli(sub, ["--accel", "1"], ["--dur", round(self.rng.uniform(0.5, 3), 2), "--exit", code])
        return sub

    def shape_dep(self):
        a = self._first(0.3)
        if a.acked:
            self._dependent("dep", "afterok", [a.ids[0]])

    def shape_dep_array(self):
        a = self._array(3, 1 if self.rng.random() < 0.3 else None)
        if a.acked:
            self._dependent("dep_array", "afterok", [a.ids[0]])

    def shape_afterany(self):
        if self.afterany_supported is False:
            return self.shape_dep()
        a = self._first(0.5)
        if not a.acked:
            return
        b = self._dependent("afterany", "afterany", [a.ids[0]])
        if not b.acked and b.error and "afterany" in b.error and "not supported" in b.error:
            self.afterany_supported = False
            self.unacked.remove(b)
            self.submissions.remove(b)
            self.submit_failures -= 1
            self.notes.append("afterany dependencies are not supported by `zs submit`: " + b.error)
        elif b.acked:
            self.afterany_supported = True

    def shape_retry(self):
        typ = self.pick_type()
        sub = Submission(self._tag("retry"), "retry", simple("completed"))
        sub.requests = {"type": typ, "tasks": 1, "devices_per_node": 1, "min_attempts": 2}
        self.submit_cli(sub, ["--retries", "2"] + self.accel_opt(1, typ),
                        ["--dur", round(self.rng.uniform(0.3, 2), 2), "--exit", 3, "--fail-attempts", 1])

    def shape_cancel(self):
        typ, k = self.pick_type(), self.rng.choice([1, 2, 4])
        stubborn = self.rng.random() < 0.3
        sub = Submission(self._tag("cancel"), "cancel", simple("cancelled"),
                         detail="ignores SIGTERM" if stubborn else "")
        sub.requests = {"type": typ, "tasks": 1, "devices_per_node": k}
        if self.submit_cli(sub, self.accel_opt(k, typ),
                           ["--dur", 60] + (["--ignore-term"] if stubborn else [])):
            due = now_ms() + int(self.rng.uniform(500, 4000))
            with self.lock:
                self.cancels.append((due, self.jobs[sub.ids[0]]))

    def shape_timeout(self):
        sub = Submission(self._tag("timeout"), "timeout", simple("timeout"))
        sub.requests = {"type": None, "tasks": 1, "devices_per_node": 1}
        self.submit_cli(sub, ["-t", "0:02", "--accel", "1"], ["--dur", 30])

    def shape_cpu(self):
        sub = Submission(self._tag("cpu"), "cpu", simple("completed"))
        sub.requests = {"tasks": 1, "devices_per_node": 0}
        self.submit_cli(sub, ["-c", "1"], ["--dur", round(self.rng.uniform(0.3, 2), 2)])

    def shape_ntasks(self):
        if self.rng.random() < 0.5:
            sub = Submission(self._tag("ntasks"), "ntasks", simple("completed"), detail="-n 3")
            sub.requests = {"tasks": 3, "devices_per_task": 0}
            self.submit_cli(sub, ["-n", "3"], ["--dur", 1])
        else:
            sub = Submission(self._tag("ntasks"), "ntasks", simple("completed"),
                             detail="--ntasks=4 --gpus-per-task=1")
            sub.requests = {"tasks": 4, "devices_per_task": 1, "one_type": True}
            self.submit_cli(sub, ["--ntasks=4", "--gpus-per-task=1"], ["--dur", 1])

    def shape_script(self):
        typ = self.rng.choice(TYPES)
        sub = Submission(self._tag("script"), "script", simple("completed"),
                         detail="#SBATCH --gpus=%s:2 --time=5" % typ)
        sub.requests = {"type": typ, "tasks": 1, "devices_per_node": 2}
        cmd = " ".join(self.task_cmd(["--dur", round(self.rng.uniform(0.5, 2), 2)]))
        script = ("#!/bin/sh\n#SBATCH --job-name=fi-%s\n#SBATCH --gpus=%s:2\n#SBATCH --time=5\n"
                  "exec %s\n" % (sub.tag, typ, cmd))
        self.submit_cli(sub, [], script=script)

    def shape_wrap(self):
        sub = Submission(self._tag("wrap"), "wrap", simple("failed", 3))
        sub.requests = {"type": None, "tasks": 1, "devices_per_node": 1}
        cmd = " ".join(self.task_cmd(["--dur", 0.5, "--exit", 3]))
        self.submit_cli(sub, ["--gres=gpu:1"], wrap=cmd)

    def shape_api_batch(self):
        typ = self.rng.choice(TYPES)
        sub = Submission(self._tag("api"), "api_batch", simple("completed"))
        sub.requests = {"type": typ, "tasks": 1, "devices_per_node": 4}
        env = ["FI_RUN=" + self.run_id, "PATH=" + os.environ.get("PATH", "/usr/bin:/bin")]
        spec = {"name": "fi-" + sub.tag, "argv": self.task_cmd(["--dur", round(self.rng.uniform(0.5, 2), 2)]),
                "work_dir": self.jobs_dir, "env": env, "accel_type": typ, "accel_count": 4}
        # Two jobs in one all-or-nothing batch: the same tag, consecutive ids.
        sub.array_size = 2
        self.submit_api(sub, [spec, dict(spec)])

    def shape_selfkill(self):
        sub = Submission(self._tag("selfkill"), "selfkill", simple("failed", 128 + 9))
        sub.requests = {"type": None, "tasks": 1, "devices_per_node": 1}
        self.submit_cli(sub, ["--accel", "1"], ["--dur", 0.5, "--self-kill", 9])

    def shape_escape(self):
        sub = Submission(self._tag("escape"), "escape", simple("completed"),
                         detail="leaves a setsid process behind for 6 s")
        sub.requests = {"type": None, "tasks": 1, "devices_per_node": 1}
        self.submit_cli(sub, ["--accel", "1"], ["--dur", 0.5, "--escape", 6])

    # --- cancels ------------------------------------------------------------------------------
    def due_cancels(self):
        t = now_ms()
        with self.lock:
            due = [c for c in self.cancels if c[0] <= t]
            self.cancels = [c for c in self.cancels if c[0] > t]
        for due_ms, job in due:
            code, out, err = self.cli(["cancel", str(job.id)])
            if code == 0:
                job.cancel_sent_ms = now_ms()
            elif due_ms > t - 30000:  # the controller may be down: try again shortly
                with self.lock:
                    self.cancels.append((t + 500, job))
            else:
                self.log("cancel of %d kept failing: %s" % (job.id, (err or out).strip()))
