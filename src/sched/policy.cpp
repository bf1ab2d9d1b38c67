#include "sched/policy.h"

#include "core/input_error.h"
#include "sched/backfill_policy.h"
#include "sched/preemptive_policy.h"

namespace zs {

const std::vector<std::string>& policy_names() {
  static const std::vector<std::string> names = {"fifo", "easy", "las", "srtf", "hetero"};
  return names;
}

std::unique_ptr<Policy> make_policy(std::string_view name) {
  if (name == "fifo") return std::make_unique<BackfillPolicy>(BackfillPolicy::Mode::kFifo);
  if (name == "easy") return std::make_unique<BackfillPolicy>(BackfillPolicy::Mode::kEasy);
  if (name == "hetero") return std::make_unique<BackfillPolicy>(BackfillPolicy::Mode::kHetero);
  if (name == "las") return std::make_unique<PreemptivePolicy>(PreemptivePolicy::Mode::kLas);
  if (name == "srtf") return std::make_unique<PreemptivePolicy>(PreemptivePolicy::Mode::kSrtf);
  std::string known;
  for (const auto& n : policy_names()) known += (known.empty() ? "" : ", ") + n;
  throw InputError("--policy", "unknown policy '" + std::string(name) + "' (known: " + known + ")");
}

}  // namespace zs
