#include "sched/gittins_running.h"

#include <algorithm>
#include <functional>

#include "sched/wait_key.h"

namespace zs {

std::int64_t GittinsRunning::key_of(const Entry& e) const {
  // PreemptivePolicy::running_rank() for gittins, bit for bit.
  return e.waiting_since +
         wait_key::weighted(params_, wait_key::gittins_rank(e.ranks, e.accels, e.bin));
}

void GittinsRunning::grow(std::uint32_t slot) {
  if (slot < key_.size()) return;
  const std::size_t n = static_cast<std::size_t>(slot) + 1;
  key_.resize(n);
  lease_end_.resize(n);
  next_bin_at_.resize(n);
  accels_.resize(n);
  types_.resize(n);
  memo_.resize(n);
}

void GittinsRunning::rekey(std::uint32_t id, TimeMs at) {
  Entry& e = entries_[id];
  const TimeMs attained = e.attained_at_start + (at - e.started) * e.accels;
  e.bin = ServiceDistribution::bin_of(attained);
  key_[e.slot] = key_of(e);
  memo_[e.slot] = {};
  TimeMs next = kNever;
  if (e.bin + 1 < ServiceDistribution::kBins && e.accels > 0) {
    // It enters the next bin once its service reaches that bin's start.
    const TimeMs need = ServiceDistribution::bin_start(e.bin + 1) - e.attained_at_start;
    next = e.started + (need + e.accels - 1) / e.accels;
    events_.push_back({next, id, e.generation});
    std::push_heap(events_.begin(), events_.end(), std::greater<>());
  }
  next_bin_at_[e.slot] = next;
}

void GittinsRunning::insert(std::uint32_t id, std::uint32_t slot, const RunningJob& r,
                            TimeMs attained_at_start) {
  if (id >= entries_.size()) entries_.resize(static_cast<std::size_t>(id) + 1);
  if (entries_[id].present) erase(id);
  Entry& e = entries_[id];
  ++e.generation;
  e.present = true;
  e.slot = slot;
  e.started = r.started;
  e.attained_at_start = attained_at_start;
  e.waiting_since = r.started - r.waited_ms;
  e.ranks = r.service_ranks;
  e.accels = zs::accels(r);
  if (e.accels <= 0) ++zero_accel_jobs_;
  ++size_;
  grow(slot);
  lease_end_[slot] = r.started + params_.min_run_ms;
  accels_[slot] = e.accels;
  types_[slot] = r.type;
  if (e.ranks) {
    auto [it, added] = groups_.try_emplace(e.ranks);
    if (added) it->second.version = e.ranks->version;
    // Keyed with the ranks of now: a group keyed with older ones is re-keyed whole at the
    // next advance() that is told of a refresh, this job too.
    Group& g = it->second;
    ++g.live;
    if (g.members.size() > 2 * g.live + 8)
      std::erase_if(g.members, [&](std::uint32_t m) {
        return !entries_[m].present || entries_[m].ranks != e.ranks;
      });
    g.members.push_back(id);
  }
  rekey(id, std::max(now_, e.started));
}

void GittinsRunning::erase(std::uint32_t id) {
  if (id >= entries_.size() || !entries_[id].present) return;
  Entry& e = entries_[id];
  if (e.accels <= 0) --zero_accel_jobs_;
  if (e.ranks) {
    const auto it = groups_.find(e.ranks);
    if (it != groups_.end() && --it->second.live == 0) groups_.erase(it);
  }
  e.present = false;
  --size_;
  erased_since_advance_ = true;
}

void GittinsRunning::move(std::uint32_t id, std::uint32_t slot) {
  Entry& e = entries_[id];
  grow(slot);
  key_[slot] = key_[e.slot];
  lease_end_[slot] = lease_end_[e.slot];
  next_bin_at_[slot] = next_bin_at_[e.slot];
  accels_[slot] = accels_[e.slot];
  types_[slot] = types_[e.slot];
  memo_[slot] = memo_[e.slot];
  e.slot = slot;
}

void GittinsRunning::advance(TimeMs now, std::uint64_t ranks_refreshed) {
  now_ = std::max(now_, now);
  while (!events_.empty() && events_.front().at <= now_) {
    const Event ev = events_.front();
    std::pop_heap(events_.begin(), events_.end(), std::greater<>());
    events_.pop_back();
    const Entry& e = entries_[ev.id];
    if (e.present && e.generation == ev.generation) rekey(ev.id, now_);
  }
  // Groups whose ranks were worked out again: their running jobs' keys at their bins now.
  if (ranks_refreshed != ranks_refreshed_) {
    ranks_refreshed_ = ranks_refreshed;
    for (auto& [ranks, g] : groups_) {
      if (g.version == ranks->version) continue;
      g.version = ranks->version;
      for (std::uint32_t id : g.members)
        if (const Entry& e = entries_[id]; e.present && e.ranks == ranks) {
          key_[e.slot] = key_of(e);
          memo_[e.slot] = {};
        }
    }
  }
  if (events_.size() > 64 + 4 * size_) {
    std::erase_if(events_, [&](const Event& ev) {
      return !entries_[ev.id].present || entries_[ev.id].generation != ev.generation;
    });
    std::make_heap(events_.begin(), events_.end(), std::greater<>());
  }
  erased_since_advance_ = false;
}

bool GittinsRunning::describes(const Snapshot& s, TimeMs now) const {
  return zero_accel_jobs_ == 0 && !erased_since_advance_ && now_ == now &&
         size_ == s.running.size() && params_.spf_size_weight == s.params.spf_size_weight &&
         params_.min_run_ms == s.params.min_run_ms;
}

}  // namespace zs
