#include "sched/placement_search.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <numeric>

#include "sched/pass_memory.h"

namespace zs {

bool FailMemo::known_to_fail(const Job& job, TypeId type, const Shape& s) const {
  for (const Fail& f : fails_) {
    if (f.type != type || job.cpu_per_accel < f.cpu || job.mem_gib_per_accel < f.mem) continue;
    if (s.nodes >= f.shape.nodes && s.per_node >= f.shape.per_node &&
        (f.shape.remainder == 0 || s.remainder >= f.shape.remainder || s.nodes > f.shape.nodes))
      return true;
  }
  return false;
}

void FailMemo::record(const Job& job, TypeId type, const Shape& shape) {
  // A job with node constraints may fail where the same shape without them fits. (The reverse
  // holds: constraints only take placements away, so known_to_fail applies to it.)
  if (job.has_node_constraints()) return;
  if (fails_.empty()) fails_.reserve(kMaxFails / 4);
  if (!full()) fails_.push_back({type, shape, job.cpu_per_accel, job.mem_gib_per_accel});
}

namespace {
// A type's speed for a job: measured throughput if the table has it, else the catalog's dense
// 16-bit peak, else 0 (unknown; sorts last, then by id).
double type_speed(const Snapshot& s, const Job& job, TypeId t) {
  if (s.throughput && job.model >= 0)
    if (auto tp = s.throughput->throughput(job.model, t, job.accel_count)) return *tp;
  return 0.0;
}
}  // namespace

double speed_factor(const Snapshot& s, const Job& job, TypeId type) {
  if (!s.throughput) return 1.0;
  return s.throughput->duration_factor(job.model, job.recorded_type, type, job.accel_count);
}

std::vector<TypeId> candidate_types(const Snapshot& s, const Job& job, bool by_speed) {
  std::vector<TypeId> types;
  const auto& have = s.cluster->accels_of_type;
  for (TypeId t = 0; t < have.size(); ++t)
    if (have[t] > 0 && job.accepted.contains(t)) types.push_back(t);
  if (by_speed && types.size() > 1) {
    std::vector<std::pair<double, TypeId>> keyed;
    for (TypeId t : types) {
      double speed = type_speed(s, job, t);
      if (speed == 0.0 && s.catalog) {
        const auto& a = s.catalog->type(t);
        // Peak figures only order types with no measured throughput; unknown peaks last.
        speed = 1e-6 * a.bf16_tflops.value_or(a.fp16_tflops.value_or(a.fp32_tflops.value_or(0.0)));
      }
      keyed.emplace_back(-speed, t);
    }
    std::stable_sort(keyed.begin(), keyed.end());
    for (std::size_t i = 0; i < keyed.size(); ++i) types[i] = keyed[i].second;
  }
  return types;
}

std::size_t RequestCache::slot_of(const Job& job, int model) {
  std::uint64_t h = job.accepted.bits() ^ (job.accepted.is_any() ? 0x5bd1e995u : 0u);
  h = h * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(job.accel_count);
  h = h * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(job.nodes * 64 + job.per_node);
  h = h * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(model + 1);
  return static_cast<std::size_t>(h >> 58);  // 64 slots
}

std::size_t RequestCache::entry_of(const Job& job) {
  const int model = by_speed_ ? job.model : -1;
  // Cheapest and most telling fields first: this runs for every job a pass looks at.
  auto same = [&](const Entry& e) {
    return e.accel_count == job.accel_count && e.accepted == job.accepted && e.model == model &&
           e.nodes == job.nodes && e.per_node == job.per_node && e.cpu == job.cpu_per_accel &&
           e.mem == job.mem_gib_per_accel && job.unknown_type.empty() &&
           e.required == job.required_nodes && e.excluded == job.excluded_nodes;
  };
  std::uint16_t& slot = slots_[slot_of(job, model)];
  if (slot > 0 && same(cache_[slot - 1u])) return slot - 1u;
  for (std::size_t i = 0; i < cache_.size(); ++i)
    if (same(cache_[i])) {
      slot = static_cast<std::uint16_t>(i + 1);
      return i;
    }
  if (cache_.size() >= 256) {  // bounded, for a pathological variety of requests
    cache_.clear();
    slots_.fill(0);
    by_group_.clear();
  }
  Info info{candidate_types(*s_, job, by_speed_), never_fits(job, *s_->cluster, *s_->catalog), {}};
  if (s_->shares && !info.never_fits && info.types.size() > 1) {
    Job one = job;
    for (TypeId t : info.types) {
      one.accepted = TypeSet::of(t);
      if (!never_fits(one, *s_->cluster, *s_->catalog)) info.fit_types.push_back(t);
    }
  } else {
    info.fit_types = info.types;
  }
  cache_.push_back({job.accepted, model, job.accel_count, job.nodes, job.per_node,
                    job.cpu_per_accel, job.mem_gib_per_accel, job.required_nodes,
                    job.excluded_nodes, std::move(info)});
  slot = static_cast<std::uint16_t>(cache_.size());
  return cache_.size() - 1;
}

int usable_free_total(const Snapshot& s) {
  int total = 0;
  for (const NodeState& n : s.nodes) total += device_count(n.usable());
  return total;
}

std::optional<Choice> place_now(const FreePool& pool, const Job& job, std::span<const TypeId> types,
                                FailMemo* memo) {
  for (TypeId t : types) {
    if (pool.free_of_type(t) < job.accel_count) continue;
    auto shape = shape_for(job, pool.cluster().max_per_node_of_type[t]);
    if (!shape) continue;
    if (memo && memo->known_to_fail(job, t, *shape)) continue;
    if (auto p = pool.find(job, t)) return Choice{t, std::move(*p)};
    if (memo) memo->record(job, t, *shape);
  }
  return std::nullopt;
}

std::optional<Reservation> earliest_start(const Snapshot& s, const FreePool& pool, const Job& job,
                                          std::span<const TypeId> types, TimeMs now,
                                          std::span<const RunningJob> started, bool by_prediction) {
  // Ends in (end, id) order: a pass runs this for its blocked head job, over every running job.
  // The id breaks ties only: read through the job (a cache miss per running job) only then.
  struct Ending {
    TimeMs at;
    const RunningJob* r;
    bool operator<(const Ending& o) const {
      return at != o.at ? at < o.at : r->job->id < o.r->job->id;
    }
  };
  auto end_of = [&](const RunningJob& r) {
    return by_prediction && r.predicted_end < kNever ? r.predicted_end : r.expected_end;
  };
  auto counts = [&](const RunningJob& r) {
    return end_of(r) < kNever && std::find(types.begin(), types.end(), r.type) != types.end();
  };
  Borrowed<FreePool> future_memory(lent_future(s));  // (sched/pass_memory.h)
  FreePool& future = pool_copy(pool, future_memory);
  // Releases the ends in order, trying the job after each distinct end time.
  auto walk = [&](auto next_ending) -> std::optional<Reservation> {
    for (const Ending* e = next_ending(); e;) {
      const TimeMs t = e->at;
      for (; e && e->at == t; e = next_ending()) future.give(e->r->placement, *e->r->job);
      if (auto c = place_now(future, job, types, nullptr))
        return Reservation{job.id, c->type, std::max(t, now), std::move(c->placement)};
    }
    return std::nullopt;
  };
  const std::span<const std::uint32_t> in_end_order =
      by_prediction ? s.running_by_predicted_end : s.running_by_end;
  if (in_end_order.size() == s.running.size()) {
    // The driver keeps the running jobs in end order: merge this pass's starts into it.
    std::vector<Ending> mine;
    for (const RunningJob& r : started)
      if (counts(r)) mine.push_back({end_of(r), &r});
    std::sort(mine.begin(), mine.end());
    std::size_t a = 0, b = 0;
    Ending cur{};
    return walk([&]() -> const Ending* {
      while (a < in_end_order.size() && !counts(s.running[in_end_order[a]])) ++a;
      const bool have_a = a < in_end_order.size();
      if (have_a) {
        const RunningJob& r = s.running[in_end_order[a]];
        cur = {end_of(r), &r};
      }
      if (b < mine.size() && (!have_a || mine[b] < cur)) return &mine[b++];
      if (!have_a) return nullptr;
      ++a;
      return &cur;
    });
  }
  std::vector<Ending> ending;
  ending.reserve(s.running.size() + started.size());
  for (const RunningJob& r : s.running)
    if (counts(r)) ending.push_back({end_of(r), &r});
  for (const RunningJob& r : started)
    if (counts(r)) ending.push_back({end_of(r), &r});
  // A heap, not a sort: the job usually fits long before the last end (O(R + k log R) for the
  // k ends it needs, where a sort of thousands of running jobs on every pass dominated).
  auto later = [](const Ending& x, const Ending& y) { return y < x; };
  std::make_heap(ending.begin(), ending.end(), later);
  auto left = ending.end();
  return walk([&]() -> const Ending* {
    if (left == ending.begin()) return nullptr;
    std::pop_heap(ending.begin(), left, later);
    --left;
    return &*left;
  });
}

TimeMs walltime_on(const Snapshot& s, const Job& job, TypeId type) {
  if (job.walltime <= 0) return 0;
  return static_cast<TimeMs>(
      std::ceil(static_cast<double>(job.walltime) * speed_factor(s, job, type)));
}

TimeMs planned_run_on(const Snapshot& s, const PendingJob& p, TypeId type, bool by_prediction) {
  const TimeMs limit = walltime_on(s, *p.job, type);
  if (!by_prediction || p.predicted_ms <= 0) return limit;
  const auto predicted = static_cast<TimeMs>(
      std::ceil(static_cast<double>(p.predicted_ms) * speed_factor(s, *p.job, type)));
  return limit > 0 ? std::min(predicted, limit) : predicted;
}

std::vector<std::uint32_t> priority_order(std::span<const PendingJob> pending) {
  std::vector<std::uint32_t> order(pending.size());
  std::iota(order.begin(), order.end(), 0u);
  auto before = [&](std::uint32_t a, std::uint32_t b) {
    const Job& x = *pending[a].job;
    const Job& y = *pending[b].job;
    if (x.priority != y.priority) return x.priority > y.priority;
    if (x.submit != y.submit) return x.submit < y.submit;
    return x.id < y.id;
  };
  if (std::is_sorted(order.begin(), order.end(), before)) return order;
  // Drivers give the jobs in (submit, id) order (Snapshot::pending) with a few priorities: a
  // stable bucketing by priority then orders them in O(n), where a sort on every pass of a
  // long forecast costs O(n log n) each time.
  auto by_submit = [&](std::uint32_t a, std::uint32_t b) {
    const Job& x = *pending[a].job;
    const Job& y = *pending[b].job;
    return x.submit != y.submit ? x.submit < y.submit : x.id < y.id;
  };
  constexpr std::size_t kFewPriorities = 8;
  std::vector<std::int32_t> levels;
  bool few = std::is_sorted(order.begin(), order.end(), by_submit);
  for (std::size_t i = 0; few && i < pending.size(); ++i) {
    const std::int32_t p = pending[i].job->priority;
    if (std::find(levels.begin(), levels.end(), p) == levels.end()) {
      levels.push_back(p);
      few = levels.size() <= kFewPriorities;
    }
  }
  if (!few) {
    std::sort(order.begin(), order.end(), before);
    return order;
  }
  std::sort(levels.begin(), levels.end(), std::greater<>());
  std::size_t at = 0;
  for (std::int32_t level : levels)
    for (std::uint32_t i = 0; i < pending.size(); ++i)
      if (pending[i].job->priority == level) order[at++] = i;
  return order;
}

}  // namespace zs
