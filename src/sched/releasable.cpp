#include "sched/releasable.h"

#include <algorithm>
#include <array>

#include "sched/pass_memory.h"

namespace zs {

namespace {
bool gone(const std::vector<bool>& preempted, std::uint32_t victim) {
  return !preempted.empty() && preempted[victim];
}
}  // namespace

Releasable::Releasable(const Cluster& cluster, std::vector<VictimSlot> slots,
                       std::int64_t lowest_cls, PassMemory* memory)
    : cluster_(&cluster),
      memory_(memory),
      slots_(std::move(slots)),
      lowest_cls_(lowest_cls),
      masks_(take_vector<std::uint64_t>(memory)),
      first_(take_vector<std::size_t>(memory)),
      nodes_(take_vector<int>(memory)) {
  if (slots_.empty()) return;
  std::int64_t lo = slots_.front().cls, hi = lo;
  for (const VictimSlot& sl : slots_) lo = std::min(lo, sl.cls), hi = std::max(hi, sl.cls);
  if (hi - lo >= 64) {  // e.g. srtf's remaining times
    std::stable_sort(slots_.begin(), slots_.end(),
                     [](const VictimSlot& a, const VictimSlot& b) { return a.cls < b.cls; });
    return;
  }
  // Few classes (las' queues): a stable counting sort, without the merge sort's buffer.
  std::array<std::uint32_t, 65> start{};
  for (const VictimSlot& sl : slots_) ++start[static_cast<std::size_t>(sl.cls - lo) + 1];
  for (std::size_t c = 1; c < start.size(); ++c) start[c] += start[c - 1];
  std::vector<VictimSlot> sorted = take_vector<VictimSlot>(memory);
  sorted.resize(slots_.size());
  for (const VictimSlot& sl : slots_) sorted[start[static_cast<std::size_t>(sl.cls - lo)]++] = sl;
  std::swap(slots_, sorted);
  give_vectors(memory, sorted);
}

Releasable::~Releasable() {
  give_vectors(memory_, slots_, masks_, first_, nodes_);
}

void Releasable::track(const FreePool& pool, std::int64_t cls, const std::vector<bool>& preempted) {
  if (counted_ && cls == cls_) return;
  if (!counted_ || cls < cls_) {
    count_all(pool, cls, preempted);
    return;
  }
  // Only victims leave: those of classes up to `cls` are no longer worse than the job. With
  // the slots by class, they are the next ones (srtf has a class per job: one pass over all).
  for (; first_counted_ < slots_.size() && slots_[first_counted_].cls <= cls; ++first_counted_) {
    const VictimSlot& sl = slots_[first_counted_];
    if (!gone(preempted, sl.victim)) remove(sl.node, sl.devices);
  }
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
  first_counted_ = static_cast<std::size_t>(
      std::partition_point(slots_.begin(), slots_.end(),
                           [&](const VictimSlot& sl) { return sl.cls <= cls; }) -
      slots_.begin());
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
