#include "sched/keyed_index.h"

#include <stdexcept>

#include "sched/share_index.h"
#include "sched/wait_key.h"

namespace zs {

KeyedIndex::KeyedIndex(WaitKey key, const SchedParams& params) : key_(key), params_(params) {}

std::int64_t KeyedIndex::key_for(const PendingJob& job) const {
  return wait_key::of(key_, params_, job);
}

void KeyedIndex::insert(std::uint32_t rank, const PendingJob& job, std::uint32_t part) {
  if (rank >= entries_.size()) entries_.resize(rank + 1);
  Entry& e = entries_[rank];
  if (e.present) throw std::logic_error("KeyedIndex: rank inserted twice");
  e.job = job;
  e.present = true;
  e.key = key_for(job);
  e.part = part;
  if (part >= parts_.size()) parts_.resize(part + 1);
  parts_[part].insert({e.key, rank});
  ++size_;
  e.request = requests_.of(*job.job);
  if (e.request >= per_request_.size()) per_request_.resize(e.request + 1, 0);
  ++per_request_[e.request];
  if (key_ == WaitKey::kGittins && job.service_ranks) join_group(rank, e);
}

void KeyedIndex::erase(std::uint32_t rank) {
  if (rank >= entries_.size() || !entries_[rank].present)
    throw std::logic_error("KeyedIndex: erasing a rank that is not in the index");
  Entry& e = entries_[rank];
  parts_[e.part].erase({e.key, rank});
  --size_;
  --per_request_[e.request];
  if (e.group != kNoGroup) leave_group(e);
  e.present = false;
}

void KeyedIndex::join_group(std::uint32_t rank, Entry& e) {
  const ServiceDistribution::Ranks* ranks = e.job.service_ranks;
  auto [it, added] = group_of_.emplace(ranks, static_cast<std::uint32_t>(groups_.size()));
  if (added) groups_.push_back({ranks, ranks->version, {}, 0});
  Group& g = groups_[it->second];
  if (g.members.empty()) {
    // Its key was worked out from the ranks as they are now. (A group with members keeps the
    // version its members were keyed with: refresh() re-keys them all, this one included.)
    g.version = ranks->version;
    g.active_at = static_cast<std::uint32_t>(active_.size());
    active_.push_back(it->second);
  }
  e.group = it->second;
  e.at = static_cast<std::uint32_t>(g.members.size());
  g.members.push_back(rank);
}

void KeyedIndex::leave_group(Entry& e) {
  Group& g = groups_[e.group];
  const std::uint32_t moved = g.members.back();
  g.members[e.at] = moved;
  entries_[moved].at = e.at;
  g.members.pop_back();
  if (g.members.empty()) {
    const std::uint32_t last = active_.back();
    active_[g.active_at] = last;
    groups_[last].active_at = g.active_at;
    active_.pop_back();
  }
  e.group = kNoGroup;
}

void KeyedIndex::refresh() {
  for (std::uint32_t slot : active_) {
    Group& g = groups_[slot];
    if (g.version == g.ranks->version) continue;
    g.version = g.ranks->version;
    for (std::uint32_t rank : g.members) {
      Entry& e = entries_[rank];
      const std::int64_t key = key_for(e.job);
      if (key == e.key) continue;
      parts_[e.part].erase({e.key, rank});
      e.key = key;
      parts_[e.part].insert({key, rank});
      ++rekeyed_;
    }
  }
}

bool KeyedIndex::describes(const Snapshot& s, WaitKey key) const {
  if (key != key_ || size_ != s.pending.size() ||
      params_.spf_size_weight != s.params.spf_size_weight)
    return false;
  for (std::uint32_t slot : active_)
    if (groups_[slot].version != groups_[slot].ranks->version) return false;
  return true;
}

}  // namespace zs

namespace zs {

bool KeyedIndex::describes_groups(const ShareIndex& index) const {
  if (parts_.size() > index.group_count()) return false;
  for (std::uint32_t g = 0; g < index.group_count(); ++g)
    if (part(g).size() != index.group(g).size) return false;
  return true;
}

}  // namespace zs
