#!/usr/bin/env python3
"""The task every fault-injection job runs (tests/fault/fault_driver.py submits it).

It makes the two worst failures of a cluster visible from the outside, whatever the controller
believes:
- a device given to two jobs at once: the task holds an exclusive flock on one lock file per
  device it was given (<dir>/locks/dev.<node>.<index>, from the *_VISIBLE_DEVICES variable);
- a job running twice at once: it also holds <dir>/locks/job.<job>.<rank>, shared by every
  attempt of the job, so a new attempt that starts while an old one still runs cannot take it.
A lock it cannot take is written to <dir>/violations/ with the holder's identity (each holder
writes who it is into the lock file). The task goes on running either way: the driver counts.

Each attempt leaves markers in <dir>/markers/: <job>.<attempt>.<rank>.<node>.<pid>.start (JSON:
job, attempt, rank, node, devices, variable, start time) and, when it ends by itself or by
SIGTERM, the same name with .end (end time, exit code or signal). A task killed with SIGKILL
leaves no .end; the driver sees its process go.

Arguments (all optional except --dir):
  --dur S            run this long (seconds)
  --exit C           exit code, subject to the conditions below (default 0)
  --exit-rank R      only rank R exits with C (the others 0)
  --exit-index I     only array task I exits with C
  --fail-attempts N  exit with C on attempts 1..N only, then 0 (a job that succeeds on a retry)
  --self-kill SIG    end by killing itself with this signal instead of exiting
  --ignore-term      ignore SIGTERM (the agent must SIGKILL it after the grace period)
  --escape S         leave behind a process in its own session holding the task's locks for S
                     seconds (a process that escapes its job, issue 10 defect 8)
Standard library only.
"""
import fcntl
import json
import os
import signal
import sys
import time


def now_ms():
    return int(time.time() * 1000)


def write_atomic(path, obj):
    tmp = path + ".tmp%d" % os.getpid()
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.rename(tmp, path)


def parse_args(argv):
    opts = {"dir": None, "dur": 1.0, "exit": 0, "exit_rank": None, "exit_index": None,
            "fail_attempts": None, "self_kill": None, "ignore_term": False, "escape": None,
            "escaped": None}
    i = 0
    while i < len(argv):
        a = argv[i]
        key = a[2:].replace("-", "_")
        if a == "--ignore-term":
            opts["ignore_term"] = True
        elif key in opts and i + 1 < len(argv):
            v = argv[i + 1]
            i += 1
            opts[key] = v if key == "dir" else float(v) if key in ("dur", "escape", "escaped") else int(v)
        else:
            sys.exit("fi_task: bad argument %r" % a)
        i += 1
    if not opts["dir"]:
        sys.exit("fi_task: --dir is required")
    return opts


def visible_devices(env):
    names = sorted(k for k in env if k.endswith("_VISIBLE_DEVICES"))
    devices = []
    for k in names:
        for part in env[k].split(","):
            part = part.strip()
            if part:
                try:
                    devices.append(int(part))
                except ValueError:
                    devices.append(part)
    return names, devices


def take_lock(path, me):
    """An exclusive flock, or the holder's description when another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = ""
        for _ in range(20):  # the holder writes who it is just after it takes the lock
            try:
                holder = os.pread(fd, 4096, 0).decode(errors="replace")
            except OSError:
                holder = "?"
            if holder:
                break
            time.sleep(0.05)
        os.close(fd)
        return None, holder or "(a holder that has not said who it is)"
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(me).encode(), 0)
    return fd, None


def main():
    opts = parse_args(sys.argv[1:])
    d = opts["dir"]
    env = os.environ
    if opts["escaped"] is not None:  # the escaped process: hold the inherited locks, then go
        time.sleep(opts["escaped"])
        return 0
    job = int(env.get("ZS_JOB_ID", "0"))
    attempt = int(env.get("ZS_ATTEMPT", "0"))
    rank = int(env.get("RANK", env.get("SLURM_PROCID", "0")))
    node = env.get("ZS_NODE", "?")
    index = env.get("ZS_ARRAY_TASK_ID")
    variables, devices = visible_devices(env)
    pid = os.getpid()
    start = now_ms()
    me = {"job": job, "attempt": attempt, "rank": rank, "node": node, "pid": pid, "start_ms": start}
    base = "%d.%d.%d.%s.%d" % (job, attempt, rank, node, pid)

    held = []
    problems = []
    fd, holder = take_lock(os.path.join(d, "locks", "job.%d.%d" % (job, rank)), me)
    if fd is None:
        problems.append({"kind": "attempt_concurrent", "lock": "job.%d.%d" % (job, rank), "holder": holder})
    else:
        held.append(fd)
    for dev in devices:
        name = "dev.%s.%s" % (node, dev)
        fd, holder = take_lock(os.path.join(d, "locks", name), me)
        if fd is None:
            problems.append({"kind": "device_double_use", "lock": name, "holder": holder})
        else:
            held.append(fd)
    for n, p in enumerate(problems):
        p.update(me)
        p["time_ms"] = now_ms()
        write_atomic(os.path.join(d, "violations", "%s.%d.json" % (base, n)), p)

    marker = dict(me)
    marker.update({"variables": variables, "devices": devices, "array_index": index,
                   "name": env.get("ZS_JOB_NAME", ""), "nodelist": env.get("ZS_NODELIST", ""),
                   "ntasks": env.get("ZS_NTASKS", "")})
    write_atomic(os.path.join(d, "markers", base + ".start"), marker)

    def finish(code=None, sig=None):
        end = dict(me)
        end.update({"end_ms": now_ms(), "exit_code": code, "signal": sig})
        write_atomic(os.path.join(d, "markers", base + ".end"), end)

    if opts["ignore_term"]:
        signal.signal(signal.SIGTERM, lambda s, f: None)
    else:
        def on_term(s, f):
            finish(sig=signal.SIGTERM)
            os._exit(128 + signal.SIGTERM)
        signal.signal(signal.SIGTERM, on_term)

    if opts["escape"] is not None and os.fork() == 0:
        os.setsid()  # out of the task's process group (and session): a group kill misses it
        for fd in held:
            os.set_inheritable(fd, True)
        child_env = dict(env)
        child_env["FI_ROLE"] = "escaped"
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), "--dir", d,
                                   "--escaped", str(opts["escape"])], child_env)

    print("fi_task job %d attempt %d rank %d on %s devices %s" % (job, attempt, rank, node, devices),
          flush=True)
    deadline = time.monotonic() + opts["dur"]
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(left, 0.5))

    code = opts["exit"]
    if opts["exit_rank"] is not None and rank != opts["exit_rank"]:
        code = 0
    if opts["exit_index"] is not None and str(opts["exit_index"]) != (index or ""):
        code = 0
    if opts["fail_attempts"] is not None and attempt > opts["fail_attempts"]:
        code = 0
    if opts["self_kill"]:
        finish(sig=opts["self_kill"])
        if opts["self_kill"] not in (signal.SIGKILL, signal.SIGSTOP):  # those cannot be caught
            signal.signal(opts["self_kill"], signal.SIG_DFL)
        os.kill(pid, opts["self_kill"])
        time.sleep(5)
    finish(code=code)
    return code


if __name__ == "__main__":
    sys.exit(main())
