#include "sched/preemptive_policy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "sched/placement_search.h"

namespace zs {

int las_queue(TimeMs attained_accel_ms, const std::vector<double>& thresholds_accel_s) {
  int q = 0;
  for (double t : thresholds_accel_s)
    if (attained_accel_ms >= static_cast<TimeMs>(std::ceil(t * 1000.0))) ++q;
  return q;
}

std::int64_t PreemptivePolicy::pending_class(const Snapshot& s, const PendingJob& p,
                                             TimeMs now) const {
  if (mode_ == Mode::kSrtf) return p.remaining_ms >= 0 ? p.remaining_ms : kNever;
  if (p.waiting_since <= now - s.params.starvation_ms) return -1;
  int q = las_queue(p.attained_accel_ms, s.params.las_thresholds_accel_s);
  if (q > 0 && p.last_run_ms > 0 &&
      now >= p.waiting_since + static_cast<TimeMs>(std::ceil(s.params.las_promote_factor *
                                                             static_cast<double>(p.last_run_ms))))
    q = 0;
  return q;
}

PreemptivePolicy::Key PreemptivePolicy::pending_key(const Snapshot& s, const PendingJob& p,
                                                    TimeMs now) const {
  const Job& j = *p.job;
  const std::int64_t cls = pending_class(s, p, now);
  // FIFO by submit time inside a class (starving jobs too: the oldest job first).
  return {cls, j.submit, 0, j.id};
}

namespace {
// The service that ranks a running job under LAS: counted from its promotion if it was started
// by promotion (as in Tiresias), else all of it.
TimeMs las_effective_attained(const Snapshot& s, const RunningJob& r, TimeMs now) {
  const TimeMs this_run = (now - r.started) * r.job->accel_count;
  if (r.previous_run_ms > 0 &&
      static_cast<double>(r.waited_ms) >=
          s.params.las_promote_factor * static_cast<double>(r.previous_run_ms) &&
      las_queue(r.attained_accel_ms - this_run, s.params.las_thresholds_accel_s) > 0)
    return this_run;
  return r.attained_accel_ms;
}
}  // namespace

PreemptivePolicy::Key PreemptivePolicy::running_key(const Snapshot& s, const RunningJob& r,
                                                    TimeMs now) const {
  const Job& j = *r.job;
  if (mode_ == Mode::kSrtf) {
    const TimeMs rem = r.remaining_ms >= 0 ? r.remaining_ms : kNever;
    return {rem, j.submit, 0, j.id};
  }
  // A job started by the starvation guard keeps that rank for its whole run, and one started
  // by promotion counts service from the promotion: otherwise the next starving or promoted job
  // would take its devices back at once.
  if (r.waited_ms >= s.params.starvation_ms) return {-1, r.started - r.waited_ms, j.submit, j.id};
  return {las_queue(las_effective_attained(s, r, now), s.params.las_thresholds_accel_s), j.submit,
          0, j.id};
}

TimeMs PreemptivePolicy::running_wake(const Snapshot& s, TimeMs now, std::int64_t min_pending_cls,
                                      const std::vector<Key>& running_keys) const {
  // Times at which a running job newly becomes preemptable by the best waiting job: its lease
  // ends, or (LAS) it crosses into a queue below that job's. Waiting jobs' classes only improve
  // at promotion or starvation times, and those get passes of their own, so comparing with the
  // best waiting class now is enough.
  TimeMs wake = kNever;
  const auto& th = s.params.las_thresholds_accel_s;
  for (std::size_t i = 0; i < s.running.size(); ++i) {
    const RunningJob& r = s.running[i];
    const std::int64_t cls = running_keys[i].cls;
    const TimeMs lease_end = r.started + s.params.min_run_ms;
    const int n = std::max(r.job->accel_count, 1);
    if (lease_end > now) {
      std::int64_t cls_then = cls;
      if (mode_ == Mode::kSrtf)
        cls_then = cls - (lease_end - now);
      else if (cls >= 0)
        cls_then = las_queue(las_effective_attained(s, r, now) + (lease_end - now) * n, th);
      if (cls_then > min_pending_cls) wake = std::min(wake, lease_end);
      continue;
    }
    if (mode_ != Mode::kLas || cls < 0 || cls > min_pending_cls || min_pending_cls < 0 ||
        static_cast<std::size_t>(min_pending_cls) >= th.size())
      continue;
    const TimeMs need =
        static_cast<TimeMs>(std::ceil(th[static_cast<std::size_t>(min_pending_cls)] * 1000.0)) -
        las_effective_attained(s, r, now);
    wake = std::min(wake, now + std::max<TimeMs>((need + n - 1) / n, 1));
  }
  return wake;
}

namespace {
using Key = PreemptivePolicy::Key;

// Order of the keys. LAS has a handful of classes and the caller's pending list is already
// in (submit, id) order, so a stable bucket pass by class is usually all the sorting needed.
// `tie_less` orders two jobs of the same class; `key_of` gives a job's full key;
// `in_input_order(c)` says that jobs of class c are ordered as the snapshot lists them
// (Snapshot::pending is in (submit, id) order), so that class needs no sort.
template <class KeyOf, class TieLess, class InInputOrder>
std::vector<std::uint32_t> sorted_order(const std::vector<std::int64_t>& cls, KeyOf key_of,
                                        TieLess tie_less, InInputOrder in_input_order) {
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
      if (!in_input_order(static_cast<std::int64_t>(c) + lo) && !std::is_sorted(b, e, less))
        std::sort(b, e, less);
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
  std::int64_t max_victim_cls = std::numeric_limits<std::int64_t>::min();
  for (std::size_t i = 0; i < s.running.size(); ++i) {
    rkeys[i] = running_key(s, s.running[i], now);
    if (now - s.running[i].started >= s.params.min_run_ms)
      max_victim_cls = std::max(max_victim_cls, rkeys[i].cls);
  }
  // One streaming pass over the waiting jobs: their classes and wake-up times. It touches only
  // the PendingJob array, so it stays cheap with thousands of waiting jobs.
  std::vector<std::int64_t> pcls(s.pending.size());
  std::int64_t min_pcls = std::numeric_limits<std::int64_t>::max();
  TimeMs wake = kNever;
  if (mode_ == Mode::kLas) {
    // The rules of pending_class() unrolled into one tight loop, plus the times at which a
    // waiting job is promoted or starts starving (a pass is needed then).
    std::vector<TimeMs> th;
    for (double t : s.params.las_thresholds_accel_s)
      th.push_back(static_cast<TimeMs>(std::ceil(t * 1000.0)));
    const TimeMs starving_if_since = now - s.params.starvation_ms;
    const double f = s.params.las_promote_factor;
    for (std::size_t i = 0; i < s.pending.size(); ++i) {
      const PendingJob& p = s.pending[i];
      std::int64_t c;
      if (p.waiting_since <= starving_if_since) {
        c = -1;
      } else {
        int q = 0;
        for (TimeMs t : th) q += p.attained_accel_ms >= t;
        if (q > 0 && p.last_run_ms > 0) {
          const TimeMs promote_at =
              p.waiting_since +
              static_cast<TimeMs>(std::ceil(f * static_cast<double>(p.last_run_ms)));
          if (now >= promote_at)
            q = 0;
          else
            wake = std::min(wake, promote_at);
        }
        c = q;
        wake = std::min(wake, p.waiting_since + s.params.starvation_ms);
      }
      pcls[i] = c;
      min_pcls = std::min(min_pcls, c);
    }
  } else {
    for (std::size_t i = 0; i < s.pending.size(); ++i) {
      pcls[i] = pending_class(s, s.pending[i], now);
      min_pcls = std::min(min_pcls, pcls[i]);
    }
  }
  d.wake_at = std::min(wake, running_wake(s, now, min_pcls, rkeys));
  // Nothing free and nobody worth preempting: nothing can change in this pass.
  if (max_victim_cls <= min_pcls && usable_free_total(s) == 0) return d;

  FreePool pool(*s.cluster, s.nodes);
  RequestCache requests(s, false);
  const auto order = sorted_order(
      pcls, [&](std::uint32_t i) { return pending_key(s, s.pending[i], now); },
      [&](std::uint32_t a, std::uint32_t b) {
        const PendingJob& x = s.pending[a];
        const PendingJob& y = s.pending[b];
        if (x.job->submit != y.job->submit) return x.job->submit < y.job->submit;
        return x.job->id < y.job->id;
      },
      [&](std::int64_t) { return mode_ == Mode::kLas; });

  // Victims: running jobs past their lease, kept in a max-heap by key (worst on top). A job
  // pops victims while they rank strictly below it; those it does not end up using are pushed
  // back for the next job. `live` counts, per type, the devices of victims not yet preempted,
  // for a quick "could preempting every victim make room at all?" check.
  using Victim = std::pair<Key, std::uint32_t>;
  // Built on the first preemption attempt: most passes never need it.
  std::vector<Victim> heap;
  std::vector<int> live(s.cluster->accels_of_type.size(), 0);
  bool heap_built = false;
  auto heap_less = [](const Victim& a, const Victim& b) { return a.first < b.first; };
  auto build_heap = [&] {
    for (std::uint32_t i = 0; i < s.running.size(); ++i)
      if (now - s.running[i].started >= s.params.min_run_ms) {
        heap.emplace_back(rkeys[i], i);
        live[s.running[i].type] += s.running[i].job->accel_count;
      }
    std::make_heap(heap.begin(), heap.end(), heap_less);
    heap_built = true;
  };
  auto worst_victim_cls = [&] {
    if (!heap_built) return max_victim_cls;
    return heap.empty() ? std::numeric_limits<std::int64_t>::min() : heap.front().first.cls;
  };
  std::vector<std::uint32_t> preempted;  // running indices preempted this pass

  FailMemo memo;
  // Jobs come in ascending class, so the victims of a later job are a subset of an earlier
  // one's: a shape that could not be placed by preempting stays impossible for later jobs.
  FailMemo preempt_memo;
  std::vector<std::uint32_t> started_idx;  // pending indices started this pass

  for (std::uint32_t idx : order) {
    // Classes only get worse from here: with nothing free and no worse-class victim left,
    // no later job can start.
    const std::int64_t cls = pcls[idx];
    const bool victims_left = worst_victim_cls() > cls;
    if (pool.free_total() == 0 && !victims_left) break;
    const Job& job = *s.pending[idx].job;
    const auto& info = requests.of(job);
    const auto& types = info.types;
    if (auto c = place_now(pool, job, types, &memo)) {
      pool.take(c->placement, job);
      d.starts.push_back({job.id, c->type, std::move(c->placement), false});
      started_idx.push_back(idx);
      continue;
    }
    if (info.never_fits) {
      d.rejections.push_back({job.id, *info.never_fits});
      continue;
    }
    if (!victims_left) continue;
    if (!heap_built) build_heap();
    bool possible = false;
    for (TypeId t : types) {
      auto shape = shape_for(job, s.cluster->max_per_node_of_type[t]);
      if (shape && !preempt_memo.known_to_fail(job, t, *shape) &&
          pool.free_of_type(t) + live[t] >= job.accel_count)
        possible = true;
    }
    if (!possible) continue;
    // Release the worst victims first. Try to place the job once enough devices are free, then
    // again each time the released amount has doubled (and at the end): O(log R) placement
    // searches per job instead of one per victim.
    std::vector<Victim> released, skipped;
    std::optional<Choice> c;
    int released_devices = 0, next_try = job.accel_count;
    while (!c && !heap.empty() && heap.front().first.cls > cls) {
      std::pop_heap(heap.begin(), heap.end(), heap_less);
      Victim v = heap.back();
      heap.pop_back();
      const RunningJob& r = s.running[v.second];
      if (!job.accepted.contains(r.type)) {
        skipped.push_back(v);
        continue;
      }
      pool.give(r.placement, *r.job);
      released.push_back(v);
      released_devices += r.job->accel_count;
      const bool last = heap.empty() || heap.front().first.cls <= cls;
      if ((released_devices >= next_try || last) && pool.free_of_type(r.type) >= job.accel_count) {
        c = place_now(pool, job, types, nullptr);
        next_try = std::max(next_try, released_devices) * 2;
      }
    }
    auto push_back = [&](const Victim& v) {
      heap.push_back(v);
      std::push_heap(heap.begin(), heap.end(), heap_less);
    };
    for (const Victim& v : skipped) push_back(v);
    if (!c) {
      for (const Victim& v : released) {
        pool.take(s.running[v.second].placement, *s.running[v.second].job);
        push_back(v);
      }
      for (TypeId t : types)
        if (auto shape = shape_for(job, s.cluster->max_per_node_of_type[t]))
          preempt_memo.record(job, t, *shape);
      continue;
    }
    // Keep only the victims whose devices the new job really uses.
    for (const Victim& v : released) {
      const RunningJob& r = s.running[v.second];
      if (overlaps(r.placement, c->placement)) {
        live[r.type] -= r.job->accel_count;
        d.preemptions.push_back({r.job->id, job.id});
        preempted.push_back(v.second);
      } else {
        pool.take(r.placement, *r.job);
        push_back(v);
      }
    }
    pool.take(c->placement, job);
    d.starts.push_back({job.id, c->type, std::move(c->placement), false});
    started_idx.push_back(idx);
    memo.clear();  // devices came back: earlier failures may fit now
    preempt_memo.clear();
  }
  // Jobs this pass started or preempted change the future too: a started job may become
  // preemptable (lease end, LAS threshold, shrinking remaining time) by a job still waiting; a
  // preempted job is promoted or starts starving later.
  std::vector<bool> started_now(s.pending.size(), false);
  for (std::uint32_t i : started_idx) started_now[i] = true;
  std::int64_t min_left = std::numeric_limits<std::int64_t>::max();
  for (std::size_t i = 0; i < s.pending.size(); ++i)
    if (!started_now[i]) min_left = std::min(min_left, pcls[i]);
  const bool others_wait =
      min_left != std::numeric_limits<std::int64_t>::max() || !d.preemptions.empty();
  if (others_wait) {
    const auto& th = s.params.las_thresholds_accel_s;
    const TimeMs lease_end = now + std::max<TimeMs>(s.params.min_run_ms, 1);
    for (std::uint32_t i : started_idx) {
      const PendingJob& p = s.pending[i];
      const int n = std::max(p.job->accel_count, 1);
      if (mode_ == Mode::kSrtf) {
        // Its remaining time shrinks; it can be preempted once a waiting job is shorter.
        if (p.remaining_ms >= 0 && p.remaining_ms - (lease_end - now) > min_left)
          d.wake_at = std::min(d.wake_at, lease_end);
        continue;
      }
      // LAS: it ranks below the best waiting job once its queue exceeds that job's queue.
      if (min_left < 0) {
        // A starving job waits: it may take this one's devices after the lease, unless this
        // one was itself started by the starvation guard (the same rank).
        if (p.waiting_since > now - s.params.starvation_ms)
          d.wake_at = std::min(d.wake_at, lease_end);
        continue;
      }
      const auto q = static_cast<std::size_t>(min_left);
      if (q >= th.size()) continue;  // already in the last queue: nobody outranks it by queue
      const TimeMs cross = static_cast<TimeMs>(std::ceil(th[q] * 1000.0)) - p.attained_accel_ms;
      const TimeMs when = cross <= 0 ? now : now + (cross + n - 1) / n;
      d.wake_at = std::min(d.wake_at, std::max(when, lease_end));
    }
    // A job preempted in this pass may itself outrank a victim still running (the new job may
    // have taken its devices rather than the worst victim's): look again right after.
    if (!preempted.empty() && !heap.empty()) {
      std::int64_t best_preempted = std::numeric_limits<std::int64_t>::max();
      for (std::uint32_t i : preempted) best_preempted = std::min(best_preempted, rkeys[i].cls);
      if (heap.front().first.cls > best_preempted) d.wake_at = std::min(d.wake_at, now + 1);
    }
    if (mode_ == Mode::kLas) {
      for (std::uint32_t i : preempted) {
        const TimeMs ran = std::max<TimeMs>(now - s.running[i].started, 1);
        d.wake_at = std::min({d.wake_at, now + s.params.starvation_ms,
                              now + static_cast<TimeMs>(std::ceil(s.params.las_promote_factor *
                                                                  static_cast<double>(ran)))});
      }
    }
  }
  return d;
}

}  // namespace zs
