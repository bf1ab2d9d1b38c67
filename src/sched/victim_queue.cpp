#include "sched/victim_queue.h"

#include <algorithm>

namespace zs {

VictimQueue::VictimQueue(const PreemptivePolicy& policy, const Snapshot& s,
                         const PreemptivePolicy::RunningView& running)
    : policy_(policy), s_(s), running_(running), size_(running.victims.size()) {
  if (running.victims.empty()) return;
  std::int64_t lo = running.cls[running.victims.front()], hi = lo;
  for (std::uint32_t v : running.victims) {
    lo = std::min(lo, running.cls[v]);
    hi = std::max(hi, running.cls[v]);
  }
  if (hi - lo >= 64) {  // e.g. srtf's remaining times: one group, ordered by the whole key
    groups_.push_back({hi, running.victims});
    mixed_ = true;
    return;
  }
  for (std::int64_t c = hi; c >= lo; --c) groups_.push_back({c, {}});
  for (std::uint32_t v : running.victims) group_of(v).heap.push_back(v);
}

VictimQueue::Group& VictimQueue::group_of(std::uint32_t victim) {
  if (mixed_) return groups_.front();
  return groups_[static_cast<std::size_t>(groups_.front().cls - running_.cls[victim])];
}

VictimQueue::Group* VictimQueue::worst_group(bool ordered) {
  for (Group& g : groups_)
    if (!g.heap.empty()) {
      if (ordered && !g.ordered) order(g);
      return &g;
    }
  return nullptr;
}

void VictimQueue::order(Group& g) {
  keys_.resize(s_.running.size());
  for (std::uint32_t v : g.heap) {
    const auto [a, b] = policy_.running_tie(s_, s_.running[v]);
    keys_[v] = {running_.cls[v], a, b, s_.running[v].job};
  }
  std::make_heap(g.heap.begin(), g.heap.end(), less_);
  g.ordered = true;
}

std::int64_t VictimQueue::worst_cls() {
  // A group of one class need not be in order to tell its class.
  if (!mixed_) return worst_group(false)->cls;
  return running_.cls[worst_group(true)->heap.front()];
}

std::uint32_t VictimQueue::pop() {
  auto& heap = worst_group(true)->heap;
  std::pop_heap(heap.begin(), heap.end(), less_);
  const std::uint32_t v = heap.back();
  heap.pop_back();
  --size_;
  return v;
}

void VictimQueue::push(std::uint32_t victim) {
  Group& g = group_of(victim);
  g.heap.push_back(victim);
  ++size_;
  if (g.ordered) std::push_heap(g.heap.begin(), g.heap.end(), less_);
}

}  // namespace zs
