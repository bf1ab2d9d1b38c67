// ShareIndex: the waiting jobs grouped by (tenant, priority, request), kept by a driver from pass
// to pass, so that a pass under tenants' shares need not classify every waiting job again.
//
// A waiting job's standing (sched/share_gate.h) depends only on its tenant, its request (types
// and device count) and what its tenant holds: every job of a group stands the same, and jobs
// needing the same devices get the same answer from placement. A pass with the index therefore
// classifies groups, not jobs, walks each tenant's jobs in (submit, id) order only as far as it
// needs to, and can tell a whole group at once that it waits (Decisions::group_waits).
//
// The driver inserts a job when it appears in Snapshot::pending and erases it when it leaves, by
// its rank: unique among the waiting jobs and growing with (submit, id), so that ranks order
// Snapshot::pending (Snapshot::pending_ranks gives each entry's rank). Without an index (other
// drivers, tests) a pass classifies every job, and decides the same.
//
// Pure data structure.
#pragma once
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "sched/las_index.h"
#include "sched/snapshot.h"

namespace zs {

class ShareIndex {
 public:
  static constexpr std::uint32_t kEnd = RankSet::kEnd;
  static constexpr std::uint32_t kNoGroup = ~std::uint32_t{0};

  // What every job of a group shares (the fields of the job it was made for).
  struct Group {
    const Job* like = nullptr;  // one job of the group (the first ever): its request and tenant
    std::uint32_t size = 0;     // waiting jobs in it now
    // Jobs with node constraints or an unknown type: placement may differ between them in ways
    // the request does not capture cheaply; a pass looks at each one.
    bool one_by_one = false;
  };

  void insert(std::uint32_t rank, const PendingJob& job);
  void erase(std::uint32_t rank);

  std::size_t size() const { return size_; }
  // True if it lists exactly the jobs of s.pending, with s.pending_ranks their ranks.
  bool describes(const Snapshot& s) const;

  std::size_t group_count() const { return groups_.size(); }
  const Group& group(std::uint32_t g) const { return groups_[g]; }
  // The group of a waiting job, kNoGroup when the rank is not in the index.
  std::uint32_t group_of(std::uint32_t rank) const {
    return rank < group_of_.size() ? group_of_[rank] : kNoGroup;
  }
  // The group's ranks in order: first(g, 0), then first(g, rank + 1) until kEnd.
  std::uint32_t first(std::uint32_t g, std::uint32_t from) const { return members_[g].next(from); }
  const Job& job(std::uint32_t rank) const { return *job_of_[rank].job; }
  // The waiting job of that rank as Snapshot::pending lists it.
  const PendingJob& pending(std::uint32_t rank) const { return job_of_[rank]; }
  // The rank of a waiting job, kEnd if it is not in the index.
  std::uint32_t rank_of(JobId id) const {
    auto it = rank_of_.find(id);
    return it == rank_of_.end() ? kEnd : it->second;
  }

 private:
  struct Key {
    std::int32_t tenant, priority;
    std::uint64_t types;
    bool any;
    int accel_count, nodes, per_node, model;
    double cpu, mem;
    const Job* constrained;  // jobs with node constraints or an unknown type: one group each
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const;
  };

  std::vector<Group> groups_;
  std::vector<RankSet> members_;  // by group
  std::unordered_map<Key, std::uint32_t, KeyHash> group_id_;
  std::vector<std::uint32_t> group_of_;  // by rank
  std::vector<PendingJob> job_of_;       // by rank
  std::unordered_map<JobId, std::uint32_t> rank_of_;
  std::size_t size_ = 0;
};

}  // namespace zs
