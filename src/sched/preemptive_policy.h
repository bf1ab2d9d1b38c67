// Preemptive policies: every job (running or waiting) gets a key; a waiting job may take the
// devices of running jobs whose key is in a strictly worse class.
//  - las:  Tiresias-style discretized two-dimensional least-attained-service. Attained service
//          = accelerators x time run. Queue k holds jobs whose service is between threshold k-1
//          and k; lower queues first, FIFO inside a queue; a job waiting longer than
//          promote_factor x its last run, or than the starvation limit, goes back to queue 0
//          (where FIFO puts it among the first) and counts its service from that run on.
//  - srtf: shortest remaining time first using the real remaining time (an oracle: for
//          comparison in simulation only).
//  - spf:  shortest predicted remaining time first, with aging: a job's key is the moment it
//          started waiting plus its predicted remaining time (docs/policies.md), so a job that
//          waits is overtaken only by jobs that arrived before its key - its wait is bounded.
//  - gittins: Tiresias-G. A job's rank is 1 / the Gittins index of its attained service under
//          the distribution of service learned from the jobs that ended (per group where the
//          history suffices: PendingJob::service_ranks), in classes of sqrt(2), over its
//          accelerators; its key is the moment it started waiting plus that rank, weighted like
//          spf's, so waits are bounded the same way.
#pragma once
#include <limits>
#include <span>
#include <utility>

#include "sched/keyed_index.h"
#include "sched/las_index.h"
#include "sched/policy.h"

namespace zs {

class PreemptivePolicy : public Policy {
 public:
  enum class Mode { kLas, kSrtf, kSpf, kGittins };
  explicit PreemptivePolicy(Mode mode) : mode_(mode) {}
  std::string_view name() const override {
    switch (mode_) {
      case Mode::kLas:
        return "las";
      case Mode::kSrtf:
        return "srtf";
      case Mode::kSpf:
        return "spf";
      case Mode::kGittins:
        break;
    }
    return "gittins";
  }
  bool needs_oracle() const override { return mode_ == Mode::kSrtf; }
  // spf caps its predictions at the walltimes (and falls back to them).
  bool reads_walltimes() const override { return mode_ == Mode::kSpf; }
  bool preemptive() const override { return true; }
  bool uses_las_index() const override { return mode_ == Mode::kLas; }
  std::optional<WaitKey> keyed_by() const override {
    switch (mode_) {
      case Mode::kSrtf:
        return WaitKey::kSrtf;
      case Mode::kSpf:
        return WaitKey::kSpf;
      case Mode::kGittins:
        return WaitKey::kGittins;
      case Mode::kLas:
        break;
    }
    return std::nullopt;
  }
  Decisions decide(const Snapshot& snapshot, TimeMs now) const override;

  // Lexicographic priority key; smaller runs first. Preemption needs a strictly smaller cls.
  struct Key {
    std::int64_t cls = 0;
    std::int64_t a = 0;
    std::int64_t b = 0;
    JobId id = 0;
    auto operator<=>(const Key&) const = default;
  };
  std::int64_t pending_class(const Snapshot& s, const PendingJob& p, TimeMs now) const;
  // The same with the LAS thresholds in ms (las_threshold_ms) worked out once for a whole queue.
  std::int64_t pending_class(const Snapshot& s, const PendingJob& p, TimeMs now,
                             std::span<const TimeMs> threshold_ms) const;
  Key pending_key(const Snapshot& s, const PendingJob& p, TimeMs now) const;
  Key running_key(const Snapshot& s, const RunningJob& r, TimeMs now) const;

  // The key of a running job whose class is known, and its (a, b) part: (submit, 0), which
  // VictimQueue replaces by Snapshot::running_submit_ranks when given (change both together).
  Key key_in_class(const Snapshot& s, const RunningJob& r, std::int64_t cls) const;
  std::pair<std::int64_t, std::int64_t> running_tie(const Snapshot& s, const RunningJob& r) const;

  // What a pass derives from the running jobs: their classes, which of them may be preempted
  // (past their lease), and the earliest time one of them may newly become preemptable by a
  // waiting job of the best waiting class.
  struct RunningView {
    // Its arrays come from and go back to the snapshot's pass memory (sched/pass_memory.h).
    explicit RunningView(const Snapshot& s);
    ~RunningView();
    RunningView(RunningView&&) = default;
    RunningView& operator=(RunningView&&) = delete;
    std::vector<std::int64_t> cls;       // parallel to Snapshot::running
    std::vector<std::uint32_t> victims;  // indices of the jobs past their lease
    std::vector<int> victim_accels;      // per type: their accelerators
    std::int64_t max_victim_cls = std::numeric_limits<std::int64_t>::min();
    TimeMs wake = kNever;
    PassMemory* memory = nullptr;
  };

 private:
  RunningView view_running(const Snapshot& s, TimeMs now, std::span<const TimeMs> th,
                           std::int64_t min_pending_cls) const;
  RunningView view_running_las(const Snapshot& s, TimeMs now, std::span<const TimeMs> th,
                               std::int64_t min_pending_cls) const;
  // gittins: the same from the driver's Snapshot::gittins_running.
  RunningView view_running_gittins(const Snapshot& s, const GittinsRunning& kept, TimeMs now,
                                   std::span<const TimeMs> th, std::int64_t min_pending_cls) const;
  // gittins: the earliest of the jobs' wakes, given a lower bound of each (gittins_wake_bound())
  // and `exact(i, enough)`: job i's running_wake(), or `enough` if that is no earlier.
  template <class Exact>
  static TimeMs earliest_wake(std::span<const TimeMs> bound, Exact exact);
  // The same, from the driver's Snapshot::las_running.
  static RunningView view_running_las(const Snapshot& s, const LasRunning& kept,
                                      std::int64_t min_pending_cls);
  // A running job's class, and (las) the service that ranks it.
  struct Rank {
    std::int64_t cls;
    TimeMs service;
  };
  Rank running_rank(const Snapshot& s, const RunningJob& r, TimeMs now,
                    std::span<const TimeMs> th) const;
  // When `r` may newly be preempted by a waiting job of `min_pending_cls`, so that a pass is
  // needed then; kNever if no such time follows from the running job alone. A time at or after
  // `enough` may be given as `enough` (the caller wants the earliest of several).
  TimeMs running_wake(const Snapshot& s, const RunningJob& r, Rank rank, TimeMs now,
                      std::int64_t min_pending_cls, std::span<const TimeMs> th,
                      TimeMs enough = kNever) const;
  // las: when a running job of `n` accelerators with `service` at `now` reaches the queue after
  // `min_pending_cls` (a waiting job of that class may then preempt it); kNever if none.
  static TimeMs las_crossing(TimeMs service, int n, TimeMs now, std::int64_t min_pending_cls,
                             std::span<const TimeMs> th);
  // gittins: the earliest time from `from` on at which a running job with `attained` service
  // at `now` and key `base` + its rank gets a key worse than `min_pending_cls`; kNever if none.
  // A time at or after `enough` may be given as `enough`.
  TimeMs gittins_wake(const Snapshot& s, int accel_count, const ServiceDistribution::Ranks* ranks,
                      TimeMs attained, TimeMs base, TimeMs now, TimeMs from,
                      std::int64_t min_pending_cls, TimeMs enough = kNever) const;
  // gittins: no later than running_wake() of `r` (of class `cls`, its service in bin `bin`),
  // without the walk along the bins; kNever only where that is kNever.
  TimeMs gittins_wake_bound(const Snapshot& s, const RunningJob& r, std::int64_t cls, int bin,
                            TimeMs now, std::int64_t min_pending_cls) const;
  Decisions decide_las(const Snapshot& s, TimeMs now, const LasIndex& waiting) const;
  // srtf, spf, gittins: every waiting job's key worked out and sorted, or the driver's index.
  Decisions decide_srtf(const Snapshot& s, TimeMs now) const;
  Decisions decide_keyed(const Snapshot& s, TimeMs now, const KeyedIndex& waiting) const;
  // The pass of both: `in_key_order(pass, offer)` calls offer(job, class) for the waiting jobs
  // in (class, submit, id) order until it returns PreemptionPass::Result::kStop (it may leave
  // out jobs known to wait).
  template <class InKeyOrder>
  Decisions keyed_pass(const Snapshot& s, TimeMs now, std::int64_t min_pcls,
                       InKeyOrder in_key_order) const;
  // The earliest time a pass is needed for the jobs this pass started or preempted. `min_left`
  // is the best class of the jobs still waiting, `worst_victim_left` the worst class of the
  // victims still running.
  TimeMs wake_after_pass(const Snapshot& s, TimeMs now, std::span<const TimeMs> th,
                         std::int64_t min_left, std::span<const PendingJob* const> started,
                         std::span<const std::uint32_t> preempted, std::int64_t worst_victim_left,
                         std::span<const std::int64_t> running_cls) const;
  // The best class among the jobs preempted in this pass as they will wait from the next pass
  // on (exact for las and gittins; for srtf and spf their running keys); the int64 maximum if
  // none.
  std::int64_t best_preempted_class(const Snapshot& s, TimeMs now, std::span<const TimeMs> th,
                                    std::span<const std::uint32_t> preempted) const;
  // The earliest time a running job of a class above `min_before` (the best waiting class when
  // the pass began) and at most `min_left` (the best class still waiting after it) newly becomes
  // preemptable by a job of `min_left`, or `enough` if that is earlier (the caller's wake so
  // far). `preempted`: running indices preempted in the pass (no longer running).
  TimeMs wake_for_best_left(const Snapshot& s, TimeMs now, std::span<const TimeMs> th,
                            const RunningView& running, std::int64_t min_before,
                            std::int64_t min_left, std::span<const std::uint32_t> preempted,
                            TimeMs enough) const;
  Mode mode_;
};

// LAS queue of an attained service (accelerator-ms) under the given thresholds.
int las_queue(TimeMs attained_accel_ms, const std::vector<double>& thresholds_accel_s);

}  // namespace zs
