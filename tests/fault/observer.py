"""Watches the real processes against the controller's view, twice a second.

Task processes are found by their environment (FI_RUN=<this run>, ZS_JOB_ID, ZS_ATTEMPT,
ZS_NODE, RANK, the *_VISIBLE_DEVICES variable). A disagreement only counts once it has lasted
longer than the tolerance (kill grace + a few heartbeats) while the daemons that could resolve
it are alive: a task of a node whose agent is SIGSTOPped or dead, or while the controller is
down, cannot be expected to be known or killed yet.
"""
import os
import threading
import time

from cluster import ApiDown


def now_ms():
    return int(time.time() * 1000)


def read_env(pid):
    try:
        with open("/proc/%s/environ" % pid, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    env = {}
    for item in raw.split(b"\0"):
        k, sep, v = item.partition(b"=")
        if sep:
            env[k.decode(errors="replace")] = v.decode(errors="replace")
    return env


def proc_stat(pid):
    """(state letter, start time in ticks, command name), or None when gone."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rfind(")") + 2:].split()
    return fields[0], int(fields[19]), s[s.find("(") + 1:s.rfind(")")]


class TaskProc:
    def __init__(self, pid, env):
        self.pid = pid
        self.job = int(env.get("ZS_JOB_ID", "0") or 0)
        self.attempt = int(env.get("ZS_ATTEMPT", "0") or 0)
        self.rank = int(env.get("RANK", "0") or 0)
        self.node = env.get("ZS_NODE", "?")
        self.role = env.get("FI_ROLE", "task")
        self.devices = set()
        for k, v in env.items():
            if k.endswith("_VISIBLE_DEVICES"):
                self.devices.update(int(x) for x in v.split(",") if x.strip().isdigit())

    def describe(self):
        return "pid %d (%s) job %d attempt %d rank %d on %s devices %s" % (
            self.pid, self.role, self.job, self.attempt, self.rank, self.node, sorted(self.devices))


class Observer(threading.Thread):
    def __init__(self, cluster, run_id, tolerance_ms, report, interval=0.5):
        super().__init__(daemon=True)
        self.cluster, self.run_id, self.tol = cluster, run_id, tolerance_ms
        self.report, self.interval = report, interval
        self.stop_flag = threading.Event()
        self.strangers = set()   # (pid, start ticks, command): processes not of this run
        self.untracked = {}      # (pid, start ticks) -> ms seen untracked while resolvable
        self.phantom = {}        # (job, attempt, node) -> ms
        self.free_used = {}      # node -> ms
        self.reported = set()
        self.ctl_down_since = None
        self.active = []         # the last active job list (pending + running)
        self.live = []           # the last live task processes
        self.ticks = 0
        self.lock = threading.Lock()
        self.paused = threading.Event()

    # --- processes ----------------------------------------------------------------------------
    def scan(self):
        out, seen = [], set()
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            st = proc_stat(name)
            if st is None or st[0] in "ZX":
                continue
            # A process may still be the agent's fork before its exec: a stranger is known by its
            # command name too, and ours are read again every time (an exec changes the env).
            stranger = (int(name), st[1], st[2])
            seen.add(stranger)
            if stranger in self.strangers:
                continue
            env = read_env(name)
            if env is None:
                continue
            if env.get("FI_RUN") == self.run_id and "ZS_JOB_ID" in env:
                out.append(((int(name), st[1]), TaskProc(int(name), env)))
            else:
                self.strangers.add(stranger)
        self.strangers &= seen
        return out

    def live_tasks(self):
        return [p for _, p in self.scan()]

    # --- the loop -----------------------------------------------------------------------------
    def run(self):
        last = time.monotonic()
        while not self.stop_flag.wait(self.interval):
            t = time.monotonic()
            dt = min(int((t - last) * 1000), 1500)
            last = t
            if self.paused.is_set():
                continue
            try:
                self.tick(dt)
            except Exception as e:  # the observer must not die silently
                self.report.note("observer error: %r" % (e,))

    def once(self, key, invariant, detail, **extra):
        if key in self.reported:
            return
        self.reported.add(key)
        self.report.violation(invariant, detail, **extra)

    def tick(self, dt):
        procs = self.scan()
        ctl = self.cluster.controller
        ctl_running = ctl is not None and ctl.state == "running"
        jobs = nodes = None
        if ctl_running:
            try:
                jobs = self.cluster.all_jobs("active", timeout=5.0)
                nodes = self.cluster.nodes(timeout=5.0)
                self.ctl_down_since = None
            except ApiDown as e:
                if self.ctl_down_since is None:
                    self.ctl_down_since = now_ms()
                elif now_ms() - self.ctl_down_since > 15000:
                    self.once(("unresponsive", self.ctl_down_since), "controller_answers",
                              "the controller (running, not stopped by the driver) has not answered "
                              "for %.1f s: %s" % ((now_ms() - self.ctl_down_since) / 1000, e))
        with self.lock:
            self.live = [p for _, p in procs]
            if jobs is not None:
                self.active = jobs
        self.report.count("observer_ticks")
        if jobs is None:
            return  # nothing is resolvable without the controller's view
        self.ticks += 1
        agents_ok = {n: a.state == "running" for n, a in self.cluster.agents.items()}
        running = {j["id"]: j for j in jobs if j["state"] == "running"}

        # 1. Every live task process belongs to an attempt the controller runs on that node.
        self.report.count("check_untracked", len(procs))
        for key, p in procs:
            j = running.get(p.job)
            tracked = False
            if j is not None and j.get("attempt") == p.attempt:
                for a in j.get("assignment", []):
                    if a["node"] == p.node and p.devices <= set(a.get("devices", [])):
                        tracked = True
            if tracked or not agents_ok.get(p.node, False):
                self.untracked.pop(key, None)
                continue
            ms = self.untracked.get(key, 0) + dt
            self.untracked[key] = ms
            if ms > self.tol:
                state = "not running" if j is None else "running attempt %s on %s" % (
                    j.get("attempt"), [a["node"] for a in j.get("assignment", [])])
                self.once(("untracked", key), "no_untracked_process",
                          "%s has run for %.1f s while the controller says job %d is %s (agent %s up)"
                          % (p.describe(), ms / 1000, p.job, state, p.node),
                          job=p.job, node=p.node)
        alive = {key for key, _ in procs}
        for key in list(self.untracked):
            if key not in alive:
                del self.untracked[key]

        # 2. No device is held by two jobs' live processes (one violation per node and jobs).
        holders = {}
        for _, p in procs:
            for d in p.devices:
                holders.setdefault((p.node, d), {}).setdefault(p.job, []).append(p)
        shared = {}
        for (node, dev), by_job in holders.items():
            self.report.count("check_device_live")
            if len(by_job) > 1:
                shared.setdefault((node, tuple(sorted(by_job))), []).append((dev, by_job))
        for (node, ids), devs in shared.items():
            procs_of = {p.pid: p for _, by_job in devs for ps in by_job.values() for p in ps}
            self.once(("dev_live", node, ids), "no_device_twice",
                      "devices %s of %s are held by live processes of jobs %s at once: %s" % (
                          [d for d, _ in devs], node, list(ids),
                          "; ".join(p.describe() for p in procs_of.values())), node=node)

        # 3. What the controller says runs does run (within the tolerance).
        live_parts = {(p.job, p.attempt, p.node) for _, p in procs if p.role == "task"}
        for j in running.values():
            for a in j.get("assignment", []):
                k = (j["id"], j.get("attempt"), a["node"])
                self.report.count("check_phantom")
                if k in live_parts or not agents_ok.get(a["node"], False):
                    self.phantom.pop(k, None)
                    continue
                ms = self.phantom.get(k, 0) + dt
                self.phantom[k] = ms
                if ms > self.tol:
                    self.once(("phantom",) + k, "running_means_running",
                              "the controller has said for %.1f s that job %d attempt %s runs on %s, "
                              "but no process of it is there" % (ms / 1000, k[0], k[1], k[2]),
                              job=k[0], node=k[2])

        # 4. Devices in use are not free in the controller's books.
        if nodes is not None:
            in_use = {}
            for _, p in procs:
                in_use.setdefault(p.node, set()).update(p.devices)
            for n in nodes:
                name = n["name"]
                used = len(in_use.get(name, ()))
                self.report.count("check_devices_held")
                if used > n.get("allocated", 0) and agents_ok.get(name, False):
                    ms = self.free_used.get(name, 0) + dt
                    self.free_used[name] = ms
                    if ms > self.tol:
                        self.once(("free_used", name, now_ms() // 60000), "devices_held_until_gone",
                                  "%s: %d devices are held by live task processes but the controller "
                                  "counts %d allocated (for %.1f s; node %s)" % (
                                      name, used, n.get("allocated", 0), ms / 1000, n.get("state")),
                                  node=name)
                else:
                    self.free_used.pop(name, None)
