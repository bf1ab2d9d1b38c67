// libFuzzer target: durations (parse_duration_s) and --walltime rules (parse_walltime_rule,
// then adjust_workload applying the rule).
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/input_error.h"
#include "core/text.h"
#include "fuzz_common.h"
#include "sim/workload_adjust.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = zs::fuzz::as_text(data, size);
  if (auto v = zs::parse_duration_s(text)) {
    // Callers turn seconds into milliseconds: anything accepted must fit.
    ZS_FUZZ_CHECK(*v >= 0 && *v <= std::numeric_limits<std::int64_t>::max() / 1000);
  }
  try {
    zs::WalltimeRule r = zs::parse_walltime_rule(std::string(text));
    std::vector<zs::Job> jobs(3);
    jobs[0].id = 1;
    jobs[1].id = 2;
    jobs[1].duration = 1500;
    jobs[2].id = 3;
    jobs[2].duration = 1'000'000'000'000;  // ~31 years
    zs::WorkloadAdjust adj;
    adj.walltime = r;
    adj.seed = size;
    zs::adjust_workload(jobs, adj);
    for (const auto& j : jobs)
      ZS_FUZZ_CHECK(r.kind == zs::WalltimeRule::Kind::kNone ? j.walltime == 0 : j.walltime > 0);
  } catch (const zs::InputError&) {
  }
  return 0;
}
