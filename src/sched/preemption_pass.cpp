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
bool shares_node(const Placement& a, const Placement& b) {
  for (const Slot& x : a)
    for (const Slot& y : b)
      if (x.node == y.node) return true;
  return false;
}
// Below this many victims, releasing them one by one costs less than building the index.
std::size_t index_min_victims = PreemptionPass::kDefaultReleaseIndexFrom;
}  // namespace

void PreemptionPass::release_index_from(std::size_t min_victims) {
  index_min_victims = min_victims;
}

void PreemptionPass::start(const Job& job, Choice c, std::size_t first_victim) {
  pool_.take(c.placement, job);
  if (releasable_) releasable_->take(c.placement);
  if (release_ && release_->usable())
    release_->started(c.placement, job,
                      std::span(preempted_).subspan(std::min(first_victim, preempted_.size())));
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
    start(job, std::move(*c), preempted_.size());
    return Result::kStarted;
  }
  if (info.never_fits) {
    d_.rejections.push_back({job.id, *info.never_fits});
    return Result::kRejected;
  }
  if (!victims_left) return Result::kWaits;
  if (!worth_preempting(job, info.types, cls)) return Result::kWaits;
  const std::size_t first_victim = preempted_.size();
  auto c = preempt_for(job, info.types, cls);
  if (!c) return Result::kWaits;
  start(job, std::move(*c), first_victim);
  memo_.clear();  // devices came back: earlier failures may fit now
  preempt_memo_.clear();
  return Result::kStarted;
}

bool PreemptionPass::a_preempted_job_fits() {
  if (pool_.free_total() == 0) return false;
  for (std::uint32_t v : preempted_) {
    const Job& job = *s_.running[v].job;
    if (place_now(pool_, job, requests_.of(job).types, nullptr)) return true;
  }
  return false;
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
    releasable_.emplace(*s_.cluster, victim_slots(cls), cls, s_.memory);
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
  std::vector<Releasable::VictimSlot> slots = take_vector<Releasable::VictimSlot>(s_.memory);
  slots.reserve(running_.victims.size() + running_.victims.size() / 4);
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
  if (!release_ && !victims_) {
    if (running_.victims.size() >= index_min_victims)
      release_.emplace(policy_, s_, running_, pool_);
    if (!release_ || !release_->usable()) victims_.emplace(policy_, s_, running_);
  }
  return victims_ ? preempt_by_releasing(job, types, cls) : preempt_by_index(job, types, cls);
}

std::optional<Choice> PreemptionPass::preempt_by_index(const Job& job,
                                                       const std::vector<TypeId>& types,
                                                       std::int64_t cls) {
  // The tries preempt_by_releasing() makes, found by position in the victims' order; a
  // placement search only where the released nodes could hold the job's shape.
  ReleaseIndex& index = *release_;
  const std::size_t end = index.end_of_worse(cls);
  std::optional<Choice> c;
  std::size_t at = 0;
  int next_try = job.accel_count;
  for (std::size_t from = 0;;) {
    const std::size_t x = index.try_position(job, next_try, from, end);
    if (x == ReleaseIndex::kNone) break;
    next_try = std::max(next_try, index.released_accels(job, x)) * 2;
    from = x + 1;
    if (!index.may_fit(job, types, x)) continue;
    c = place_now(index.pool_releasing(x + 1), job, types, nullptr);
    index.restore();
    if (c) {
      at = x;
      break;
    }
  }
  if (!c) {
    record_preempt_failure(job, types);
    return std::nullopt;
  }
  // Only the victims with devices on the placement's nodes can be needed: release them (in
  // the order preempt_by_releasing() did) and keep the needed ones.
  index.victims_on(c->placement, job, at, released_);
  for (std::uint32_t v : released_) pool_.give(s_.running[v].placement, *s_.running[v].job);
  keep_needed(job, *c, released_);
  return c;
}

std::optional<Choice> PreemptionPass::preempt_by_releasing(const Job& job,
                                                           const std::vector<TypeId>& types,
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
  bool untried = false;  // victims released since the last try
  TypeId last_type = 0;  // of the last one released
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
    released_devices += accels(r);
    untried = true;
    last_type = r.type;
    const bool last = victims.empty() || victims.worst_cls() <= cls;
    if ((released_devices >= next_try || last) && pool_.free_of_type(r.type) >= job.accel_count) {
      c = place_now(pool_, job, types, nullptr);
      untried = false;
      next_try = std::max(next_try, released_devices) * 2;
    }
  }
  // The last victim the job accepts gets its try also when victims it does not accept came
  // after it (skipped above): once, without it, a job never tried the devices it could use.
  if (!c && untried && pool_.free_of_type(last_type) >= job.accel_count)
    c = place_now(pool_, job, types, nullptr);
  for (std::uint32_t v : skipped) victims.push(v);
  if (!c) {
    for (std::uint32_t v : released) {
      pool_.take(s_.running[v].placement, *s_.running[v].job);
      victims.push(v);
    }
    record_preempt_failure(job, types);
    return std::nullopt;
  }
  keep_needed(job, *c, released);
  return c;
}

void PreemptionPass::keep_needed(const Job& job, const Choice& c,
                                 const std::vector<std::uint32_t>& released) {
  // Keep only the victims the new job really needs: those whose devices it uses, and those
  // whose CPU cores or memory it needs on a node it shares with them.
  for (std::uint32_t v : released) {
    const RunningJob& r = s_.running[v];
    bool needed = overlaps(r.placement, c.placement);
    if (!needed) {
      pool_.take(r.placement, *r.job);  // kept, unless the new job then lacks CPU or memory
      if ((job.cpu_per_accel > 0 || job.mem_gib_per_accel > 0) &&
          shares_node(r.placement, c.placement) && !pool_.has_resources(c.placement, job)) {
        pool_.give(r.placement, *r.job);
        needed = true;
      }
    }
    if (needed) {
      live_[r.type] -= accels(r);
      d_.preemptions.push_back({r.job->id, job.id});
      preempted_.push_back(v);
      if (is_preempted_.empty()) is_preempted_.resize(s_.running.size(), false);
      is_preempted_[v] = true;
      if (release_ && release_->usable()) release_->preempted(v);
    } else if (victims_) {
      victims_->push(v);
    }
  }
}

}  // namespace zs
