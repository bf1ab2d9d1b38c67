// The keys of the keyed preemptive policies (srtf, spf, gittins; docs/policies.md), shared by
// PreemptivePolicy and KeyedIndex so that both compute them the same way, bit for bit.
#pragma once
#include <algorithm>
#include <bit>
#include <cmath>

#include "core/runtime_predictor.h"
#include "core/service_distribution.h"
#include "sched/snapshot.h"

namespace zs::wait_key {

// spf: what is predicted to be left of a waiting job's work: its prediction (else its walltime,
// else an hour) doubled while the work it has done outlives it, minus that work.
inline TimeMs predicted_left(const PendingJob& p) {
  const Job& j = *p.job;
  const TimeMs predicted = p.predicted_ms > 0 ? p.predicted_ms
                           : j.walltime > 0   ? j.walltime
                                              : RuntimePredictor::Options{}.no_history_ms;
  const TimeMs done = p.attained_accel_ms / std::max(j.accel_count, 1);
  return std::max<TimeMs>(RuntimePredictor::extended(predicted, done, j.walltime) - done, 1);
}

// spf: a predicted time left as it counts in a key (SchedParams::spf_size_weight).
inline TimeMs weighted(const SchedParams& params, TimeMs left) {
  const double w = params.spf_size_weight;
  // Asked for every running job on every pass. A small whole weight (the default) and a time
  // below 2^42 ms: the product is below 2^52, exact in doubles, and the integers give it.
  if (w >= 1 && w <= 1024 && left >= 0 && left < (TimeMs{1} << 42)) {
    const auto whole = static_cast<TimeMs>(w);
    if (static_cast<double>(whole) == w) return left * whole;
  }
  const double product = static_cast<double>(left) * w;
  // Any other whole weight gives the same in integers while the product is exact, and spares
  // a rounding call.
  if (w == std::floor(w) && std::abs(product) < 0x1p53) return left * static_cast<TimeMs>(w);
  return static_cast<TimeMs>(std::llround(product));
}

// gittins: a job's rank in ms of run time: 1 / its Gittins index (the service it expects to
// spend per completion, under its group's learned distribution) over its accelerators - the time
// a job needs, like spf's prediction, not its area (on Philly the area gave 7.05 h and a p99 of
// 4.55 d, this 5.65 h and 3.71 d). Without a distribution, by attained service alone.
// x / n (n >= 1), as C++ divides. A power of two (most jobs' accelerator count) divides a
// value that is not negative by a shift: a division per running job per pass was a fifth of
// PreemptivePolicy::view_running.
inline TimeMs divide(TimeMs x, int n) {
  if ((n & (n - 1)) == 0 && x >= 0) return x >> std::countr_zero(static_cast<unsigned>(n));
  return x / n;
}
inline TimeMs per_accelerator(TimeMs service_rank, int accel_count) {
  return std::max<TimeMs>(divide(service_rank, std::max(accel_count, 1)), 1);
}
inline TimeMs per_accelerator(TimeMs service_rank, const Job& job) {
  return per_accelerator(service_rank, job.accel_count);
}
inline TimeMs gittins_rank(const ServiceDistribution::Ranks* ranks, int accel_count, int bin) {
  return per_accelerator(
      ranks ? ranks->rank_of_bin(bin)
            : ServiceDistribution::no_history_rank(ServiceDistribution::bin_start(bin)),
      accel_count);
}
inline TimeMs gittins_rank(const ServiceDistribution::Ranks* ranks, const Job& job, int bin) {
  return gittins_rank(ranks, job.accel_count, bin);
}
inline TimeMs gittins_rank(const PendingJob& p) {
  return gittins_rank(p.service_ranks, *p.job, ServiceDistribution::bin_of(p.attained_accel_ms));
}
inline TimeMs gittins_rank(const RunningJob& r) {
  return gittins_rank(r.service_ranks, accels(r), ServiceDistribution::bin_of(r.attained_accel_ms));
}

// A waiting job's key (its class: smaller runs first). It does not depend on the time while
// the job waits; gittins' changes only when the job's group's ranks are refreshed.
inline std::int64_t of(WaitKey key, const SchedParams& params, const PendingJob& p) {
  switch (key) {
    case WaitKey::kSrtf:
      return p.remaining_ms >= 0 ? p.remaining_ms : kNever;
    case WaitKey::kSpf:
      return p.waiting_since + weighted(params, predicted_left(p));
    case WaitKey::kGittins:
      break;
  }
  return p.waiting_since + weighted(params, gittins_rank(p));
}

}  // namespace zs::wait_key
