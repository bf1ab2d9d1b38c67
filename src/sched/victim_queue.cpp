#include "sched/victim_queue.h"

#include <algorithm>
#include <stdexcept>

#include "sched/pass_memory.h"

namespace zs {

VictimQueue::VictimQueue(const PreemptivePolicy& policy, const Snapshot& s,
                         const PreemptivePolicy::RunningView& running)
    : policy_(policy),
      s_(s),
      running_(running),
      groups_(take_vector<Group>(s.memory)),
      items_(take_vector<std::uint32_t>(s.memory)),
      size_(running.victims.size()),
      keys_(take_vector<Key>(s.memory)) {
  if (running.victims.empty()) return;
  std::int64_t lo = running.cls[running.victims.front()], hi = lo;
  for (std::uint32_t v : running.victims) {
    lo = std::min(lo, running.cls[v]);
    hi = std::max(hi, running.cls[v]);
  }
  const auto count = static_cast<std::uint32_t>(running.victims.size());
  if (hi - lo >= 64) {  // e.g. srtf's remaining times: one group, ordered by the whole key
    groups_.push_back({hi, 0, count, count});
    items_.assign(running.victims.begin(), running.victims.end());
    mixed_ = true;
    return;
  }
  // Worst class first; each group's place in items_ by a counting sort (victims keep their
  // order inside a class).
  groups_.resize(static_cast<std::size_t>(hi - lo) + 1);
  for (std::size_t k = 0; k < groups_.size(); ++k)
    groups_[k].cls = hi - static_cast<std::int64_t>(k);
  for (std::uint32_t v : running.victims) ++group_of(v).capacity;
  std::uint32_t first = 0;
  for (Group& g : groups_) g.first = first, first += g.capacity;
  items_.resize(count);
  for (std::uint32_t v : running.victims) {
    Group& g = group_of(v);
    items_[g.first + g.size++] = v;
  }
  if (s.running_submit_ranks.size() == s.running.size())
    by_rank_.ranks = s.running_submit_ranks.data();
}

VictimQueue::~VictimQueue() {
  give_vectors(s_.memory, groups_, items_, keys_);
}

VictimQueue::Group& VictimQueue::group_of(std::uint32_t victim) {
  if (mixed_) return groups_.front();
  return groups_[static_cast<std::size_t>(groups_.front().cls - running_.cls[victim])];
}

VictimQueue::Group* VictimQueue::worst_group(bool ordered) {
  for (Group& g : groups_)
    if (g.size != 0) {
      if (ordered && !g.ordered) order(g);
      return &g;
    }
  return nullptr;
}

void VictimQueue::order(Group& g) {
  g.ordered = true;
  if (by_rank_.ranks) {  // one class: the driver's ranks order like the rest of the key
    std::make_heap(begin(g), begin(g) + g.size, by_rank_);
    return;
  }
  keys_.resize(s_.running.size());
  const auto ranks = s_.running_submit_ranks;
  for (std::uint32_t* v = begin(g); v != begin(g) + g.size; ++v) {
    const RunningJob& r = s_.running[*v];
    if (ranks.size() == s_.running.size()) {
      // The driver's ranks order like the tie (submit, 0) and the id after it, and are unique:
      // the id is never read.
      keys_[*v] = {running_.cls[*v], ranks[*v], 0, r.job};
      continue;
    }
    const auto [a, b] = policy_.running_tie(s_, r);
    keys_[*v] = {running_.cls[*v], a, b, r.job};
  }
  std::make_heap(begin(g), begin(g) + g.size, less_);
}

std::int64_t VictimQueue::worst_cls() {
  // A group of one class need not be in order to tell its class.
  if (!mixed_) return worst_group(false)->cls;
  return running_.cls[*begin(*worst_group(true))];
}

std::uint32_t VictimQueue::pop() {
  Group& g = *worst_group(true);
  with_order([&](auto less) { std::pop_heap(begin(g), begin(g) + g.size, less); });
  --g.size;
  --size_;
  return begin(g)[g.size];
}

void VictimQueue::push(std::uint32_t victim) {
  Group& g = group_of(victim);
  // Only a popped victim comes back, to its own group: there is always room.
  if (g.size == g.capacity) throw std::logic_error("VictimQueue: a victim pushed twice");
  begin(g)[g.size++] = victim;
  ++size_;
  if (g.ordered) with_order([&](auto less) { std::push_heap(begin(g), begin(g) + g.size, less); });
}

}  // namespace zs
