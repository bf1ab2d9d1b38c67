// Reclaim: a job within its tenant's guarantee that does not fit on free devices takes back
// devices lent to tenants that run above their guarantee (docs/tenants.md).
//
// Victims are running jobs that are borrowing (ShareGate::running_borrowing) on a type the job
// asks for and stands within guarantee on, that have run at least SchedParams::min_run_ms and
// were not already preempted in this pass. The fewest victims are chosen: one if any single
// victim makes room (the most recently started such one), else victims most recently started
// first until the job fits, keeping only those whose devices it uses. A gang is evicted whole
// (a victim is a job). Nothing else is ever preempted.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "sched/free_pool.h"
#include "sched/placement_search.h"
#include "sched/share_gate.h"

namespace zs {

struct ReclaimPlan {
  TypeId type = 0;
  Placement placement;                 // the job's devices once the victims are gone
  std::vector<std::uint32_t> victims;  // indices into Snapshot::running
};

class Reclaimer {
 public:
  Reclaimer(const Snapshot& s, const ShareGate& gate, TimeMs now);

  // A plan for `job` on one of `types` (those it stands within guarantee on), or nullopt.
  // `pool` is used for trial placements and left as it was.
  std::optional<ReclaimPlan> plan(FreePool& pool, const Job& job, const std::vector<TypeId>& types);

  // Carries a plan out for `job`: the victims' preemptions go to `d` and leave `gate`, and
  // they are marked gone. Without a grace period (SchedParams::preempt_grace_ms 0) their
  // devices return to `pool` and the job's start is returned: the caller takes the devices and
  // records it. With one, the plan's free devices leave `pool` (returned in `held_free`), the
  // job counts in `gate` and a Hold goes to `d`: it starts once the victims have stopped.
  struct Carried {
    std::optional<Choice> start;
    Placement held_free;
  };
  Carried carry_out(ReclaimPlan plan, const Job& job, FreePool& pool, ShareGate& gate,
                    Decisions& d);

  // Marks the plan's victims gone (later plans in this pass do not count them). `pool_grew`:
  // their devices went back to the pool (no grace), so failures seen so far may not hold.
  void commit(const ReclaimPlan& plan, bool pool_grew);

  // The earliest time a borrowing job too young to be a victim now comes of age, for a job that
  // could not reclaim: a pass is due then. kNever when none.
  TimeMs wake() const { return wake_; }

 private:
  // Borrowing jobs of type t that may be victims, most recently started first.
  const std::vector<std::uint32_t>& candidates(TypeId t);
  // Whether the job fits on type t with every one of `victims` released.
  bool fits_with_all(FreePool& pool, const Job& job, TypeId t,
                     const std::vector<std::uint32_t>& victims) const;
  bool fits_with(FreePool& pool, const Job& job, TypeId t, std::uint32_t victim,
                 Placement& out) const;

  const Snapshot& s_;
  const ShareGate& gate_;
  TimeMs now_;
  TimeMs wake_ = kNever;
  std::vector<bool> gone_;                           // by running index
  std::vector<std::vector<std::uint32_t>> by_type_;  // by TypeId, built on first use
  std::vector<bool> built_, dirty_;
  std::vector<long> devices_;  // by TypeId: the candidates' devices
  // Shapes that could not be placed by reclaiming: victims only get fewer in a pass.
  FailMemo memo_;
};

}  // namespace zs
