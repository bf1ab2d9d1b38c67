#include "sched/holds.h"

#include <algorithm>
#include <unordered_map>

#include "sched/share_index.h"

namespace zs {

namespace {

bool on_usable_devices(const FreePool& pool, const Hold& h) {
  if (h.placement.empty()) return false;
  for (const Slot& slot : h.placement) {
    if (slot.node >= pool.cluster().nodes.size()) return false;
    if (pool.cluster().nodes[slot.node].type != h.type) return false;
    if ((slot.devices & pool.capacity(slot.node)) != slot.devices) return false;
  }
  return true;
}

bool all_free(const FreePool& pool, const Hold& h) {
  for (const Slot& slot : h.placement)
    if ((pool.free_mask(slot.node) & slot.devices) != slot.devices) return false;
  return true;
}

}  // namespace

std::vector<bool> apply_holds(const Snapshot& s, FreePool& pool, ShareGate& gate, Decisions& d) {
  if (s.holds.empty()) return {};
  // The waiting jobs with a hold (the first hold of each), in s.pending order: found through the
  // driver's share index when there is one, else in one scan.
  std::vector<std::pair<std::size_t, const Hold*>> held;
  if (s.share_index && s.share_index->describes(s)) {
    for (const Hold& h : s.holds) {
      const std::uint32_t r = s.share_index->rank_of(h.for_job);
      if (r == ShareIndex::kEnd) continue;
      const auto at = std::lower_bound(s.pending_ranks.begin(), s.pending_ranks.end(), r);
      if (at == s.pending_ranks.end() || *at != r) continue;
      held.emplace_back(static_cast<std::size_t>(at - s.pending_ranks.begin()), &h);
    }
    // Stable: for a job with two holds, the first one.
    std::stable_sort(held.begin(), held.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    held.erase(std::unique(held.begin(), held.end(),
                           [](const auto& a, const auto& b) { return a.first == b.first; }),
               held.end());
  } else {
    std::unordered_map<JobId, const Hold*> of_job;
    for (const Hold& h : s.holds) of_job.emplace(h.for_job, &h);
    for (std::size_t i = 0; i < s.pending.size(); ++i) {
      auto it = of_job.find(s.pending[i].job->id);
      if (it != of_job.end()) held.emplace_back(i, it->second);
    }
  }
  std::vector<bool> holder(s.pending.size(), false);
  for (const auto& [i, hold] : held) {
    const Job& job = *s.pending[i].job;
    const Hold& h = *hold;
    if (!on_usable_devices(pool, h) || !job.accepted.contains(h.type)) continue;
    const bool free = all_free(pool, h);
    // Its devices are free but another job took the CPU or memory it needs there: the hold
    // cannot be kept (it would lock the devices); the job competes like any other.
    if (free && !pool.has_resources(h.placement, job)) continue;
    holder[i] = true;
    gate.started(job, h.type);  // its tenant's share counts it from now on
    if (free) {
      pool.take(h.placement, job);
      d.starts.push_back({job.id, h.type, h.placement, false});
      continue;
    }
    Placement free_part;
    for (const Slot& slot : h.placement)
      if (const auto f = pool.free_mask(slot.node) & slot.devices)
        free_part.push_back({slot.node, f});
    pool.remove_devices(free_part);
  }
  return holder;
}

std::vector<std::uint32_t> holder_ranks(const Snapshot& s, const std::vector<bool>& holder) {
  std::vector<std::uint32_t> ranks;
  if (!s.share_index || holder.empty()) return ranks;
  for (const Hold& h : s.holds) {
    const std::uint32_t r = s.share_index->rank_of(h.for_job);
    if (r == ShareIndex::kEnd) continue;
    const auto at = std::lower_bound(s.pending_ranks.begin(), s.pending_ranks.end(), r);
    if (holder[static_cast<std::size_t>(at - s.pending_ranks.begin())]) ranks.push_back(r);
  }
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
  return ranks;
}

}  // namespace zs
