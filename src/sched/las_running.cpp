#include "sched/las_running.h"

#include <algorithm>
#include <bit>
#include <functional>
#include <limits>

#include "sched/las_index.h"

namespace zs {

LasRunning::LasRunning(const SchedParams& params)
    : params_(params), threshold_ms_(las_threshold_ms(params.las_thresholds_accel_s)) {
  // The next queue's threshold is the next change only when thresholds ascend.
  usable_ = std::is_sorted(threshold_ms_.begin(), threshold_ms_.end(), std::less_equal<>());
  victims_of_cls_.assign(threshold_ms_.size() + 1, 0);
  wakes_.resize(threshold_ms_.size());
}

TimeMs LasRunning::crossing(const Entry& e, TimeMs threshold) {
  const TimeMs need = threshold - e.base;
  if (need <= 0) return e.started;
  if (e.accels <= 0) return kNever;
  return e.started + (need + e.accels - 1) / e.accels;
}

void LasRunning::push(std::vector<Event>& heap, const Event& ev) {
  heap.push_back(ev);
  std::push_heap(heap.begin(), heap.end(), std::greater<>());
}

bool LasRunning::stale(const Event& ev) const {
  const Entry& e = entries_[ev.id];
  return !e.present || e.generation != ev.generation;
}

void LasRunning::set_cls(Entry& e, std::int32_t cls) {
  if (e.victim) {
    --victims_of_cls_[static_cast<std::size_t>(e.cls)];
    ++victims_of_cls_[static_cast<std::size_t>(cls)];
  }
  e.cls = cls;
  cls_[e.slot] = cls;
}

void LasRunning::insert(std::uint32_t id, std::uint32_t slot, const RunningJob& r,
                        TimeMs attained_at_start) {
  if (id >= entries_.size()) entries_.resize(static_cast<std::size_t>(id) + 1);
  Entry& e = entries_[id];
  if (e.present) erase(id);
  ++e.generation;
  e.present = true;
  e.victim = false;
  e.slot = slot;
  e.type = r.type;
  e.started = r.started;
  e.accels = accels(r);
  e.lease_end = r.started + params_.min_run_ms;
  // As PreemptivePolicy ranks it: service counted from this run's start when it was started by
  // the starvation guard or by promotion, else all of it.
  const bool promoted = r.waited_ms >= params_.starvation_ms ||
                        (r.previous_run_ms > 0 &&
                         static_cast<double>(r.waited_ms) >=
                             params_.las_promote_factor * static_cast<double>(r.previous_run_ms) &&
                         las_queue_ms(attained_at_start, threshold_ms_) > 0);
  e.base = promoted ? 0 : attained_at_start;
  if (e.accels <= 0) ++zero_accel_jobs_;
  ++size_;
  if (slot >= cls_.size()) cls_.resize(static_cast<std::size_t>(slot) + 1);
  if (slot / 64 >= victim_bits_.size()) victim_bits_.resize(slot / 64 + 1, 0);
  if (e.type >= victim_accels_.size()) victim_accels_.resize(static_cast<std::size_t>(e.type) + 1);
  // Its state at now() (or at its start, if later); what comes later, by events.
  const TimeMs at = std::max(now_, e.started);
  e.cls = las_queue_ms(e.base + (at - e.started) * e.accels, threshold_ms_);
  cls_[slot] = e.cls;
  if (e.lease_end <= now_) {
    e.victim = true;
    victim_bits_[slot / 64] |= std::uint64_t{1} << (slot % 64);
    victim_accels_[e.type] += e.accels;
    ++victims_of_cls_[static_cast<std::size_t>(e.cls)];
  } else {
    push(events_, {e.lease_end, id, e.generation, true});
  }
  if (static_cast<std::size_t>(e.cls) < threshold_ms_.size())
    push(events_,
         {crossing(e, threshold_ms_[static_cast<std::size_t>(e.cls)]), id, e.generation, false});
  for (std::size_t q = 0; q < threshold_ms_.size(); ++q) {
    const TimeMs w = std::max(e.lease_end, crossing(e, threshold_ms_[q]));
    if (w > now_ && w < kNever) push(wakes_[q], {w, id, e.generation, false});
  }
}

void LasRunning::erase(std::uint32_t id) {
  if (id >= entries_.size() || !entries_[id].present) return;
  Entry& e = entries_[id];
  if (e.victim) {
    victim_bits_[e.slot / 64] &= ~(std::uint64_t{1} << (e.slot % 64));
    victim_accels_[e.type] -= e.accels;
    --victims_of_cls_[static_cast<std::size_t>(e.cls)];
  }
  if (e.accels <= 0) --zero_accel_jobs_;
  e.present = false;
  --size_;
  erased_since_advance_ = true;  // its events may head the queues
}

void LasRunning::move(std::uint32_t id, std::uint32_t slot) {
  Entry& e = entries_[id];
  if (e.victim) {
    victim_bits_[e.slot / 64] &= ~(std::uint64_t{1} << (e.slot % 64));
    if (slot / 64 >= victim_bits_.size()) victim_bits_.resize(slot / 64 + 1, 0);
    victim_bits_[slot / 64] |= std::uint64_t{1} << (slot % 64);
  }
  e.slot = slot;
  if (slot >= cls_.size()) cls_.resize(static_cast<std::size_t>(slot) + 1);
  cls_[slot] = e.cls;
}

void LasRunning::advance(TimeMs now) {
  now_ = std::max(now_, now);
  while (!events_.empty() && events_.front().at <= now_) {
    const Event ev = events_.front();
    std::pop_heap(events_.begin(), events_.end(), std::greater<>());
    events_.pop_back();
    if (stale(ev)) continue;
    Entry& e = entries_[ev.id];
    if (ev.lease) {
      e.victim = true;
      victim_bits_[e.slot / 64] |= std::uint64_t{1} << (e.slot % 64);
      victim_accels_[e.type] += e.accels;
      ++victims_of_cls_[static_cast<std::size_t>(e.cls)];
      continue;
    }
    set_cls(e, las_queue_ms(e.base + (now_ - e.started) * e.accels, threshold_ms_));
    if (static_cast<std::size_t>(e.cls) < threshold_ms_.size())
      push(events_, {crossing(e, threshold_ms_[static_cast<std::size_t>(e.cls)]), ev.id,
                     e.generation, false});
  }
  compact(events_);
  for (auto& heap : wakes_) compact(heap);
  for (auto& heap : wakes_)
    while (!heap.empty() && (heap.front().at <= now_ || stale(heap.front()))) {
      std::pop_heap(heap.begin(), heap.end(), std::greater<>());
      heap.pop_back();
    }
  erased_since_advance_ = false;
}

void LasRunning::compact(std::vector<Event>& heap) {
  // Each running job has at most two events and one wake per queue that are not stale.
  if (heap.size() < 64 + 4 * size_) return;
  std::erase_if(heap, [&](const Event& ev) { return stale(ev); });
  std::make_heap(heap.begin(), heap.end(), std::greater<>());
}

bool LasRunning::describes(const Snapshot& s, TimeMs now) const {
  return usable_ && zero_accel_jobs_ == 0 && !erased_since_advance_ && now_ == now &&
         size_ == s.running.size() &&
         params_.las_thresholds_accel_s == s.params.las_thresholds_accel_s &&
         params_.las_promote_factor == s.params.las_promote_factor &&
         params_.starvation_ms == s.params.starvation_ms &&
         params_.min_run_ms == s.params.min_run_ms;
}

void LasRunning::victims(std::vector<std::uint32_t>& out) const {
  out.clear();
  out.reserve(size_);
  const std::size_t words = std::min(victim_bits_.size(), (size_ + 63) / 64);
  for (std::size_t w = 0; w < words; ++w)
    for (std::uint64_t bits = victim_bits_[w]; bits != 0; bits &= bits - 1)
      out.push_back(static_cast<std::uint32_t>(w * 64 + std::countr_zero(bits)));
}

std::int64_t LasRunning::max_victim_cls() const {
  for (std::size_t c = victims_of_cls_.size(); c-- > 0;)
    if (victims_of_cls_[c] > 0) return static_cast<std::int64_t>(c);
  return std::numeric_limits<std::int64_t>::min();
}

TimeMs LasRunning::wake(std::int64_t q) const {
  if (q < 0 || static_cast<std::size_t>(q) >= wakes_.size()) return kNever;
  const auto& heap = wakes_[static_cast<std::size_t>(q)];
  return heap.empty() ? kNever : heap.front().at;
}

}  // namespace zs
