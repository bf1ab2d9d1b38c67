#!/usr/bin/env bash
# README command 1: install what is needed, build in Release, and run the main job.
# Until the live cluster exists the main job is a simulation: the full Microsoft Philly trace
# (82,247 jobs) replayed on a 64-node x 8 V100 cluster under four policies, side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
echo
echo "== zs sim: Philly trace (82,247 jobs) on data/clusters/philly.yaml =="
build/release/zs sim --cluster data/clusters/philly.yaml --trace data/traces/philly/pollux_philly.csv \
  --compare fifo,easy,las,srtf
