// GittinsRunning: each running job's `gittins` key, kept by the driver from pass to pass
// (Snapshot::gittins_running), so that a pass need not look up every running job's bin and
// rank again.
//
// A running job's key (docs/policies.md) is when it started waiting plus its rank, and its rank
// changes only when its service enters another bin of its group's distribution - at a time
// known from its start, as its service grows linearly - or when the group's ranks are worked
// out again (ServiceDistribution::Ranks::version). The index re-keys a job at those times only,
// and keeps, by slot of Snapshot::running, what a pass reads of each job in flat arrays: its
// key, lease end, the time it enters its next bin, its devices and type.
//
// The driver names each job by an id (unique while it runs), tells its slot, and moves it when
// the slot changes. A pass that is not given one, or whose index does not describe its
// snapshot, works every key out as before: either way the policy decides the same
// (tests/unit/driver_cache_test.cpp, tests/unit/gittins_running_test.cpp).
//
// Pure data structure: no clock. Time moves only through advance().
#pragma once
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/service_distribution.h"
#include "sched/snapshot.h"

namespace zs {

class GittinsRunning {
 public:
  explicit GittinsRunning(const SchedParams& params) : params_(params) {}

  // `r` started at r.started, having received `attained_at_start` accelerator-ms before.
  void insert(std::uint32_t id, std::uint32_t slot, const RunningJob& r, TimeMs attained_at_start);
  void erase(std::uint32_t id);
  // The job now sits at `slot` of Snapshot::running.
  void move(std::uint32_t id, std::uint32_t slot);
  // Re-keys the jobs that entered another bin at or before `now` and, when `ranks_refreshed`
  // changed since the last call (ServiceDistribution::refreshes(): it changes whenever any
  // group's ranks are worked out again), those whose group's ranks changed. Time never goes
  // back.
  void advance(TimeMs now, std::uint64_t ranks_refreshed);

  // True if this index describes `s.running` at `now` under `s.params`.
  bool describes(const Snapshot& s, TimeMs now) const;

  // By slot of Snapshot::running.
  std::span<const std::int64_t> key() const { return {key_.data(), size_}; }
  std::span<const TimeMs> lease_end() const { return {lease_end_.data(), size_}; }
  // When it enters its next bin; kNever in the last.
  std::span<const TimeMs> next_bin_at() const { return {next_bin_at_.data(), size_}; }
  std::span<const std::int32_t> accels() const { return {accels_.data(), size_}; }
  std::span<const TypeId> types() const { return {types_.data(), size_}; }

  std::size_t size() const { return size_; }
  TimeMs now() const { return now_; }

  // A memo of the wakes passes worked out (PreemptivePolicy::running_wake()) for jobs past
  // their lease, by slot: for the best waiting class q of that pass, the wake, or a time it is
  // no earlier than (`exact` false: the pass needed nothing later). It holds until the job is
  // keyed again (another bin, or its group's ranks worked out again): its wake for q is when
  // its key first exceeds q, a time fixed at its start while its ranks stay, and for any
  // q' >= q no earlier (its key must rise further). A cache the passes fill, kept here because
  // it must follow the job's slot; decisions are the same without it.
  struct WakeMemo {
    std::int64_t q = 0;
    TimeMs at = 0;
    bool exact = false;
    bool set = false;
  };
  // The memo of the job at `slot` if it was made for a class <= q, else null.
  const WakeMemo* wake_memo(std::uint32_t slot, std::int64_t q) const {
    const WakeMemo& m = memo_[slot];
    return m.set && m.q <= q ? &m : nullptr;
  }
  void remember_wake(std::uint32_t slot, std::int64_t q, TimeMs at, bool exact) const {
    memo_[slot] = {q, at, exact, true};
  }

 private:
  struct Entry {
    TimeMs started = 0, attained_at_start = 0, waiting_since = 0;
    const ServiceDistribution::Ranks* ranks = nullptr;
    std::int32_t accels = 0;
    std::uint32_t slot = 0;
    std::uint32_t generation = 0;  // events of an earlier stay are stale
    int bin = 0;
    bool present = false;
  };
  struct Event {
    TimeMs at;
    std::uint32_t id, generation;
    bool operator>(const Event& o) const { return at > o.at; }
  };
  // Its bin and key at `at`, and when it enters the next bin.
  void rekey(std::uint32_t id, TimeMs at);
  std::int64_t key_of(const Entry& e) const;
  void grow(std::uint32_t slot);

  SchedParams params_;
  std::vector<Entry> entries_;  // by id
  std::vector<std::int64_t> key_;
  std::vector<TimeMs> lease_end_, next_bin_at_;
  std::vector<std::int32_t> accels_;
  std::vector<TypeId> types_;
  mutable std::vector<WakeMemo> memo_;  // by slot: what passes found (wake_memo())
  std::vector<Event> events_;           // bin changes, a min-heap
  // The groups with running jobs: the version their jobs were keyed with, and the jobs.
  struct Group {
    std::uint32_t version = 0;
    std::size_t live = 0;                // members running
    std::vector<std::uint32_t> members;  // ids, some of them erased since (dropped now and then)
  };
  std::unordered_map<const ServiceDistribution::Ranks*, Group> groups_;
  std::size_t zero_accel_jobs_ = 0;
  std::size_t size_ = 0;
  TimeMs now_ = -kNever;
  bool erased_since_advance_ = false;
  std::uint64_t ranks_refreshed_ = 0;
};

}  // namespace zs
