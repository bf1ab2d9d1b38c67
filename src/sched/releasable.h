// Releasable: during a pass of a preemptive policy, per node the devices that are free or held
// by victims of a class worse than the job being placed, and per type how many nodes have at
// least k of them. It answers "could preempting every such victim make room for this gang at
// all?" with a lookup; finding out by trying means releasing and taking back every victim.
// Kept exact as jobs start (their devices leave) and the class rises (victims leave).
#pragma once
#include <cstdint>
#include <vector>

#include "sched/free_pool.h"

namespace zs {

class Releasable {
 public:
  // A victim's devices on one node that FreePool::give() would return.
  struct VictimSlot {
    std::int64_t cls;
    std::uint32_t victim;  // index in Snapshot::running
    NodeId node;
    std::uint64_t devices;
  };

  // `slots`: those of every victim of a class worse than `lowest_cls`. `memory`: the pass
  // memory its arrays come from and go back to (sched/pass_memory.h), or null.
  Releasable(const Cluster& cluster, std::vector<VictimSlot> slots, std::int64_t lowest_cls,
             PassMemory* memory = nullptr);
  ~Releasable();
  Releasable(const Releasable&) = delete;
  Releasable& operator=(const Releasable&) = delete;

  std::int64_t lowest_cls() const { return lowest_cls_; }
  // Makes it describe jobs of class `cls` >= lowest_cls(). `preempted[v]`: victim v was
  // preempted in this pass (empty: none was).
  void track(const FreePool& pool, std::int64_t cls, const std::vector<bool>& preempted);
  // A job started on these devices.
  void take(const Placement& p);
  int nodes_with_at_least(TypeId t, int k) const;

 private:
  void count_all(const FreePool& pool, std::int64_t cls, const std::vector<bool>& preempted);
  // Where node n counts in nodes_ when these devices are free or held by victims.
  std::size_t row(NodeId n, std::uint64_t mask) const {
    return first_[cluster_->nodes[n].type] + static_cast<std::size_t>(device_count(mask));
  }
  void remove(NodeId n, std::uint64_t devices);

  const Cluster* cluster_;
  PassMemory* memory_;
  std::vector<VictimSlot> slots_;  // by class, ascending
  std::size_t first_counted_ = 0;  // the first slot of a class worse than cls_
  std::int64_t lowest_cls_;
  bool counted_ = false;
  std::int64_t cls_ = 0;
  std::vector<std::uint64_t> masks_;  // per node
  std::vector<std::size_t> first_;    // per type: its first entry in nodes_ (one per count k)
  std::vector<int> nodes_;            // nodes of a type with exactly k such devices
};

}  // namespace zs
