#!/usr/bin/env bash
# README command 1: install what is needed, build in Release, and run the main job: a local
# cluster (one controller, three agents with 8 declared MLU590 each, SQLite state) running a demo
# workload — a 3-node gang whose ranks all-reduce over TCP, an 8-task array, a CPU-only job and
# an afterok dependency. Then, as a second example, the simulator replays the Philly trace.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
echo
echo "== zs up --demo: a local cluster (controller + 3 agents x 8 MLU590) and a demo workload =="
# A free port, so that a cluster already running on the default 7070 is left alone.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
build/release/zs up --demo --nodes 3 --accelerators 8xMLU590 --port "$port"
echo
echo "== zs sim: Philly trace (82,247 jobs) on data/clusters/philly.yaml =="
build/release/zs sim --cluster data/clusters/philly.yaml --trace data/traces/philly/pollux_philly.csv \
  --compare fifo,easy,las,srtf
