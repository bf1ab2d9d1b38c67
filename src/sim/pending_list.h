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

class PendingList {
 public:
  PendingList(bool sorted, std::size_t ranks) : sorted_(sorted), at_(sorted ? 0 : ranks, kNone) {}

  void add(std::uint32_t rank, const PendingJob& job);
  void drop(std::uint32_t rank);
  // Applies the adds and drops made since the last call (sorted lists are behind until then).
  void settle();

  // The list as of the last settle().
  std::span<const PendingJob> jobs() const { return jobs_; }
  bool empty() const { return jobs_.empty(); }

 private:
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};
  void cancel_rejoined();
  void remove_leaving();
  void insert_joining();

  bool sorted_;
  std::vector<PendingJob> jobs_;
  std::vector<std::uint32_t> ranks_;  // parallel to jobs_
  std::vector<std::uint32_t> at_;     // unsorted: position of each rank in jobs_
  // Sorted: changes waiting for settle() (rank, entry).
  std::vector<std::pair<std::uint32_t, PendingJob>> joining_;
  std::vector<std::uint32_t> leaving_;
};

}  // namespace zs
