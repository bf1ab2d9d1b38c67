// Job-state filters in Slurm's vocabulary, as `squeue -t` and `scancel -t` take them:
// "PD", "R", "PENDING,RUNNING", "cd,f", "all". Pure.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/job_record.h"

namespace zs {

// A set of job states.
class StateFilter {
 public:
  static StateFilter all();
  static StateFilter active();  // pending and running: what squeue shows by default
  void add(JobState s) { mask_ |= bit(s); }
  bool contains(JobState s) const { return (mask_ & bit(s)) != 0; }
  bool is_all() const { return mask_ == all().mask_; }
  bool empty() const { return mask_ == 0; }
  // True when every state in the set is pending or running.
  bool within_active() const { return (mask_ & ~active().mask_) == 0; }
  // The one state in the set, if it holds exactly one.
  bool single(JobState& s) const;
  bool operator==(const StateFilter&) const = default;

 private:
  static std::uint32_t bit(JobState s) { return std::uint32_t{1} << static_cast<unsigned>(s); }
  std::uint32_t mask_ = 0;
};

// A comma list of states, case-insensitive, each one of:
//   Slurm's names and short forms of the states Zhisuan has: PENDING/PD, RUNNING/R,
//   COMPLETED/CD, FAILED/F, CANCELLED/CA, TIMEOUT/TO, NODE_FAIL/NF (also Zhisuan's own
//   lower-case names, "node-fail" too);
//   "all" (every state) and "active" (pending and running);
//   Slurm's other states (COMPLETING/CG, SUSPENDED/S, PREEMPTED/PR, REQUEUED/RQ,
//   OUT_OF_MEMORY/OOM, BOOT_FAIL/BF, DEADLINE/DL, ...): accepted, as squeue does, and match no job
//   (Zhisuan's jobs never are in them: a preempted or requeued job is pending again).
// Throws InputError(where, ...) on an unknown word or an empty entry.
StateFilter parse_state_filter(std::string_view text, const std::string& where = "--state");

}  // namespace zs
