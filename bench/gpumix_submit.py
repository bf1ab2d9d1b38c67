#!/usr/bin/env python3
"""Submits the GPU mix through the API on one keep-alive connection (bench/gpu_mix.sh and
bench/vs_slurm.sh). Prints t0, the time of the first request: the interpreter's start-up is not
part of the system under test.
Usage: gpumix_submit.py CONTROLLER_URL OUT_DIR SLEEP_S JOBS_PER_REQUEST K1 K2 ...
(Ki = GPUs of job i; each job runs `date +%s.%N; sleep SLEEP_S` with its output in OUT_DIR/%j.out)
"""
import http.client
import json
import os
import sys
import time
import urllib.parse

url, out, sleep, per, ks = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
conn = http.client.HTTPConnection(urllib.parse.urlparse(url).netloc)
conn.connect()
specs = [{"script": f"#!/bin/sh\ndate +%s.%N; sleep {sleep}\n", "accel_count": int(k), "nodes": 1,
          "walltime": 60000, "work_dir": out, "stdout_path": out + "/%j.out", "name": "gpumix"}
         for k in ks]
print(f"{time.time():.6f}", flush=True)
for i in range(0, len(specs), per):
    body = specs[i] if per == 1 else {"jobs": specs[i:i + per]}
    headers = {"Content-Type": "application/json"}
    if os.environ.get("ZS_TOKEN"):
        headers["Authorization"] = "Bearer " + os.environ["ZS_TOKEN"]
    conn.request("POST", "/api/v1/jobs", json.dumps(body), headers)
    r = conn.getresponse()
    r.read()
    if r.status != 201:
        sys.exit(f"gpumix_submit: HTTP {r.status} for job {i}")
