// Summary metrics of one simulation run (what `zs sim` prints per policy).
#pragma once
#include <string>
#include <vector>

#include "sim/simulator.h"

namespace zs {

struct TenantMetrics {
  std::string tenant;
  int jobs = 0;  // finished
  double avg_jct_s = 0;
  double avg_queue_s = 0;  // averages over the finished jobs
  // Over all the tenant's jobs and attempts (grace and restart cost included):
  double accel_hours = 0;  // accelerator-hours held
  double cost = 0;         // their bill (JobOutcome::cost)
  long preemptions = 0;
  int guaranteed = 0;   // devices guaranteed over all types by the shares; 0 without shares
  double avg_used = 0;  // accel_hours / makespan: devices held on average over the run
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
  double accel_hours = 0;  // all jobs, all attempts
  double cost = 0;
  bool clairvoyant = false;  // SimResult::clairvoyant
  // The run-time predictor's error in this run (SimResult::prediction_*).
  std::size_t predictions = 0;
  double prediction_mae_s = 0, prediction_median_rel = 0, prediction_under_share = 0;
  // Start-time forecasts (SimResult::forecast*), when measured.
  std::size_t forecasts = 0, forecasts_without_estimate = 0;
  double forecast_median_abs_s = 0, forecast_p90_abs_s = 0, forecast_early_share = 0;
  double forecast_median_wait_s = 0;
  // Sorted by tenant name: every tenant with a job in the trace, and every tenant the shares
  // list (a promise nobody used shows as guaranteed > 0, avg_used 0).
  std::vector<TenantMetrics> tenants;
};

// Percentiles use the nearest-rank method on the sorted JCTs. `shares` (may be null) gives
// each tenant's guarantee.
PolicyMetrics compute_metrics(const SimResult& r, const TenantShares* shares = nullptr);

}  // namespace zs
