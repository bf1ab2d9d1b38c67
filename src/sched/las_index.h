// LasIndex: the waiting jobs of `las` grouped by class, so that a pass need not classify and
// bucket every waiting job again.
//
// A waiting job's class (docs/policies.md) changes only at two known times, both of which move
// it to queue 0: its promotion (it waited promote-factor x its last run) and the starvation
// guard (it waited the starvation limit). The index keeps each class as a set of ranks and a
// queue of those times, so a pass costs what changed since the last one plus the jobs it looks
// at. The driver may keep one from pass to pass (Snapshot::las_index); otherwise the policy
// builds one from Snapshot::pending. Either way the policy decides the same.
//
// Pure data structure: no clock. Time moves only through advance().
#pragma once
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "sched/request_ids.h"
#include "sched/snapshot.h"

namespace zs {

class ShareIndex;

// LAS queue thresholds in accelerator-ms, as queues compare them: ceil(seconds x 1000).
std::vector<TimeMs> las_threshold_ms(const std::vector<double>& thresholds_accel_s);
// The LAS queue of an attained service: how many thresholds it has reached.
inline int las_queue_ms(TimeMs attained_accel_ms, std::span<const TimeMs> threshold_ms) {
  int q = 0;
  for (TimeMs t : threshold_ms) q += attained_accel_ms >= t;
  return q;
}

// A set of ranks with fast in-order iteration: a bitset plus one summary bit per word.
class RankSet {
 public:
  static constexpr std::uint32_t kEnd = ~std::uint32_t{0};
  void insert(std::uint32_t r);
  void erase(std::uint32_t r);
  // The smallest rank >= from, or kEnd.
  std::uint32_t next(std::uint32_t from) const;

 private:
  std::vector<std::uint64_t> words_, summary_;
};

class LasIndex {
 public:
  static constexpr std::uint32_t kEnd = RankSet::kEnd;
  static constexpr std::uint32_t kNoRequest = RequestIds::kNoRequest;  // see request()

  explicit LasIndex(const SchedParams& params);
  // All of `pending`, advanced to `now`. Their positions are their ranks: Snapshot::pending
  // is in (submit, id) order.
  LasIndex(const SchedParams& params, std::span<const PendingJob> pending, TimeMs now);

  // `rank` orders the waiting jobs like (submit, id): unique among them, growing with
  // (submit, id). The simulator uses the job's position in its (submit, id)-sorted input.
  // `part`: under tenants' shares, the job's ShareIndex group (see next_in()), else 0.
  void insert(std::uint32_t rank, const PendingJob& job, std::uint32_t part = 0);
  void erase(std::uint32_t rank);
  // Moves to queue 0 every job whose promotion or starvation is due at or before `now`. Time never
  // goes back.
  void advance(TimeMs now);

  // True if this index describes `s.pending` at `now` under `s.params`.
  bool describes(const Snapshot& s, TimeMs now) const;

  std::size_t size() const { return size_; }
  TimeMs now() const { return now_; }
  // Best (lowest) class of a waiting job; size() must be > 0.
  int min_class() const;
  // The next promotion or starvation time after now(), kNever if none.
  TimeMs next_change() const;
  int max_class() const { return static_cast<int>(threshold_ms_.size()); }
  std::size_t count(int cls) const { return count_[slot(cls)]; }
  // Ranks of class `cls` in order: first(cls), then next(cls, rank + 1) until kEnd.
  std::uint32_t first(int cls) const { return classes_[slot(cls)].next(0); }
  std::uint32_t next(int cls, std::uint32_t from) const { return classes_[slot(cls)].next(from); }
  const PendingJob& job(std::uint32_t rank) const { return entries_[rank].job; }
  // A small number shared by the jobs with the same request (types, count, shape, CPU and
  // memory), below request_count(); kNoRequest for a job naming an unknown type or with node
  // constraints.
  std::uint32_t request(std::uint32_t rank) const { return entries_[rank].request; }
  std::size_t request_count() const { return requests_.count(); }
  // How many jobs of class `cls` have each request (indexed by request(); may be shorter than
  // request_count(), the rest are 0).
  std::span<const std::uint32_t> jobs_per_request(int cls) const { return by_request_[slot(cls)]; }

  std::span<const TimeMs> threshold_ms() const { return threshold_ms_; }

  // Under tenants' shares a pass takes each tenant's jobs group by group of the ShareIndex
  // (sched/share_pass.cpp): the driver files every job under its share group (its part), and
  // the index keeps each part's classes too, which the pass merges instead of classifying
  // every waiting job again. The smallest rank >= from of class `cls` in part `part`, or kEnd.
  std::uint32_t next_in(std::uint32_t part, int cls, std::uint32_t from) const {
    const std::size_t k = part_slot(part, cls);
    return k < parts_.size() ? parts_[k].next(from) : kEnd;
  }
  // Part 0 (no parts) is not kept: share group g is part g + 1.
  static std::uint32_t part_of_group(std::uint32_t g) { return g + 1; }
  // True if the parts are the share index's groups: each holds as many jobs as its group
  // (with describes(), every waiting job is then in the part of its group).
  bool describes_groups(const ShareIndex& index) const;

 private:
  struct Entry {
    PendingJob job;
    std::uint32_t request = kNoRequest;
    std::uint32_t generation = 0;  // events of an earlier stay in the index are stale
    int cls = 0;
    std::uint32_t part = 0;
    bool present = false;
  };
  struct Event {
    TimeMs at;
    std::uint32_t rank, generation;
    bool promote;  // by its last run (a heap); else by the starvation guard (a sorted queue)
    // Function objects rather than functions, so that sorts and heaps inline them.
    struct Earlier {
      bool operator()(const Event& a, const Event& b) const { return a.at < b.at; }
    };
    struct Later {
      bool operator()(const Event& a, const Event& b) const { return a.at > b.at; }
    };
  };
  static constexpr TimeMs kNoTime = -kNever;  // before any advance()
  std::size_t slot(int cls) const { return static_cast<std::size_t>(cls); }
  std::size_t part_slot(std::uint32_t part, int cls) const {
    return static_cast<std::size_t>(part) * classes_.size() + slot(cls);
  }
  void add(std::uint32_t rank, const Entry& e);
  void remove(std::uint32_t rank, const Entry& e);
  void push(const Event& ev);
  bool stale(const Event& ev) const;
  void drop_stale_events();
  // The earliest event (both queues must have dropped their stale fronts), or null.
  const Event* first_event() const;
  void pop_first_event();

  SchedParams params_;
  std::vector<TimeMs> threshold_ms_;
  std::vector<Entry> entries_;  // by rank
  std::vector<RankSet> classes_;
  // By part_slot(): the ranks of each part's classes, and how many jobs each part holds. Only
  // parts other than 0 are kept (an index without parts pays nothing for them).
  std::vector<RankSet> parts_;
  std::vector<std::size_t> part_size_;
  std::vector<std::size_t> count_;
  std::vector<std::vector<std::uint32_t>> by_request_;  // per class: jobs per request
  // Starvation times come in time order when jobs start waiting at the driver's clock, so a
  // sorted queue takes them in O(1); promotion times do not, so they go in a min-heap.
  std::vector<Event> starving_;  // sorted by time, from starving_head_ on
  std::size_t starving_head_ = 0;
  std::vector<Event> promotions_;
  bool bulk_ = false;  // building from a snapshot: sort the queues once at the end
  RequestIds requests_;
  std::size_t size_ = 0;
  TimeMs now_ = kNoTime;
};

}  // namespace zs
