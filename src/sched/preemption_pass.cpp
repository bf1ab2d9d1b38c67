#include "sched/preemption_pass.h"

#include <algorithm>

namespace zs {

namespace {
bool overlaps(const Placement& a, const Placement& b) {
  for (const Slot& x : a)
    for (const Slot& y : b)
      if (x.node == y.node && (x.devices & y.devices) != 0) return true;
  return false;
}
}  // namespace

void PreemptionPass::start(const Job& job, Choice c) {
  pool_.take(c.placement, job);
  if (releasable_) releasable_->take(c.placement);
  d_.starts.push_back({job.id, c.type, std::move(c.placement), false});
}

PreemptionPass::Result PreemptionPass::offer(const PendingJob& p, std::int64_t cls) {
  // Classes only get worse from here: with nothing free and no worse-class victim left,
  // no later job can start.
  const bool victims_left = worst_victim_cls() > cls;
  if (pool_.free_total() == 0 && !victims_left) return Result::kStop;
  const Job& job = *p.job;
  const auto& info = requests_.of(job);
  if (auto c = place_now(pool_, job, info.types, &memo_)) {
    start(job, std::move(*c));
    return Result::kStarted;
  }
  if (info.never_fits) {
    d_.rejections.push_back({job.id, *info.never_fits});
    return Result::kRejected;
  }
  if (!victims_left) return Result::kWaits;
  if (!worth_preempting(job, info.types, cls)) return Result::kWaits;
  if (!victims_) victims_.emplace(policy_, s_, running_);
  auto c = preempt_for(job, info.types, cls);
  if (!c) return Result::kWaits;
  start(job, std::move(*c));
  memo_.clear();  // devices came back: earlier failures may fit now
  preempt_memo_.clear();
  return Result::kStarted;
}

bool PreemptionPass::worth_preempting(const Job& job, const std::vector<TypeId>& types,
                                      std::int64_t cls) {
  bool possible = false;
  for (TypeId t : types) {
    auto shape = shape_for(job, s_.cluster->max_per_node_of_type[t]);
    if (shape && !preempt_memo_.known_to_fail(job, t, *shape) &&
        pool_.free_of_type(t) + live_[t] >= job.accel_count)
      possible = true;
  }
  if (!possible) return false;
  if (may_fit_after_preempting(job, types, cls)) return true;
  // What preempt_for() would conclude, without releasing and taking back every victim.
  record_preempt_failure(job, types);
  return false;
}

// False only if no type has enough nodes for the job's shape even with every victim of a worse
// class released: then no placement search during preempt_for() can succeed.
bool PreemptionPass::may_fit_after_preempting(const Job& job, const std::vector<TypeId>& types,
                                              std::int64_t cls) {
  // Jobs come in ascending class: the victims of this job's class or better never count again.
  if (!releasable_ || cls < releasable_->lowest_cls())
    releasable_.emplace(*s_.cluster, victim_slots(cls), cls);
  releasable_->track(pool_, cls, is_preempted_);
  for (TypeId t : types) {
    auto shape = shape_for(job, s_.cluster->max_per_node_of_type[t]);
    if (!shape || shape->per_node <= 0 || shape->per_node > s_.cluster->max_per_node_of_type[t])
      continue;
    const auto at_least = [&](int k) { return releasable_->nodes_with_at_least(t, k); };
    if (at_least(shape->per_node) >= shape->nodes &&
        (shape->remainder == 0 || at_least(shape->remainder) >= shape->nodes + 1))
      return true;
  }
  return false;
}

std::vector<Releasable::VictimSlot> PreemptionPass::victim_slots(std::int64_t worse_than) const {
  std::vector<Releasable::VictimSlot> slots;
  for (std::uint32_t v : running_.victims)
    if (cls(v) > worse_than)
      for (const Slot& slot : s_.running[v].placement) {
        const std::uint64_t devices = slot.devices & pool_.capacity(slot.node);
        if (devices != 0) slots.push_back({cls(v), v, slot.node, devices});
      }
  return slots;
}

void PreemptionPass::record_preempt_failure(const Job& job, const std::vector<TypeId>& types) {
  for (TypeId t : types)
    if (auto shape = shape_for(job, s_.cluster->max_per_node_of_type[t]))
      preempt_memo_.record(job, t, *shape);
}

std::optional<Choice> PreemptionPass::preempt_for(const Job& job, const std::vector<TypeId>& types,
                                                  std::int64_t cls) {
  // Release the worst victims first. Try to place the job once enough devices are free, then
  // again each time the released amount has doubled (and at the end): O(log R) placement
  // searches per job instead of one per victim.
  auto& released = released_;
  auto& skipped = skipped_;
  released.clear();
  skipped.clear();
  std::optional<Choice> c;
  int released_devices = 0, next_try = job.accel_count;
  VictimQueue& victims = *victims_;
  while (!c && !victims.empty() && victims.worst_cls() > cls) {
    const std::uint32_t v = victims.pop();
    const RunningJob& r = s_.running[v];
    if (!job.accepted.contains(r.type)) {
      skipped.push_back(v);
      continue;
    }
    pool_.give(r.placement, *r.job);
    released.push_back(v);
    released_devices += r.job->accel_count;
    const bool last = victims.empty() || victims.worst_cls() <= cls;
    if ((released_devices >= next_try || last) && pool_.free_of_type(r.type) >= job.accel_count) {
      c = place_now(pool_, job, types, nullptr);
      next_try = std::max(next_try, released_devices) * 2;
    }
  }
  for (std::uint32_t v : skipped) victims.push(v);
  if (!c) {
    for (std::uint32_t v : released) {
      pool_.take(s_.running[v].placement, *s_.running[v].job);
      victims.push(v);
    }
    record_preempt_failure(job, types);
    return std::nullopt;
  }
  // Keep only the victims the new job really needs: those whose devices it uses, and those
  // whose CPU cores or memory it needs on a node it shares with them.
  for (std::uint32_t v : released) {
    const RunningJob& r = s_.running[v];
    bool needed = overlaps(r.placement, c->placement);
    if (!needed) {
      pool_.take(r.placement, *r.job);  // kept, unless the new job then lacks CPU or memory
      if (!pool_.has_resources(c->placement, job)) {
        pool_.give(r.placement, *r.job);
        needed = true;
      }
    }
    if (needed) {
      live_[r.type] -= r.job->accel_count;
      d_.preemptions.push_back({r.job->id, job.id});
      preempted_.push_back(v);
      if (is_preempted_.empty()) is_preempted_.resize(s_.running.size(), false);
      is_preempted_[v] = true;
    } else {
      victims.push(v);
    }
  }
  return c;
}

}  // namespace zs
