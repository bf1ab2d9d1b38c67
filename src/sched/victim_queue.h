// VictimQueue: the running jobs a pass may preempt (past their lease), worst first by
// PreemptivePolicy::Key. A job may only take victims of a worse class than its own, and most
// victims are usually of its class or better, so classes are kept apart and each is put in
// order (a heap) only when a job first reaches it.
#pragma once
#include <cstdint>
#include <vector>

#include "sched/preemptive_policy.h"

namespace zs {

class VictimQueue {
 public:
  VictimQueue(const PreemptivePolicy& policy, const Snapshot& s,
              const PreemptivePolicy::RunningView& running);
  ~VictimQueue();  // gives its arrays back to the pass memory (sched/pass_memory.h)
  VictimQueue(const VictimQueue&) = delete;
  VictimQueue& operator=(const VictimQueue&) = delete;

  bool empty() const { return size_ == 0; }
  // The class of the worst victim left; not empty().
  std::int64_t worst_cls();
  // Removes and returns the worst victim (an index into Snapshot::running); not empty().
  std::uint32_t pop();
  // Returns a popped victim.
  void push(std::uint32_t victim);

 private:
  // PreemptivePolicy::Key, with the job in place of its id: ties on (cls, a, b) are rare, so
  // the id is read only for them.
  struct Key {
    std::int64_t cls, a, b;
    const Job* job;
    bool operator<(const Key& o) const {
      if (cls != o.cls) return cls < o.cls;
      if (a != o.a) return a < o.a;
      if (b != o.b) return b < o.b;
      return job->id < o.job->id;
    }
  };
  struct ByKey {
    const std::vector<Key>* keys;
    bool operator()(std::uint32_t a, std::uint32_t b) const { return (*keys)[a] < (*keys)[b]; }
  };
  // Inside one class, with the driver's ranks (Snapshot::running_submit_ranks): the key's
  // order without building keys.
  struct ByRank {
    const std::uint32_t* ranks;
    bool operator()(std::uint32_t a, std::uint32_t b) const { return ranks[a] < ranks[b]; }
  };
  // Runs `op` with the group's order.
  template <class Op>
  void with_order(Op op) {
    if (by_rank_.ranks)
      op(by_rank_);
    else
      op(less_);
  }
  // Victims of one class (or, when classes are too many, all of them), worst class first. A
  // group's victims are items_[first, first + size): all of them when the pass starts, a
  // heap once ordered. A victim goes back only to the group it was popped from, so a group
  // never holds more than it started with and the groups share one array.
  struct Group {
    std::int64_t cls;
    std::uint32_t first = 0, size = 0, capacity = 0;
    bool ordered = false;
  };
  Group& group_of(std::uint32_t victim);
  // The first group with victims (put in order if asked), or null.
  Group* worst_group(bool ordered);
  void order(Group& g);
  std::uint32_t* begin(const Group& g) { return items_.data() + g.first; }

  const PreemptivePolicy& policy_;
  const Snapshot& s_;
  const PreemptivePolicy::RunningView& running_;
  std::vector<Group> groups_;
  std::vector<std::uint32_t> items_;
  bool mixed_ = false;  // one group of several classes
  std::size_t size_ = 0;
  std::vector<Key> keys_;  // by running index, for the victims of ordered groups
  ByKey less_{&keys_};
  ByRank by_rank_{nullptr};  // set when groups are of one class and the driver gave ranks
};

}  // namespace zs
