#include "sched/share_pass.h"

#include <optional>

#include "sched/holds.h"
#include "sched/placement_search.h"
#include "sched/reclaim.h"
#include "sched/share_gate.h"

namespace zs {

Decisions greedy_pass_with_shares(const Snapshot& s, TimeMs now,
                                  const std::vector<std::int64_t>& rank) {
  Decisions d;
  if (s.pending.empty()) return d;
  ShareGate gate(s);
  const ShareGate::PassStart start = gate.pass_start(now, d);
  if (!start.can_start) return d;
  long reclaimable = start.reclaimable;
  FreePool pool(*s.cluster, s.nodes);
  const std::vector<bool> holder = apply_holds(s, pool, gate, d);
  ShareGate::Order order = gate.order(rank, d, pool.free_total() == 0);
  if (!order.within.empty()) d.wake_at = std::min(d.wake_at, start.next_of_age);
  RequestCache requests(s, false);
  FailMemo memo;
  std::optional<Reclaimer> reclaimer;
  std::vector<TypeId> allowed;
  std::vector<std::uint32_t> deferred;
  using St = ShareGate::Standing;

  // False when nothing more can start in this pass.
  auto offer = [&](std::uint32_t idx, bool borrowing) {
    if (pool.free_total() == 0 && (borrowing || reclaimable <= 0)) return false;
    if (!holder.empty() && holder[idx]) return true;
    const Job& job = *s.pending[idx].job;
    const auto& info = requests.of(job);
    // As in backfill_policy.cpp: only types the job can ever fit on; a job borrowing when the
    // pass began may be within guarantee after this pass's reclaims.
    gate.filter(job, info.fit_types, borrowing ? St::kBorrowing : St::kWithin, allowed);
    if (borrowing && allowed.empty() && gate.best(job, info.fit_types) == St::kWithin) {
      borrowing = false;
      gate.filter(job, info.fit_types, St::kWithin, allowed);
    }
    if (!borrowing && allowed.empty()) {
      if (gate.best(job, info.fit_types) == St::kBorrowing) deferred.push_back(idx);
      return true;
    }
    if (borrowing)
      std::erase_if(allowed, [&](TypeId t) { return !gate.may_borrow(pool, t, job.accel_count); });
    if (allowed.empty()) return true;
    if (auto c = place_now(pool, job, allowed, &memo)) {
      pool.take(c->placement, job);
      gate.started(job, c->type);
      d.starts.push_back({job.id, c->type, std::move(c->placement), false});
      return true;
    }
    if (info.never_fits) {
      d.rejections.push_back({job.id, *info.never_fits});
      return true;
    }
    if (borrowing) return true;
    if (!reclaimer) reclaimer.emplace(s, gate, now);
    auto plan = reclaimer->plan(pool, job, allowed);
    if (!plan) {
      d.wake_at = std::min(d.wake_at, reclaimer->wake());
      gate.needs(job, allowed);
      return true;
    }
    for (std::uint32_t v : plan->victims) reclaimable -= s.running[v].job->accel_count;
    auto carried = reclaimer->carry_out(std::move(*plan), job, pool, gate, d);
    if (carried.start) {
      memo.clear();  // the victims' devices came back
      pool.take(carried.start->placement, job);
      gate.started(job, carried.start->type);
      d.starts.push_back({job.id, carried.start->type, std::move(carried.start->placement), false});
    }
    return true;
  };
  for (std::uint32_t idx : order.within)
    if (!offer(idx, false)) return d;
  // A borrowing job that may not borrow is passed over without a word: once none may, the rest
  // of the queue need not be looked at (in a replay that is most of it, on most passes).
  for (std::uint32_t idx : deferred)
    if (!gate.some_may_borrow(pool, order.min_count) || !offer(idx, true)) return d;
  if (!gate.some_may_borrow(pool, order.min_count)) return d;  // before sorting them
  for (std::uint32_t idx : order.borrowing())
    if (!gate.some_may_borrow(pool, order.min_count) || !offer(idx, true)) return d;
  return d;
}

}  // namespace zs
