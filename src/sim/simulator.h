// Discrete-event simulator: replays jobs against a cluster through the same `decide` as the
// controller. Deterministic: no wall clock, no randomness (inputs are fully ordered), ties by id.
//
// Event order at one instant: finishes, then arrivals, then one scheduling pass whose
// decisions are applied (preemptions, then starts, then rejections). A pass also runs at a
// policy's requested wake-up time.
#pragma once
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/tenant_shares.h"
#include "sched/policy.h"

namespace zs {

struct SimOptions {
  SchedParams sched;
  TimeMs preempt_cost_ms = 30'000;  // paid again by a preempted job each time it resumes
  // A policy's requested wake-up is rounded up to a multiple of this (a scheduling tick), so
  // that many jobs' lease ends and threshold crossings share one pass. 0 = exact.
  TimeMs wake_granularity_ms = 60'000;
  // Passes happen only on ticks of this length (0: at every event). Forecasts use it so that
  // job ends share passes: a forecast of 10,000 jobs needs a pass per tick, not per end. Runs
  // still end at their exact times, and a job started at a tick is taken to have started when
  // the devices it got were freed (not before the first change since the previous pass), so
  // that the ticks do not pile up along a chain of jobs, each waiting for the one before.
  TimeMs pass_tick_ms = 0;
  // With pass_tick_ms: ticks double in length every this many ticks after `tick_origin_ms`
  // (0: fixed ticks), so that a forecast a day ahead costs about as many passes as one an hour
  // ahead. Wake-ups then fall on the same ticks.
  int ticks_per_doubling = 0;
  TimeMs tick_origin_ms = 0;
  // Called now and then with the fraction of jobs finished (for a progress bar); may be empty.
  std::function<void(double)> progress;
  bool record_reservations = false;  // keep EASY reservations for property tests
  // The jobs' walltimes were made from their real durations (--walltime exact or 2x): a
  // policy that reads walltimes is then clairvoyant (SimResult::clairvoyant).
  bool walltimes_reveal_durations = false;
  // Tests: after every pass, check each waiting job's last wait reason, kept lazily for group
  // waits (Decisions::group_waits), against one written down job by job (throws on a mismatch).
  bool check_wait_reasons = false;
  // Start-time forecasts measured (sim/forecast.h): at the submit of this many jobs, spread
  // evenly over the trace, the queue is forecast forward as a controller would (predicted run
  // times, the same policy) and the estimate compared with the start that followed. 0: none.
  std::size_t forecasts = 0;
  // Tenants' shares (quotas, fair share, prices, preemption with grace); null: no tenant rules,
  // and bills count accelerator-hours at price 1.
  const TenantShares* shares = nullptr;

  // Turns tenants' shares on: the file's preemption settings give the reclaim grace and the
  // minimum run (unless `keep_min_run`: a flag given explicitly wins - one mechanism).
  void use_shares(const TenantShares& s, bool keep_min_run) {
    shares = &s;
    sched.preempt_grace_ms = s.preemption.grace_ms;
    if (!keep_min_run) sched.min_run_ms = s.preemption.min_runtime_ms;
  }
};

struct JobOutcome {
  JobId id = 0;
  std::string tenant;
  std::string user;
  std::string partition;
  bool rejected = false;
  std::string reject_reason;
  TimeMs submit = 0;
  TimeMs first_start = -1;
  TimeMs last_start = -1;  // start of the last attempt
  TimeMs end = -1;
  TimeMs run_ms = 0;  // time holding accelerators, all runs (includes restart cost and grace)
  int accel_count = 0;
  int preemptions = 0;
  int attempts = 0;  // runs started
  int type = -1;     // type of the last run
  int nodes = 0;     // nodes of the last run
  // Billed, all attempts: accelerator-milliseconds held (grace included) and their cost at the
  // type's price per accelerator-hour (SimOptions::shares, else 1).
  double accel_ms = 0;
  double cost = 0;
  bool backfilled = false;
  bool killed_at_walltime = false;
};

struct ReservationRecord {
  JobId job = 0;
  TimeMs made_at = 0;
  TimeMs at = 0;
};

struct SimResult {
  std::string policy;
  std::vector<JobOutcome> jobs;  // in input order
  int total_accels = 0;
  TimeMs first_submit = 0, last_end = 0;
  double busy_accel_ms = 0;     // integral of busy accelerators over time
  double fragmentation_ms = 0;  // integral of FreePool::fragmentation() over time
  long passes = 0;              // scheduling passes run
  long preemptions = 0;
  std::vector<ReservationRecord> reservations;
  // The policy knew the real durations: it reads them (srtf), or reads walltimes made from them.
  bool clairvoyant = false;
  // The run-time predictor (core/runtime_predictor.h), learning from the jobs that ended in this
  // run: each job's prediction made at its submit against the run time that followed.
  std::size_t predictions = 0;
  double prediction_mae_s = 0;        // mean absolute error, seconds
  double prediction_median_rel = 0;   // median of |predicted - actual| / max(actual, 1 s)
  double prediction_under_share = 0;  // share predicted below the actual run time
  // SimOptions::forecasts: of the sampled jobs that did not start at their submit, how many got
  // an estimate, how many none (not before the horizon), and the absolute error of the
  // estimates against their real first start (median, p90, seconds) and the share too early.
  std::size_t forecasts = 0, forecasts_without_estimate = 0;
  double forecast_median_abs_s = 0, forecast_p90_abs_s = 0, forecast_early_share = 0;
  double forecast_median_wait_s = 0;  // their real waits (submit to first start), for scale
};

// A state to start a simulation from instead of an empty cluster (sim/forecast.h): at `now`,
// some of the jobs run and the others wait; no job arrives later. Jobs are indices into the
// `jobs` given to simulate_from. Their durations are what the forecast believes (predictions),
// never what the simulation must not know.
struct SimSeed {
  struct Running {
    std::size_t job = 0;
    TypeId type = 0;
    Placement placement;
    TimeMs started = 0;
    TimeMs attained_before_ms = 0;  // accelerator-ms of its earlier runs
    TimeMs end = 0;                 // when it is expected to end (>= now)
    TimeMs expected_end = kNever;   // its walltime limit
    TimeMs waited_ms = 0, previous_run_ms = 0;
    const ServiceDistribution::Ranks* service_ranks = nullptr;  // gittins (RunningJob)
  };
  struct Waiting {
    std::size_t job = 0;
    TimeMs waiting_since = 0;
    TimeMs attained_ms = 0;
    TimeMs last_run_ms = 0;
    TimeMs predicted_ms = 0;
    const ServiceDistribution::Ranks* service_ranks = nullptr;  // gittins (PendingJob)
  };
  TimeMs now = 0;
  // Nodes' health and whether they are up (free devices follow from the running jobs).
  std::vector<NodeState> nodes;
  std::vector<Running> running;
  std::vector<Waiting> waiting;
  // Waiting too, but no one waits for their start: the replay may stop before it.
  std::vector<Waiting> waiting_untracked;
  // Tenants' decayed fair-share usage at `now`, by tenant name (with SimOptions::shares).
  std::vector<std::pair<std::string, double>> tenant_usage;
  // Stop once every job of `waiting` has started, or at this time (kNever: when nothing is left).
  TimeMs horizon = kNever;
};

// `jobs` must have unique ids; they are replayed in (submit, id) order. A job that can never
// fit is rejected at its arrival. Throws std::logic_error if a policy returns an invalid decision
// (double-booked device, unknown job) - that is a bug, not bad input.
SimResult simulate(const Cluster& cluster, const Catalog& catalog, const ThroughputTable* speeds,
                   std::span<const Job> jobs, const Policy& policy, const SimOptions& options);
// The same from `seed`: every job is in it, running or waiting. Outcomes: first_start is a
// waiting job's first start (-1: none before the horizon, or never placed).
SimResult simulate_from(const Cluster& cluster, const Catalog& catalog,
                        const ThroughputTable* speeds, std::span<const Job> jobs,
                        const SimSeed& seed, const Policy& policy, const SimOptions& options);

}  // namespace zs
