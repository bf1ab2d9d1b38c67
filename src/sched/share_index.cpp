#include "sched/share_index.h"

#include <algorithm>
#include <bit>
#include <functional>
#include <stdexcept>
#include <string>

namespace zs {

std::size_t ShareIndex::KeyHash::operator()(const Key& k) const {
  std::size_t h = std::hash<std::uint64_t>{}(k.types);
  auto mix = [&](std::uint64_t v) { h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); };
  mix(static_cast<std::uint64_t>(static_cast<std::uint32_t>(k.tenant)));
  mix(static_cast<std::uint64_t>(static_cast<std::uint32_t>(k.priority)));
  mix(static_cast<std::uint64_t>(k.accel_count) << 1 | static_cast<std::uint64_t>(k.any));
  mix(static_cast<std::uint64_t>(static_cast<std::uint32_t>(k.nodes)) << 32 |
      static_cast<std::uint32_t>(k.per_node));
  mix(static_cast<std::uint64_t>(static_cast<std::uint32_t>(k.model)));
  mix(std::bit_cast<std::uint64_t>(k.cpu));
  mix(std::bit_cast<std::uint64_t>(k.mem));
  mix(reinterpret_cast<std::uintptr_t>(k.constrained));
  return h;
}

void ShareIndex::insert(std::uint32_t rank, const PendingJob& p) {
  const Job& job = *p.job;
  const bool one_by_one = job.has_node_constraints() || !job.unknown_type.empty();
  const Key key{job.tenant_index,
                job.priority,
                job.accepted.bits(),
                job.accepted.is_any(),
                job.accel_count,
                job.nodes,
                job.per_node,
                job.model,
                job.cpu_per_accel,
                job.mem_gib_per_accel,
                one_by_one ? &job : nullptr};
  auto [it, added] = group_id_.emplace(key, static_cast<std::uint32_t>(groups_.size()));
  if (added) {
    groups_.push_back({&job, 0, one_by_one});
    members_.emplace_back();
  }
  const std::uint32_t g = it->second;
  if (rank >= group_of_.size()) {
    const std::size_t n = std::max<std::size_t>(rank + 1, 2 * group_of_.size());
    group_of_.resize(n, kNoGroup);
    job_of_.resize(n);
  }
  if (group_of_[rank] != kNoGroup)
    throw std::logic_error("share index: rank " + std::to_string(rank) + " is in it already");
  group_of_[rank] = g;
  job_of_[rank] = p;
  members_[g].insert(rank);
  ++groups_[g].size;
  rank_of_[job.id] = rank;
  ++size_;
}

void ShareIndex::erase(std::uint32_t rank) {
  const std::uint32_t g = group_of(rank);
  if (g == kNoGroup)
    throw std::logic_error("share index: rank " + std::to_string(rank) + " is not in it");
  group_of_[rank] = kNoGroup;
  members_[g].erase(rank);
  --groups_[g].size;
  rank_of_.erase(job_of_[rank].job->id);
  job_of_[rank] = PendingJob{};
  --size_;
}

bool ShareIndex::describes(const Snapshot& s) const {
  if (size_ != s.pending.size() || s.pending_ranks.size() != s.pending.size()) return false;
  if (s.pending.empty()) return true;
  // The ends only (O(1)): the driver keeps the rest.
  const std::uint32_t lo = s.pending_ranks.front(), hi = s.pending_ranks.back();
  return lo < job_of_.size() && hi < job_of_.size() && job_of_[lo].job == s.pending.front().job &&
         job_of_[hi].job == s.pending.back().job;
}

}  // namespace zs
