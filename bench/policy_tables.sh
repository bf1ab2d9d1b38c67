#!/usr/bin/env bash
# The policy comparison table for every shipped trace on its cluster, as Markdown (this is what
# docs/benchmarks.md records). Usage: bench/policy_tables.sh > /tmp/tables.md
set -euo pipefail
cd "$(dirname "$0")/.."
ZS=${ZS:-build/release/zs}
run() {  # title, cluster, trace, policies, extra flags...
  local title=$1 cluster=$2 trace=$3 policies=$4; shift 4
  echo "### $title"
  echo
  echo "\`zs sim --cluster $cluster --trace $trace --compare $policies $*\`"
  echo
  echo '```'
  "$ZS" sim --cluster "$cluster" --trace "$trace" --compare "$policies" --no-progress "$@"
  echo '```'
  echo
}
run "Philly (82,247 jobs) on 64 x 8 V100" data/clusters/philly.yaml data/traces/philly/pollux_philly.csv fifo,easy,las,srtf
run "Philly, walltimes overestimated 1-4x" data/clusters/philly.yaml data/traces/philly/pollux_philly.csv fifo,easy,las --walltime uniform:1-4
run "ElasticFlow Philly VC 103959 (876 jobs)" data/clusters/elasticflow.yaml data/traces/philly_derived/elasticflow_philly_103959.csv fifo,easy,las,srtf
run "ElasticFlow Philly VC 103959, arrivals 8x as fast" data/clusters/elasticflow.yaml data/traces/philly_derived/elasticflow_philly_103959.csv fifo,easy,las,srtf --load 8
for vc in 6214e9 11cb48 ee9e8c; do
  run "Gavel msr trace, VC $vc, on the heterogeneous Gavel cluster" data/clusters/gavel-hetero.yaml data/traces/gavel/msr_philly_vc_seed0/$vc.trace fifo,easy,las,srtf,hetero
done
run "Gavel physical-cluster trace (artifact_evaluation)" data/clusters/gavel-hetero.yaml data/traces/gavel/physical_cluster/artifact_evaluation.trace fifo,easy,las,srtf,hetero
for w in 1 2 3 4 5 6 7 8; do
  run "Pollux workload-$w (160 jobs, estimated durations)" data/clusters/pollux.yaml data/traces/pollux_workloads/workload-$w.csv fifo,easy,las,srtf
done
