// Queue-order policies without preemption:
//  - fifo:   strict priority/submit order; the first job that does not fit blocks the queue.
//  - easy:   the same order, plus EASY backfill: the blocked head job gets a reservation
//            (earliest time and devices, from running jobs' walltime limits) and later jobs may
//            start now if they do not delay it: they end before the reservation, or they avoid
//            its devices.
//  - hetero: easy, but each job picks among its accepted types by its speed on them and the
//            queue (Gavel-like): fastest type where it fits now, unless waiting for a faster
//            type would finish it sooner.
#pragma once
#include "sched/policy.h"

namespace zs {

class BackfillPolicy : public Policy {
 public:
  // kEasyPred: easy whose reservations and backfill use predicted run times (docs/prediction.md).
  enum class Mode { kFifo, kEasy, kHetero, kEasyPred };
  explicit BackfillPolicy(Mode mode) : mode_(mode) {}
  std::string_view name() const override;
  Decisions decide(const Snapshot& snapshot, TimeMs now) const override;
  // fifo never looks past a blocked head; easy reserves by walltimes, hetero compares them,
  // easy-pred caps its predictions at them.
  bool reads_walltimes() const override { return mode_ != Mode::kFifo; }

 private:
  Mode mode_;
};

}  // namespace zs
