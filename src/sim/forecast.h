// Start-time forecasts ("when will my job start?", like squeue --start): the current queue
// simulated forward, through the same policy, with predicted run times in place of the real ones.
//
// Two steps, so that a live controller holds its lock only for the first:
//  - capture_forecast copies what a pass saw (a Snapshot) into a self-contained input. It reads
//    the predictions (PendingJob::predicted_ms, RunningJob::predicted_end), never a job's real
//    duration or the oracle fields: a forecast knows what the scheduler knows.
//  - forecast_starts replays that input from `now` (simulate_from) until every waiting job has
//    started or the horizon is reached. No job arrives in a forecast: later submissions of
//    higher priority, or shorter ones under a preemptive policy, make the real start later.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/cluster.h"
#include "core/job.h"
#include "sched/policy.h"
#include "sim/simulator.h"

namespace zs {

// Moved, never copied: the seed points into `ranks`.
struct ForecastInput {
  ForecastInput() = default;
  ForecastInput(ForecastInput&&) = default;
  ForecastInput& operator=(ForecastInput&&) = default;
  ForecastInput(const ForecastInput&) = delete;
  ForecastInput& operator=(const ForecastInput&) = delete;
  Cluster cluster;
  const Catalog* catalog = nullptr;
  const ThroughputTable* throughput = nullptr;  // must outlive the input
  SchedParams params;
  const TenantShares* shares = nullptr;  // must outlive the input
  std::vector<Job> jobs;                 // running first, then waiting; durations predicted
  SimSeed seed;
  // gittins: copies of the learned service distributions the jobs had (the seed points here;
  // the driver's own may change while the forecast runs on another thread).
  std::vector<ServiceDistribution::Ranks> ranks;
};

struct StartForecast {
  JobId job = 0;
  TimeMs start = -1;  // -1: none (not before the horizon, or it never fits)
};

struct ForecastOptions {
  // How far ahead to look; a job that has not started by then has no estimate.
  TimeMs horizon_ms = 365LL * 24 * 3600 * 1000;
  // Only these waiting jobs need an estimate (empty: all); the replay stops once they started.
  std::vector<JobId> only;
  TimeMs preempt_cost_ms = 30'000;
  // Estimates are this coarse: runs end, and passes happen, on ticks of this length (a
  // prediction is rarely closer than a minute; exact ends would cost a pass each). Ticks double
  // every `ticks_per_doubling` ticks, so that an estimate d ahead is late by at most about
  // d / ticks_per_doubling from the ticks (a day ahead: ~45 min, small beside the error of the
  // predictions), and a forecast of a day costs ~200 passes.
  TimeMs tick_ms = 60'000;
  int ticks_per_doubling = 32;
};

// A run time for a job the predictor knows nothing about: its walltime, else one hour (the
// predictor's own default, core/runtime_predictor.h).
TimeMs forecast_run_ms(const PendingJob& p);

// `max_waiting`: at most this many waiting jobs, the first in (priority, submit) order, as
// Slurm's backfill looks at bf_max_job_test jobs; the others get no estimate. A queue of a
// million jobs must not make a copy of a million jobs under the controller's lock.
ForecastInput capture_forecast(const Snapshot& snapshot, TimeMs now,
                               std::size_t max_waiting = static_cast<std::size_t>(-1));

// One estimate per waiting job of the input, in its order. Deterministic.
std::vector<StartForecast> forecast_starts(const ForecastInput& input, const Policy& policy,
                                           const ForecastOptions& options = {});

}  // namespace zs
