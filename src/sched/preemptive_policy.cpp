#include "sched/preemptive_policy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "sched/placement_search.h"

namespace zs {

int las_queue(TimeMs attained_accel_ms, const std::vector<double>& thresholds_accel_s) {
  int q = 0;
  for (double t : thresholds_accel_s)
    if (static_cast<double>(attained_accel_ms) >= t * 1000.0) ++q;
  return q;
}

std::int64_t PreemptivePolicy::pending_class(const Snapshot& s, const PendingJob& p,
                                             TimeMs now) const {
  if (mode_ == Mode::kSrtf) return p.remaining_ms >= 0 ? p.remaining_ms : kNever;
  const TimeMs waited = now - p.waiting_since;
  if (waited >= s.params.starvation_ms) return -1;
  int q = las_queue(p.attained_accel_ms, s.params.las_thresholds_accel_s);
  if (q > 0 && p.last_run_ms > 0 &&
      static_cast<double>(waited) >=
          s.params.las_promote_factor * static_cast<double>(p.last_run_ms))
    q = 0;
  return q;
}

PreemptivePolicy::Key PreemptivePolicy::pending_key(const Snapshot& s, const PendingJob& p,
                                                    TimeMs now) const {
  const Job& j = *p.job;
  const std::int64_t cls = pending_class(s, p, now);
  // Starving jobs: longest waiting first. Otherwise FIFO by submit time inside a class.
  if (cls == -1 && mode_ == Mode::kLas) return {-1, p.waiting_since, j.submit, j.id};
  return {cls, j.submit, 0, j.id};
}

PreemptivePolicy::Key PreemptivePolicy::running_key(const Snapshot& s, const RunningJob& r,
                                                    TimeMs now) const {
  const Job& j = *r.job;
  if (mode_ == Mode::kSrtf) {
    const TimeMs rem = r.remaining_ms >= 0 ? r.remaining_ms : kNever;
    return {rem, j.submit, 0, j.id};
  }
  // A job started by the starvation guard keeps that rank for its whole run, and one started
  // by promotion counts service from the promotion (as in Tiresias): otherwise the next
  // starving or promoted job would take its devices back at once.
  if (r.waited_ms >= s.params.starvation_ms) return {-1, r.started - r.waited_ms, j.submit, j.id};
  TimeMs attained = r.attained_accel_ms;
  const TimeMs this_run = (now - r.started) * j.accel_count;
  if (r.previous_run_ms > 0 &&
      static_cast<double>(r.waited_ms) >=
          s.params.las_promote_factor * static_cast<double>(r.previous_run_ms) &&
      las_queue(attained - this_run, s.params.las_thresholds_accel_s) > 0)
    attained = this_run;
  return {las_queue(attained, s.params.las_thresholds_accel_s), j.submit, 0, j.id};
}

TimeMs PreemptivePolicy::running_wake(const Snapshot& s, TimeMs now,
                                      std::int64_t min_pending_cls) const {
  // Only times at which a preemption could newly become possible need a pass of their own;
  // everything else happens at an arrival or a finish anyway.
  TimeMs wake = kNever;
  const auto& th = s.params.las_thresholds_accel_s;
  for (const RunningJob& r : s.running) {
    const std::int64_t cls = running_key(s, r, now).cls;
    const TimeMs lease_end = r.started + s.params.min_run_ms;
    if (lease_end > now && cls > min_pending_cls) wake = std::min(wake, lease_end);
    if (mode_ != Mode::kLas || cls < 0 || cls < min_pending_cls) continue;
    // Next LAS threshold this job crosses (it then ranks below the best waiting job).
    const double attained = static_cast<double>(r.attained_accel_ms);
    for (double t : th) {
      const double need = t * 1000.0 - attained;
      if (need > 0) {
        wake = std::min(
            wake, now + static_cast<TimeMs>(std::ceil(need / std::max(r.job->accel_count, 1))));
        break;
      }
    }
  }
  return wake;
}

TimeMs PreemptivePolicy::pending_wake(const Snapshot& s, const PendingJob& p, TimeMs now,
                                      std::int64_t max_running_cls) const {
  if (mode_ != Mode::kLas) return kNever;
  TimeMs wake = kNever;
  const TimeMs starve = p.waiting_since + s.params.starvation_ms;
  if (starve > now && max_running_cls > -1) wake = starve;
  if (p.last_run_ms > 0 && max_running_cls > 0 &&
      las_queue(p.attained_accel_ms, s.params.las_thresholds_accel_s) > 0) {
    const TimeMs promote =
        p.waiting_since + static_cast<TimeMs>(std::ceil(s.params.las_promote_factor *
                                                        static_cast<double>(p.last_run_ms)));
    if (promote > now) wake = std::min(wake, promote);
  }
  return wake;
}

namespace {
using Key = PreemptivePolicy::Key;

// Order of the keys. LAS has a handful of classes and the caller's pending list is already
// in (submit, id) order, so a stable bucket pass by class is usually all the sorting needed.
// `tie_less` orders two jobs of the same class; `key_of` gives a job's full key.
template <class KeyOf, class TieLess>
std::vector<std::uint32_t> sorted_order(const std::vector<std::int64_t>& cls, KeyOf key_of,
                                        TieLess tie_less) {
  std::vector<std::uint32_t> order(cls.size());
  auto& less = tie_less;
  std::int64_t lo = std::numeric_limits<std::int64_t>::max(),
               hi = std::numeric_limits<std::int64_t>::min();
  for (auto c : cls) lo = std::min(lo, c), hi = std::max(hi, c);
  if (!cls.empty() && hi - lo < 64) {
    // Counting sort by class (stable), then mend any class whose caller order is not sorted.
    std::vector<std::uint32_t> start(static_cast<std::size_t>(hi - lo) + 2, 0);
    for (auto c : cls) ++start[static_cast<std::size_t>(c - lo) + 1];
    for (std::size_t c = 1; c < start.size(); ++c) start[c] += start[c - 1];
    std::vector<std::uint32_t> next(start.begin(), start.end() - 1);
    for (std::uint32_t i = 0; i < cls.size(); ++i)
      order[next[static_cast<std::size_t>(cls[i] - lo)]++] = i;
    for (std::size_t c = 0; c + 1 < start.size(); ++c) {
      auto b = order.begin() + start[c], e = order.begin() + start[c + 1];
      if (!std::is_sorted(b, e, less)) std::sort(b, e, less);
    }
    return order;
  }
  std::vector<Key> keys(cls.size());
  for (std::uint32_t i = 0; i < cls.size(); ++i) keys[i] = key_of(i);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](std::uint32_t a, std::uint32_t b) { return keys[a] < keys[b]; });
  return order;
}

bool overlaps(const Placement& a, const Placement& b) {
  for (const Slot& x : a)
    for (const Slot& y : b)
      if (x.node == y.node && (x.devices & y.devices) != 0) return true;
  return false;
}
}  // namespace

Decisions PreemptivePolicy::decide(const Snapshot& s, TimeMs now) const {
  Decisions d;
  if (s.pending.empty()) return d;

  std::vector<Key> rkeys(s.running.size());
  std::int64_t max_rcls = std::numeric_limits<std::int64_t>::min(), max_victim_cls = max_rcls;
  for (std::size_t i = 0; i < s.running.size(); ++i) {
    rkeys[i] = running_key(s, s.running[i], now);
    max_rcls = std::max(max_rcls, rkeys[i].cls);
    if (now - s.running[i].started >= s.params.min_run_ms)
      max_victim_cls = std::max(max_victim_cls, rkeys[i].cls);
  }
  // One streaming pass over the waiting jobs: their classes and wake-up times. It touches only
  // the PendingJob array, so it stays cheap with thousands of waiting jobs.
  std::vector<std::int64_t> pcls(s.pending.size());
  std::int64_t min_pcls = std::numeric_limits<std::int64_t>::max();
  TimeMs wake = kNever;
  for (std::size_t i = 0; i < s.pending.size(); ++i) {
    pcls[i] = pending_class(s, s.pending[i], now);
    min_pcls = std::min(min_pcls, pcls[i]);
    if (mode_ == Mode::kLas) wake = std::min(wake, pending_wake(s, s.pending[i], now, max_rcls));
  }
  d.wake_at = std::min(wake, running_wake(s, now, min_pcls));
  // Nothing free and nobody worth preempting: nothing can change in this pass.
  if (max_victim_cls <= min_pcls && usable_free_total(s) == 0) return d;

  FreePool pool(*s.cluster, s.nodes);
  RequestCache requests(s, false);
  const auto order = sorted_order(
      pcls, [&](std::uint32_t i) { return pending_key(s, s.pending[i], now); },
      [&](std::uint32_t a, std::uint32_t b) {
        const PendingJob& x = s.pending[a];
        const PendingJob& y = s.pending[b];
        if (pcls[a] == -1 && mode_ == Mode::kLas && x.waiting_since != y.waiting_since)
          return x.waiting_since < y.waiting_since;
        if (x.job->submit != y.job->submit) return x.job->submit < y.job->submit;
        return x.job->id < y.job->id;
      });

  // Victims, worst first; per type, prefix sums of their devices for a quick "could preempting
  // every worse job make room at all?" check. Built on the first preemption attempt only.
  std::vector<std::uint32_t> victims;
  std::vector<std::vector<int>> prefix;
  std::vector<bool> gone(s.running.size(), false);
  auto build_victims = [&] {
    for (std::uint32_t i = 0; i < s.running.size(); ++i)
      if (now - s.running[i].started >= s.params.min_run_ms) victims.push_back(i);
    std::sort(victims.begin(), victims.end(), [&](auto a, auto b) { return rkeys[b] < rkeys[a]; });
    const std::size_t ntypes = s.cluster->accels_of_type.size();
    prefix.assign(ntypes, {});
    for (std::size_t t = 0; t < ntypes; ++t)
      if (s.cluster->accels_of_type[t] > 0) prefix[t].assign(victims.size() + 1, 0);
    for (std::size_t i = 0; i < victims.size(); ++i) {
      const RunningJob& r = s.running[victims[i]];
      for (std::size_t t = 0; t < ntypes; ++t)
        if (!prefix[t].empty())
          prefix[t][i + 1] = prefix[t][i] + (r.type == t ? r.job->accel_count : 0);
    }
  };
  bool victims_built = false;

  FailMemo memo;
  std::vector<std::pair<std::int64_t, FailMemo>> preempt_fails;  // by the job's class

  for (std::uint32_t idx : order) {
    // Classes only get worse from here: with nothing free and no worse-class victim left,
    // no later job can start.
    if (pool.free_total() == 0 && pcls[idx] >= max_victim_cls) break;
    const Job& job = *s.pending[idx].job;
    const auto& info = requests.of(job);
    const auto& types = info.types;
    if (auto c = place_now(pool, job, types, &memo)) {
      pool.take(c->placement, job);
      d.starts.push_back({job.id, c->type, std::move(c->placement), false});
      continue;
    }
    if (info.never_fits) {
      d.rejections.push_back({job.id, *info.never_fits});
      continue;
    }
    // Preemption: only victims in a strictly worse class.
    const std::int64_t cls = pcls[idx];
    if (cls >= max_victim_cls) continue;
    if (!victims_built) {
      build_victims();
      victims_built = true;
    }
    const std::size_t worse = static_cast<std::size_t>(
        std::partition_point(victims.begin(), victims.end(),
                             [&](std::uint32_t v) { return rkeys[v].cls > cls; }) -
        victims.begin());
    if (worse == 0) continue;
    bool possible = false;
    for (TypeId t : types) {
      if (prefix[t].empty()) continue;
      auto shape = shape_for(job, s.cluster->max_per_node_of_type[t]);
      bool known = false;
      for (const auto& [c2, m] : preempt_fails)
        if (c2 <= cls && shape && m.known_to_fail(job, t, *shape)) known = true;
      if (!known && pool.free_of_type(t) + prefix[t][worse] >= job.accel_count) possible = true;
    }
    if (!possible) continue;
    std::vector<std::uint32_t> released;
    std::optional<Choice> c;
    for (std::size_t i = 0; i < worse && !c; ++i) {
      const std::uint32_t v = victims[i];
      const RunningJob& r = s.running[v];
      if (gone[v] || !job.accepted.contains(r.type)) continue;
      pool.give(r.placement, *r.job);
      released.push_back(v);
      if (pool.free_of_type(r.type) >= job.accel_count) c = place_now(pool, job, types, nullptr);
    }
    if (!c) {
      for (std::uint32_t v : released) pool.take(s.running[v].placement, *s.running[v].job);
      for (TypeId t : types) {
        auto shape = shape_for(job, s.cluster->max_per_node_of_type[t]);
        if (!shape) continue;
        auto it = std::find_if(preempt_fails.begin(), preempt_fails.end(),
                               [&](const auto& e) { return e.first == cls; });
        if (it == preempt_fails.end())
          it = preempt_fails.insert(preempt_fails.end(), {cls, FailMemo{}});
        it->second.record(job, t, *shape);
      }
      continue;
    }
    // Keep only the victims whose devices the new job really uses.
    for (std::uint32_t v : released) {
      const RunningJob& r = s.running[v];
      if (overlaps(r.placement, c->placement)) {
        gone[v] = true;
        d.preemptions.push_back({r.job->id, job.id});
      } else {
        pool.take(r.placement, *r.job);
      }
    }
    pool.take(c->placement, job);
    d.starts.push_back({job.id, c->type, std::move(c->placement), false});
    memo.clear();  // devices came back: earlier failures may fit now
    preempt_fails.clear();
  }
  return d;
}

}  // namespace zs
