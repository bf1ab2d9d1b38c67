"""A real controller and fake-device agents on loopback, with the faults the suite injects.

Like `zs up --nodes 4 --accelerators 8xMLU590 --accelerators 8xA100-SXM4-80GB
--nodes-per-leaf 2`: node1 and node3 hold MLU590s, node2 and node4 A100s; node1+node2 hang off
leaf1, node3+node4 off leaf2. Each daemon's state is tracked ("running", "stopped" by SIGSTOP,
"dead" after a kill), so the observer knows whose silence is explained by a fault.
"""
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request

NODE_TYPES = [("node1", "MLU590", "leaf1"), ("node2", "A100-SXM4-80GB", "leaf1"),
              ("node3", "MLU590", "leaf2"), ("node4", "A100-SXM4-80GB", "leaf2")]
# The variable each vendor's devices arrive in (controller/launch_plan.cpp).
DEVICE_VARIABLE = {"MLU590": "MLU_VISIBLE_DEVICES", "A100-SXM4-80GB": "CUDA_VISIBLE_DEVICES"}


class ApiDown(Exception):
    pass


class Daemon:
    def __init__(self, name, argv, log):
        self.name, self.argv, self.log = name, argv, log
        self.proc = None
        self.state = "dead"
        self.starts = 0

    def start(self):
        self.starts += 1
        with open(self.log, "ab") as out:
            out.write(b"=== start %d at %d\n" % (self.starts, int(time.time() * 1000)))
            out.flush()
            # Own session: the driver's terminal signals do not reach it, and kill -9 of the
            # daemon leaves its tasks (each in its own process group) running, as on a node.
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        self.state = "running"

    def signal(self, sig):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def kill(self):
        self.signal(signal.SIGCONT)  # a stopped process dies of SIGKILL too, but be explicit
        self.signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait()
        self.state = "dead"

    def stop(self):
        self.signal(signal.SIGSTOP)
        self.state = "stopped"

    def cont(self):
        self.signal(signal.SIGCONT)
        self.state = "running"

    def exited_by_itself(self):
        """The exit status when the daemon died without the driver killing it, else None."""
        if self.state != "dead" and self.proc and self.proc.poll() is not None:
            return self.proc.returncode
        return None

    def log_tail(self, lines=8):
        try:
            with open(self.log, "rb") as f:
                f.seek(max(0, os.path.getsize(self.log) - 8192))
                text = f.read().decode(errors="replace")
            return text.splitlines()[-lines:]
        except OSError:
            return []


class Cluster:
    def __init__(self, zs, workdir, heartbeat_ms, node_lost_ms, kill_grace_ms, node_lease_ms=0):
        self.zs, self.workdir = zs, workdir
        self.heartbeat_ms, self.node_lost_ms, self.kill_grace_ms = heartbeat_ms, node_lost_ms, kill_grace_ms
        self.node_lease_ms = node_lease_ms
        self.port = 0
        self.url = None
        self.controller = None
        self.agents = {}
        self.node_type = {n: t for n, t, _ in NODE_TYPES}
        self.token = None  # the first admin's (the controller writes STATE_DIR/admin.token)

    # --- daemons ------------------------------------------------------------------------------
    def _controller_argv(self):
        return [self.zs, "controller", "--listen", "127.0.0.1:%d" % self.port,
                "--state-dir", os.path.join(self.workdir, "state"),
                "--heartbeat-ms", str(self.heartbeat_ms), "--node-lost-ms", str(self.node_lost_ms),
                "--node-lease-ms", str(self.node_lease_ms),
                "--kill-grace-ms", str(self.kill_grace_ms)]

    def start_controller(self, timeout=60):
        log = os.path.join(self.workdir, "controller.log")
        if self.controller is None:
            self.controller = Daemon("controller", self._controller_argv(), log)
        self.controller.argv = self._controller_argv()
        offset = os.path.getsize(log) if os.path.exists(log) else 0
        self.controller.start()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.port == 0:
                with open(log, "rb") as f:
                    f.seek(offset)
                    m = re.search(rb"listening on http://127\.0\.0\.1:(\d+)", f.read())
                if m:
                    self.port = int(m.group(1))
                    self.url = "http://127.0.0.1:%d" % self.port
                    self.controller.argv = self._controller_argv()  # restarts reuse the port
            if self.url and self.healthy(1.0):
                token_file = os.path.join(self.workdir, "state", "admin.token")
                if self.token is None and os.path.exists(token_file):
                    with open(token_file) as f:
                        self.token = f.read().strip()
                return True
            if self.controller.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def start_agent(self, name):
        if name not in self.agents:
            typ = self.node_type[name]
            leaf = dict((n, l) for n, _, l in NODE_TYPES)[name]
            work = os.path.join(self.workdir, "agents", name)
            os.makedirs(work, exist_ok=True)
            argv = [self.zs, "agent", "--controller", self.url, "--name", name,
                    "--accelerators", "8x" + typ, "--work-dir", work, "--leaf", leaf]
            if self.token:
                # A node credential bound to this name, in a file only we can read.
                made = self.request("POST", "/api/v1/tokens", {"node": name})
                path = os.path.join(self.workdir, "agents", name + ".token")
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(made["token"]["token"] + "\n")
                argv += ["--token-file", path]
            self.agents[name] = Daemon(name, argv, os.path.join(self.workdir, "agent.%s.log" % name))
        self.agents[name].start()

    def start(self):
        if not self.start_controller():
            return False
        for name, _, _ in NODE_TYPES:
            self.start_agent(name)
        return self.wait_nodes_up(60)

    def daemons(self):
        return ([self.controller] if self.controller else []) + list(self.agents.values())

    def stop_all(self):
        for d in self.daemons():
            d.kill()

    # --- API ----------------------------------------------------------------------------------
    def request(self, method, path, body=None, timeout=5.0):
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raise ApiDown("%s %s: HTTP %d %s" % (method, path, e.code, e.read()[:300].decode(errors="replace")))
        except (OSError, ValueError) as e:
            raise ApiDown("%s %s: %s" % (method, path, e))

    def get(self, path, timeout=5.0):
        return self.request("GET", path, timeout=timeout)

    def healthy(self, timeout=2.0):
        try:
            return bool(self.get("/api/v1/health", timeout).get("ok"))
        except ApiDown:
            return False

    def all_jobs(self, state=None, timeout=10.0):
        out, after = [], 0
        while True:
            q = "/api/v1/jobs?limit=100000&after=%d" % after + ("&state=" + state if state else "")
            page = self.get(q, timeout)
            out.extend(page["jobs"])
            if "next_after" not in page:
                return out
            after = page["next_after"]

    def nodes(self, timeout=5.0):
        return self.get("/api/v1/nodes", timeout)["nodes"]

    def wait_nodes_up(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                up = [n["name"] for n in self.nodes(2.0) if n["state"] == "up"]
                if len(up) >= len(NODE_TYPES):
                    return True
            except ApiDown:
                pass
            time.sleep(0.1)
        return False
