#include "sched/releasable.h"

namespace zs {

namespace {
bool gone(const std::vector<bool>& preempted, std::uint32_t victim) {
  return !preempted.empty() && preempted[victim];
}
}  // namespace

void Releasable::track(const FreePool& pool, std::int64_t cls, const std::vector<bool>& preempted) {
  if (counted_ && cls == cls_) return;
  if (!counted_ || cls < cls_) {
    count_all(pool, cls, preempted);
    return;
  }
  // Only victims leave: those of classes up to `cls` are no longer worse than the job.
  for (const VictimSlot& sl : slots_)
    if (sl.cls > cls_ && sl.cls <= cls && !gone(preempted, sl.victim)) remove(sl.node, sl.devices);
  cls_ = cls;
}

void Releasable::take(const Placement& p) {
  if (!counted_) return;
  for (const Slot& sl : p) remove(sl.node, sl.devices);
}

int Releasable::nodes_with_at_least(TypeId t, int k) const {
  int total = 0;
  for (std::size_t j = first_[t] + static_cast<std::size_t>(k); j < first_[t + 1]; ++j)
    total += nodes_[j];
  return total;
}

void Releasable::count_all(const FreePool& pool, std::int64_t cls,
                           const std::vector<bool>& preempted) {
  const Cluster& c = *cluster_;
  masks_.resize(c.nodes.size());
  for (NodeId n = 0; n < masks_.size(); ++n) masks_[n] = pool.free_mask(n);
  for (const VictimSlot& sl : slots_)
    if (sl.cls > cls && !gone(preempted, sl.victim)) masks_[sl.node] |= sl.devices;
  first_.assign(c.accels_of_type.size() + 1, 0);
  for (TypeId t = 0; t < c.accels_of_type.size(); ++t)
    first_[t + 1] = first_[t] + (c.nodes_of_type[t] > 0 ? c.max_per_node_of_type[t] + 1 : 0);
  nodes_.assign(first_.back(), 0);
  for (NodeId n = 0; n < masks_.size(); ++n) ++nodes_[row(n, masks_[n])];
  cls_ = cls;
  counted_ = true;
}

void Releasable::remove(NodeId n, std::uint64_t devices) {
  const std::uint64_t before = masks_[n], after = before & ~devices;
  if (after == before) return;
  --nodes_[row(n, before)];
  ++nodes_[row(n, after)];
  masks_[n] = after;
}

}  // namespace zs
