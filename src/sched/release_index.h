// ReleaseIndex: what preempting the victims of a pass would free, for every prefix of their
// worst-first order, without releasing them.
//
// PreemptionPass::preempt_for() releases victims worst first and tries to place the job once
// the released accelerators reach its size, then each time they have doubled; it keeps the
// victims whose devices the placement uses. Done literally, a gang that needs whole nodes
// releases (and takes back) thousands of victims, and the next gang does it all again. This
// index answers the same questions by position in that order instead:
//  - where the next try happens (the released accelerators per type, as prefix sums);
//  - whether a try can succeed at all: for each type and device count k, how many nodes would
//    have >= k free devices after releasing every victim up to a position (each node knows the
//    position at which it reaches k);
//  - the pool at the one try that is worth a placement search: a copy of the pass's pool with
//    a prefix of the victims released, kept from job to job and moved forward or back.
// The victims chosen are the ones preempt_for() would choose by releasing.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "sched/free_pool.h"
#include "sched/preemptive_policy.h"

namespace zs {

// Prefix sums over positions 0..size()-1 with point updates (a Fenwick tree).
class PrefixSums {
 public:
  explicit PrefixSums(std::vector<int> values = {});
  std::size_t size() const { return tree_.size() - 1; }
  void add(std::size_t pos, int delta);
  // The sum over positions [0, end).
  int sum_before(std::size_t end) const;
  // The smallest position p with sum_before(p + 1) >= target (target >= 1), or size().
  std::size_t first_reaching(int target) const;
  // The same over the sum of several trees of one size.
  static std::size_t first_reaching(std::span<const PrefixSums* const> trees, int target);

 private:
  std::vector<int> tree_;  // 1-based
};

class ReleaseIndex {
 public:
  static constexpr std::size_t kNone = ~std::size_t{0};

  // The victims of `running`, worst first, against `pool` (the pass's pool, which this index
  // follows: tell it about every change through preempted() and started()).
  ReleaseIndex(const PreemptivePolicy& policy, const Snapshot& s,
               const PreemptivePolicy::RunningView& running, FreePool& pool);

  // False if the snapshot has victims whose devices overlap each other or free devices (or
  // that sit on nodes of another type): releasing them does not add up, so the pass releases
  // them one by one instead.
  bool usable() const { return usable_; }
  // The class of the worst victim not preempted; minimum of int64 if none.
  std::int64_t worst_cls() const;
  // Positions [0, end_of_worse(cls)) hold the victims of a class worse than `cls`.
  std::size_t end_of_worse(std::int64_t cls) const;
  std::uint32_t victim(std::size_t pos) const { return order_[pos]; }

  // preempt_for() pops the victims of [0, end), skipping those of types `job` does not
  // accept, and tries to place it when the accelerators released reach `next_try` (or at the
  // last victim it accepts) if the victim's type then has >= job.accel_count free. The position
  // of the first such try at or after `from`, or kNone.
  std::size_t try_position(const Job& job, int next_try, std::size_t from, std::size_t end) const;
  // Accelerators of the victims `job` accepts up to and including `pos`.
  int released_accels(const Job& job, std::size_t pos) const;
  // False if no type in `types` would have the nodes for the job's shape after releasing the
  // victims up to and including `pos` (then a placement search there must fail).
  bool may_fit(const Job& job, const std::vector<TypeId>& types, std::size_t pos) const;
  // The pass's pool with every victim left in [0, end) released, of every type (a placement
  // on one type reads only that type's nodes). Valid until restore(), which must follow
  // before the pass's pool is used again.
  const FreePool& pool_releasing(std::size_t end);
  void restore();
  // The victims `job` accepts in [0, pos] with a device on a node of `p`, worst first.
  void victims_on(const Placement& p, const Job& job, std::size_t pos,
                  std::vector<std::uint32_t>& out) const;

  // Victim v was preempted: its devices are back in the pass's pool.
  void preempted(std::uint32_t v);
  // A job started on `p` (the pass's pool took it), after preempting `victims`.
  void started(const Placement& p, const Job& job, std::span<const std::uint32_t> victims);

 private:
  // A copy of the pass's pool with the victims left in [0, cursor) released.
  struct Shadow {
    FreePool pool;
    std::size_t cursor;
  };
  struct NodeVictim {
    std::uint32_t pos;
    std::uint64_t devices;  // those give() would return
  };
  static constexpr std::int32_t kNever = -1;
  static constexpr std::size_t kMaxShadows = 6;

  // First position >= pos of a victim left of type slot `slot`, or size.
  std::size_t next_of_slot(std::size_t slot, std::size_t pos) const;
  int nodes_with_at_least(TypeId t, int k, std::size_t pos) const;
  // Where node n reaches k free devices: 0 = already free, p + 1 = at position p, kNever.
  void reach_of(NodeId n, std::int32_t* out) const;
  void refresh(NodeId n);
  // The first victim left at >= pos (or size), and the last one before pos plus one (or 0).
  std::size_t next_left(std::size_t pos) const;
  std::size_t prev_left_plus_one(std::size_t pos) const;
  // Releases into / takes back from `pool` the victims left between positions from and to.
  void move(FreePool& pool, std::size_t from, std::size_t to) const;
  PrefixSums& reach(TypeId t, int k) {
    return reach_[reach_first_[t] + static_cast<std::size_t>(k)];
  }
  const PrefixSums& reach(TypeId t, int k) const {
    return reach_[reach_first_[t] + static_cast<std::size_t>(k)];
  }

  const Snapshot& s_;
  FreePool& pool_;
  bool usable_ = true;
  std::vector<std::uint32_t> order_;   // victims, worst first
  std::vector<std::int64_t> cls_;      // by position
  std::vector<std::uint32_t> pos_of_;  // by running index
  std::vector<bool> gone_;             // by position: preempted
  // Skipping the preempted victims: next_[p] leads to the first victim left at >= p (n if
  // none), prev_[p] to the last one before p, plus one (0 if none); both with path halving.
  mutable std::vector<std::uint32_t> next_, prev_;
  std::vector<std::uint32_t> type_slot_;  // by running index: index into types_
  std::vector<TypeId> types_;             // the victims' types
  // Per type slot, over positions: accelerators, devices give() returns, and victims left.
  std::vector<PrefixSums> accels_, devices_, left_;
  std::vector<int> pos_devices_;  // by position: the devices give() returns
  PrefixSums all_left_;
  // Victims' slots by position (CSR), with their jobs' CPU and memory per accelerator: what
  // moving a pool over them reads, in one place.
  std::vector<std::uint32_t> pos_first_;
  std::vector<Slot> pos_slots_;
  // Each position's CPU cores and memory per device, read from its job's record when a move
  // first needs it (NaN until then): a pass moves over a prefix, and the record of each of tens
  // of thousands of victims is a cache miss.
  mutable std::vector<std::pair<double, double>> pos_share_;
  const std::pair<double, double>& share_of(std::size_t pos) const;
  // Victims by node (CSR, ascending position).
  std::vector<std::uint32_t> node_first_;
  std::vector<NodeVictim> node_victims_;
  int kmax_ = 0;                          // largest node + 1
  std::vector<std::int32_t> reach_at_;    // node * kmax_ + k
  std::vector<std::size_t> reach_first_;  // per type: its first tree in reach_ (one per k)
  std::vector<PrefixSums> reach_;         // over position + 1: nodes reaching k there
  std::vector<Shadow> shadows_;
  std::size_t direct_ = 0;  // victims [0, direct_) are released in the pass's pool itself
};

}  // namespace zs
