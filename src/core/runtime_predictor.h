// Run-time prediction learned online from the jobs that have ended (docs/prediction.md).
//
// Users submit the same kinds of jobs again and again: Tsafrir, Etsion and Feitelson (2007)
// showed that the mean of a user's last two run times predicts the next one well enough to
// improve EASY backfilling. Jobs are grouped by what is known of them before they run (user,
// job name, tenant, requested count); a prediction comes from the narrowest group that has
// enough history, falling back to broader ones, and never exceeds the job's walltime.
//
// The predictor only learns what `observe` tells it: a driver that observes a job when it
// ends, and never before, cannot leak a run time into a decision made earlier (the no-peeking
// tests check this). Updates and queries are O(levels) hash lookups.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>
#include <unordered_map>

#include "core/job.h"
#include "core/job_groups.h"
#include "core/service_distribution.h"
#include "core/time.h"

namespace zs {

class RuntimePredictor {
 public:
  // The groups, narrowest first (core/job_groups.h).
  using Level = JobGroupLevel;
  static constexpr std::size_t kLevels = kJobGroupLevels;
  static std::string_view level_name(Level l) { return job_group_level_name(l); }

  struct Options {
    int min_history = 2;               // jobs a group needs before it predicts
    TimeMs no_history_ms = 3'600'000;  // a job without walltime when nothing has ended yet
    // Groups kept at most (~48 bytes each): names come from users, and a controller runs for
    // months. Past the cap no new group is made; existing ones and the levels without a name
    // or user (at most tenants x sizes) still learn.
    std::size_t max_groups = 1u << 20;
  };

  struct Prediction {
    TimeMs ms = 0;  // > 0
    Level level = Level::kNone;
  };

  RuntimePredictor() = default;
  explicit RuntimePredictor(Options o) : opt_(o) {}

  // The predicted run time of `job` from what has been observed so far, capped at its
  // walltime (when it has one).
  Prediction predict(const Job& job) const;
  // `job` ended after running `ran_ms` (its whole run; a job killed at its walltime ran that
  // long as far as anyone can know). service() learns ran_ms x its accelerators.
  void observe(const Job& job, TimeMs ran_ms);
  std::size_t observed() const { return observed_; }
  // The service (run time x accelerators) of the same ended jobs, as a distribution per group:
  // what `gittins` ranks by (core/service_distribution.h).
  const ServiceDistribution& service() const { return service_; }
  std::size_t groups() const { return groups_.size(); }

  // The prediction of a job that has run `elapsed` so far against `predicted`: while a job
  // outlives its prediction, the prediction doubles (at least one more minute each time), up to
  // its walltime (0: none). Never a kill: the walltime stays the only limit. A function of the
  // elapsed time alone, not of when anyone asked: a driver that looks more often sees the same.
  static TimeMs extended(TimeMs predicted, TimeMs elapsed, TimeMs walltime);

 private:
  struct Group {
    std::uint32_t n = 0;
    TimeMs last = 0, previous = 0;
  };
  Options opt_;
  std::unordered_map<std::uint64_t, Group> groups_;
  ServiceDistribution service_;
  std::size_t observed_ = 0;
};

// Accumulates how far predictions were from the run times that followed.
class PredictionErrors {
 public:
  void add(TimeMs predicted, TimeMs actual);
  std::size_t count() const { return relative_.size(); }
  double mean_absolute_s() const;
  double median_relative() const;  // median of |predicted - actual| / max(actual, 1 s)
  double under_share() const;      // share of predictions below the actual run time

 private:
  double abs_sum_ms_ = 0;
  std::size_t under_ = 0;
  std::vector<double> relative_;
};

}  // namespace zs
