#include "sim/workload_adjust.h"

#include <algorithm>
#include <cmath>

#include "core/input_error.h"
#include "core/text.h"

namespace zs {

WalltimeRule parse_walltime_rule(const std::string& text) {
  WalltimeRule r;
  const std::string t = to_lower(trim(text));
  if (t == "exact") return r;
  if (t == "none") {
    r.kind = WalltimeRule::Kind::kNone;
    return r;
  }
  if (t.rfind("uniform:", 0) == 0) {
    auto parts = split(std::string_view(t).substr(8), '-');
    if (parts.size() == 2) {
      auto lo = parse_double(parts[0]), hi = parse_double(parts[1]);
      if (lo && hi && *lo >= 1 && *hi >= *lo && *hi <= 1000) {
        r.kind = WalltimeRule::Kind::kUniform;
        r.lo = *lo;
        r.hi = *hi;
        return r;
      }
    }
    throw InputError("--walltime",
                     "'" + text + "': expected uniform:LO-HI with 1 <= LO <= HI <= 1000");
  }
  if (!t.empty() && t.back() == 'x') {
    auto f = parse_double(std::string_view(t).substr(0, t.size() - 1));
    if (!f || *f < 1 || *f > 1000)
      throw InputError("--walltime", "'" + text + "': the factor must be in 1..1000");
    r.kind = WalltimeRule::Kind::kFactor;
    r.lo = r.hi = *f;
    return r;
  }
  auto s = parse_duration_s(t);
  if (!s || *s <= 0)
    throw InputError(
        "--walltime",
        "'" + text + "' is not exact, none, a factor like 2x, uniform:1-4, or a duration like 4h");
  r.kind = WalltimeRule::Kind::kFixed;
  r.fixed = *s * kMsPerSecond;
  return r;
}

namespace {
// SplitMix64: a tiny, well-mixed, seedable generator; the same (seed, id) always gives the
// same number on every platform.
std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
}  // namespace

WorkloadAdjusted adjust_workload(std::vector<Job>& jobs, const WorkloadAdjust& adj) {
  WorkloadAdjusted out;
  if (adj.limit > 0 && static_cast<std::size_t>(adj.limit) < jobs.size()) {
    std::stable_sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) {
      return a.submit != b.submit ? a.submit < b.submit : a.id < b.id;
    });
    jobs.resize(static_cast<std::size_t>(adj.limit));
  }
  if (adj.load > 0 && adj.load != 1.0) {
    TimeMs t0 = jobs.empty() ? 0 : jobs.front().submit;
    for (const auto& j : jobs) t0 = std::min(t0, j.submit);
    for (auto& j : jobs)
      j.submit =
          t0 + static_cast<TimeMs>(std::llround(static_cast<double>(j.submit - t0) / adj.load));
  }
  for (auto& j : jobs) {
    if (j.walltime > 0) continue;
    const auto& w = adj.walltime;
    const double d = static_cast<double>(std::max<TimeMs>(j.duration, 1000));
    switch (w.kind) {
      case WalltimeRule::Kind::kExact:
        j.walltime = std::max<TimeMs>(j.duration, 1);
        ++out.walltimes_reveal_durations;
        break;
      case WalltimeRule::Kind::kFactor:
        j.walltime = static_cast<TimeMs>(std::ceil(d * w.lo));
        ++out.walltimes_reveal_durations;
        break;
      case WalltimeRule::Kind::kUniform: {
        const double u =
            static_cast<double>(splitmix64(adj.seed * 0x100000001B3ull ^ j.id) >> 11) * 0x1.0p-53;
        j.walltime = static_cast<TimeMs>(std::ceil(d * (w.lo + (w.hi - w.lo) * u)));
        break;
      }
      case WalltimeRule::Kind::kFixed:
        j.walltime = w.fixed;
        break;
      case WalltimeRule::Kind::kNone:
        break;
    }
  }
  return out;
}

}  // namespace zs
