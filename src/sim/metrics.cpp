#include "sim/metrics.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace zs {

namespace {
constexpr double kSlowdownBoundS = 10.0;

double nearest_rank(const std::vector<double>& sorted, double pct) {
  if (sorted.empty()) return 0.0;
  auto rank = static_cast<std::size_t>(std::ceil(pct / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}
}  // namespace

PolicyMetrics compute_metrics(const SimResult& r, const TenantShares* shares) {
  PolicyMetrics m;
  m.policy = r.policy;
  m.passes = r.passes;
  m.clairvoyant = r.clairvoyant;
  m.predictions = r.predictions;
  m.prediction_mae_s = r.prediction_mae_s;
  m.prediction_median_rel = r.prediction_median_rel;
  m.prediction_under_share = r.prediction_under_share;
  m.forecasts = r.forecasts;
  m.forecasts_without_estimate = r.forecasts_without_estimate;
  m.forecast_median_abs_s = r.forecast_median_abs_s;
  m.forecast_p90_abs_s = r.forecast_p90_abs_s;
  m.forecast_early_share = r.forecast_early_share;
  m.forecast_median_wait_s = r.forecast_median_wait_s;
  m.preemptions = r.preemptions;
  std::vector<double> jcts;
  double queue_sum = 0, slowdown_sum = 0;
  std::map<std::string, TenantMetrics> tenants;
  for (const auto& j : r.jobs) {
    auto& t = tenants[j.tenant];
    t.tenant = j.tenant;
    t.accel_hours += j.accel_ms / 3.6e6;
    t.cost += j.cost;
    t.preemptions += j.preemptions;
    m.accel_hours += j.accel_ms / 3.6e6;
    m.cost += j.cost;
    if (j.rejected) {
      ++m.rejected;
      continue;
    }
    if (j.end < 0) continue;
    const double jct = ms_to_seconds(j.end - j.submit);
    const double run = ms_to_seconds(j.run_ms);
    const double queue = std::max(0.0, jct - run);
    jcts.push_back(jct);
    queue_sum += queue;
    slowdown_sum += std::max(1.0, jct / std::max(run, kSlowdownBoundS));
    m.backfilled += j.backfilled ? 1 : 0;
    m.killed_at_walltime += j.killed_at_walltime ? 1 : 0;
    t.jobs += 1;
    t.avg_jct_s += jct;
    t.avg_queue_s += queue;
  }
  m.jobs = static_cast<int>(jcts.size());
  if (!jcts.empty()) {
    double sum = 0;
    for (double v : jcts) sum += v;
    m.avg_jct_s = sum / static_cast<double>(jcts.size());
    m.avg_queue_s = queue_sum / static_cast<double>(jcts.size());
    m.avg_bounded_slowdown = slowdown_sum / static_cast<double>(jcts.size());
    std::sort(jcts.begin(), jcts.end());
    m.p50_jct_s = nearest_rank(jcts, 50);
    m.p95_jct_s = nearest_rank(jcts, 95);
    m.p99_jct_s = nearest_rank(jcts, 99);
  }
  const double span_ms = static_cast<double>(r.last_end - r.first_submit);
  m.makespan_s = span_ms / 1000.0;
  if (span_ms > 0 && r.total_accels > 0) {
    m.utilization = std::clamp(r.busy_accel_ms / (span_ms * r.total_accels), 0.0, 1.0);
    m.fragmentation = std::clamp(r.fragmentation_ms / span_ms, 0.0, 1.0);
  }
  if (shares)
    for (const auto& s : shares->tenants) tenants[s.name].tenant = s.name;
  for (auto& [name, t] : tenants) {
    if (t.jobs > 0) {
      t.avg_jct_s /= t.jobs;
      t.avg_queue_s /= t.jobs;
    }
    if (shares)
      for (const auto& q : shares->share_of(name).quota) t.guaranteed += q.guaranteed;
    if (m.makespan_s > 0) t.avg_used = t.accel_hours * 3600.0 / m.makespan_s;
    m.tenants.push_back(t);
  }
  return m;
}

}  // namespace zs
