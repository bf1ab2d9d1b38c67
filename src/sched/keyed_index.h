// KeyedIndex: the waiting jobs of a keyed preemptive policy (srtf, spf, gittins) in key order,
// kept by a driver from pass to pass, so that a pass need not work out every waiting job's key
// and sort them all again.
//
// Why it exists: a pass of these policies looks at the waiting jobs in key order only until the
// cluster is full (PreemptionPass::Result::kStop), but without an index it must first compute
// the key of every waiting job and sort them (on the Philly replay, ~163,000 passes over queues
// of hundreds to thousands of jobs). A waiting job's key does not change with time
// (sched/wait_key.h): srtf's is its remaining time, spf's when it started waiting plus its
// weighted predicted time left; gittins' is when it started waiting plus its weighted Gittins
// rank, which changes only when the distribution of its group is refreshed
// (ServiceDistribution::Ranks::version): refresh() re-keys the jobs of those groups. So the
// index costs O(log n) per job joining or leaving the queue, and a pass what it looks at.
//
// Order: (key, rank), where the rank orders the waiting jobs like (submit, id) - the order
// PreemptivePolicy sorts them in. The policy decides the same with or without an index.
//
// Under tenants' shares a pass takes each tenant's jobs group by group of the ShareIndex
// (sched/share_pass.cpp): the driver files every job under its share group (its part), and the
// index keeps one order per part, which the pass merges instead of ranking every job again.
//
// Pure data structure: no clock.
#pragma once
#include <cstdint>
#include <set>
#include <unordered_map>
#include <vector>

#include "sched/request_ids.h"
#include "sched/snapshot.h"

namespace zs {

class ShareIndex;

class KeyedIndex {
 public:
  struct Item {
    std::int64_t key;
    std::uint32_t rank;
    auto operator<=>(const Item&) const = default;
  };
  using const_iterator = std::set<Item>::const_iterator;

  KeyedIndex(WaitKey key, const SchedParams& params);

  // `rank` orders the waiting jobs like (submit, id): unique among them, growing with
  // (submit, id). The simulator uses the job's position in its (submit, id)-sorted input.
  // `part`: the job's ShareIndex group under tenants' shares, else 0.
  void insert(std::uint32_t rank, const PendingJob& job, std::uint32_t part = 0);
  void erase(std::uint32_t rank);
  // gittins: re-keys the jobs whose group's ranks were refreshed since they were keyed. A
  // driver calls it before each pass (describes() is false until then).
  void refresh();

  // True if this index describes `s.pending` for a policy keyed by `key` under `s.params`:
  // as many jobs, the same weight, and every key up to date.
  bool describes(const Snapshot& s, WaitKey key) const;

  WaitKey key() const { return key_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // In key order (every job of part 0: all of them when the driver files none elsewhere).
  const_iterator begin() const { return part(0).begin(); }
  const_iterator end() const { return part(0).end(); }
  // The jobs filed under a part, in key order (empty for a part never used).
  const std::set<Item>& part(std::uint32_t p) const {
    return p < parts_.size() ? parts_[p] : no_jobs_;
  }
  // True if the parts are the share index's groups: each holds as many jobs as its group
  // (with describes(), every waiting job is then in the part of its group).
  bool describes_groups(const ShareIndex& index) const;
  const PendingJob& job(std::uint32_t rank) const { return entries_[rank].job; }
  // The key a job has in the index (it must be in it).
  std::int64_t key_of(std::uint32_t rank) const { return entries_[rank].key; }
  // A small number shared by the jobs with the same request (RequestIds), below
  // request_count(), and how many waiting jobs have each (indexed by request(); may be shorter
  // than request_count(), the rest are 0).
  std::uint32_t request(std::uint32_t rank) const { return entries_[rank].request; }
  std::size_t request_count() const { return requests_.count(); }
  std::span<const std::uint32_t> jobs_per_request() const { return per_request_; }
  // How many keys refresh() has changed so far (tests).
  std::size_t rekeyed() const { return rekeyed_; }

 private:
  static constexpr std::uint32_t kNoGroup = ~std::uint32_t{0};
  struct Entry {
    PendingJob job;
    std::int64_t key = 0;
    std::uint32_t part = 0;
    std::uint32_t group = kNoGroup;  // gittins: its slot in groups_
    std::uint32_t at = 0;            // its position in that group's members
    std::uint32_t request = RequestIds::kNoRequest;
    bool present = false;
  };
  // gittins: the waiting jobs that share a Ranks, and the version they were keyed with.
  struct Group {
    const ServiceDistribution::Ranks* ranks = nullptr;
    std::uint32_t version = 0;
    std::vector<std::uint32_t> members;  // ranks
    std::uint32_t active_at = 0;         // its position in active_ while it has members
  };
  std::int64_t key_for(const PendingJob& job) const;
  void join_group(std::uint32_t rank, Entry& e);
  void leave_group(Entry& e);

  WaitKey key_;
  SchedParams params_;
  std::vector<std::set<Item>> parts_;
  std::set<Item> no_jobs_;
  std::size_t size_ = 0;
  std::vector<Entry> entries_;  // by rank
  std::vector<Group> groups_;
  std::unordered_map<const ServiceDistribution::Ranks*, std::uint32_t> group_of_;
  std::vector<std::uint32_t> active_;  // groups with members
  std::size_t rekeyed_ = 0;
  RequestIds requests_;
  std::vector<std::uint32_t> per_request_;  // waiting jobs per request
};

}  // namespace zs
