#include "sched/reclaim.h"

#include <algorithm>

#include "sched/shape.h"

namespace zs {

namespace {
// Single victims tried one by one before the greedy search; bounds a pass's work when many
// small jobs borrow.
constexpr std::size_t kSingleTrials = 64;
}  // namespace

Reclaimer::Reclaimer(const Snapshot& s, const ShareGate& gate, TimeMs now)
    : s_(s), gate_(gate), now_(now), gone_(s.running.size(), false) {
  by_type_.resize(s.cluster->accels_of_type.size());
  built_.assign(by_type_.size(), false);
  dirty_.assign(by_type_.size(), false);
  devices_.assign(by_type_.size(), 0);
}

const std::vector<std::uint32_t>& Reclaimer::candidates(TypeId t) {
  auto& list = by_type_[t];
  if (built_[t]) {
    if (dirty_[t]) {
      // Victims left, and jobs their tenant started after them may no longer borrow.
      std::erase_if(list, [&](std::uint32_t i) { return gone_[i] || !gate_.running_borrowing(i); });
      devices_[t] = 0;
      for (std::uint32_t i : list) devices_[t] += accels(s_.running[i]);
    }
    dirty_[t] = false;
    return list;
  }
  built_[t] = true;
  // Most recently started first: the running jobs in (start, id) order, walked backwards.
  const std::span<const StartRow> rows = gate_.in_start_order();
  for (auto r = rows.rbegin(); r != rows.rend(); ++r) {
    if (r->type != t || gone_[r->index] || !gate_.running_borrowing(r->index)) continue;
    const TimeMs of_age = r->started + s_.params.min_run_ms;
    if (of_age > now_) {
      wake_ = std::min(wake_, of_age);
      continue;
    }
    list.push_back(r->index);
    devices_[t] += r->accel_count;
  }
  return list;
}

bool Reclaimer::fits_with(FreePool& pool, const Job& job, TypeId t, std::uint32_t victim,
                          Placement& out) const {
  const RunningJob& r = s_.running[victim];
  pool.give(r.placement, *r.job);
  auto p = pool.free_of_type(t) >= job.accel_count ? pool.find(job, t) : std::nullopt;
  pool.take(r.placement, *r.job);
  if (!p) return false;
  out = std::move(*p);
  return true;
}

bool Reclaimer::fits_with_all(FreePool& pool, const Job& job, TypeId t,
                              const std::vector<std::uint32_t>& victims) const {
  for (std::uint32_t i : victims) pool.give(s_.running[i].placement, *s_.running[i].job);
  const bool fits = pool.free_of_type(t) >= job.accel_count && pool.find(job, t).has_value();
  for (auto it = victims.rbegin(); it != victims.rend(); ++it)
    pool.take(s_.running[*it].placement, *s_.running[*it].job);
  return fits;
}

std::optional<ReclaimPlan> Reclaimer::plan(FreePool& pool, const Job& job,
                                           const std::vector<TypeId>& types) {
  for (TypeId t : types) {
    if (t >= by_type_.size()) continue;
    // Never a job of the reclaiming job's own tenant: the job stands within its tenant's
    // guarantee on t, and a tenant within it has no borrowing job there (ShareGate::released
    // recounts them as victims leave; the decision checker holds the rule).
    const auto& list = candidates(t);
    if (list.empty() || pool.free_of_type(t) + devices_[t] < job.accel_count) continue;
    const auto shape = shape_for(job, s_.cluster->max_per_node_of_type[t]);
    if (!shape || memo_.known_to_fail(job, t, *shape)) continue;
    // If taking back every candidate leaves no room, neither does taking back some of them:
    // one search settles what would otherwise cost a search per candidate (most jobs within
    // guarantee that wait find nothing to reclaim).
    if (!fits_with_all(pool, job, t, list)) {
      memo_.record(job, t, *shape);
      continue;
    }

    // One victim, if any single one makes room: the most recently started such one.
    ReclaimPlan plan;
    plan.type = t;
    for (std::size_t k = 0; k < list.size() && k < kSingleTrials; ++k)
      if (fits_with(pool, job, t, list[k], plan.placement)) {
        plan.victims = {list[k]};
        return plan;
      }

    // Else most recently started first until the job fits, then only those it uses.
    std::vector<std::uint32_t> given;
    std::optional<Placement> found;
    for (std::uint32_t i : list) {
      const RunningJob& r = s_.running[i];
      pool.give(r.placement, *r.job);
      given.push_back(i);
      if (pool.free_of_type(t) < job.accel_count) continue;
      found = pool.find(job, t);
      if (found) break;
    }
    for (auto it = given.rbegin(); it != given.rend(); ++it)
      pool.take(s_.running[*it].placement, *s_.running[*it].job);
    if (!found) {
      memo_.record(job, t, *shape);
      continue;
    }
    // A victim sharing no node with the placement is not needed (one on a node it uses may
    // have freed the CPU or memory it relies on: kept).
    for (std::uint32_t i : given) {
      bool used = false;
      for (const Slot& v : s_.running[i].placement)
        for (const Slot& p : *found) used = used || p.node == v.node;
      if (used) plan.victims.push_back(i);
    }
    plan.placement = std::move(*found);
    return plan;
  }
  return std::nullopt;
}

Reclaimer::Carried Reclaimer::carry_out(ReclaimPlan plan, const Job& job, FreePool& pool,
                                        ShareGate& gate, Decisions& d) {
  Carried out;
  const bool grace = s_.params.preempt_grace_ms > 0;
  for (std::uint32_t v : plan.victims) {
    const RunningJob& r = s_.running[v];
    d.preemptions.push_back({r.job->id, job.id, true});
    gate.released(r);
  }
  commit(plan, !grace);
  if (!grace) {
    for (std::uint32_t v : plan.victims) pool.give(s_.running[v].placement, *s_.running[v].job);
    out.start = Choice{plan.type, std::move(plan.placement)};
    return out;
  }
  for (const Slot& slot : plan.placement)
    if (const auto f = pool.free_mask(slot.node) & slot.devices)
      out.held_free.push_back({slot.node, f});
  pool.remove_devices(out.held_free);
  gate.started(job, plan.type);
  d.holds.push_back({job.id, plan.type, std::move(plan.placement)});
  return out;
}

void Reclaimer::commit(const ReclaimPlan& plan, bool pool_grew) {
  for (std::uint32_t v : plan.victims) gone_[v] = true;
  dirty_[plan.type] = true;  // candidates() recounts them
  if (pool_grew) memo_.clear();
}

}  // namespace zs
