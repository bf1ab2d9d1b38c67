#!/usr/bin/env python3
"""Fault injection against a real Zhisuan cluster on loopback (issue 10).

Starts `zs controller` (SQLite state in a temp dir) and four fake-device agents (node1/node3
8xMLU590, node2/node4 8xA100-SXM4-80GB, two per leaf), keeps jobs of every shape flowing
through the CLI and the API, and in rounds injects one fault: kill -9 of the controller
(restarted on the same state dir and port), kill -9 of an agent (restarted with the same name
and work dir), or a SIGSTOP/SIGCONT flap of an agent shorter or longer than --node-lost-ms.
Invariants (tests/fault/report.py lists them) are watched continuously by the observer and
checked after every round; at the end the faults stop, every job must finish, and the run is
reported as text and JSON. Exit status: 0 clean, 1 violations, 2 the harness itself failed.

  fault_driver.py --zs build/release/zs --duration 600 --seed 7 --json report.json

Reproduce one kind of trouble: --faults agent_kill --shapes gang,single --seed N.
Standard library only.
"""
import argparse
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from cluster import NODE_TYPES, Cluster  # noqa: E402
from invariants import Checker  # noqa: E402
from observer import Observer, read_env  # noqa: E402
from report import Report  # noqa: E402
from workload import SHAPES, TERMINAL, Workload  # noqa: E402

FAULTS = ["controller_kill", "agent_kill", "agent_flap_short", "agent_flap_long", "drain_flap"]
CRASH_PATTERNS = re.compile(r"ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer|"
                            r"terminate called|Segmentation fault|AddressSanitizer:DEADLYSIGNAL")


def now_ms():
    return int(time.time() * 1000)


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


class Driver:
    def __init__(self, args):
        self.args = args
        self.rng_jobs = random.Random(args.seed)
        self.rng_faults = random.Random(args.seed * 7919 + 1)
        self.report = Report()
        self.report.meta = {"seed": args.seed, "duration_s": args.duration, "zs": args.zs,
                            "heartbeat_ms": args.heartbeat_ms, "node_lost_ms": args.node_lost_ms,
                            "node_lease_ms": args.node_lease_ms,
                            "kill_grace_ms": args.kill_grace_ms, "max_active": args.max_active,
                            "faults": args.faults, "shapes": args.shapes}
        self.work = args.workdir or tempfile.mkdtemp(prefix="zs-fault-")
        os.makedirs(self.work, exist_ok=True)
        self.work = os.path.realpath(self.work)
        self.shared = os.path.join(self.work, "shared")
        for d in ("markers", "locks", "violations"):
            os.makedirs(os.path.join(self.shared, d), exist_ok=True)
        self.jobs_dir = os.path.join(self.work, "jobs")
        os.makedirs(self.jobs_dir, exist_ok=True)
        self.run_id = "fi-%d-%d" % (os.getpid(), now_ms())
        self.cluster = Cluster(os.path.abspath(args.zs), self.work, args.heartbeat_ms,
                               args.node_lost_ms, args.kill_grace_ms, args.node_lease_ms)
        # A task left alone after its attempt ended may live for the kill grace period, plus the
        # time for the kill order to reach the agent and the agent to notice; on a loaded 2-core
        # box running sanitizer builds, a few seconds more.
        self.tolerance_ms = args.tolerance_ms or (args.kill_grace_ms + 4 * args.heartbeat_ms + 3000)
        self.stop_submitting = threading.Event()
        self.workload = None
        self.observer = None
        self.checker = None

    # --- daemons ------------------------------------------------------------------------------
    def check_daemons(self):
        for d in self.cluster.daemons():
            rc = d.exited_by_itself()
            if rc is None:
                continue
            self.report.violation("daemon_alive", "%s exited by itself with status %s; log tail: %s"
                                  % (d.name, rc, " | ".join(d.log_tail(6))), node=d.name)
            d.state = "dead"
            if d is self.cluster.controller:
                self.cluster.start_controller()
            else:
                self.cluster.start_agent(d.name)

    def recover(self, what):
        ok = self.cluster.healthy(5.0) or self.wait(lambda: self.cluster.healthy(2.0), 30)
        self.report.count("check_controller_answers")
        if not ok:
            self.report.violation("controller_answers", "the controller does not answer /health after %s" % what)
            return False
        self.report.count("check_cluster_recovers")
        if not self.cluster.wait_nodes_up(30):
            try:
                states = {n["name"]: "%s (%s)" % (n["state"], n.get("reason", "")) for n in self.cluster.nodes()}
            except Exception as e:  # noqa: BLE001 - reported, never fatal
                states = str(e)
            self.report.violation("cluster_recovers", "not every node is up 30 s after %s: %s" % (what, states))
            return False
        return True

    @staticmethod
    def wait(cond, timeout, step=0.1):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if cond():
                return True
            time.sleep(step)
        return False

    # --- faults -------------------------------------------------------------------------------
    def inject(self, kind):
        lost = self.args.node_lost_ms / 1000.0
        start = now_ms()
        if kind == "controller_kill":
            self.cluster.controller.kill()
            down = self.rng_faults.uniform(0.2, 2.0)
            time.sleep(down)
            ok = self.cluster.start_controller()
            f = self.report.fault(kind, "controller", start, now_ms(), down_s=round(down, 2))
            if not ok:
                self.report.violation("controller_answers", "the controller did not restart on its state dir: "
                                      + " | ".join(self.cluster.controller.log_tail(6)))
            return f
        name = self.rng_faults.choice([n for n, _, _ in NODE_TYPES])
        agent = self.cluster.agents[name]
        if kind == "agent_kill":
            agent.kill()
            down = self.rng_faults.uniform(0.2, 2.5 * lost)
            time.sleep(down)
            self.cluster.start_agent(name)
            return self.report.fault(kind, name, start, now_ms(), down_s=round(down, 2))
        if kind == "drain_flap":
            return self.drain_flap(name, agent, start)
        if kind == "agent_flap_short":
            down = self.rng_faults.uniform(0.1, 0.4) * lost
        else:
            down = self.rng_faults.uniform(1.5, 3.0) * lost
        agent.stop()
        time.sleep(down)
        agent.cont()
        return self.report.fault(kind, name, start, now_ms(), stopped_s=round(down, 2))

    def drain_flap(self, name, agent, start):
        """Drain a node, silence its agent past --node-lost-ms, and check that it comes back
        drained (an operator's drain is not lost to a flap) and got no new work meanwhile."""
        code, out, err = self.workload.cli(["nodes", "drain", name, "--reason", "fault-injection"])
        if code != 0:
            self.report.note("drain of %s refused: %s" % (name, (err or out).strip()))
            return self.report.fault("drain_flap", name, start, now_ms(), drained=False)
        drained_ms = now_ms()
        down = self.rng_faults.uniform(1.5, 3.0) * self.args.node_lost_ms / 1000.0
        agent.stop()
        time.sleep(down)
        agent.cont()
        f = self.report.fault("drain_flap", name, start, now_ms(), stopped_s=round(down, 2))

        def state():
            try:
                return {n["name"]: n for n in self.cluster.nodes(2.0)}.get(name, {}).get("state")
            except Exception:  # noqa: BLE001 - the controller may be slow; asked again
                return None
        self.wait(lambda: state() not in (None, "down"), 30)
        self.report.count("check_drain_survives")
        st = state()
        if st != "drained":
            self.report.violation("drain_survives", "%s was drained, its agent was silent %.1f s; now the node is %s"
                                  % (name, down, st), node=name)
        # The drained window ends when the resume is sent: a job may start as soon as the
        # controller has it, before the command returns.
        resume_sent_ms = now_ms()
        code, out, err = self.workload.cli(["nodes", "resume", name])
        if code != 0 and st == "drained":
            self.report.violation("drain_survives", "resume of %s failed: %s" % (name, (err or out).strip()))
        f["drained_from_ms"], f["resumed_ms"] = drained_ms, resume_sent_ms
        return f

    # --- threads ------------------------------------------------------------------------------
    def submitter(self):
        while not self.stop_submitting.is_set():
            try:
                self.workload.due_cancels()
                # Jobs pending for long are stuck (reported at the end if they never start):
                # they must not starve the rest of the run of new work.
                stuck_before = now_ms() - 30000
                with self.observer.lock:
                    active = sum(1 for j in self.observer.active
                                 if j["state"] == "running" or j.get("submit_ms", 0) > stuck_before)
                if active < self.args.max_active:
                    self.workload.submit_random()
            except Exception as e:  # noqa: BLE001 - a harness bug must not stop the run silently
                self.report.note("submitter error: %r" % (e,))
            self.stop_submitting.wait(self.rng_jobs.uniform(0.1, 0.6))

    # --- the run ------------------------------------------------------------------------------
    def run(self):
        log("work dir %s; starting a controller and %d agents (%s)" % (
            self.work, len(NODE_TYPES), self.args.zs))
        if not self.cluster.start():
            log("the cluster did not start; logs in %s" % self.work)
            for d in self.cluster.daemons():
                log("%s: %s" % (d.name, " | ".join(d.log_tail(5))))
            return 2
        self.workload = Workload(self.cluster, self.rng_jobs, self.shared, self.jobs_dir, self.args.python,
                                 os.path.join(HERE, "fi_task.py"), self.run_id, log)
        if self.args.shapes:
            self.workload.shape_names = self.args.shapes.split(",")
        self.observer = Observer(self.cluster, self.run_id, self.tolerance_ms, self.report)
        self.checker = Checker(self.cluster, self.workload, self.report, self.shared)
        self.observer.start()
        sub = threading.Thread(target=self.submitter, daemon=True)
        sub.start()
        kinds = self.args.faults.split(",") if self.args.faults else FAULTS
        deadline = time.time() + self.args.duration
        bag = []
        log("running rounds for %d s (faults: %s; tolerance %.1f s)" % (
            self.args.duration, ",".join(kinds), self.tolerance_ms / 1000))
        while time.time() < deadline:
            self.report.round += 1
            time.sleep(self.rng_faults.uniform(self.args.calm_min, self.args.calm_max))
            self.check_daemons()
            # Every kind once per cycle, in a seeded order: a short run still sees each of them.
            if not bag:
                bag = list(kinds)
                self.rng_faults.shuffle(bag)
            kind = bag.pop()
            f = self.inject(kind)
            log("round %d: %s %s (%s)" % (self.report.round, kind, f["target"],
                                        ", ".join("%s=%s" % (k, v) for k, v in f.items() if k.endswith("_s"))))
            self.recover(kind + " " + f["target"])
            if kind == "drain_flap" and "resumed_ms" in f:
                self.checker.watch_drain(f["target"], f["drained_from_ms"], f["resumed_ms"])
            self.check_daemons()
            self.checker.check_round()
            self.report.rounds += 1
        log("faults stop; waiting for every job to end")
        self.stop_submitting.set()
        sub.join(30)
        self.drain()
        self.finish()
        return 1 if self.report.total_violations() else 0

    def drain(self):
        deadline = time.time() + self.args.drain
        records = None
        while time.time() < deadline:
            self.workload.due_cancels()
            self.check_daemons()
            records = self.checker.check_round()
            if records is not None and self.workload.jobs and all(
                    records.get(j, {}).get("state") in TERMINAL for j in self.workload.jobs):
                break
            time.sleep(1)
        with self.workload.lock:
            pending_cancels = list(self.workload.cancels)
        for _, job in pending_cancels:
            self.workload.cli(["cancel", str(job.id)])
        # Let the observer look once more after every attempt should be gone.
        time.sleep(self.tolerance_ms / 1000 + 1)
        self.check_daemons()
        records = self.checker.check_round(final=True) or {}
        for jid, job in sorted(self.workload.jobs.items()):
            rec = records.get(jid)
            self.report.count("check_job_finishes")
            if rec is not None and rec["state"] not in TERMINAL:
                self.report.violation("job_finishes", "job %d (%s%s) is still %s %.0f s after the faults stopped (%s; attempt %s)"
                                      % (jid, job.sub.label(), ", " + job.sub.detail if job.sub.detail else "",
                                         rec["state"], self.args.drain, rec.get("reason", ""), rec.get("attempt")),
                                      job=jid)
            elif rec is not None and not job.checked:
                self.report.count("check_final_state")
                self.report.note("job %d (%s): expectation undecidable (its dependencies are unknown)" % (jid, job.sub.tag))

    def finish(self):
        self.observer.stop_flag.set()
        self.observer.join(5)
        leftovers = self.observer.live_tasks()
        self.report.count("check_no_process_left", 1)
        for p in leftovers:
            # Already reported by the observer when it outlived the tolerance under a live agent.
            if not any(v.get("job") == p.job and v["invariant"] == "no_untracked_process" for v in self.report.violations):
                self.report.violation("no_untracked_process", "at the end, %s is still alive" % p.describe(), job=p.job)
        self.cluster.stop_all()
        for d in self.cluster.daemons():
            self.report.count("check_sanitizer")
            try:
                with open(d.log, errors="replace") as f:
                    text = f.read()
            except OSError:
                continue
            hits = [l for l in text.splitlines() if CRASH_PATTERNS.search(l)]
            if hits:
                self.report.violation("sanitizer", "%s log: %s" % (d.name, " | ".join(hits[:4])))
        kill_tasks(self.run_id)
        wl = self.workload
        finals = {}
        for j in wl.jobs.values():
            s = (j.final or {}).get("state", "unfinished")
            finals[s] = finals.get(s, 0) + 1
        by_shape = {}
        for s in wl.submissions:
            by_shape[s.shape] = by_shape.get(s.shape, 0) + 1
        self.report.jobs = {
            "submits": len(wl.submissions),
            "acknowledged_submits": sum(1 for s in wl.submissions if s.acked),
            "unacknowledged_submits": len(wl.unacked),
            "unacknowledged_found_stored": sum(1 for s in wl.unacked if s.ids),
            "jobs": len(wl.jobs),
            "task_starts": sum(len(v) for v in self.checker.markers.starts.values()),
            "final_states": finals,
            "by_shape": by_shape,
        }
        for n in wl.notes:
            self.report.note(n)


def kill_tasks(run_id):
    """Every process of this run's jobs (found by FI_RUN in its environment)."""
    for name in os.listdir("/proc"):
        if name.isdigit():
            env = read_env(name)
            if env and env.get("FI_RUN") == run_id:
                try:
                    os.kill(int(name), signal.SIGKILL)
                except OSError:
                    pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zs", required=True, help="path to the zs binary")
    ap.add_argument("--duration", type=float, default=60, help="seconds of fault rounds")
    ap.add_argument("--drain", type=float, default=60, help="seconds allowed for jobs to end afterwards")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--heartbeat-ms", type=int, default=250)
    ap.add_argument("--node-lost-ms", type=int, default=1500)
    # Long flaps and agent kills (1.5-3 x node-lost) fall on both sides of it: a node back within
    # the lease keeps its jobs, one back later finds them stopped by its shim and requeued.
    ap.add_argument("--node-lease-ms", type=int, default=3000)
    ap.add_argument("--kill-grace-ms", type=int, default=1000)
    ap.add_argument("--tolerance-ms", type=int, default=0, help="0 = kill grace + 4 heartbeats + 3 s")
    ap.add_argument("--max-active", type=int, default=10, help="pending + running jobs kept in flight")
    ap.add_argument("--calm-min", type=float, default=1.0, help="seconds between faults: at least")
    ap.add_argument("--calm-max", type=float, default=3.0, help="seconds between faults: at most")
    ap.add_argument("--faults", default="", help="comma-separated subset of " + ",".join(FAULTS))
    ap.add_argument("--shapes", default="", help="comma-separated subset of " + ",".join(SHAPES))
    ap.add_argument("--workdir", default="", help="default: a new temp dir (removed unless --keep)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (logs, markers, state)")
    ap.add_argument("--json", default="", help="write the report as JSON here")
    ap.add_argument("--text", default="", help="write the report as text here")
    ap.add_argument("--python", default=sys.executable, help="interpreter for the tasks")
    args = ap.parse_args()
    for k in (args.faults.split(",") if args.faults else []):
        if k not in FAULTS:
            ap.error("unknown fault %r (known: %s)" % (k, ",".join(FAULTS)))
    for k in (args.shapes.split(",") if args.shapes else []):
        if k not in SHAPES:
            ap.error("unknown shape %r (known: %s)" % (k, ",".join(SHAPES)))
    d = Driver(args)
    code = 2
    try:
        code = d.run()
    except KeyboardInterrupt:
        code = 2
    finally:
        if d.cluster.controller:
            d.cluster.stop_all()
        kill_tasks(d.run_id)
        print(d.report.text(), flush=True)
        d.report.write(args.json, args.text)
        if args.keep or not args.workdir and code == 2:
            log("work dir kept: %s" % d.work)
        elif not args.workdir:
            shutil.rmtree(d.work, ignore_errors=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
