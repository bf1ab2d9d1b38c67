// Summary metrics of one simulation run (what `zs sim` prints per policy).
#pragma once
#include <string>
#include <vector>

#include "sim/simulator.h"

namespace zs {

struct TenantMetrics {
  std::string tenant;
  int jobs = 0;
  double avg_jct_s = 0;
  double avg_queue_s = 0;
};

struct PolicyMetrics {
  std::string policy;
  int jobs = 0;  // finished
  int rejected = 0;
  double avg_jct_s = 0, p50_jct_s = 0, p95_jct_s = 0, p99_jct_s = 0;
  double avg_queue_s = 0;           // time waiting (JCT minus time running), averaged
  double avg_bounded_slowdown = 0;  // max(1, JCT / max(run, 10 s))
  double makespan_s = 0;            // first submit to last finish
  double utilization = 0;           // busy accelerator-time / (accelerators x makespan)
  double fragmentation = 0;         // time-weighted share of free devices on partly used nodes
  long preemptions = 0;
  int backfilled = 0;
  int killed_at_walltime = 0;
  long passes = 0;
  std::vector<TenantMetrics> tenants;  // sorted by tenant name
};

// Percentiles use the nearest-rank method on the sorted JCTs.
PolicyMetrics compute_metrics(const SimResult& r);

}  // namespace zs
