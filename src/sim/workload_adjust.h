// What-if adjustments applied to a trace before simulation: walltime estimates for jobs that
// have none, arrival-rate scaling and truncation.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/job.h"

namespace zs {

// How jobs without a walltime limit get one (EASY backfill needs them):
//   "exact"          the real duration (perfect user estimates; the default)
//   "2x"             a factor of the real duration
//   "uniform:1-4"    a factor drawn per job, uniformly in [1, 4], from --seed and the job id
//   "4h", "1-00:00"  the same fixed limit for every job
//   "none"           leave them without a limit (backfill then cannot protect the head job)
struct WalltimeRule {
  enum class Kind { kExact, kFactor, kUniform, kFixed, kNone } kind = Kind::kExact;
  double lo = 1, hi = 1;
  TimeMs fixed = 0;
};
WalltimeRule parse_walltime_rule(const std::string& text);  // throws InputError("--walltime")

struct WorkloadAdjust {
  WalltimeRule walltime;
  std::uint64_t seed = 1;
  double load = 1.0;       // arrival times divided by this (2.0 = twice the arrival rate)
  std::int64_t limit = 0;  // keep only the first N jobs by submit time (0 = all)
};
struct WorkloadAdjusted {
  // Jobs whose new walltime is the real duration times a known factor (`exact`, `2x`): a
  // policy that reads those walltimes knows the durations - it is clairvoyant.
  std::size_t walltimes_reveal_durations = 0;
};
WorkloadAdjusted adjust_workload(std::vector<Job>& jobs, const WorkloadAdjust& adj);

}  // namespace zs
