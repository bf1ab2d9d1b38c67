#include "sched/policy.h"

#include "core/input_error.h"
#include "core/text.h"
#include "sched/backfill_policy.h"
#include "sched/preemptive_policy.h"

namespace zs {

const std::vector<std::string>& policy_names() {
  static const std::vector<std::string> names = {"fifo",   "easy",      "las", "srtf",
                                                 "hetero", "easy-pred", "spf", "gittins"};
  return names;
}

std::vector<double> parse_las_thresholds(std::string_view text, const std::string& where) {
  std::vector<double> out;
  for (auto p : split(text, ',')) {
    auto v = parse_double(p);
    if (!v || *v <= 0)
      throw InputError(where,
                       "'" + std::string(p) + "' is not a positive number of accelerator-seconds");
    if (!out.empty() && *v <= out.back())
      throw InputError(where, "thresholds must increase: " + std::string(text));
    out.push_back(*v);
  }
  if (out.empty()) throw InputError(where, "expected thresholds such as 3600,36000");
  return out;
}

std::unique_ptr<Policy> make_policy(std::string_view name) {
  if (name == "fifo") return std::make_unique<BackfillPolicy>(BackfillPolicy::Mode::kFifo);
  if (name == "easy") return std::make_unique<BackfillPolicy>(BackfillPolicy::Mode::kEasy);
  if (name == "hetero") return std::make_unique<BackfillPolicy>(BackfillPolicy::Mode::kHetero);
  if (name == "easy-pred") return std::make_unique<BackfillPolicy>(BackfillPolicy::Mode::kEasyPred);
  if (name == "las") return std::make_unique<PreemptivePolicy>(PreemptivePolicy::Mode::kLas);
  if (name == "srtf") return std::make_unique<PreemptivePolicy>(PreemptivePolicy::Mode::kSrtf);
  if (name == "spf") return std::make_unique<PreemptivePolicy>(PreemptivePolicy::Mode::kSpf);
  if (name == "gittins")
    return std::make_unique<PreemptivePolicy>(PreemptivePolicy::Mode::kGittins);
  std::string known;
  for (const auto& n : policy_names()) known += (known.empty() ? "" : ", ") + n;
  throw InputError("--policy", "unknown policy '" + std::string(name) + "' (known: " + known + ")");
}

}  // namespace zs
