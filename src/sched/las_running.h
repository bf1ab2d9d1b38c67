// LasRunning: what a `las` pass needs of the running jobs, kept by the driver from pass to pass
// (Snapshot::las_running) so that a pass need not rank every running job again.
//
// A running job's LAS service grows linearly with the time it runs, from a base fixed when it
// starts (docs/policies.md: all its service, or none when it was started by promotion or by
// the starvation guard). So everything a pass asks of it changes only at times known when it
// starts: its queue at each threshold crossing, its victimhood at its lease end, and the time
// it newly becomes preemptable by a waiting job of queue q:
//     W_q = max(lease end, the time it crosses threshold q),
// which is no longer a wake once past. The index keeps queues of those times, so a pass costs
// what changed since the last one plus copying the classes.
//
// The driver names each job by an id (unique while it runs) and tells where it is in
// Snapshot::running (its slot), and moves it when its slot changes. A pass that is not given
// one, or whose index does not describe its snapshot, ranks every running job as before:
// either way the policy decides the same (tests/unit/driver_cache_test.cpp).
//
// Pure data structure: no clock. Time moves only through advance().
#pragma once
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "sched/snapshot.h"

namespace zs {

class LasRunning {
 public:
  explicit LasRunning(const SchedParams& params);

  // `r` started at r.started, having received `attained_at_start` accelerator-ms before.
  void insert(std::uint32_t id, std::uint32_t slot, const RunningJob& r, TimeMs attained_at_start);
  void erase(std::uint32_t id);
  // The job now sits at `slot` of Snapshot::running.
  void move(std::uint32_t id, std::uint32_t slot);
  // Applies every change due at or before `now`. Time never goes back.
  void advance(TimeMs now);

  // True if this index describes `s.running` at `now` under `s.params`.
  bool describes(const Snapshot& s, TimeMs now) const;

  // By slot: each running job's LAS queue.
  std::span<const std::int64_t> cls() const { return {cls_.data(), size_}; }
  // The slots of the jobs past their lease, ascending.
  void victims(std::vector<std::uint32_t>& out) const;
  // Per type: the devices of the jobs past their lease.
  std::span<const int> victim_accels() const { return victim_accels_; }
  // The worst queue among the jobs past their lease (minimum of int64 when there are none).
  std::int64_t max_victim_cls() const;
  // The earliest time after now() at which a running job newly becomes preemptable by a
  // waiting job of queue `q`, kNever if none: PreemptivePolicy::running_wake()'s minimum.
  TimeMs wake(std::int64_t q) const;
  // The same without the jobs whose slot `skip` names, at most `enough`.
  template <class Skip>
  TimeMs wake(std::int64_t q, Skip skip, TimeMs enough) const;

  std::size_t size() const { return size_; }
  TimeMs now() const { return now_; }

 private:
  struct Entry {
    TimeMs started = 0, base = 0, lease_end = 0;
    std::int32_t accels = 0;
    TypeId type = 0;
    std::uint32_t slot = 0;
    std::uint32_t generation = 0;  // events of an earlier stay are stale
    std::int32_t cls = 0;
    bool victim = false, present = false;
  };
  struct Event {
    TimeMs at;
    std::uint32_t id, generation;
    bool lease;  // its lease ends; else it crosses into its next queue
    bool operator>(const Event& o) const { return at > o.at; }
  };
  // When the job's service reaches `threshold` (at or before it started if it had).
  static TimeMs crossing(const Entry& e, TimeMs threshold);
  void push(std::vector<Event>& heap, const Event& ev);
  bool stale(const Event& ev) const;
  void set_cls(Entry& e, std::int32_t cls);
  // Drops the stale events of a queue once they are most of it.
  void compact(std::vector<Event>& heap);

  SchedParams params_;
  std::vector<TimeMs> threshold_ms_;
  bool usable_ = true;  // thresholds ascending and no job without devices
  std::size_t zero_accel_jobs_ = 0;
  std::vector<Entry> entries_;  // by id
  std::vector<std::int64_t> cls_;
  std::vector<std::uint64_t> victim_bits_;  // by slot
  std::vector<int> victim_accels_;          // by type
  std::vector<std::size_t> victims_of_cls_;
  std::vector<Event> events_;              // a min-heap
  std::vector<std::vector<Event>> wakes_;  // per queue q: a min-heap of W_q (Event::lease unused)
  std::size_t size_ = 0;
  TimeMs now_ = -kNever;
  bool erased_since_advance_ = false;  // stale events may head the queues until advance()
};

template <class Skip>
TimeMs LasRunning::wake(std::int64_t q, Skip skip, TimeMs enough) const {
  if (q < 0 || static_cast<std::size_t>(q) >= wakes_.size()) return enough;
  // The heap's entries in time order, best first from its root, until one counts: skipped
  // and stale entries are few (advance() dropped those at the root).
  const auto& heap = wakes_[static_cast<std::size_t>(q)];
  std::vector<std::pair<TimeMs, std::size_t>> next;  // (time, heap position), a min-heap
  const auto later = [](const auto& a, const auto& b) { return a.first > b.first; };
  if (!heap.empty()) next.push_back({heap.front().at, 0});
  while (!next.empty()) {
    std::pop_heap(next.begin(), next.end(), later);
    const auto [at, pos] = next.back();
    next.pop_back();
    if (at >= enough) return enough;
    const Event& ev = heap[pos];
    if (!stale(ev) && !skip(entries_[ev.id].slot)) return at;
    for (std::size_t child = 2 * pos + 1; child <= 2 * pos + 2 && child < heap.size(); ++child) {
      next.push_back({heap[child].at, child});
      std::push_heap(next.begin(), next.end(), later);
    }
  }
  return enough;
}

}  // namespace zs
