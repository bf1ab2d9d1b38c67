#include "sched/backfill_policy.h"

#include <algorithm>

#include "sched/placement_search.h"

namespace zs {

std::string_view BackfillPolicy::name() const {
  switch (mode_) {
    case Mode::kFifo:
      return "fifo";
    case Mode::kEasy:
      return "easy";
    case Mode::kHetero:
      return "hetero";
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

RunningJob as_running(const Snapshot& s, const Job& job, const StartDecision& start, TimeMs now) {
  RunningJob r;
  r.job = &job;
  r.type = start.type;
  r.placement = start.placement;
  r.started = now;
  const TimeMs limit = walltime_on(s, job, start.type);
  r.expected_end = limit > 0 ? now + limit : kNever;
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

}  // namespace

Decisions BackfillPolicy::decide(const Snapshot& s, TimeMs now) const {
  Decisions d;
  // Rejections of never-fitting jobs are the caller's at submission; with no free device there
  // is nothing this pass could start.
  if (s.pending.empty() || usable_free_total(s) == 0) return d;
  FreePool pool(*s.cluster, s.nodes);
  RequestCache requests(s, mode_ == Mode::kHetero);
  const auto order = priority_order(s.pending);
  const bool by_speed = mode_ == Mode::kHetero;

  FailMemo memo, long_memo;
  bool blocked = false;
  std::optional<FreePool> long_pool;  // free minus the head job's reserved devices
  TimeMs shadow = kNever;
  int hetero_waits_left = 32;       // bounds the extra reservation searches per pass
  std::vector<RunningJob> started;  // this pass's starts, for reservations
  auto start = [&](const Job& job, Choice c, bool backfilled) {
    pool.take(c.placement, job);
    if (long_pool) long_pool->take(c.placement, job);
    d.starts.push_back({job.id, c.type, std::move(c.placement), backfilled});
    started.push_back(as_running(s, job, d.starts.back(), now));
  };

  for (std::uint32_t idx : order) {
    const Job& job = *s.pending[idx].job;
    if (pool.free_total() == 0) break;  // nothing left to give anyone
    const auto& info = requests.of(job);
    const auto& types = info.types;
    if (!blocked) {
      auto c = place_now(pool, job, types, &memo);
      if (c && by_speed && hetero_waits_left > 0) {
        --hetero_waits_left;
        if (better_to_wait(s, pool, job, types, *c, now, started)) c.reset();
      }
      if (c) {
        start(job, std::move(*c), false);
        continue;
      }
      if (info.never_fits) {
        d.rejections.push_back({job.id, *info.never_fits});
        continue;
      }
      blocked = true;
      if (mode_ == Mode::kFifo) break;
      std::optional<Reservation> r;
      if (by_speed) {
        // Reserve on the type where the job would finish first: its start there plus its run
        // time there.
        double best = 0;
        for (TypeId t : types) {
          auto rt = earliest_start(s, pool, job, {t}, now, started);
          if (!rt) continue;
          const double finish = static_cast<double>(rt->at) + estimated_run(s, job, t);
          if (!r || finish < best) best = finish, r = std::move(rt);
        }
      } else {
        r = earliest_start(s, pool, job, types, now, started);
      }
      long_pool = pool;
      if (r) {
        shadow = r->at;
        long_pool->remove_devices(r->placement);
        d.reservations.push_back(std::move(*r));
      }
      continue;
    }
    // Backfill: a job that ends before the shadow time may use any free device; a longer one
    // (or one without a walltime) only devices the head job's reservation does not need.
    if (info.never_fits) {
      d.rejections.push_back({job.id, *info.never_fits});
      continue;
    }
    // Whether it ends in time depends on the type it would run on (walltimes scale with speed).
    for (TypeId t : types) {
      const TimeMs limit = walltime_on(s, job, t);
      const bool ends_in_time = limit > 0 && now + limit <= shadow;
      auto c =
          place_now(ends_in_time ? pool : *long_pool, job, {t}, ends_in_time ? &memo : &long_memo);
      if (!c) continue;
      start(job, std::move(*c), true);
      break;
    }
  }
  return d;
}

}  // namespace zs
