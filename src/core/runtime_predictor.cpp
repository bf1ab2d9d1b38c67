#include "core/runtime_predictor.h"

#include <algorithm>

namespace zs {

RuntimePredictor::Prediction RuntimePredictor::predict(const Job& job) const {
  const JobGroupKeys keys = job_group_keys(job);
  Prediction p;
  for (std::size_t l = 0; l < kLevels; ++l) {
    if (keys[l] == 0) continue;
    auto it = groups_.find(keys[l]);
    if (it == groups_.end() || it->second.n < static_cast<std::uint32_t>(opt_.min_history))
      continue;
    const Group& g = it->second;
    // The mean of the last two (Tsafrir et al.); one run when only one is known.
    p.ms = g.n >= 2 ? (g.last + g.previous + 1) / 2 : g.last;
    p.level = static_cast<Level>(l);
    break;
  }
  if (p.level == Level::kNone) p.ms = job.walltime > 0 ? job.walltime : opt_.no_history_ms;
  if (job.walltime > 0) p.ms = std::min(p.ms, job.walltime);
  p.ms = std::max<TimeMs>(p.ms, 1);
  return p;
}

void RuntimePredictor::observe(const Job& job, TimeMs ran_ms) {
  ran_ms = std::max<TimeMs>(ran_ms, 0);
  const JobGroupKeys keys = job_group_keys(job);
  for (std::size_t l = 0; l < kLevels; ++l) {
    const std::uint64_t k = keys[l];
    if (k == 0) continue;
    auto it = groups_.find(k);
    if (it == groups_.end()) {
      if (groups_.size() >= opt_.max_groups && !is_broad_level(static_cast<Level>(l))) continue;
      it = groups_.emplace(k, Group{}).first;
    }
    Group& g = it->second;
    g.previous = g.last;
    g.last = ran_ms;
    if (g.n < ~std::uint32_t{0}) ++g.n;
  }
  service_.observe(job, ran_ms * std::max(job.accel_count, 1));
  ++observed_;
}

TimeMs RuntimePredictor::extended(TimeMs predicted, TimeMs elapsed, TimeMs walltime) {
  TimeMs p = std::max<TimeMs>(predicted, 1);
  if (walltime > 0) p = std::min(p, walltime);
  // At most ~60 doublings from 1 ms to the end of time.
  while (p <= elapsed && (walltime <= 0 || p < walltime) && p < kNever / 4)
    p = std::max(2 * p, p + 60'000);
  return walltime > 0 ? std::min(p, walltime) : p;
}

void PredictionErrors::add(TimeMs predicted, TimeMs actual) {
  const double off =
      static_cast<double>(predicted > actual ? predicted - actual : actual - predicted);
  abs_sum_ms_ += off;
  if (predicted < actual) ++under_;
  // Relative to at least one second: a job that ran 0 s is not infinitely mispredicted.
  relative_.push_back(off / static_cast<double>(std::max<TimeMs>(actual, 1000)));
}

double PredictionErrors::mean_absolute_s() const {
  return relative_.empty() ? 0 : abs_sum_ms_ / 1000.0 / static_cast<double>(relative_.size());
}

double PredictionErrors::median_relative() const {
  if (relative_.empty()) return 0;
  std::vector<double> v = relative_;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>((v.size() - 1) / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

double PredictionErrors::under_share() const {
  return relative_.empty() ? 0
                           : static_cast<double>(under_) / static_cast<double>(relative_.size());
}

}  // namespace zs
