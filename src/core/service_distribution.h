// The distribution of job service (accelerator-ms a job received in all runs), learned online
// from the jobs that have ended, per job group (core/job_groups.h), and the Gittins index of an
// attained service under it: what `gittins` (Tiresias-G, docs/policies.md) ranks jobs by.
//
// Gittins index of attained service a for a quantum D, S the service of a job:
//   G(a, D) = P(S - a <= D | S > a) / E[min(S - a, D) | S > a]
// the chance to finish within D per unit of service spent trying; the index of a is the best
// over D. A scheduler runs the highest index first: it minimizes the mean completion time of
// jobs whose sizes are known only as a distribution (Gittins; Aalto et al.).
//
// Memory is bounded: service is binned on a log scale (factor sqrt(2) per bin), a group keeps
// its counts in a window (halved once it reaches Options::window: old jobs fade), and at most
// Options::max_groups groups carry a user or a job name (hostile names). Updates are O(1)
// amortized: a group's ranks are worked out again (O(bins^2)) only when its count has grown by
// an eighth since the last time. Pure: no clock, learns only what observe() tells it.
#pragma once
#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <span>
#include <unordered_map>

#include "core/job.h"
#include "core/job_groups.h"
#include "core/time.h"

namespace zs {

class ServiceDistribution {
 public:
  // Bin 0 holds service below 10 accelerator-seconds; bin k >= 1 from 10 s x 2^((k-1)/2) up to
  // the next bin's start; the last bin (from ~42 accelerator-years) is open.
  static constexpr int kBins = 56;
  // accelerator-ms; bin_start(kBins) is kNever
  static TimeMs bin_start(int bin) {
    return kBinStarts[static_cast<std::size_t>(std::clamp(bin, 0, kBins))];
  }
  // Asked for every job on every pass: inline, from tables made once (no guard per call),
  // starting from the bin of the power of two below (two bins per power of two).
  static int bin_of(TimeMs service_accel_ms) {
    if (service_accel_ms <= 0) return 0;
    int b = kBinOfPower[static_cast<std::size_t>(
        std::bit_width(static_cast<std::uint64_t>(service_accel_ms)) - 1)];
    // A power of two holds about two bin starts: two steps without branches (a branch that
    // goes either way was most of the cost), then the rest (if any) one by one.
    b += kBinStarts[static_cast<std::size_t>(b) + 1] <= service_accel_ms;
    b += kBinStarts[static_cast<std::size_t>(b) + 1] <= service_accel_ms;
    b = std::min(b, kBins - 1);
    while (b + 1 < kBins && kBinStarts[static_cast<std::size_t>(b) + 1] <= service_accel_ms) ++b;
    return b;
  }
  // The end of a bin; the open last bin ends at twice its start.
  static TimeMs bin_end(int bin) {
    return bin + 1 < kBins ? bin_start(bin + 1) : 2 * bin_start(bin);
  }

  static constexpr int kMaxStep = 96;  // rank steps up to 1 s x 2^48: past any real job

  struct Options {
    int min_samples = 16;               // ended jobs a group needs before its distribution is used
    std::uint32_t window = 4096;        // a group's counts halve when they reach this many
    std::size_t max_groups = 1u << 18;  // groups with a user or name (~280 bytes each)
  };

  // A group's Gittins ranks by bin of attained service: 1 / index, in accelerator-ms (the
  // service a job expects to spend per completion), rounded up to a power of sqrt(2) so that
  // ranks come in classes (Tiresias' queues: fewer preemptions back and forth).
  struct Ranks {
    static constexpr std::uint8_t kOutlived = 255;  // no job of the group got that far
    std::array<std::uint8_t, kBins> step{};
    // The rank of a job that has received `attained`: for a bin beyond every ended job of
    // the group, twice the bin's end (it may need as much again).
    TimeMs at(TimeMs attained) const { return rank_of_bin(bin_of(attained)); }
    TimeMs rank_of_bin(int bin) const {
      const std::uint8_t st = step[static_cast<std::size_t>(std::clamp(bin, 0, kBins - 1))];
      return st == kOutlived ? 2 * bin_end(bin) : kRankOfStep[st];
    }
    // The first bin from `from` on whose rank passes `high_enough` (a test that, true for a
    // rank, is true for every larger one), kBins if none: it follows next_higher, so it looks
    // only at the bins whose rank is above all before them.
    template <class Test>
    int first_bin_where(int from, Test high_enough) const {
      for (int b = std::max(from, 0); b < kBins; b = next_higher[static_cast<std::size_t>(b)])
        if (high_enough(rank_of_bin(b))) return b;
      return kBins;
    }
    // The next bin with a higher rank than this one's, kBins if none.
    std::array<std::uint8_t, kBins> next_higher{};
    // Grows each time the ranks are worked out again (a driver that keeps jobs ordered by
    // their ranks re-keys them then: sched/keyed_index.h).
    std::uint32_t version = 0;
  };
  // Without history: the end of the bin the attained service is in (least attained first).
  static TimeMs no_history_rank(TimeMs attained) { return bin_end(bin_of(attained)); }

  ServiceDistribution() = default;
  explicit ServiceDistribution(Options o) : opt_(o) {}

  // `job` ended having received `service_accel_ms`.
  void observe(const Job& job, TimeMs service_accel_ms);
  // The ranks of the narrowest group of `job` with enough history, null if none has. The
  // pointer stays valid as long as this object (groups are never removed), and its ranks keep
  // learning: a driver may ask once per job (when it is submitted or requeued) and give them to
  // every pass (PendingJob::service_ranks).
  const Ranks* ranks_for(const Job& job) const;
  // The level ranks_for() uses for `job` (JobGroupLevel::kNone: none).
  JobGroupLevel level_for(const Job& job) const;
  std::size_t groups() const { return groups_.size(); }
  // How many times any group's ranks were worked out again: a driver that keeps keys made from
  // ranks looks at its groups' versions only when this changed.
  std::uint64_t refreshes() const { return refreshes_; }

  // G(a, D) for a in bin `bin` (taken at the bin's start) and D up to the start of bin
  // `bin + quantum_bins`, for a distribution given as counts per bin (uniform inside a bin);
  // 0 when no job got past the bin's start. Per accelerator-ms.
  static double gittins_index(std::span<const std::uint32_t> counts, int bin, int quantum_bins);
  // The index: the best G(a, D) over D.
  static double gittins_index(std::span<const std::uint32_t> counts, int bin);

 private:
  // bin_start() for every bin, and kNever past the last; the bin of each power of two; the
  // rank of each step (1 s x sqrt(2)^step).
  static const std::array<TimeMs, kBins + 2> kBinStarts;  // kNever twice at the end
  static const std::array<std::uint8_t, 64> kBinOfPower;
  static const std::array<TimeMs, kMaxStep + 1> kRankOfStep;

  mutable std::uint64_t refreshes_ = 0;
  struct Group {
    std::array<std::uint16_t, kBins> counts{};
    std::uint32_t n = 0, refresh_at = 0;
    bool ready = false;
    Ranks ranks;
  };
  const Group* ready_group(const JobGroupKeys& keys, std::size_t* level) const;
  void refresh(Group& g) const;

  Options opt_;
  std::unordered_map<std::uint64_t, Group> groups_;
};

}  // namespace zs
