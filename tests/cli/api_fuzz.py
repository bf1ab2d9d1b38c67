#!/usr/bin/env python3
"""Randomized requests to a live controller's API (driven by api_fuzz.sh).

Sends seeded, mutated JSON bodies to POST /api/v1/jobs and POST /api/v1/agents/NAME/sync (plus
a few to /exits, job lookups and cancels) for a bounded time, and checks that:
  * no request is answered 5xx, and every request is answered (no reset, no hang);
  * every 4xx carries a JSON error body {"error": {"code", "message"}};
  * every 2xx submit returns ids, and at the end GET /api/v1/jobs lists exactly the jobs that
    2xx submits created (a refused submit creates nothing);
  * the controller is still alive and healthy.
With tokens (--admin-token ...), each request carries a credential: mostly the right one (the
admin's for user routes, the node's own for agent routes), else none, garbage, a revoked token,
another node's credential, a user token on an agent route, or a member of another tenant. A
request with no valid credential is answered 401 (or 429) and one with a credential that may not
is answered 403; neither creates anything, and another tenant's job is 404 and stays as it was.
No agent runs during the fuzz, so no fuzzed command is ever executed.

Usage: api_fuzz.py URL [--seed N] [--seconds S] [--max-requests N]
Exit status 0 when every check passed; failures are printed as "FAIL: ..." lines with the
request number and body so a run can be reproduced with the same seed.
"""
import argparse
import http.client
import json
import random
import sys
import time
import urllib.parse

TYPES = ["A100-SXM4-80GB", "A100", "H100-SXM5-80GB", "V100", "MLU590", "gpu", "", "nope"]
INT_EDGES = [0, 1, -1, 2, 7, 8, 9, 24, 63, 64, 65, 255, 1024, 65535, 65536, 100000, 1000000, 1000001,
             2**31 - 1, 2**31, -2**31, -2**31 - 1, 2**53, 2**63 - 1, 2**63, -2**63, -2**63 - 1,
             2**64 - 1, 2**64, 10**30]
FLOAT_EDGES = [0.0, -0.0, 0.5, 1.0, 1.5, -1.5, 1e3, 1e-300, 1e300, -1e300, 1.7976931348623157e308,
               2.0**63, 2.0**64, 3.0]
ARRAYS = ["0-3", "1,2,5", "0-7%2", "0-10:3", "5-1", "-1", "0-", "a", "0-3%0", "3", "0-3,2",
          "1-1", "0--1", "99999999999999999999", "0-3%", ",", "", "0-15"]
JOB_FIELDS = ["name", "user", "tenant", "partition", "argv", "script", "work_dir", "env", "accel_type",
              "accel_count", "nodes", "accel_per_node", "tasks_per_node", "ntasks", "cpus_per_task",
              "mem_mib", "walltime", "stdout_path", "stderr_path", "array", "after_ok", "max_retries",
              "priority", "begin_ms", "hold", "nodelist", "exclude"]
# Fields added after the seed's sequence was fixed: drawn from their own generator, so that the
# main sequence (and what a seed reproduces) stays the same.
LATE_JOB_FIELDS = ["signal", "signal_time", "signal_batch"]
REPORT_FIELDS = ["boot_id", "address", "accel_type", "accel_count", "unhealthy", "device_problems",
                 "cpus", "mem_mib", "discovery", "running", "exits", "wait_ms"]
GOOD_NAMES = ["fz0", "fz1", "fz2", "fz-3.x_y"]
BAD_NAMES = ["", " ", "a b", "x" * 65, "ünïcode", "..", "a/b", "%00", "a\nb", "-", "x" * 64]


class Fuzzer:
    def __init__(self, url, seed, tokens=None):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.rng = random.Random(seed)
        self.late_rng = random.Random(seed + 1)  # LATE_JOB_FIELDS
        # {"admin": T, "intruder": T, "revoked": T, "nodes": {name: T}} or None (no auth).
        self.tokens = tokens
        self.token = None  # the credential of the request being sent
        self.conn = None
        self.created = set()
        self.intruder_created = set()  # jobs of the other tenant's member: it may act on them
        self.failures = []
        self.stats = {}
        self.n = 0

    # ---- values -------------------------------------------------------------------------------
    def rand_string(self, max_len=24):
        r = self.rng
        k = r.random()
        if k < 0.05:
            return "x" * r.choice([1 << 10] * 9 + [(1 << 20) + 1])  # 1 MiB + 1: over the string limit
        if k < 0.15:
            return "".join(r.choice("\u00e9\u4e2d\U0001F600\u0000\u0001\u007f\u200b\ufffd") for _ in range(r.randint(1, 8)))
        if k < 0.25:
            return r.choice(["%j", "%N_%t.out", "/tmp/x", "../../etc/passwd", "A=1", "=", "true", "-1", "0"])
        alphabet = "abcXYZ019 _-./%:=,\\\"'\t"
        return "".join(r.choice(alphabet) for _ in range(r.randint(0, max_len)))

    def rand_value(self, depth=0):
        r = self.rng
        k = r.randint(0, 9)
        if k == 0:
            return None
        if k == 1:
            return r.choice([True, False])
        if k in (2, 3):
            return r.choice(INT_EDGES) if r.random() < 0.7 else r.randint(-10**6, 10**6)
        if k == 4:
            return r.choice(FLOAT_EDGES)
        if k in (5, 6):
            return self.rand_string()
        if k == 7 and depth < 3:
            return [self.rand_value(depth + 1) for _ in range(r.randint(0, 4))]
        if k == 8 and depth < 3:
            return {self.rand_string(8): self.rand_value(depth + 1) for _ in range(r.randint(0, 3))}
        return r.choice(INT_EDGES)

    def field_value(self, name):
        """A plausible value for a job field, sometimes off by type or range."""
        r = self.rng
        if r.random() < 0.2:
            return self.rand_value()
        if name == "argv":
            return r.choice([["true"], ["sh", "-c", "exit 3"], [], [""], ["true"] * r.randint(1, 50),
                             [self.rand_string() for _ in range(r.randint(1, 4))]])
        if name == "env":
            return r.choice([["A=1"], [], ["NOEQ"], ["=x"], [self.rand_string() for _ in range(3)]])
        if name == "after_ok":
            ids = sorted(self.created)
            pool = [[], [r.choice(INT_EDGES)]]
            if ids:
                pool.append([r.choice(ids)])
            return r.choice(pool)
        if name == "accel_type":
            return r.choice(TYPES)
        if name == "hold":
            return r.choice([True, False, 0, 1, "yes", None])
        if name in ("nodelist", "exclude"):
            return r.choice([[], ["fz0"], ["fz0", "fz1"], [r.choice(BAD_NAMES)], "fz0", [1],
                             ["nosuch"], ["fz0"] * 3])
        if name == "array":
            return r.choice(ARRAYS)
        if name == "cpus_per_task":
            return r.choice(FLOAT_EDGES + [0, 1, 4, -1])
        if name in ("name", "user", "tenant", "partition", "work_dir", "stdout_path", "stderr_path", "script"):
            return r.choice([self.rand_string(), "/tmp", "#!/bin/sh\ntrue\n", "rel/dir"])
        return r.choice(INT_EDGES)

    def base_job(self):
        r = self.rng
        j = {"argv": ["true"]}
        if r.random() < 0.6:
            j["accel_type"] = "A100-SXM4-80GB"
            j["accel_count"] = r.choice([1, 2, 8, 16, 24])
        if r.random() < 0.3:
            j["nodes"] = r.choice([1, 2, 3])
            j["accel_count"] = j["nodes"] * 8
            j["accel_type"] = "A100-SXM4-80GB"
        for f in r.sample(JOB_FIELDS, r.randint(0, 4)):
            j[f] = self.field_value(f)
        late = self.late_rng
        for f in late.sample(LATE_JOB_FIELDS, late.randint(0, 3) if late.random() < 0.3 else 0):
            j[f] = self.late_value(f)
        return j

    def late_value(self, name):
        r = self.late_rng
        if name == "signal":
            return r.choice([0, 9, 10, 12, 19, 34, 64, 65, -1, "USR1", None, 1.5])
        if name == "signal_batch":
            return r.choice([True, False, 0, 1, "yes", None])
        return r.choice(INT_EDGES)

    def mutate_obj(self, obj, fields):
        r = self.rng
        for _ in range(r.randint(0, 3)):
            op = r.randint(0, 5)
            if op == 0 and obj:
                del obj[r.choice(list(obj))]
            elif op == 1:
                obj[self.rand_string(10) if r.random() < 0.5 else r.choice(["gpus", "spec", "id", "state"])] = self.rand_value()
            elif op == 2 and obj:
                obj[r.choice(list(obj))] = self.rand_value()
            elif op == 3:
                f = r.choice(fields)
                obj[f] = self.field_value(f) if fields is JOB_FIELDS else self.rand_value()
            elif op == 4 and obj:
                k = r.choice(list(obj))
                if isinstance(obj[k], list) and obj[k]:
                    obj[k][r.randrange(len(obj[k]))] = self.rand_value()
        return obj

    @staticmethod
    def tame_arrays(obj):
        """Keeps a mutated array spec from asking for thousands of jobs (bounded runtime)."""
        for j in obj.get("jobs", [obj]) if isinstance(obj.get("jobs"), list) else [obj]:
            if isinstance(j, dict) and isinstance(j.get("array"), str):
                digits = "".join(c if c.isdigit() else " " for c in j["array"]).split()
                if any(len(d) > 2 for d in digits) and j["array"] not in ARRAYS:
                    j["array"] = "0-3"

    def byte_mutate(self, data):
        r = self.rng
        b = bytearray(data)
        for _ in range(r.randint(1, 4)):
            op = r.randint(0, 5)
            if op == 0 and b:
                b[r.randrange(len(b))] = r.randrange(256)
            elif op == 1 and b:
                del b[r.randrange(len(b)):]
            elif op == 2:
                b[r.randint(0, len(b)):r.randint(0, len(b))] = bytes([r.randrange(256)])
            elif op == 3 and b:
                i = r.randrange(len(b))
                b[i:i] = b[i:i + r.randint(1, 16)]
            elif op == 4:
                b[r.randint(0, len(b)):r.randint(0, len(b))] = r.choice([b"\xff\xfe", b"\xc3", b"\x00", b"{", b"]", b"\"", b",", b"1e999", b"-", b"null"])
            else:
                d = r.randint(1, 3000)
                i = r.randint(0, len(b))
                b[i:i] = b"[" * d + b"]" * d
        return bytes(b)

    # ---- bodies -------------------------------------------------------------------------------
    def job_body(self):
        r = self.rng
        k = r.random()
        if k < 0.15:
            body = {"jobs": [self.mutate_obj(self.base_job(), JOB_FIELDS) for _ in range(r.randint(0, 5))]}
            if r.random() < 0.2:
                body[r.choice(["extra", "id"])] = self.rand_value()
        else:
            body = self.mutate_obj(self.base_job(), JOB_FIELDS)
        self.tame_arrays(body)
        data = json.dumps(body, ensure_ascii=r.random() < 0.5, allow_nan=False).encode("utf-8", "surrogatepass")
        if k > 0.75:
            j = self.base_job()
            j.pop("array", None)
            data = self.byte_mutate(json.dumps(j).encode())
        elif k > 0.72:
            data = r.choice([b"", b"{}", b"[]", b"null", b"1", b"\"x\"", b"{\"jobs\":null}", b"\xef\xbb\xbf{\"argv\":[\"true\"]}",
                             b"{\"argv\":[\"true\"],\"argv\":[\"false\"]}", b" " * 1000])
        return data

    def report_body(self):
        r = self.rng
        rep = {"boot_id": r.choice(["boot-a", "boot-b", self.rand_string(8)]), "address": "127.0.0.1",
               "accel_type": "A100-SXM4-80GB", "accel_count": 8, "unhealthy": 0, "device_problems": [],
               "cpus": 128, "mem_mib": 1048576, "discovery": "fuzz", "running": [], "exits": [], "wait_ms": 0}
        ids = sorted(self.created)
        for _ in range(r.randint(0, 2)):
            key = {"job": r.choice(ids) if ids and r.random() < 0.7 else r.choice(INT_EDGES),
                   "attempt": r.choice([0, 1, 2, -1, 2**31])}
            if r.random() < 0.5:
                rep["running"].append(key)
            else:
                key.update({"exit_code": r.choice([0, 1, 7, 137, -1, 1001]),
                            "reason": r.choice(["", "timeout", "killed", self.rand_string()]),
                            "end_ms": r.choice([0, int(time.time() * 1000), 2**63, -5])})
                rep["exits"].append(key)
        self.mutate_obj(rep, REPORT_FIELDS)
        if isinstance(rep.get("wait_ms"), int) and rep["wait_ms"] > 50:
            rep["wait_ms"] = 50  # the controller may hold a sync this long: keep the fuzz quick
        data = json.dumps(rep).encode("utf-8", "surrogatepass")
        if r.random() < 0.2:
            data = self.byte_mutate(data)
        return data

    # ---- transport ----------------------------------------------------------------------------
    def request(self, method, path, body=None):
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=15)
                headers = {"Content-Type": "application/json"}
                if self.token is not None:
                    headers["Authorization"] = "Bearer " + self.token
                if body is not None:
                    headers["Content-Length"] = str(len(body))
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return resp.status, data
            except (ConnectionError, http.client.HTTPException, OSError) as e:
                # A kept-alive connection closed by the server between requests: retry once on a
                # fresh connection; a second failure is the controller's fault.
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt == 1:
                    return None, repr(e).encode()
        return None, b""

    def fail(self, what, method, path, body, status, data):
        self.failures.append(f"FAIL: request {self.n}: {what}: {method} {path} -> {status} {data[:300]!r}; body {body[:300]!r}")

    def check(self, method, path, body, status, data, kind):
        cls = "none" if status is None else f"{status // 100}xx"
        self.stats[(kind, cls)] = self.stats.get((kind, cls), 0) + 1
        if status is None:
            self.fail("no answer (connection failed or timed out)", method, path, body, status, data)
            return None
        if status >= 500:
            self.fail("server error", method, path, body, status, data)
            return None
        try:
            answer = json.loads(data)
        except ValueError:
            self.fail("answer is not JSON", method, path, body, status, data)
            return None
        if 400 <= status < 500:
            e = answer.get("error") if isinstance(answer, dict) else None
            if not (isinstance(e, dict) and isinstance(e.get("code"), str) and isinstance(e.get("message"), str)):
                self.fail("4xx without an error object", method, path, body, status, data)
            return None
        return answer

    # ---- credentials --------------------------------------------------------------------------
    def garbage_token(self):
        r = self.rng
        k = r.random()
        if k < 0.3:  # well-formed, random: an unknown id or a wrong secret
            ids = [t.split("_")[1] for t in self.tokens["nodes"].values()] + ["%016x" % r.getrandbits(64)]
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
            return "zs_" + r.choice(ids) + "_" + "".join(r.choice(alphabet) for _ in range(43))
        if k < 0.5:  # a real token, one character changed
            t = list(self.tokens["admin"])
            i = r.randrange(len(t))
            t[i] = "A" if t[i] != "A" else "B"
            return "".join(t)
        if k < 0.6:
            return "x" * r.choice([1, 100, 5000])
        return "".join(chr(r.randrange(0x21, 0x7f)) for _ in range(r.randrange(1, 80)))

    def credential(self, route, node=None):
        """(class, token) for a request to `route` ("user" or "agent") as node `node`."""
        if self.tokens is None:
            return "ok", None
        r = self.rng
        nodes = self.tokens["nodes"]
        right = self.tokens["admin"] if route == "user" else nodes.get(node)
        k = r.random()
        if k < 0.80 and right is not None:
            return "ok", right
        k = r.random()
        if k < 0.2:
            return "bad", None
        if k < 0.45:
            return "bad", self.garbage_token()
        if k < 0.55:
            return "bad", self.tokens["revoked"]
        if route == "agent":
            others = [t for n, t in nodes.items() if n != node]
            return "forbidden", r.choice(others + [self.tokens["admin"], self.tokens["intruder"]])
        if k < 0.75:
            return "forbidden", r.choice(list(nodes.values()))
        return "intruder", self.tokens["intruder"]

    def expect_denied(self, cls, method, path, body, status, data):
        """False when a request without the right credential was not refused as it must be."""
        if status == 404 and b"no such endpoint" in data:
            return True  # no route at all (an empty node name): nothing to authorize
        if cls == "bad" and status not in (401, 429, 431, 400):
            self.fail("a request without a valid credential was not refused 401", method, path, body, status, data)
            return False
        if cls == "forbidden" and status != 403:
            self.fail("a credential that may not was not refused 403", method, path, body, status, data)
            return False
        return True

    def job_state(self, jid):
        self.token = self.tokens["admin"] if self.tokens else None
        status, data = self.request("GET", "/api/v1/jobs/" + urllib.parse.quote(jid))
        return json.loads(data)["job"]["state"] if status == 200 else None

    def step(self):
        r = self.rng
        self.n += 1
        k = r.random()
        if k < 0.70:
            body = self.job_body()
            cls, self.token = self.credential("user")
            status, data = self.request("POST", "/api/v1/jobs", body)
            answer = self.check("POST", "/api/v1/jobs", body, status, data, "submit")
            if cls in ("bad", "forbidden"):
                if self.expect_denied(cls, "POST", "/api/v1/jobs", body, status, data) and status in (200, 201):
                    self.fail("a denied submit created jobs", "POST", "/api/v1/jobs", body, status, data)
            elif answer is not None and status in (200, 201):
                ids = answer.get("ids") if isinstance(answer, dict) else None
                if not (isinstance(ids, list) and ids and all(isinstance(i, int) for i in ids)):
                    self.fail("2xx submit without ids", "POST", "/api/v1/jobs", body, status, data)
                else:
                    self.created.update(ids)
                    if cls == "intruder":
                        self.intruder_created.update(ids)
        elif k < 0.92:
            name = r.choice(GOOD_NAMES) if r.random() < 0.85 else r.choice(BAD_NAMES)
            path = "/api/v1/agents/" + urllib.parse.quote(name, safe="") + "/sync"
            body = self.report_body()
            cls, self.token = self.credential("agent", name)
            status, data = self.request("POST", path, body)
            self.check("POST", path, body, status, data, "sync")
            if cls != "ok":
                self.expect_denied(cls, "POST", path, body, status, data)
        elif k < 0.95:
            name = r.choice(GOOD_NAMES + BAD_NAMES[:3])
            path = "/api/v1/agents/" + urllib.parse.quote(name, safe="") + "/exits"
            body = self.report_body()
            cls, self.token = self.credential("agent", name)
            status, data = self.request("POST", path, body)
            self.check("POST", path, body, status, data, "exits")
            if cls != "ok":
                self.expect_denied(cls, "POST", path, body, status, data)
        else:
            ids = sorted(self.created)
            jid = str(r.choice(ids)) if ids and r.random() < 0.7 else r.choice(["0", "-1", "abc", "99999999", str(2**64), "1e3"])
            if r.random() < 0.5:
                method, path, body = "GET", "/api/v1/jobs/" + urllib.parse.quote(jid), None
            else:
                method, path, body = "POST", "/api/v1/jobs/" + urllib.parse.quote(jid) + "/cancel", b"{}"
            cls, token = self.credential("user")
            mine = {str(i) for i in self.intruder_created}
            before = (self.job_state(jid) if cls == "intruder" and jid in map(str, ids) and jid not in mine
                      else None)
            self.token = token
            status, data = self.request(method, path, body)
            self.check(method, path, body or b"", status, data, "job")
            if cls in ("bad", "forbidden"):
                self.expect_denied(cls, method, path, body or b"", status, data)
            elif before is not None:
                # The admin's job, asked for by a member of another tenant: not found, unchanged.
                if status != 404:
                    self.fail("another tenant's job was not 404", method, path, body or b"", status, data)
                after = self.job_state(jid)
                if after != before:
                    self.fail(f"a denied request changed the job ({before} -> {after})", method, path, body or b"", status, data)

    def listed_jobs(self):
        ids, after = set(), 0
        self.token = self.tokens["admin"] if self.tokens else None
        while True:
            status, data = self.request("GET", f"/api/v1/jobs?limit=10000&after={after}")
            if status != 200:
                self.failures.append(f"FAIL: GET /api/v1/jobs after the fuzz: {status} {data[:200]!r}")
                return None
            page = json.loads(data)
            ids.update(j["id"] for j in page["jobs"])
            if "next_after" not in page:
                return ids
            after = page["next_after"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--seconds", type=float, default=25)
    ap.add_argument("--max-requests", type=int, default=5000)
    ap.add_argument("--tokens", help="a JSON file: {admin, intruder, revoked, nodes: {name: token}}")
    a = ap.parse_args()
    tokens = json.load(open(a.tokens)) if a.tokens else None
    fz = Fuzzer(a.url, a.seed, tokens)
    t0 = time.monotonic()
    while fz.n < a.max_requests and time.monotonic() - t0 < a.seconds:
        fz.step()
        if len(fz.failures) >= 20:
            break
    elapsed = time.monotonic() - t0
    fz.token = None
    status, _ = fz.request("GET", "/api/v1/health")
    if status != 200:
        fz.failures.append(f"FAIL: the controller is not healthy after the fuzz (GET /api/v1/health -> {status})")
    listed = fz.listed_jobs()
    if listed is not None:
        missing = sorted(fz.created - listed)
        extra = sorted(listed - fz.created)
        if missing:
            fz.failures.append(f"FAIL: {len(missing)} jobs created by a 2xx submit are not listed: {missing[:10]}")
        if extra:
            fz.failures.append(f"FAIL: {len(extra)} listed jobs were never acknowledged (created by a refused request?): {extra[:10]}")
    stats = ", ".join(f"{k[0]} {k[1]}: {v}" for k, v in sorted(fz.stats.items()))
    print(f"seed {a.seed}: {fz.n} requests in {elapsed:.1f} s ({stats}); {len(fz.created)} jobs created"
          f"{'' if listed is None else f', {len(listed)} listed'}")
    for f in fz.failures:
        print(f)
    return 1 if fz.failures else 0


if __name__ == "__main__":
    sys.exit(main())
