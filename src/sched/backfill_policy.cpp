#include "sched/backfill_policy.h"

#include <algorithm>

#include "sched/holds.h"
#include "sched/placement_search.h"
#include "sched/reclaim.h"
#include "sched/share_gate.h"

namespace zs {

std::string_view BackfillPolicy::name() const {
  switch (mode_) {
    case Mode::kFifo:
      return "fifo";
    case Mode::kEasy:
      return "easy";
    case Mode::kHetero:
      return "hetero";
    case Mode::kEasyPred:
      return "easy-pred";
  }
  return "?";
}

namespace {

// How long `job` would run on `type`, as far as a scheduler can know: its walltime limit
// scaled by relative speed (hetero only compares these, so the unit does not matter).
double estimated_run(const Snapshot& s, const Job& job, TypeId type) {
  const double base = job.walltime > 0 ? static_cast<double>(job.walltime) : 3.6e6;
  return base * speed_factor(s, job, type);
}

RunningJob as_running(const Snapshot& s, const PendingJob& p, const StartDecision& start,
                      TimeMs now, bool by_prediction) {
  RunningJob r;
  r.job = p.job;
  r.type = start.type;
  r.placement = start.placement;
  r.started = now;
  const TimeMs limit = walltime_on(s, *p.job, start.type);
  r.expected_end = limit > 0 ? now + limit : kNever;
  const TimeMs planned = planned_run_on(s, p, start.type, by_prediction);
  if (by_prediction && planned > 0) r.predicted_end = now + planned;
  return r;
}

// Hetero: if the job fits now only on slower types, is waiting for a faster one better?
// Looks at most at the fastest accepted type.
bool better_to_wait(const Snapshot& s, const FreePool& pool, const Job& job,
                    const std::vector<TypeId>& types, const Choice& now_choice, TimeMs now,
                    std::span<const RunningJob> started) {
  if (types.empty() || types.front() == now_choice.type) return false;
  const TypeId fastest = types.front();
  auto r = earliest_start(s, pool, job, {fastest}, now, started);
  if (!r) return false;
  const double wait_then_run = static_cast<double>(r->at - now) + estimated_run(s, job, fastest);
  return wait_then_run < estimated_run(s, job, now_choice.type);
}

// The earliest moment after `now` at which a running job's prediction runs out while its limit
// has not (kNever if none).
TimeMs next_prediction_change(const Snapshot& s, std::span<const RunningJob> started, TimeMs now) {
  TimeMs next = kNever;
  auto consider = [&](const RunningJob& r) {
    if (r.predicted_end > now && r.predicted_end < r.expected_end)
      next = std::min(next, r.predicted_end);
  };
  for (const RunningJob& r : s.running) consider(r);
  for (const RunningJob& r : started) consider(r);
  return next;
}

}  // namespace

Decisions BackfillPolicy::decide(const Snapshot& s, TimeMs now) const {
  Decisions d;
  // Rejections of never-fitting jobs are the caller's at submission; with no free device there
  // is nothing this pass could start (unless tenants' shares let a job reclaim devices).
  const bool shares = s.shares != nullptr;
  if (s.pending.empty() || (!shares && usable_free_total(s) == 0)) return d;
  ShareGate gate(s);
  long reclaimable = 0;  // devices reclaim could take back in this pass
  TimeMs reclaim_next = kNever;
  if (shares) {
    const ShareGate::PassStart start = gate.pass_start(now, d);
    if (!start.can_start) return d;
    reclaimable = start.reclaimable;
    reclaim_next = start.next_of_age;
  }
  FreePool pool(*s.cluster, s.nodes);
  const std::vector<bool> holder = apply_holds(s, pool, gate, d);
  RequestCache requests(s, mode_ == Mode::kHetero);
  ShareGate::Order order = gate.order({}, d, pool.free_total() == 0);
  const bool by_speed = mode_ == Mode::kHetero;
  const bool by_prediction = mode_ == Mode::kEasyPred;
  const PendingJob* offered = nullptr;  // the waiting job being offered (what start() starts)

  FailMemo memo, long_memo;
  bool blocked = false;
  std::optional<FreePool> long_pool;  // free minus the head job's reserved devices
  Placement head_reserved;
  TimeMs shadow = kNever;
  int hetero_waits_left = 32;       // bounds the extra reservation searches per pass
  std::vector<RunningJob> started;  // this pass's starts, for reservations
  auto start = [&](const Job& job, Choice c, bool backfilled) {
    pool.take(c.placement, job);
    if (long_pool) long_pool->take(c.placement, job);
    gate.started(job, c.type);
    d.starts.push_back({job.id, c.type, std::move(c.placement), backfilled});
    started.push_back(as_running(s, *offered, d.starts.back(), now, by_prediction));
  };

  // Reclaim (tenants' shares): a job within guarantee that does not fit takes back devices
  // lent to tenants above theirs. Without a grace period it starts now; otherwise its devices
  // are held for it until the victims have stopped.
  std::optional<Reclaimer> reclaimer;
  auto reclaim = [&](const Job& job, const std::vector<TypeId>& types, FreePool& from) {
    if (!reclaimer) reclaimer.emplace(s, gate, now);
    auto plan = reclaimer->plan(from, job, types);
    if (!plan) {
      d.wake_at = std::min(d.wake_at, reclaimer->wake());
      return false;
    }
    for (std::uint32_t v : plan->victims) reclaimable -= s.running[v].job->accel_count;
    const std::vector<std::uint32_t> victims = plan->victims;
    auto carried = reclaimer->carry_out(std::move(*plan), job, pool, gate, d);
    if (carried.start) {
      if (long_pool) {
        for (std::uint32_t v : victims) long_pool->give(s.running[v].placement, *s.running[v].job);
        long_pool->remove_devices(head_reserved);
      }
      memo.clear();  // the pool grew
      long_memo.clear();
      start(job, std::move(*carried.start), false);
      return true;
    }
    if (long_pool) long_pool->remove_devices(carried.held_free);
    return true;
  };

  std::vector<TypeId> allowed;
  std::vector<std::uint32_t> deferred;  // within guarantee at the start of the pass, no longer
  std::uint32_t held_for_guarantees = 0;
  bool said_held = false;
  // A borrowing job that may not borrow waits with this reason.
  auto say_held = [&](const Job& job) {
    if (!said_held) {
      said_held = true;
      held_for_guarantees = static_cast<std::uint32_t>(d.wait_reasons.size());
      d.wait_reasons.push_back(
          "borrowing: the free devices are kept for jobs within their tenants' guarantees");
    }
    d.waits.push_back({job.id, held_for_guarantees});
  };
  enum class Next { kGoOn, kStop };
  auto offer = [&](std::uint32_t idx, bool borrowing) -> Next {
    // Nothing left to give anyone (a job within guarantee may still reclaim).
    if (pool.free_total() == 0 && (!shares || borrowing || reclaimable <= 0)) return Next::kStop;
    const Job& job = *s.pending[idx].job;
    offered = &s.pending[idx];
    if (!holder.empty() && holder[idx]) return Next::kGoOn;
    // Once no borrowing job may borrow, nothing changes for the rest of the pass, and most of the
    // queue only waits: a job of one type that borrows there is told so without working out its
    // request (what the full path below concludes for it, in a fraction of the time).
    if (shares && borrowing && !gate.some_may_borrow(pool, order.min_count) &&
        gate.sole_standing(job) == ShareGate::Standing::kBorrowing) {
      say_held(job);
      return Next::kGoOn;
    }
    const auto& info = requests.of(job);
    const std::vector<TypeId>* types = &info.types;
    if (shares) {
      using St = ShareGate::Standing;
      // Only types the job can ever fit on: standing within a guarantee on one it cannot fit
      // must neither block the queue nor keep devices back for it.
      gate.filter(job, info.fit_types, borrowing ? St::kBorrowing : St::kWithin, allowed);
      if (borrowing && allowed.empty() && gate.best(job, info.fit_types) == St::kWithin) {
        // Borrowing when the pass began, within guarantee now (this pass reclaimed devices its
        // tenant had borrowed): offered as within guarantee, or it would wait for no reason.
        borrowing = false;
        gate.filter(job, info.fit_types, St::kWithin, allowed);
      }
      if (allowed.empty() && gate.best(job, info.fit_types) == St::kOver) {
        d.wait_reasons.push_back(gate.over_reason(job, info.fit_types));
        d.waits.push_back({job.id, static_cast<std::uint32_t>(d.wait_reasons.size() - 1)});
        return Next::kGoOn;
      }
      if (!borrowing && allowed.empty()) {
        if (gate.best(job, info.fit_types) == St::kBorrowing) deferred.push_back(idx);
        return Next::kGoOn;
      }
      if (borrowing) {
        const bool any = !allowed.empty();
        std::erase_if(allowed,
                      [&](TypeId t) { return !gate.may_borrow(pool, t, job.accel_count); });
        if (allowed.empty()) {
          // Borrowing waits for capacity no one's guarantee needs: not a blocked head.
          if (any) say_held(job);
          return Next::kGoOn;
        }
      }
      types = &allowed;
    }
    if (!blocked) {
      auto c = place_now(pool, job, *types, &memo);
      // Hetero: the job fits now, on a type it chose not to start on (it waits for a faster
      // one); it may then reclaim only on the faster types, where it did not fit.
      const std::vector<TypeId>* reclaim_types = types;
      std::vector<TypeId> faster;
      if (c && by_speed && hetero_waits_left > 0) {
        --hetero_waits_left;
        if (better_to_wait(s, pool, job, *types, *c, now, started)) {
          for (TypeId t : *types) {
            if (t == c->type) break;
            faster.push_back(t);
          }
          reclaim_types = &faster;
          c.reset();
        }
      }
      if (c) {
        start(job, std::move(*c), false);
        return Next::kGoOn;
      }
      if (info.never_fits) {
        d.rejections.push_back({job.id, *info.never_fits});
        return Next::kGoOn;
      }
      if (shares && !borrowing) {
        if (reclaim(job, *reclaim_types, pool)) return Next::kGoOn;
        gate.needs(job, *types);
      }
      blocked = true;
      if (mode_ == Mode::kFifo) return Next::kStop;
      std::optional<Reservation> r;
      if (by_speed) {
        // Reserve on the type where the job would finish first: its start there plus its run
        // time there.
        double best = 0;
        for (TypeId t : *types) {
          auto rt = earliest_start(s, pool, job, {t}, now, started);
          if (!rt) continue;
          const double finish = static_cast<double>(rt->at) + estimated_run(s, job, t);
          if (!r || finish < best) best = finish, r = std::move(rt);
        }
      } else {
        r = earliest_start(s, pool, job, *types, now, started, by_prediction);
      }
      // easy-pred: when a running job outlives its prediction the driver gives it a longer one,
      // which moves this reservation and what may backfill before it: a pass is due then.
      if (by_prediction) d.wake_at = std::min(d.wake_at, next_prediction_change(s, started, now));
      long_pool = pool;
      if (r) {
        shadow = r->at;
        head_reserved = r->placement;
        long_pool->remove_devices(r->placement);
        d.reservations.push_back(std::move(*r));
      }
      return Next::kGoOn;
    }
    // Backfill: a job that ends before the shadow time may use any free device; a longer one
    // (or one without a walltime) only devices the head job's reservation does not need.
    if (info.never_fits) {
      d.rejections.push_back({job.id, *info.never_fits});
      return Next::kGoOn;
    }
    // Whether it ends in time depends on the type it would run on (walltimes scale with speed).
    for (TypeId t : *types) {
      const TimeMs limit = planned_run_on(s, *offered, t, by_prediction);
      const bool ends_in_time = limit > 0 && now + limit <= shadow;
      auto c =
          place_now(ends_in_time ? pool : *long_pool, job, {t}, ends_in_time ? &memo : &long_memo);
      if (!c) continue;
      start(job, std::move(*c), true);
      return Next::kGoOn;
    }
    // Reclaiming from borrowers must not take what the head's reservation counts on.
    if (shares && !borrowing) {
      if (reclaim(job, *types, *long_pool)) return Next::kGoOn;
      gate.needs(job, *types);
    }
    return Next::kGoOn;
  };

  // A job within guarantee that waits may reclaim from a borrowing job once that one has run
  // its minimum: a pass is due then.
  if (!order.within.empty()) d.wake_at = std::min(d.wake_at, reclaim_next);
  for (std::uint32_t idx : order.within)
    if (offer(idx, false) == Next::kStop) return d;
  for (std::uint32_t idx : deferred)
    if (offer(idx, true) == Next::kStop) return d;
  for (std::uint32_t idx : order.borrowing())
    if (offer(idx, true) == Next::kStop) return d;
  return d;
}

}  // namespace zs
