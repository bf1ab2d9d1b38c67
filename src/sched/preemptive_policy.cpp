#include "sched/preemptive_policy.h"

#include <algorithm>

#include <cmath>
#include <limits>
#include <numeric>
#include "core/runtime_predictor.h"

#include "sched/gittins_running.h"
#include "sched/keyed_index.h"
#include "sched/las_running.h"
#include "sched/placement_search.h"
#include "sched/preemption_pass.h"
#include "sched/prefetch.h"
#include "sched/share_pass.h"
#include "sched/wait_key.h"

namespace zs {

int las_queue(TimeMs attained_accel_ms, const std::vector<double>& thresholds_accel_s) {
  return las_queue_ms(attained_accel_ms, las_threshold_ms(thresholds_accel_s));
}

namespace {
using wait_key::gittins_rank;
using wait_key::per_accelerator;
using wait_key::predicted_left;
// spf: what is predicted to be left of a running job at `now`.
TimeMs predicted_left(const RunningJob& r, TimeMs now) {
  const TimeMs end = r.predicted_end < kNever ? r.predicted_end : r.expected_end;
  if (end >= kNever) return RuntimePredictor::Options{}.no_history_ms;
  return std::max<TimeMs>(end - now, 0);
}
TimeMs weighted(const Snapshot& s, TimeMs left) {
  return wait_key::weighted(s.params, left);
}
}  // namespace

std::int64_t PreemptivePolicy::pending_class(const Snapshot& s, const PendingJob& p,
                                             TimeMs now) const {
  if (mode_ != Mode::kLas) return pending_class(s, p, now, {});  // no thresholds to work out
  return pending_class(s, p, now, las_threshold_ms(s.params.las_thresholds_accel_s));
}

std::int64_t PreemptivePolicy::pending_class(const Snapshot& s, const PendingJob& p, TimeMs now,
                                             std::span<const TimeMs> threshold_ms) const {
  if (const auto key = keyed_by()) return wait_key::of(*key, s.params, p);
  // The starvation guard: a job that waited the starvation limit joins queue 0, where it is
  // among the oldest (FIFO) - it does not jump above every queue (docs/policies.md).
  if (p.waiting_since <= now - s.params.starvation_ms) return 0;
  int q = las_queue_ms(p.attained_accel_ms, threshold_ms);
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
using Key = PreemptivePolicy::Key;
constexpr std::int64_t kNoClass = std::numeric_limits<std::int64_t>::max();

// The service that ranks a running job under LAS: counted from its promotion if it was started
// by promotion or by the starvation guard (as in Tiresias), else all of it: otherwise the next
// promoted job would take its devices back at once.
TimeMs las_effective_attained(const Snapshot& s, const RunningJob& r, TimeMs now,
                              std::span<const TimeMs> th) {
  const TimeMs this_run = (now - r.started) * accels(r);
  if (r.waited_ms >= s.params.starvation_ms) return this_run;
  if (r.previous_run_ms > 0 &&
      static_cast<double>(r.waited_ms) >=
          s.params.las_promote_factor * static_cast<double>(r.previous_run_ms) &&
      las_queue_ms(r.attained_accel_ms - this_run, th) > 0)
    return this_run;
  return r.attained_accel_ms;
}
}  // namespace

PreemptivePolicy::Key PreemptivePolicy::running_key(const Snapshot& s, const RunningJob& r,
                                                    TimeMs now) const {
  const auto th = las_threshold_ms(s.params.las_thresholds_accel_s);
  return key_in_class(s, r, running_rank(s, r, now, th).cls);
}

PreemptivePolicy::Rank PreemptivePolicy::running_rank(const Snapshot& s, const RunningJob& r,
                                                      TimeMs now,
                                                      std::span<const TimeMs> th) const {
  if (mode_ == Mode::kSrtf) return {r.remaining_ms >= 0 ? r.remaining_ms : kNever, 0};
  // spf: the same key as while it waited (when it started waiting plus what is left), which
  // shrinks as it runs and grows when it outlives its prediction.
  if (mode_ == Mode::kSpf)
    return {r.started - r.waited_ms + weighted(s, predicted_left(r, now)), 0};
  // gittins: the same key as while it waited, its rank moving with the service it receives.
  if (mode_ == Mode::kGittins) return {r.started - r.waited_ms + weighted(s, gittins_rank(r)), 0};
  const TimeMs service = las_effective_attained(s, r, now, th);
  return {las_queue_ms(service, th), service};
}

PreemptivePolicy::Key PreemptivePolicy::key_in_class(const Snapshot& s, const RunningJob& r,
                                                     std::int64_t cls) const {
  const auto [a, b] = running_tie(s, r);
  return {cls, a, b, r.job->id};
}

std::pair<std::int64_t, std::int64_t> PreemptivePolicy::running_tie(const Snapshot&,
                                                                    const RunningJob& r) const {
  return {r.job->submit, 0};
}

PreemptivePolicy::RunningView::RunningView(const Snapshot& s)
    : cls(take_vector<std::int64_t>(s.memory)),
      victims(take_vector<std::uint32_t>(s.memory)),
      victim_accels(take_vector<int>(s.memory)),
      memory(s.memory) {}

PreemptivePolicy::RunningView::~RunningView() {
  give_vectors(memory, cls, victims, victim_accels);
}

PreemptivePolicy::RunningView PreemptivePolicy::view_running(const Snapshot& s, TimeMs now,
                                                             std::span<const TimeMs> th,
                                                             std::int64_t min_pending_cls) const {
  if (mode_ == Mode::kLas) return view_running_las(s, now, th, min_pending_cls);
  if (mode_ == Mode::kGittins && s.gittins_running && s.gittins_running->describes(s, now))
    return view_running_gittins(s, *s.gittins_running, now, th, min_pending_cls);
  RunningView v(s);
  v.cls.resize(s.running.size());
  // gittins: a lower bound of each job's wake, looked at after the loop.
  const bool gittins = mode_ == Mode::kGittins;
  std::vector<TimeMs> bound(gittins ? s.running.size() : 0);
  v.victims.reserve(s.running.size());
  v.victim_accels.assign(s.cluster->accels_of_type.size(), 0);
  // Each running job's first look at its Job record (and its group's ranks) is a cache miss:
  // ask for those of the job a few places ahead (sched/prefetch.h).
  for (std::uint32_t i = 0; i < s.running.size(); ++i) {
    if (i + kPrefetchAhead < s.running.size()) {
      const RunningJob& ahead = s.running[i + kPrefetchAhead];
      if (ahead.accel_count < 0) prefetch_job(ahead.job);
      if (ahead.service_ranks) __builtin_prefetch(ahead.service_ranks);
    }
    const RunningJob& r = s.running[i];
    // gittins: running_rank(), with the bin of its service kept for the bound below.
    const int bin = gittins ? ServiceDistribution::bin_of(r.attained_accel_ms) : 0;
    const Rank rank = gittins ? Rank{r.started - r.waited_ms +
                                         weighted(s, gittins_rank(r.service_ranks, accels(r), bin)),
                                     0}
                              : running_rank(s, r, now, th);
    v.cls[i] = rank.cls;
    if (now - r.started >= s.params.min_run_ms) {
      v.max_victim_cls = std::max(v.max_victim_cls, rank.cls);
      v.victims.push_back(i);
      v.victim_accels[r.type] += accels(r);
    }
    if (gittins)
      bound[i] = gittins_wake_bound(s, r, rank.cls, bin, now, min_pending_cls);
    else
      v.wake = std::min(v.wake, running_wake(s, r, rank, now, min_pending_cls, th, v.wake));
  }
  if (gittins)
    v.wake = earliest_wake(bound, [&](std::size_t i, TimeMs enough) {
      return running_wake(s, s.running[i], Rank{v.cls[i], 0}, now, min_pending_cls, th, enough);
    });
  return v;
}

template <class Exact>
TimeMs PreemptivePolicy::earliest_wake(std::span<const TimeMs> bound, Exact exact) {
  // The earliest wake, looking for a job's only where its bound is below the earliest so far
  // (most jobs' next bin is later), starting from the job with the lowest bound.
  if (bound.empty()) return kNever;
  const auto lowest =
      static_cast<std::size_t>(std::min_element(bound.begin(), bound.end()) - bound.begin());
  if (bound[lowest] >= kNever) return kNever;
  TimeMs wake = exact(lowest, kNever);
  for (std::size_t i = 0; i < bound.size(); ++i)
    if (i != lowest && bound[i] < wake) wake = std::min(wake, exact(i, wake));
  return wake;
}

PreemptivePolicy::RunningView PreemptivePolicy::view_running_gittins(
    const Snapshot& s, const GittinsRunning& kept, TimeMs now, std::span<const TimeMs> th,
    std::int64_t min_pending_cls) const {
  // view_running() for gittins from the driver's flat arrays: no job record, rank table or bin
  // is read but for the few jobs whose wake is looked for.
  RunningView v(s);
  const auto key = kept.key();
  const auto lease_end = kept.lease_end();
  const auto next_bin_at = kept.next_bin_at();
  const auto accels = kept.accels();
  const auto types = kept.types();
  v.cls.assign(key.begin(), key.end());
  v.victims.reserve(key.size());
  v.victim_accels.assign(s.cluster->accels_of_type.size(), 0);
  std::vector<TimeMs> bound(key.size());
  for (std::uint32_t i = 0; i < key.size(); ++i) {
    if (lease_end[i] > now) {
      bound[i] = lease_end[i];  // gittins_wake_bound()
      continue;
    }
    v.max_victim_cls = std::max(v.max_victim_cls, key[i]);
    v.victims.push_back(i);
    v.victim_accels[types[i]] += accels[i];
    bound[i] = key[i] > min_pending_cls ? kNever : next_bin_at[i];
    // What an earlier pass found for a class no better (GittinsRunning::WakeMemo).
    if (bound[i] < kNever)
      if (const auto* memo = kept.wake_memo(i, min_pending_cls))
        bound[i] = std::max(bound[i], memo->at);
  }
  v.wake = earliest_wake(bound, [&](std::size_t i, TimeMs enough) {
    const bool victim = lease_end[i] <= now;
    if (victim)
      if (const auto* memo = kept.wake_memo(i, min_pending_cls);
          memo && memo->q == min_pending_cls && memo->exact)
        return std::min(memo->at, enough);
    const TimeMs wake =
        running_wake(s, s.running[i], Rank{v.cls[i], 0}, now, min_pending_cls, th, enough);
    if (victim) kept.remember_wake(i, min_pending_cls, wake, wake < enough || wake >= kNever);
    return wake;
  });
  return v;
}

PreemptivePolicy::RunningView PreemptivePolicy::view_running_las(
    const Snapshot& s, TimeMs now, std::span<const TimeMs> th, std::int64_t min_pending_cls) const {
  // view_running() for las, with running_rank() and running_wake() worked out in line: it runs
  // for every running job on every pass (~200,000 passes of ~200 jobs on the Philly replay).
  RunningView v(s);
  const std::size_t count = s.running.size();
  v.cls.resize(count);
  v.victims.reserve(count);
  v.victim_accels.assign(s.cluster->accels_of_type.size(), 0);
  const TimeMs min_run = s.params.min_run_ms;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (i + kPrefetchAhead < count && s.running[i + kPrefetchAhead].accel_count < 0)
      prefetch_accel_count(s.running[i + kPrefetchAhead].job);
    const RunningJob& r = s.running[i];
    const TimeMs service = las_effective_attained(s, r, now, th);
    const int cls = las_queue_ms(service, th);
    v.cls[i] = cls;
    const TimeMs lease_end = r.started + min_run;
    if (lease_end <= now) {
      v.max_victim_cls = std::max<std::int64_t>(v.max_victim_cls, cls);
      v.victims.push_back(i);
      v.victim_accels[r.type] += accels(r);
      // Past its lease: a victim of the best waiting class already, or once it crosses into
      // the queue after it.
      if (cls <= min_pending_cls)
        v.wake = std::min(v.wake,
                          las_crossing(service, std::max(accels(r), 1), now, min_pending_cls, th));
    } else {
      v.wake = std::min(v.wake, running_wake(s, r, Rank{cls, service}, now, min_pending_cls, th));
    }
  }
  return v;
}

PreemptivePolicy::RunningView PreemptivePolicy::view_running_las(const Snapshot& s,
                                                                 const LasRunning& kept,
                                                                 std::int64_t min_pending_cls) {
  RunningView v(s);
  v.cls.assign(kept.cls().begin(), kept.cls().end());
  kept.victims(v.victims);
  v.victim_accels.assign(s.cluster->accels_of_type.size(), 0);
  const auto accels = kept.victim_accels();
  std::copy_n(accels.begin(), std::min(accels.size(), v.victim_accels.size()),
              v.victim_accels.begin());
  v.max_victim_cls = kept.max_victim_cls();
  v.wake = kept.wake(min_pending_cls);
  return v;
}

TimeMs PreemptivePolicy::gittins_wake_bound(const Snapshot& s, const RunningJob& r,
                                            std::int64_t cls, int bin, TimeMs now,
                                            std::int64_t min_pending_cls) const {
  // What running_wake() gives is never earlier: kNever for a victim already; else no earlier
  // than its lease end (`from`), and, once that is past, no earlier than its entering the next
  // bin (it is kNever when there is none).
  const TimeMs lease_end = r.started + s.params.min_run_ms;
  if (lease_end <= now && cls > min_pending_cls) return kNever;
  if (lease_end > now) return lease_end;
  const int first = bin;  // of its service now
  if (first + 1 >= ServiceDistribution::kBins) return kNever;
  const int n = std::max(accels(r), 1);
  const TimeMs need = ServiceDistribution::bin_start(first + 1) - r.attained_accel_ms;
  return now + std::max<TimeMs>(wait_key::divide(need + n - 1, n), 1);
}

TimeMs PreemptivePolicy::running_wake(const Snapshot& s, const RunningJob& r, Rank rank, TimeMs now,
                                      std::int64_t min_pending_cls, std::span<const TimeMs> th,
                                      TimeMs enough) const {
  // The time at which this job newly becomes preemptable by the best waiting job: its lease
  // ends, or (LAS) it crosses into a queue below that job's. Waiting jobs' classes only improve
  // at promotion or starvation times, and those get passes of their own, so comparing with the
  // best waiting class now is enough.
  const std::int64_t cls = rank.cls;
  const TimeMs lease_end = r.started + s.params.min_run_ms;
  const int n = std::max(accels(r), 1);
  if (mode_ == Mode::kGittins) {
    if (lease_end <= now && cls > min_pending_cls) return kNever;  // a victim already
    return gittins_wake(s, accels(r), r.service_ranks, r.attained_accel_ms, r.started - r.waited_ms,
                        now, std::max(lease_end, now), min_pending_cls, enough);
  }
  // spf: a running job that outlives its prediction gets a longer one (its key grows): a
  // waiting job may outrank it then.
  TimeMs outlived = kNever;
  if (mode_ == Mode::kSpf && r.predicted_end > now && r.predicted_end < r.expected_end)
    outlived = r.predicted_end;
  if (lease_end > now) {
    std::int64_t cls_then = cls;
    if (mode_ == Mode::kSrtf)
      cls_then = cls - (lease_end - now);
    else if (mode_ == Mode::kSpf)
      cls_then = cls - weighted(s, lease_end - now);
    else
      cls_then = las_queue_ms(rank.service + (lease_end - now) * n, th);
    if (cls_then > min_pending_cls) return std::min(lease_end, outlived);
    // LAS: not preemptable when its lease ends, but it still crosses into a worse queue later.
    if (mode_ == Mode::kLas) return las_crossing(rank.service, n, now, min_pending_cls, th);
    return outlived;
  }
  if (mode_ == Mode::kSpf) return outlived;
  if (mode_ != Mode::kLas || cls > min_pending_cls) return kNever;
  return las_crossing(rank.service, n, now, min_pending_cls, th);
}

TimeMs PreemptivePolicy::las_crossing(TimeMs service, int n, TimeMs now,
                                      std::int64_t min_pending_cls, std::span<const TimeMs> th) {
  if (min_pending_cls < 0 || static_cast<std::size_t>(min_pending_cls) >= th.size()) return kNever;
  // It crosses the threshold once it has run ceil(need / n) more (at least 1 ms from now).
  const TimeMs need = th[static_cast<std::size_t>(min_pending_cls)] - service;
  return now + (need <= 0 ? 1 : std::max<TimeMs>((need + n - 1) / n, 1));
}

TimeMs PreemptivePolicy::gittins_wake(const Snapshot& s, int accel_count,
                                      const ServiceDistribution::Ranks* ranks, TimeMs attained,
                                      TimeMs base, TimeMs now, TimeMs from,
                                      std::int64_t min_pending_cls, TimeMs enough) const {
  // Its rank changes only where its service enters another bin of the distribution; waiting
  // jobs' keys change only when a job ends (a pass of its own).
  const auto key_in_bin = [&](int bin) {
    return base + weighted(s, gittins_rank(ranks, accel_count, bin));
  };
  const int n = std::max(accel_count, 1);
  const TimeMs at_from = attained + (from - now) * n;
  const int first = ServiceDistribution::bin_of(at_from);
  if (from > now && key_in_bin(first) > min_pending_cls) return from;
  // It is in bin `first` until then: the answer is no earlier than its entering the next bin
  // (the formula below for any later bin). The caller needs nothing at or after `enough`.
  const auto entering = [&](int bin) {
    // It enters the bin once it has run ceil(need / n) more (at least 1 ms from now).
    const TimeMs need = ServiceDistribution::bin_start(bin) - attained;
    return std::max(now + std::max<TimeMs>(wait_key::divide(need + n - 1, n), 1), from);
  };
  if (first + 1 < ServiceDistribution::kBins && entering(first + 1) >= enough) return enough;
  // The key grows with the rank: the first later bin whose rank is high enough.
  int bin = first + 1;
  if (ranks) {
    bin = ranks->first_bin_where(bin, [&](TimeMs rank) {
      return base + weighted(s, per_accelerator(rank, accel_count)) > min_pending_cls;
    });
  } else {
    while (bin < ServiceDistribution::kBins && key_in_bin(bin) <= min_pending_cls) ++bin;
  }
  if (bin >= ServiceDistribution::kBins) return kNever;
  return entering(bin);
}

TimeMs PreemptivePolicy::wake_after_pass(const Snapshot& s, TimeMs now, std::span<const TimeMs> th,
                                         std::int64_t min_left,
                                         std::span<const PendingJob* const> started,
                                         std::span<const std::uint32_t> preempted,
                                         std::int64_t worst_victim_left,
                                         std::span<const std::int64_t> running_cls) const {
  // Jobs this pass started or preempted change the future too: a started job may become
  // preemptable (lease end, LAS threshold, shrinking remaining time) by a job still waiting; a
  // preempted job is promoted or starts starving later.
  TimeMs wake = kNever;
  if (min_left == kNoClass && preempted.empty()) return wake;
  const TimeMs lease_end = now + std::max<TimeMs>(s.params.min_run_ms, 1);
  for (const PendingJob* p : started) {
    const int n = std::max(p->job->accel_count, 1);
    if (mode_ == Mode::kSrtf) {
      // Its remaining time shrinks; it can be preempted once a waiting job is shorter.
      if (p->remaining_ms >= 0 && p->remaining_ms - (lease_end - now) > min_left)
        wake = std::min(wake, lease_end);
      continue;
    }
    if (mode_ == Mode::kGittins) {
      wake = std::min(wake,
                      gittins_wake(s, p->job->accel_count, p->service_ranks, p->attained_accel_ms,
                                   p->waiting_since, now, lease_end, min_left));
      continue;
    }
    if (mode_ == Mode::kSpf) {
      // Its key (when it started waiting plus what is left) shrinks as it runs, and grows when
      // it outlives its prediction.
      const TimeMs left = predicted_left(*p);
      if (p->waiting_since + weighted(s, left - (lease_end - now)) > min_left)
        wake = std::min(wake, lease_end);
      if (p->job->walltime <= 0 || left < p->job->walltime) wake = std::min(wake, now + left);
      continue;
    }
    // LAS: it ranks below the best waiting job once its queue exceeds that job's queue.
    const auto q = static_cast<std::size_t>(min_left);
    if (q >= th.size()) continue;  // already in the last queue: nobody outranks it by queue
    const TimeMs cross = th[q] - p->attained_accel_ms;
    const TimeMs when = cross <= 0 ? now : now + (cross + n - 1) / n;
    wake = std::min(wake, std::max(when, lease_end));
  }
  // A job preempted in this pass may itself outrank a victim still running (the new job may
  // have taken its devices rather than the worst victim's): look again right after.
  if (!preempted.empty()) {
    std::int64_t best_preempted = kNoClass;
    for (std::uint32_t i : preempted) best_preempted = std::min(best_preempted, running_cls[i]);
    if (worst_victim_left > best_preempted) wake = std::min(wake, now + 1);
  }
  if (mode_ == Mode::kLas) {
    for (std::uint32_t i : preempted) {
      const TimeMs ran = std::max<TimeMs>(now - s.running[i].started, 1);
      wake = std::min({wake, now + s.params.starvation_ms,
                       now + static_cast<TimeMs>(std::ceil(s.params.las_promote_factor *
                                                           static_cast<double>(ran)))});
    }
  }
  return wake;
}

std::int64_t PreemptivePolicy::best_preempted_class(
    const Snapshot& s, TimeMs now, std::span<const TimeMs> th,
    std::span<const std::uint32_t> preempted) const {
  // A preempted job waits from the next pass on, with the service it has now and waiting since
  // now: las' queue of all its service (no promotion or starvation yet), gittins' key from now.
  // srtf and spf: its running key, which its waiting key equals only when it ran on a type of its
  // recorded speed (time left is counted on the recorded type while it waits): one of the wakes
  // the known-bug marker in tests/unit/property_test.cpp still lists.
  std::int64_t best = kNoClass;
  for (std::uint32_t i : preempted) {
    const RunningJob& r = s.running[i];
    std::int64_t cls = 0;
    switch (mode_) {
      case Mode::kLas:
        cls = las_queue_ms(r.attained_accel_ms, th);
        break;
      case Mode::kGittins:
        cls = now + weighted(s, gittins_rank(r));
        break;
      case Mode::kSrtf:
      case Mode::kSpf:
        cls = running_rank(s, r, now, th).cls;
        break;
    }
    best = std::min(best, cls);
  }
  return best;
}

TimeMs PreemptivePolicy::wake_for_best_left(const Snapshot& s, TimeMs now,
                                            std::span<const TimeMs> th, const RunningView& running,
                                            std::int64_t min_before, std::int64_t min_left,
                                            std::span<const std::uint32_t> preempted,
                                            TimeMs enough) const {
  // The running jobs' wakes were worked out against the best waiting class before the pass. If
  // the pass started the best waiting jobs, the best class left is worse: a running job of a
  // class in between is no victim of any job left yet, and becomes one when its class passes
  // the best left (las: a later queue; gittins: a later bin). srtf's and spf's keys only shrink
  // while they run (spf's outlived predictions are wakes of their own): nothing to add.
  if (min_left == kNoClass || min_left <= min_before) return enough;
  if (mode_ != Mode::kLas && mode_ != Mode::kGittins) return enough;
  const GittinsRunning* kept =
      mode_ == Mode::kGittins && s.gittins_running && s.gittins_running->describes(s, now)
          ? s.gittins_running
          : nullptr;
  if (mode_ == Mode::kLas && s.las_running && s.las_running->describes(s, now)) {
    // The driver's wakes against the best class left. They count the jobs of any class, not only
    // those between the two: a job of the best class before or better was a wake against it
    // already, no later (d.wake_at is no later than that), and one of a class past the best left
    // is past its crossing or waits for its lease end (a wake already too).
    return s.las_running->wake(
        min_left,
        [&](std::uint32_t slot) {
          return std::find(preempted.begin(), preempted.end(), slot) != preempted.end();
        },
        enough);
  }
  TimeMs wake = enough;
  for (std::uint32_t i = 0; i < s.running.size(); ++i) {
    const std::int64_t cls = running.cls[i];
    if (cls <= min_before || cls > min_left) continue;
    if (std::find(preempted.begin(), preempted.end(), i) != preempted.end()) continue;
    const RunningJob& r = s.running[i];
    // gittins: the exact wake only where its cheap lower bound is earlier than the wake so far
    // (from the driver's arrays when it keeps them).
    if (mode_ == Mode::kGittins) {
      const TimeMs bound =
          kept ? (kept->lease_end()[i] > now ? kept->lease_end()[i]
                  : cls > min_left           ? kNever
                                             : kept->next_bin_at()[i])
               : gittins_wake_bound(s, r, cls, ServiceDistribution::bin_of(r.attained_accel_ms),
                                    now, min_left);
      if (bound >= wake) continue;
    }
    // gittins' running_wake() reads only the class; las' the service that ranks it too.
    const Rank rank{cls, mode_ == Mode::kLas ? las_effective_attained(s, r, now, th) : 0};
    wake = std::min(wake, running_wake(s, r, rank, now, min_left, th, wake));
  }
  return wake;
}

namespace {

// Order of the keys. `tie_less` orders two jobs of the same class; `key_of` gives a job's full
// key. When there are few classes a stable bucket pass by class does most of the sorting.
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

// The LAS scan's shortcut. Within an epoch (see PreemptionPass::epoch) a request that had to wait
// waits again, so the scan skips later jobs with that request, and leaves a class as soon as every
// request with jobs left in it is known to wait. Requests are LasIndex::request() ids.
class Skipper {
 public:
  Skipper(std::size_t requests, PassMemory* memory)
      : waited_(take_vector<std::uint32_t>(memory)),
        left_(take_vector<std::uint32_t>(memory)),
        memory_(memory) {
    waited_.assign(requests, 0);
    left_.assign(requests, 0);
  }
  ~Skipper() { give_vectors(memory_, waited_, left_); }
  Skipper(const Skipper&) = delete;
  Skipper& operator=(const Skipper&) = delete;
  // Starts a class with these numbers of jobs per request.
  void enter(std::span<const std::uint32_t> jobs_per_request) {
    std::fill(left_.begin(), left_.end(), 0);
    std::copy(jobs_per_request.begin(), jobs_per_request.end(), left_.begin());
    recount();
  }
  bool all_wait() const { return open_ == 0; }
  bool waits(std::uint32_t request) const { return waited_[request] == epoch_; }
  // Each job of the class, in order, before it is looked at.
  void visit(std::uint32_t request) {
    if (--left_[request] == 0 && !waits(request)) --open_;
  }
  void waited(std::uint32_t request) {
    if (request == LasIndex::kNoRequest || waits(request)) return;
    waited_[request] = epoch_;
    if (left_[request] > 0) --open_;
  }
  void new_epoch() {
    ++epoch_;
    recount();
  }

 private:
  void recount() {
    open_ = 0;
    for (std::uint32_t q = 0; q < left_.size(); ++q) open_ += left_[q] > 0 && !waits(q);
  }
  std::uint32_t epoch_ = 1;
  std::vector<std::uint32_t> waited_, left_;  // by request
  PassMemory* memory_;
  std::size_t open_ = 0;  // requests with jobs left that may not wait
};

// The jobs a LAS pass started, and how many of each class.
struct LasStarts {
  explicit LasStarts(PassMemory* m)
      : jobs(take_vector<const PendingJob*>(m)), of_class(take_vector<std::size_t>(m)), memory(m) {}
  ~LasStarts() { give_vectors(memory, jobs, of_class); }
  LasStarts(LasStarts&&) = default;
  std::vector<const PendingJob*> jobs;
  std::vector<std::size_t> of_class;  // by class
  PassMemory* memory;
};

// Offers the waiting jobs to the pass: classes in order, FIFO (rank order) inside a class.
LasStarts offer_in_class_order(const LasIndex& waiting, PreemptionPass& pass, PassMemory* memory) {
  LasStarts starts(memory);
  starts.of_class.assign(static_cast<std::size_t>(waiting.max_class()) + 1, 0);
  Skipper skip(waiting.request_count(), memory);
  for (int c = 0; c <= waiting.max_class(); ++c) {
    skip.enter(waiting.jobs_per_request(c));
    for (auto r = waiting.first(c); r != LasIndex::kEnd && !skip.all_wait();
         r = waiting.next(c, r + 1)) {
      const std::uint32_t request = waiting.request(r);
      skip.visit(request);
      if (skip.waits(request)) continue;
      const std::size_t epoch = pass.epoch();
      const PendingJob& p = waiting.job(r);
      const auto result = pass.offer(p, c);
      if (result == PreemptionPass::Result::kStop) return starts;
      if (result == PreemptionPass::Result::kStarted) {
        starts.jobs.push_back(&p);
        ++starts.of_class[static_cast<std::size_t>(c)];
      }
      if (pass.epoch() != epoch)
        skip.new_epoch();
      else if (result == PreemptionPass::Result::kWaits && pass.remembers_failures())
        skip.waited(request);
    }
  }
  return starts;
}

// The best class among the jobs that still wait (rejected ones included), kNoClass if none.
std::int64_t best_class_left(const LasIndex& waiting, const LasStarts& starts) {
  for (int c = 0; c <= waiting.max_class(); ++c)
    if (waiting.count(c) > starts.of_class[static_cast<std::size_t>(c)]) return c;
  return kNoClass;
}

}  // namespace

Decisions PreemptivePolicy::decide(const Snapshot& s, TimeMs now) const {
  if (s.pending.empty()) return {};
  if (s.shares) {
    // Tenants' shares: the policy's class orders jobs inside the share order; preemption is
    // reclaim only (sched/share_pass.h).
    const auto th = las_threshold_ms(s.params.las_thresholds_accel_s);
    // The class is the job's key (srtf, spf, gittins) or LAS class, which the driver's index
    // may hold.
    const KeyedIndex* keys = nullptr;
    if (const auto key = keyed_by(); key && s.keyed_index && s.keyed_index->describes(s, *key))
      keys = s.keyed_index;
    const LasIndex* classes = nullptr;
    if (mode_ == Mode::kLas && s.las_index && s.las_index->describes(s, now)) classes = s.las_index;
    return greedy_pass_with_shares(
        s, now, [&](const PendingJob& p) { return pending_class(s, p, now, th); }, keys, classes);
  }
  if (const auto key = keyed_by()) {
    // The driver's index if it describes this snapshot, else every key worked out and sorted.
    if (s.keyed_index && s.keyed_index->describes(s, *key))
      return decide_keyed(s, now, *s.keyed_index);
    return decide_srtf(s, now);
  }
  // The driver's index if it describes this snapshot, else one built from it.
  if (s.las_index && s.las_index->describes(s, now)) return decide_las(s, now, *s.las_index);
  return decide_las(s, now, LasIndex(s.params, s.pending, now));
}

Decisions PreemptivePolicy::decide_las(const Snapshot& s, TimeMs now,
                                       const LasIndex& waiting) const {
  Decisions d = decisions_for(s);
  const auto th = waiting.threshold_ms();
  const std::int64_t min_cls = waiting.min_class();
  const RunningView running = s.las_running && s.las_running->describes(s, now)
                                  ? view_running_las(s, *s.las_running, min_cls)
                                  : view_running(s, now, th, min_cls);
  d.wake_at = std::min(waiting.next_change(), running.wake);
  // Nothing free and nobody worth preempting: nothing can change in this pass.
  if (running.max_victim_cls <= min_cls && usable_free_total(s) == 0) return d;

  PreemptionPass pass(*this, s, running, d);
  const LasStarts starts = offer_in_class_order(waiting, pass, s.memory);
  const std::int64_t min_left = std::min(best_class_left(waiting, starts),
                                         best_preempted_class(s, now, th, pass.preempted()));
  d.wake_at =
      std::min(d.wake_at, wake_after_pass(s, now, th, min_left, starts.jobs, pass.preempted(),
                                          pass.worst_victim_cls(), running.cls));
  d.wake_at =
      wake_for_best_left(s, now, th, running, min_cls, min_left, pass.preempted(), d.wake_at);
  if (pass.a_preempted_job_fits()) d.wake_at = std::min(d.wake_at, now + 1);
  return d;
}

template <class InKeyOrder>
Decisions PreemptivePolicy::keyed_pass(const Snapshot& s, TimeMs now, std::int64_t min_pcls,
                                       InKeyOrder in_key_order) const {
  Decisions d = decisions_for(s);
  const RunningView running = view_running(s, now, {}, min_pcls);
  d.wake_at = running.wake;
  // Nothing free and nobody worth preempting: nothing can change in this pass.
  if (running.max_victim_cls <= min_pcls && usable_free_total(s) == 0) return d;

  PreemptionPass pass(*this, s, running, d);
  std::vector<const PendingJob*> started;
  // The best class of the jobs left waiting (rejected ones included): that of the first job in
  // key order that did not start.
  std::int64_t min_left = kNoClass;
  bool all_started = true;
  in_key_order(pass, [&](const PendingJob& p, std::int64_t cls) {
    const auto result = pass.offer(p, cls);
    if (result == PreemptionPass::Result::kStarted)
      started.push_back(&p);
    else if (all_started)
      min_left = cls, all_started = false;
    return result;
  });
  min_left = std::min(min_left, best_preempted_class(s, now, {}, pass.preempted()));
  d.wake_at = std::min(d.wake_at, wake_after_pass(s, now, {}, min_left, started, pass.preempted(),
                                                  pass.worst_victim_cls(), running.cls));
  d.wake_at =
      wake_for_best_left(s, now, {}, running, min_pcls, min_left, pass.preempted(), d.wake_at);
  if (pass.a_preempted_job_fits()) d.wake_at = std::min(d.wake_at, now + 1);
  return d;
}

Decisions PreemptivePolicy::decide_srtf(const Snapshot& s, TimeMs now) const {
  std::vector<std::int64_t> pcls(s.pending.size());
  std::int64_t min_pcls = kNoClass;
  for (std::size_t i = 0; i < s.pending.size(); ++i) {
    pcls[i] = pending_class(s, s.pending[i], now, {});
    min_pcls = std::min(min_pcls, pcls[i]);
  }
  // Sorted only if the pass gets as far as offering jobs.
  return keyed_pass(s, now, min_pcls, [&](const PreemptionPass&, auto&& offer) {
    const auto order = sorted_order(
        pcls, [&](std::uint32_t i) { return pending_key(s, s.pending[i], now); },
        [&](std::uint32_t a, std::uint32_t b) {
          const PendingJob& x = s.pending[a];
          const PendingJob& y = s.pending[b];
          if (x.job->submit != y.job->submit) return x.job->submit < y.job->submit;
          return x.job->id < y.job->id;
        });
    for (std::uint32_t idx : order)
      if (offer(s.pending[idx], pcls[idx]) == PreemptionPass::Result::kStop) return;
  });
}

Decisions PreemptivePolicy::decide_keyed(const Snapshot& s, TimeMs now,
                                         const KeyedIndex& waiting) const {
  const std::int64_t min_pcls = waiting.empty() ? kNoClass : waiting.begin()->key;
  return keyed_pass(s, now, min_pcls, [&](const PreemptionPass& pass, auto&& offer) {
    // The LAS scan's shortcut (Skipper): within an epoch a request that had to wait waits
    // again - for a later job too, whose class is no better (it has no more victims) - so the
    // walk skips later jobs with that request, and ends once every request with jobs left is
    // known to wait. The same starts as offering every job, without its cost per job.
    Skipper skip(waiting.request_count(), s.memory);
    skip.enter(waiting.jobs_per_request());
    // Ask for the Job record of the job a few places ahead (sched/prefetch.h).
    auto ahead = waiting.begin();
    for (std::size_t k = 0; k < kPrefetchAhead && ahead != waiting.end(); ++k) ++ahead;
    for (const KeyedIndex::Item& item : waiting) {
      if (skip.all_wait()) return;
      if (ahead != waiting.end()) prefetch_job(waiting.job((ahead++)->rank).job);
      const std::uint32_t request = waiting.request(item.rank);
      skip.visit(request);
      if (skip.waits(request)) continue;
      const std::size_t epoch = pass.epoch();
      const auto result = offer(waiting.job(item.rank), item.key);
      if (result == PreemptionPass::Result::kStop) return;
      if (pass.epoch() != epoch)
        skip.new_epoch();
      else if (result == PreemptionPass::Result::kWaits && pass.remembers_failures())
        skip.waited(request);
    }
  });
}

}  // namespace zs
