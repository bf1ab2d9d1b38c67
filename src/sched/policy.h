// A scheduling policy: a pure function of (snapshot, now) -> decisions.
//
// No clock, threads, I/O or global state: the same snapshot and time give the same decisions,
// bit for bit, in the simulator and in the live controller. Ties are broken by job id.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sched/decision.h"
#include "sched/snapshot.h"

namespace zs {

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string_view name() const = 0;
  virtual Decisions decide(const Snapshot& snapshot, TimeMs now) const = 0;
  // True if the policy reads the oracle fields (remaining_ms): simulation only.
  virtual bool needs_oracle() const { return false; }
  // True if the policy reads walltime limits to plan (reservations, estimated run times): with
  // walltimes made from the real durations (zs sim --walltime exact) it is clairvoyant.
  virtual bool reads_walltimes() const { return false; }
  // True if the policy may preempt running jobs.
  virtual bool preemptive() const { return false; }
  // True if the policy reads Snapshot::las_index when the driver keeps one (it then saves the
  // policy work on every pass; decisions are the same without it).
  virtual bool uses_las_index() const { return false; }
  // The key by which the policy orders the waiting jobs, if it reads Snapshot::keyed_index when
  // the driver keeps one (again it saves work on every pass; decisions are the same without).
  virtual std::optional<WaitKey> keyed_by() const { return std::nullopt; }
};

// One of policy_names(). Throws InputError naming the known policies otherwise.
std::unique_ptr<Policy> make_policy(std::string_view name);

// "3600,36000" (--las-thresholds, for zs sim and zs controller): increasing positive numbers of
// accelerator-seconds. InputError(where, ...) otherwise.
std::vector<double> parse_las_thresholds(std::string_view text, const std::string& where);
const std::vector<std::string>& policy_names();

}  // namespace zs
