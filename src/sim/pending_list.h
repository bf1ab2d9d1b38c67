// PendingList: the simulator's waiting jobs, as Snapshot::pending lists them.
//
// Each job has a rank: its position in (submit, id) order. Sorted, the list is in rank order,
// which policies rely on; jobs a pass starts or preempts are merged in once, after the pass.
// Unsorted (when a LasIndex gives the policy its order) a job leaves in O(1).
#pragma once
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "sched/snapshot.h"

namespace zs {

// Told when a job appears in jobs() and when it leaves it (after settle(), or at once).
class PendingListener {
 public:
  virtual void joined(std::uint32_t rank, const PendingJob& job) = 0;
  virtual void left(std::uint32_t rank) = 0;

 protected:
  ~PendingListener() = default;
};

class PendingList {
 public:
  PendingList(bool sorted, std::size_t ranks) : sorted_(sorted), at_(sorted ? 0 : ranks, kNone) {}

  void add(std::uint32_t rank, const PendingJob& job);
  void drop(std::uint32_t rank);
  // Applies the adds and drops made since the last call (sorted lists are behind until then).
  void settle();

  // The list as of the last settle().
  std::span<const PendingJob> jobs() const {
    return std::span<const PendingJob>(jobs_).subspan(head_);
  }
  bool empty() const { return jobs_.size() == head_; }
  // The rank of each entry of jobs() (ascending when sorted).
  std::span<const std::uint32_t> ranks() const {
    return std::span<const std::uint32_t>(ranks_).subspan(head_);
  }
  void listen(PendingListener* l) { listener_ = l; }
  // True when jobs() is in (priority desc, submit, id) order too: sorted, and all its jobs have
  // the same priority (Snapshot::pending_in_priority_order).
  bool in_priority_order() const { return sorted_ && priorities_.size() <= 1; }

 private:
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};
  void cancel_rejoined();
  void remove_leaving();
  void insert_joining();
  // jobs_ gained (+1) or lost (-1) a job of this priority.
  void count(std::int32_t priority, int delta);

  bool sorted_;
  PendingListener* listener_ = nullptr;
  // The list is jobs_[head_, end): a sorted list removes the jobs that leave by moving the
  // shorter side - usually the few jobs before them (the oldest jobs start first), not the
  // whole queue behind them.
  std::vector<PendingJob> jobs_;
  std::vector<std::uint32_t> ranks_;  // parallel to jobs_
  std::size_t head_ = 0;              // always 0 when unsorted
  std::vector<std::uint32_t> at_;     // unsorted: position of each rank in jobs_
  // Sorted: changes waiting for settle() (rank, entry).
  std::vector<std::pair<std::uint32_t, PendingJob>> joining_;
  std::vector<std::uint32_t> leaving_;
  // The priorities of the jobs in jobs_, with how many have each (few distinct values).
  std::vector<std::pair<std::int32_t, std::uint32_t>> priorities_;
};

}  // namespace zs
