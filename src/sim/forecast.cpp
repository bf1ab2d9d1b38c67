#include "sim/forecast.h"

#include <algorithm>
#include <numeric>
#include <unordered_map>

#include "core/fair_share.h"
#include "core/runtime_predictor.h"
#include "sched/placement_search.h"

namespace zs {

TimeMs forecast_run_ms(const PendingJob& p) {
  if (p.predicted_ms > 0) return p.predicted_ms;
  if (p.job->walltime > 0) return p.job->walltime;
  return RuntimePredictor::Options{}.no_history_ms;
}

namespace {

// A copy of what the scheduler knows of a job, with `duration` set to the belief.
Job believed(const Job& job, TimeMs duration) {
  Job j = job;
  j.duration = std::max<TimeMs>(duration, 1);
  j.model = -1;  // the run time is a belief about its recorded type: no speed scaling twice
  j.recorded_type = -1;
  return j;
}

}  // namespace

ForecastInput capture_forecast(const Snapshot& snap, TimeMs now, std::size_t max_waiting) {
  ForecastInput in;
  in.cluster = *snap.cluster;
  in.catalog = snap.catalog;
  in.throughput = snap.throughput;
  in.params = snap.params;
  in.shares = snap.shares;
  in.seed.now = now;
  in.seed.nodes.assign(snap.nodes.begin(), snap.nodes.end());
  in.jobs.reserve(snap.running.size() + snap.pending.size());
  // Fair share: the sim charges running jobs from their start again, so the usage it starts
  // from is the tenants' usage less what their running jobs accrued so far.
  std::unordered_map<std::string, double> usage;
  // The ranks are copied first (a vector that never grows after: the seed points into it).
  std::unordered_map<const ServiceDistribution::Ranks*, std::size_t> rank_index;
  auto note_ranks = [&](const ServiceDistribution::Ranks* r) {
    if (r && rank_index.emplace(r, in.ranks.size()).second) in.ranks.push_back(*r);
  };
  for (const RunningJob& r : snap.running) note_ranks(r.service_ranks);
  for (const PendingJob& p : snap.pending) note_ranks(p.service_ranks);
  auto ranks_of = [&](const ServiceDistribution::Ranks* r) -> const ServiceDistribution::Ranks* {
    return r ? &in.ranks[rank_index.at(r)] : nullptr;
  };
  if (snap.shares)
    for (const PendingJob& p : snap.pending)
      if (p.job->tenant_index >= 0 &&
          static_cast<std::size_t>(p.job->tenant_index) < snap.tenants.size())
        usage[p.job->tenant] = snap.tenants[static_cast<std::size_t>(p.job->tenant_index)].usage;
  for (const RunningJob& r : snap.running) {
    // What it is expected to run in all (a running job outlives its prediction only until the
    // driver extends it, and never past its walltime).
    TimeMs end = r.predicted_end < kNever ? r.predicted_end : r.expected_end;
    if (end >= kNever) end = now + RuntimePredictor::Options{}.no_history_ms;
    end = std::max(end, now);
    SimSeed::Running s;
    s.job = in.jobs.size();
    s.type = r.type;
    s.placement = r.placement;
    s.started = r.started;
    s.attained_before_ms =
        std::max<TimeMs>(0, r.attained_accel_ms - (now - r.started) * r.job->accel_count);
    s.end = end;
    s.expected_end = r.expected_end;
    s.waited_ms = r.waited_ms;
    s.previous_run_ms = r.previous_run_ms;
    s.service_ranks = ranks_of(r.service_ranks);
    in.seed.running.push_back(std::move(s));
    in.jobs.push_back(believed(*r.job, end - r.started));
    if (snap.shares && r.job->tenant_index >= 0 &&
        static_cast<std::size_t>(r.job->tenant_index) < snap.tenants.size()) {
      const TenantView& t = snap.tenants[static_cast<std::size_t>(r.job->tenant_index)];
      auto [it, added] = usage.emplace(r.job->tenant, t.usage);
      it->second -= decayed_accrual(r.job->accel_count * snap.shares->price(r.type) / 3.6e6,
                                    r.started, now, snap.shares->half_life_ms);
    }
  }
  std::vector<std::uint32_t> waiting;
  if (snap.pending.size() > max_waiting) {
    waiting = priority_order(snap.pending);
    waiting.resize(max_waiting);
    std::sort(waiting.begin(), waiting.end());  // back in the snapshot's order
  } else {
    waiting.resize(snap.pending.size());
    std::iota(waiting.begin(), waiting.end(), 0u);
  }
  for (std::uint32_t k : waiting) {
    const PendingJob& p = snap.pending[k];
    SimSeed::Waiting w;
    w.job = in.jobs.size();
    w.waiting_since = p.waiting_since;
    w.attained_ms = p.attained_accel_ms;
    w.last_run_ms = p.last_run_ms;
    w.predicted_ms = forecast_run_ms(p);
    w.service_ranks = ranks_of(p.service_ranks);
    in.seed.waiting.push_back(w);
    in.jobs.push_back(believed(*p.job, w.predicted_ms));
  }
  for (auto& [name, u] : usage) in.seed.tenant_usage.emplace_back(name, std::max(0.0, u));
  std::sort(in.seed.tenant_usage.begin(), in.seed.tenant_usage.end());
  return in;
}

std::vector<StartForecast> forecast_starts(const ForecastInput& in, const Policy& policy,
                                           const ForecastOptions& opt) {
  std::vector<StartForecast> out;
  out.reserve(in.seed.waiting.size());
  for (const SimSeed::Waiting& w : in.seed.waiting) out.push_back({in.jobs[w.job].id, -1});
  if (out.empty() || in.catalog == nullptr) return out;

  SimSeed seed = in.seed;
  seed.horizon = opt.horizon_ms >= kNever - seed.now ? kNever : seed.now + opt.horizon_ms;
  if (!opt.only.empty()) {
    // Jobs not asked about still take their places in the queue; the replay just stops once
    // the ones asked about have started. Only those count as "waiting" for the stop.
    std::vector<JobId> only = opt.only;
    std::sort(only.begin(), only.end());
    std::vector<SimSeed::Waiting> first, rest;
    for (const SimSeed::Waiting& w : seed.waiting)
      (std::binary_search(only.begin(), only.end(), in.jobs[w.job].id) ? first : rest).push_back(w);
    seed.waiting = std::move(first);
    seed.waiting_untracked = std::move(rest);
  }
  SimOptions sim;
  sim.sched = in.params;
  sim.preempt_cost_ms = opt.preempt_cost_ms;
  sim.wake_granularity_ms = opt.tick_ms;
  sim.pass_tick_ms = opt.tick_ms;
  sim.ticks_per_doubling = opt.ticks_per_doubling;
  // Ticks on whole minutes (not counted from now): forecasts made a few seconds apart give the
  // same estimates instead of ones that wobble by up to a tick.
  sim.tick_origin_ms = opt.tick_ms > 0 ? in.seed.now / opt.tick_ms * opt.tick_ms : in.seed.now;
  if (in.shares) sim.use_shares(*in.shares, true);
  const SimResult r =
      simulate_from(in.cluster, *in.catalog, in.throughput, in.jobs, seed, policy, sim);
  for (std::size_t k = 0; k < in.seed.waiting.size(); ++k) {
    const JobOutcome& o = r.jobs[in.seed.waiting[k].job];
    out[k].start = o.first_start;
  }
  return out;
}

}  // namespace zs
