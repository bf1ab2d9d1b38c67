// PassMemory: buffers a driver lends to the passes it runs (Snapshot::memory), so that a pass
// reuses the last pass's memory instead of allocating its working arrays again. A replay runs
// ~200,000 passes; each built a pool, a request memo and their arrays anew, 40-90 allocations
// per pass, 10-18% of the Philly replay's time with glibc's malloc (docs/benchmarks.md).
//
// What a pass leaves in a buffer never reaches a decision: a pass borrows a buffer, overwrites
// it from its snapshot, and gives it back when it ends. A buffer already lent (a pass that
// runs another pass's code) is not lent twice: the borrower then gets memory of its own.
//
// One thing is kept, not overwritten: the request memo (RequestCache), whose entries depend
// only on the snapshot's cluster, catalog, throughput table and whether shares are on. A driver
// that lends a PassMemory promises that those stay the same while it lives (the simulator's
// do); the memo still starts again if their addresses change.
//
// tests/unit/pass_memory_test.cpp decides passes with and without one.
#pragma once
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "sched/free_pool.h"
#include "sched/placement_search.h"

namespace zs {

template <class T>
struct Lendable {
  std::optional<T> value;
  bool lent = false;
};

// A T for the life of a scope: the lender's when it has one free, else one of its own.
template <class T>
class Borrowed {
 public:
  explicit Borrowed(Lendable<T>* from) {
    if (from && !from->lent) {
      from_ = from;
      from->lent = true;
    }
  }
  ~Borrowed() {
    if (from_) from_->lent = false;
  }
  Borrowed(const Borrowed&) = delete;
  Borrowed& operator=(const Borrowed&) = delete;
  std::optional<T>& slot() { return from_ ? from_->value : own_; }

 private:
  Lendable<T>* from_ = nullptr;
  std::optional<T> own_;
};

class PassMemory {
 public:
  Lendable<FreePool> pool;             // a pass's working copy of Snapshot::free_pool
  Lendable<FreePool> future;           // earliest_start()'s pool of devices as running jobs end
  Lendable<RequestCache> requests[2];  // RequestCache(s, by_speed): [by_speed]

  // Spare vectors, by element type: a pass takes an empty one (with the capacity a vector of
  // an earlier pass had) and gives it back when done with it.
  template <class T>
  std::vector<T> take() {
    auto& spare = spares<T>();
    if (spare.empty()) return {};
    std::vector<T> v = std::move(spare.back());
    spare.pop_back();
    v.clear();
    return v;
  }
  template <class T>
  void give(std::vector<T>&& v) {
    auto& spare = spares<T>();
    if (v.capacity() > 0 && spare.size() < kSparesPerType) spare.push_back(std::move(v));
  }

 private:
  static constexpr std::size_t kSparesPerType = 16;
  struct AnySpares {
    virtual ~AnySpares() = default;
  };
  template <class T>
  struct Spares : AnySpares {
    std::vector<std::vector<T>> vectors;
  };
  // A key per element type: the address of a variable of its own (no global counter: zs sim
  // runs simulations, each with its memory, on several threads).
  template <class T>
  static const void* type_key() {
    static char key;  // distinct objects have distinct addresses
    return &key;
  }
  template <class T>
  std::vector<std::vector<T>>& spares() {
    const void* key = type_key<T>();
    for (auto& [k, spares] : spares_)  // a pass uses a dozen element types
      if (k == key) return static_cast<Spares<T>&>(*spares).vectors;
    spares_.emplace_back(key, std::make_unique<Spares<T>>());
    return static_cast<Spares<T>&>(*spares_.back().second).vectors;
  }
  std::vector<std::pair<const void*, std::unique_ptr<AnySpares>>> spares_;
};

// An empty vector: a spare of `m`'s when it lends them, else a new one.
template <class T>
std::vector<T> take_vector(PassMemory* m) {
  return m ? m->template take<T>() : std::vector<T>{};
}
// Gives `vs` back to `m` (a pass's destructor: the vectors are done with).
template <class... T>
void give_vectors(PassMemory* m, std::vector<T>&... vs) {
  if (m) (m->give(std::move(vs)), ...);
}

// The pass's working pool: a copy of Snapshot::free_pool (or one made from its nodes) in
// `b`'s memory.
inline FreePool& working_pool(const Snapshot& s, Borrowed<FreePool>& b) {
  std::optional<FreePool>& slot = b.slot();
  if (!s.free_pool)
    slot.emplace(*s.cluster, s.nodes);
  else if (slot)
    *slot = *s.free_pool;  // the vectors keep their capacity: no allocation
  else
    slot.emplace(*s.free_pool);
  return *slot;
}

// `from` copied into `b`'s memory.
inline FreePool& pool_copy(const FreePool& from, Borrowed<FreePool>& b) {
  std::optional<FreePool>& slot = b.slot();
  if (slot)
    *slot = from;
  else
    slot.emplace(from);
  return *slot;
}

// Decisions whose arrays are spares of the snapshot's pass memory, if it lends one; the
// driver gives them back (give_decisions) once it has applied them.
inline Decisions decisions_for(const Snapshot& s) {
  Decisions d;
  d.preemptions = take_vector<PreemptDecision>(s.memory);
  d.starts = take_vector<StartDecision>(s.memory);
  d.waits = take_vector<WaitDecision>(s.memory);
  return d;
}
inline void give_decisions(PassMemory* m, Decisions& d) {
  give_vectors(m, d.preemptions, d.starts, d.waits);
}

inline Lendable<FreePool>* lent_pool(const Snapshot& s) {
  return s.memory ? &s.memory->pool : nullptr;
}
inline Lendable<FreePool>* lent_future(const Snapshot& s) {
  return s.memory ? &s.memory->future : nullptr;
}
inline Lendable<RequestCache>* lent_requests(const Snapshot& s, bool by_speed) {
  return s.memory ? &s.memory->requests[by_speed ? 1 : 0] : nullptr;
}

// The request memo for this pass: `b`'s kept one if it was made for the same cluster, catalog,
// throughput table and shares, else a new one.
inline RequestCache& request_cache(const Snapshot& s, bool by_speed, Borrowed<RequestCache>& b) {
  std::optional<RequestCache>& slot = b.slot();
  if (slot && slot->made_for(s, by_speed))
    slot->begin_pass(s);
  else
    slot.emplace(s, by_speed);
  return *slot;
}

}  // namespace zs
