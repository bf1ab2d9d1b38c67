#!/usr/bin/env bash
# Issue 17: every policy, with the learned run times, on every shipped trace with the honest
# walltimes (users' usual 1-4x overestimate, --walltime uniform:1-4), as Markdown: average, p99
# JCT and bounded slowdown per policy, the clairvoyant ones starred, and the predictor's error.
# Usage: bench/prediction_tables.sh > /tmp/prediction.md
set -euo pipefail
cd "$(dirname "$0")/.."
ZS=${ZS:-build/release/zs}
ALL=fifo,easy,las,hetero,easy-pred,spf,gittins,srtf
run() {  # title, cluster, trace, extra flags...
  local title=$1 cluster=$2 trace=$3; shift 3
  echo "### $title"
  echo
  echo "\`zs sim --cluster $cluster --trace $trace --compare $ALL --walltime uniform:1-4 $*\`"
  echo
  echo '```'
  "$ZS" sim --cluster "$cluster" --trace "$trace" --compare "$ALL" --walltime uniform:1-4 \
    --no-progress "$@"
  echo '```'
  echo
}
run "Philly (82,247 jobs) on 64 x 8 V100" data/clusters/philly.yaml data/traces/philly/pollux_philly.csv
run "ElasticFlow Philly VC 103959, arrivals 8x as fast" data/clusters/elasticflow.yaml data/traces/philly_derived/elasticflow_philly_103959.csv --load 8
for vc in 6214e9 11cb48 ee9e8c; do
  run "Gavel msr trace, VC $vc, on the heterogeneous Gavel cluster" data/clusters/gavel-hetero.yaml data/traces/gavel/msr_philly_vc_seed0/$vc.trace
done
run "Gavel physical-cluster trace (artifact_evaluation)" data/clusters/gavel-hetero.yaml data/traces/gavel/physical_cluster/artifact_evaluation.trace
for w in 1 4 8; do
  run "Pollux workload-$w (160 jobs, estimated durations)" data/clusters/pollux.yaml data/traces/pollux_workloads/workload-$w.csv
done
# A real HPC log with users and their own requested times (SWF; --walltime only fills walltimes
# a log lacks, and this one has them all): one processor per node as one device.
run "KTH-SP2-1996 (SWF, 28,467 jobs, 214 users, users' requested times) on 100 x 1" 100x1xV100 data/traces/swf/KTH-SP2-1996-2.1-cln.swf --swf-per-node 1
