#include "core/state_filter.h"

#include <array>

#include "core/input_error.h"
#include "core/slurm_values.h"
#include "core/text.h"

namespace zs {
namespace {

struct StateName {
  std::string_view name, short_name;
  JobState state;
};
constexpr std::array<StateName, 7> kStates{{
    {"pending", "pd", JobState::pending},
    {"running", "r", JobState::running},
    {"completed", "cd", JobState::completed},
    {"failed", "f", JobState::failed},
    {"cancelled", "ca", JobState::cancelled},
    {"timeout", "to", JobState::timeout},
    {"node_fail", "nf", JobState::node_fail},
}};

// Slurm's states that no Zhisuan job is ever in (squeue accepts them; they match nothing).
constexpr std::string_view kSlurmOnly[] = {
    "boot_fail",     "bf",  "completing",   "cg", "configuring",   "cf", "deadline",    "dl",
    "out_of_memory", "oom", "preempted",    "pr", "resv_del_hold", "rd", "requeue_fed", "rf",
    "requeue_hold",  "rh",  "requeued",     "rq", "resizing",      "rs", "revoked",     "rv",
    "signaling",     "si",  "special_exit", "se", "stage_out",     "so", "stopped",     "st",
    "suspended",     "s"};

}  // namespace

StateFilter StateFilter::all() {
  StateFilter f;
  for (const auto& s : kStates) f.add(s.state);
  return f;
}

StateFilter StateFilter::active() {
  StateFilter f;
  f.add(JobState::pending);
  f.add(JobState::running);
  return f;
}

bool StateFilter::single(JobState& s) const {
  if (mask_ == 0 || (mask_ & (mask_ - 1)) != 0) return false;
  for (const auto& n : kStates)
    if (contains(n.state)) s = n.state;
  return true;
}

StateFilter parse_state_filter(std::string_view text, const std::string& where) {
  StateFilter f;
  for (std::string_view part : split(text, ',')) {
    std::string word = to_lower(trim(part));
    for (char& c : word)
      if (c == '-') c = '_';
    if (word.empty())
      throw InputError(where, "empty state in " + quote_value(text) + " (a comma list of states)");
    if (word == "all") {
      f = StateFilter::all();
      continue;
    }
    if (word == "active") {
      f.add(JobState::pending);
      f.add(JobState::running);
      continue;
    }
    bool known = false;
    for (const auto& s : kStates)
      if (word == s.name || word == s.short_name) {
        f.add(s.state);
        known = true;
      }
    for (std::string_view other : kSlurmOnly) known = known || word == other;
    if (!known)
      throw InputError(where, "unknown job state " + quote_value(part) +
                                  " (expected PENDING/PD, RUNNING/R, COMPLETED/CD, FAILED/F, "
                                  "CANCELLED/CA, TIMEOUT/TO, NODE_FAIL/NF, or all)");
  }
  return f;
}

}  // namespace zs
