#include "sched/las_index.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

#include "sched/share_index.h"

namespace zs {

std::vector<TimeMs> las_threshold_ms(const std::vector<double>& thresholds_accel_s) {
  std::vector<TimeMs> ms;
  for (double t : thresholds_accel_s) ms.push_back(static_cast<TimeMs>(std::ceil(t * 1000.0)));
  return ms;
}

void RankSet::insert(std::uint32_t r) {
  const std::size_t w = r / 64;
  if (w >= words_.size()) {
    words_.resize(w + 1, 0);
    summary_.resize(w / 64 + 1, 0);
  }
  words_[w] |= std::uint64_t{1} << (r % 64);
  summary_[w / 64] |= std::uint64_t{1} << (w % 64);
}

void RankSet::erase(std::uint32_t r) {
  const std::size_t w = r / 64;
  if (w >= words_.size()) return;
  words_[w] &= ~(std::uint64_t{1} << (r % 64));
  if (words_[w] == 0) summary_[w / 64] &= ~(std::uint64_t{1} << (w % 64));
}

std::uint32_t RankSet::next(std::uint32_t from) const {
  std::size_t w = from / 64;
  if (w >= words_.size()) return kEnd;
  const std::uint64_t bits = words_[w] & (~std::uint64_t{0} << (from % 64));
  if (bits != 0) return static_cast<std::uint32_t>(w * 64 + std::countr_zero(bits));
  // The next non-empty word, found through the summary.
  ++w;
  std::size_t s = w / 64;
  if (s >= summary_.size()) return kEnd;
  std::uint64_t sb = summary_[s] & (~std::uint64_t{0} << (w % 64));
  while (sb == 0) {
    if (++s >= summary_.size()) return kEnd;
    sb = summary_[s];
  }
  const std::size_t nw = s * 64 + static_cast<std::size_t>(std::countr_zero(sb));
  return static_cast<std::uint32_t>(nw * 64 + std::countr_zero(words_[nw]));
}

LasIndex::LasIndex(const SchedParams& params)
    : params_(params),
      threshold_ms_(las_threshold_ms(params.las_thresholds_accel_s)),
      classes_(threshold_ms_.size() + 1),
      count_(classes_.size(), 0),
      by_request_(classes_.size()) {}

LasIndex::LasIndex(const SchedParams& params, std::span<const PendingJob> pending, TimeMs now)
    : LasIndex(params) {
  entries_.reserve(pending.size());
  starving_.reserve(pending.size());
  bulk_ = true;
  for (std::uint32_t i = 0; i < pending.size(); ++i) insert(i, pending[i]);
  bulk_ = false;
  // In time order, ties in rank order (as pushed: one event per rank), so an unstable sort by
  // (time, rank) does. They are in order already when the jobs started waiting in (submit, id)
  // order. Otherwise only the events after `now` need sorting: advance(now) below applies all
  // the others, and their order does not matter (each changes only its own job, which ends up
  // starving whatever came first).
  const auto by_time_rank = [](const Event& a, const Event& b) {
    return a.at != b.at ? a.at < b.at : a.rank < b.rank;
  };
  if (!std::is_sorted(starving_.begin(), starving_.end(), by_time_rank)) {
    const auto due_end = std::partition(starving_.begin(), starving_.end(),
                                        [&](const Event& e) { return e.at <= now; });
    std::sort(due_end, starving_.end(), by_time_rank);
  }
  std::make_heap(promotions_.begin(), promotions_.end(), Event::Later{});
  advance(now);
}

void LasIndex::push(const Event& ev) {
  if (ev.promote) {
    promotions_.push_back(ev);
    if (!bulk_) std::push_heap(promotions_.begin(), promotions_.end(), Event::Later{});
  } else if (bulk_ || starving_.size() == starving_head_ || starving_.back().at <= ev.at) {
    starving_.push_back(ev);
  } else {
    starving_.insert(
        std::upper_bound(starving_.begin() + static_cast<std::ptrdiff_t>(starving_head_),
                         starving_.end(), ev, Event::Earlier{}),
        ev);
  }
}

void LasIndex::insert(std::uint32_t rank, const PendingJob& job, std::uint32_t part) {
  if (rank >= entries_.size()) entries_.resize(rank + 1);
  Entry& e = entries_[rank];
  if (e.present) throw std::logic_error("LasIndex: rank inserted twice");
  e.job = job;
  e.request = requests_.of(*job.job);
  e.present = true;
  ++e.generation;
  const int q = las_queue_ms(job.attained_accel_ms, threshold_ms_);
  e.cls = q;
  e.part = part;
  if (part > 0 && part >= part_size_.size()) {
    part_size_.resize(part + 1, 0);
    parts_.resize(part_slot(part + 1, 0));
  }
  if (part > 0) ++part_size_[part];
  add(rank, e);
  ++size_;
  // The times it moves to queue 0 (see PreemptivePolicy::pending_class).
  if (q == 0) return;
  push({job.waiting_since + params_.starvation_ms, rank, e.generation, false});
  if (job.last_run_ms > 0) {
    const TimeMs promote_at =
        job.waiting_since + static_cast<TimeMs>(std::ceil(params_.las_promote_factor *
                                                          static_cast<double>(job.last_run_ms)));
    push({promote_at, rank, e.generation, true});
  }
}

void LasIndex::erase(std::uint32_t rank) {
  if (rank >= entries_.size() || !entries_[rank].present)
    throw std::logic_error("LasIndex: erasing a rank that is not in the index");
  Entry& e = entries_[rank];
  remove(rank, e);
  if (e.part > 0) --part_size_[e.part];
  --size_;
  e.present = false;
  ++e.generation;
}

void LasIndex::add(std::uint32_t rank, const Entry& e) {
  const std::size_t c = slot(e.cls);
  classes_[c].insert(rank);
  if (e.part > 0) parts_[part_slot(e.part, e.cls)].insert(rank);
  ++count_[c];
  auto& per_request = by_request_[c];
  if (e.request >= per_request.size()) per_request.resize(e.request + 1, 0);
  ++per_request[e.request];
}

void LasIndex::remove(std::uint32_t rank, const Entry& e) {
  const std::size_t c = slot(e.cls);
  classes_[c].erase(rank);
  if (e.part > 0) parts_[part_slot(e.part, e.cls)].erase(rank);
  --count_[c];
  --by_request_[c][e.request];
}

// An event of a job that left (or left and came back), or of one in queue 0 already.
bool LasIndex::stale(const Event& ev) const {
  const Entry& e = entries_[ev.rank];
  return !e.present || e.generation != ev.generation || e.cls == 0;
}

void LasIndex::drop_stale_events() {
  while (starving_head_ < starving_.size() && stale(starving_[starving_head_])) ++starving_head_;
  if (starving_head_ > 1024 && 2 * starving_head_ > starving_.size()) {
    starving_.erase(starving_.begin(),
                    starving_.begin() + static_cast<std::ptrdiff_t>(starving_head_));
    starving_head_ = 0;
  }
  while (!promotions_.empty() && stale(promotions_.front())) {
    std::pop_heap(promotions_.begin(), promotions_.end(), Event::Later{});
    promotions_.pop_back();
  }
}

const LasIndex::Event* LasIndex::first_event() const {
  const Event* s = starving_head_ < starving_.size() ? &starving_[starving_head_] : nullptr;
  const Event* p = promotions_.empty() ? nullptr : &promotions_.front();
  if (!s || !p) return s ? s : p;
  return p->at < s->at ? p : s;
}

void LasIndex::pop_first_event() {
  const Event* first = first_event();
  if (!promotions_.empty() && first == &promotions_.front()) {
    std::pop_heap(promotions_.begin(), promotions_.end(), Event::Later{});
    promotions_.pop_back();
  } else {
    ++starving_head_;
  }
}

TimeMs LasIndex::next_change() const {
  const Event* first = first_event();
  return first ? first->at : kNever;
}

void LasIndex::advance(TimeMs now) {
  if (now < now_) throw std::logic_error("LasIndex: time went back");
  drop_stale_events();
  for (const Event* first = first_event(); first && first->at <= now; first = first_event()) {
    const Event ev = *first;
    pop_first_event();
    Entry& e = entries_[ev.rank];
    remove(ev.rank, e);
    e.cls = 0;
    add(ev.rank, e);
    drop_stale_events();
  }
  now_ = now;
}

int LasIndex::min_class() const {
  for (std::size_t c = 0; c < count_.size(); ++c)
    if (count_[c] > 0) return static_cast<int>(c);
  return max_class();
}

bool LasIndex::describes(const Snapshot& s, TimeMs now) const {
  return now_ == now && size_ == s.pending.size() &&
         params_.las_thresholds_accel_s == s.params.las_thresholds_accel_s &&
         params_.las_promote_factor == s.params.las_promote_factor &&
         params_.starvation_ms == s.params.starvation_ms;
}

}  // namespace zs

namespace zs {

bool LasIndex::describes_groups(const ShareIndex& index) const {
  if (part_size_.size() > index.group_count() + 1) return false;
  for (std::uint32_t g = 0; g < index.group_count(); ++g) {
    const std::uint32_t part = part_of_group(g);
    const std::size_t have = part < part_size_.size() ? part_size_[part] : 0;
    if (have != index.group(g).size) return false;
  }
  return true;
}

}  // namespace zs
