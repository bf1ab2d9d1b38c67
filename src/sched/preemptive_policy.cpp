#include "sched/preemptive_policy.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <utility>

#include "sched/placement_search.h"

namespace zs {

int las_queue(TimeMs attained_accel_ms, const std::vector<double>& thresholds_accel_s) {
  return las_queue_ms(attained_accel_ms, las_threshold_ms(thresholds_accel_s));
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
using Key = PreemptivePolicy::Key;
constexpr std::int64_t kNoClass = std::numeric_limits<std::int64_t>::max();

// The service that ranks a running job under LAS: counted from its promotion if it was started
// by promotion (as in Tiresias), else all of it.
TimeMs las_effective_attained(const Snapshot& s, const RunningJob& r, TimeMs now,
                              std::span<const TimeMs> th) {
  const TimeMs this_run = (now - r.started) * r.job->accel_count;
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
  return running_key(s, r, now, las_threshold_ms(s.params.las_thresholds_accel_s));
}

PreemptivePolicy::Key PreemptivePolicy::running_key(const Snapshot& s, const RunningJob& r,
                                                    TimeMs now, std::span<const TimeMs> th) const {
  return key_in_class(s, r, running_class(s, r, now, th));
}

std::int64_t PreemptivePolicy::running_class(const Snapshot& s, const RunningJob& r, TimeMs now,
                                             std::span<const TimeMs> th) const {
  if (mode_ == Mode::kSrtf) return r.remaining_ms >= 0 ? r.remaining_ms : kNever;
  // A job started by the starvation guard keeps that rank for its whole run, and one started
  // by promotion counts service from the promotion: otherwise the next starving or promoted job
  // would take its devices back at once.
  if (r.waited_ms >= s.params.starvation_ms) return -1;
  return las_queue_ms(las_effective_attained(s, r, now, th), th);
}

PreemptivePolicy::Key PreemptivePolicy::key_in_class(const Snapshot& s, const RunningJob& r,
                                                     std::int64_t cls) const {
  const Job& j = *r.job;
  // Starving-guard jobs among themselves: the one that started waiting first.
  if (mode_ == Mode::kLas && r.waited_ms >= s.params.starvation_ms)
    return {cls, r.started - r.waited_ms, j.submit, j.id};
  return {cls, j.submit, 0, j.id};
}

PreemptivePolicy::RunningView PreemptivePolicy::view_running(
    const Snapshot& s, TimeMs now, std::span<const TimeMs> th,
    std::int64_t min_pending_cls) const {
  RunningView v;
  v.cls.resize(s.running.size());
  v.victims.reserve(s.running.size());
  v.victim_accels.assign(s.cluster->accels_of_type.size(), 0);
  for (std::uint32_t i = 0; i < s.running.size(); ++i) {
    const RunningJob& r = s.running[i];
    v.cls[i] = running_class(s, r, now, th);
    if (now - r.started >= s.params.min_run_ms) {
      v.max_victim_cls = std::max(v.max_victim_cls, v.cls[i]);
      v.victims.push_back(i);
      v.victim_accels[r.type] += r.job->accel_count;
    }
    v.wake = std::min(v.wake, running_wake(s, r, v.cls[i], now, min_pending_cls, th));
  }
  return v;
}

TimeMs PreemptivePolicy::running_wake(const Snapshot& s, const RunningJob& r, std::int64_t cls,
                                      TimeMs now, std::int64_t min_pending_cls,
                                      std::span<const TimeMs> th) const {
  // The time at which this job newly becomes preemptable by the best waiting job: its lease
  // ends, or (LAS) it crosses into a queue below that job's. Waiting jobs' classes only improve
  // at promotion or starvation times, and those get passes of their own, so comparing with the
  // best waiting class now is enough.
  const TimeMs lease_end = r.started + s.params.min_run_ms;
  const int n = std::max(r.job->accel_count, 1);
  if (lease_end > now) {
    std::int64_t cls_then = cls;
    if (mode_ == Mode::kSrtf)
      cls_then = cls - (lease_end - now);
    else if (cls >= 0)
      cls_then = las_queue_ms(las_effective_attained(s, r, now, th) + (lease_end - now) * n, th);
    return cls_then > min_pending_cls ? lease_end : kNever;
  }
  if (mode_ != Mode::kLas || cls < 0 || cls > min_pending_cls || min_pending_cls < 0 ||
      static_cast<std::size_t>(min_pending_cls) >= th.size())
    return kNever;
  const TimeMs need =
      th[static_cast<std::size_t>(min_pending_cls)] - las_effective_attained(s, r, now, th);
  return now + std::max<TimeMs>((need + n - 1) / n, 1);
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
    // LAS: it ranks below the best waiting job once its queue exceeds that job's queue.
    if (min_left < 0) {
      // A starving job waits: it may take this one's devices after the lease, unless this
      // one was itself started by the starvation guard (the same rank).
      if (p->waiting_since > now - s.params.starvation_ms) wake = std::min(wake, lease_end);
      continue;
    }
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

bool overlaps(const Placement& a, const Placement& b) {
  for (const Slot& x : a)
    for (const Slot& y : b)
      if (x.node == y.node && (x.devices & y.devices) != 0) return true;
  return false;
}

// The placement part of a pass, the same for las and srtf. Waiting jobs are offered in class
// order; each starts on free devices, or by preempting running jobs of a strictly worse class.
class Pass {
 public:
  enum class Result { kStop, kStarted, kRejected, kWaits };

  Pass(const PreemptivePolicy& policy, const Snapshot& s,
       const PreemptivePolicy::RunningView& running, Decisions& d)
      : policy_(policy),
        s_(s),
        running_(running),
        d_(d),
        pool_(*s.cluster, s.nodes),
        requests_(s, false),
        live_(running.victim_accels) {}

  // kStop: neither this job nor any job of a worse class can start in this pass.
  Result offer(const PendingJob& p, std::int64_t cls);
  const std::vector<std::uint32_t>& preempted() const { return preempted_; }
  // Devices come back to the pool only when a job is preempted; that starts a new epoch.
  // Within an epoch the pool only shrinks and the victims only get fewer, so a job that had to
  // wait would have to wait again - if the failure memos forgot nothing.
  std::size_t epoch() const { return preempted_.size(); }
  bool remembers_failures() const { return !memo_.full() && !preempt_memo_.full(); }
  // The worst class among the victims not preempted (minimum of int64 when there are none).
  std::int64_t worst_victim_cls() const {
    if (!heap_built_) return running_.max_victim_cls;
    return heap_.empty() ? std::numeric_limits<std::int64_t>::min() : cls(heap_.front());
  }

 private:
  std::int64_t cls(std::uint32_t victim) const { return running_.cls[victim]; }
  void build_heap() {
    keys_.resize(s_.running.size());
    for (std::uint32_t v : running_.victims)
      keys_[v] = policy_.key_in_class(s_, s_.running[v], running_.cls[v]);
    heap_ = running_.victims;
    std::make_heap(heap_.begin(), heap_.end(), heap_less_);
    heap_built_ = true;
  }
  void list_victim_slots();
  void push_victim(std::uint32_t v) {
    heap_.push_back(v);
    std::push_heap(heap_.begin(), heap_.end(), heap_less_);
  }
  std::uint32_t pop_victim() {
    std::pop_heap(heap_.begin(), heap_.end(), heap_less_);
    const std::uint32_t v = heap_.back();
    heap_.pop_back();
    return v;
  }
  bool worth_preempting(const Job& job, const std::vector<TypeId>& types, std::int64_t cls);
  bool may_fit_after_preempting(const Job& job, const std::vector<TypeId>& types,
                                std::int64_t cls);
  void count_releasable(std::int64_t cls);
  std::optional<Choice> preempt_for(const Job& job, const std::vector<TypeId>& types,
                                    std::int64_t cls);
  void record_preempt_failure(const Job& job, const std::vector<TypeId>& types);
  void start(const Job& job, Choice c) {
    pool_.take(c.placement, job);
    d_.starts.push_back({job.id, c.type, std::move(c.placement), false});
  }

  const PreemptivePolicy& policy_;
  const Snapshot& s_;
  const PreemptivePolicy::RunningView& running_;
  Decisions& d_;
  FreePool pool_;
  RequestCache requests_;
  // Victims: running jobs past their lease (indices into Snapshot::running), kept in a max-heap
  // by key (worst on top). A job pops victims while they rank strictly below it; those it does
  // not end up using are pushed back for the next job. Built on the first preemption attempt:
  // most passes never need it. `live_` counts, per type, the devices of victims not yet
  // preempted, for a quick "could preempting every victim make room at all?" check.
  struct ByKey {
    const std::vector<Key>* keys;
    bool operator()(std::uint32_t a, std::uint32_t b) const { return (*keys)[a] < (*keys)[b]; }
  };
  std::vector<Key> keys_;  // of the victims (by running index), made with the heap
  ByKey heap_less_{&keys_};
  std::vector<std::uint32_t> heap_;
  bool heap_built_ = false;
  std::vector<int> live_;
  std::vector<std::uint32_t> preempted_;  // running indices preempted this pass
  FailMemo memo_;
  // Jobs come in ascending class, so the victims of a later job are a subset of an earlier
  // one's: a shape that could not be placed by preempting stays impossible for later jobs.
  FailMemo preempt_memo_;
  // Per type, ge[k]: nodes with >= k devices free or held by victims of a class worse than
  // `releasable_cls_`. Only ever too large (the pool shrinks as jobs start), so it is a sound
  // "cannot fit" test. Recounted when the class changes or a preemption happens.
  std::vector<std::vector<int>> releasable_ge_;
  std::vector<std::uint64_t> releasable_;  // per node: devices victims would add to it
  std::vector<NodeId> touched_;            // nodes with releasable_ != 0
  std::int64_t releasable_cls_ = kNoClass;
  // The victims' devices that give() would return, made on first use.
  struct VictimSlot {
    std::int64_t cls;
    std::uint32_t victim;
    NodeId node;
    std::uint64_t devices;
  };
  std::vector<VictimSlot> victim_slots_;
  bool slots_listed_ = false;
  std::vector<bool> is_preempted_;  // by running index, made on the first preemption
};

Pass::Result Pass::offer(const PendingJob& p, std::int64_t cls) {
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
  if (!heap_built_) build_heap();
  auto c = preempt_for(job, info.types, cls);
  if (!c) return Result::kWaits;
  start(job, std::move(*c));
  memo_.clear();  // devices came back: earlier failures may fit now
  preempt_memo_.clear();
  releasable_cls_ = kNoClass;
  return Result::kStarted;
}

bool Pass::worth_preempting(const Job& job, const std::vector<TypeId>& types, std::int64_t cls) {
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
bool Pass::may_fit_after_preempting(const Job& job, const std::vector<TypeId>& types,
                                    std::int64_t cls) {
  if (releasable_cls_ != cls) count_releasable(cls);
  for (TypeId t : types) {
    auto shape = shape_for(job, s_.cluster->max_per_node_of_type[t]);
    const auto& ge = releasable_ge_[t];
    if (!shape || shape->per_node <= 0 || shape->per_node >= static_cast<int>(ge.size())) continue;
    const auto at_least = [&](int k) { return ge[static_cast<std::size_t>(k)]; };
    if (at_least(shape->per_node) >= shape->nodes &&
        (shape->remainder == 0 || at_least(shape->remainder) >= shape->nodes + 1))
      return true;
  }
  return false;
}

void Pass::count_releasable(std::int64_t cls) {
  const Cluster& c = *s_.cluster;
  // Start from the pool's node counts by free devices, then move the nodes victims add to.
  releasable_ge_.resize(c.accels_of_type.size());
  for (TypeId t = 0; t < releasable_ge_.size(); ++t) {
    if (c.nodes_of_type[t] == 0) continue;
    auto& ge = releasable_ge_[t];
    ge.resize(static_cast<std::size_t>(c.max_per_node_of_type[t]) + 1);
    for (std::size_t k = 0; k < ge.size(); ++k) ge[k] = pool_.nodes_with_free(t, static_cast<int>(k));
  }
  releasable_.resize(c.nodes.size(), 0);
  if (!slots_listed_) list_victim_slots();
  for (const VictimSlot& vs : victim_slots_) {
    if (vs.cls <= cls || (!is_preempted_.empty() && is_preempted_[vs.victim])) continue;
    if (releasable_[vs.node] == 0) touched_.push_back(vs.node);
    releasable_[vs.node] |= vs.devices;
  }
  for (NodeId n : touched_) {
    auto& ge = releasable_ge_[c.nodes[n].type];
    const int k = std::popcount(pool_.free_mask(n) | releasable_[n]);
    --ge[static_cast<std::size_t>(pool_.free_count(n))];
    ++ge[static_cast<std::size_t>(std::min(k, static_cast<int>(ge.size()) - 1))];
    releasable_[n] = 0;
  }
  touched_.clear();
  for (auto& ge : releasable_ge_)
    for (std::size_t k = ge.size(); k-- > 1;) ge[k - 1] += ge[k];
  releasable_cls_ = cls;
}

void Pass::list_victim_slots() {
  for (std::uint32_t v : running_.victims)
    for (const Slot& slot : s_.running[v].placement) {
      const std::uint64_t devices = slot.devices & pool_.capacity(slot.node);
      if (devices != 0) victim_slots_.push_back({cls(v), v, slot.node, devices});
    }
  slots_listed_ = true;
}

void Pass::record_preempt_failure(const Job& job, const std::vector<TypeId>& types) {
  for (TypeId t : types)
    if (auto shape = shape_for(job, s_.cluster->max_per_node_of_type[t]))
      preempt_memo_.record(job, t, *shape);
}

std::optional<Choice> Pass::preempt_for(const Job& job, const std::vector<TypeId>& types,
                                        std::int64_t cls) {
  // Release the worst victims first. Try to place the job once enough devices are free, then
  // again each time the released amount has doubled (and at the end): O(log R) placement
  // searches per job instead of one per victim.
  std::vector<std::uint32_t> released, skipped;
  std::optional<Choice> c;
  int released_devices = 0, next_try = job.accel_count;
  while (!c && !heap_.empty() && this->cls(heap_.front()) > cls) {
    const std::uint32_t v = pop_victim();
    const RunningJob& r = s_.running[v];
    if (!job.accepted.contains(r.type)) {
      skipped.push_back(v);
      continue;
    }
    pool_.give(r.placement, *r.job);
    released.push_back(v);
    released_devices += r.job->accel_count;
    const bool last = heap_.empty() || this->cls(heap_.front()) <= cls;
    if ((released_devices >= next_try || last) && pool_.free_of_type(r.type) >= job.accel_count) {
      c = place_now(pool_, job, types, nullptr);
      next_try = std::max(next_try, released_devices) * 2;
    }
  }
  for (std::uint32_t v : skipped) push_victim(v);
  if (!c) {
    for (std::uint32_t v : released) {
      pool_.take(s_.running[v].placement, *s_.running[v].job);
      push_victim(v);
    }
    record_preempt_failure(job, types);
    return std::nullopt;
  }
  // Keep only the victims whose devices the new job really uses.
  for (std::uint32_t v : released) {
    const RunningJob& r = s_.running[v];
    if (overlaps(r.placement, c->placement)) {
      live_[r.type] -= r.job->accel_count;
      d_.preemptions.push_back({r.job->id, job.id});
      preempted_.push_back(v);
      if (is_preempted_.empty()) is_preempted_.resize(s_.running.size(), false);
      is_preempted_[v] = true;
    } else {
      pool_.take(r.placement, *r.job);
      push_victim(v);
    }
  }
  return c;
}

// The LAS scan's shortcut. Within an epoch (see Pass::epoch) a request that had to wait waits
// again, so the scan skips later jobs with that request, and leaves a class as soon as every
// request with jobs left in it is known to wait. Requests are LasIndex::request() ids.
class Skipper {
 public:
  explicit Skipper(std::size_t requests) : waited_(requests, 0), left_(requests, 0) {}
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
  std::size_t open_ = 0;                      // requests with jobs left that may not wait
};

}  // namespace

Decisions PreemptivePolicy::decide(const Snapshot& s, TimeMs now) const {
  if (s.pending.empty()) return {};
  if (mode_ == Mode::kSrtf) return decide_srtf(s, now);
  // The driver's index if it describes this snapshot, else one built from it.
  if (s.las_index && s.las_index->describes(s, now)) return decide_las(s, now, *s.las_index);
  return decide_las(s, now, LasIndex(s.params, s.pending, now));
}

Decisions PreemptivePolicy::decide_las(const Snapshot& s, TimeMs now,
                                       const LasIndex& waiting) const {
  Decisions d;
  const auto th = waiting.threshold_ms();
  const std::int64_t min_cls = waiting.min_class();
  const RunningView running = view_running(s, now, th, min_cls);
  d.wake_at = std::min(waiting.next_change(), running.wake);
  // Nothing free and nobody worth preempting: nothing can change in this pass.
  if (running.max_victim_cls <= min_cls && usable_free_total(s) == 0) return d;

  Pass pass(*this, s, running, d);
  Skipper skip(waiting.request_count());
  std::vector<const PendingJob*> started;
  std::vector<std::size_t> started_of_class(static_cast<std::size_t>(waiting.max_class()) + 2, 0);
  bool stop = false;
  // Classes in order, and FIFO (rank order) inside a class.
  for (int c = LasIndex::kStarving; c <= waiting.max_class() && !stop; ++c) {
    skip.enter(waiting.jobs_per_request(c));
    for (auto r = waiting.first(c); r != LasIndex::kEnd && !skip.all_wait();
         r = waiting.next(c, r + 1)) {
      const std::uint32_t request = waiting.request(r);
      skip.visit(request);
      if (skip.waits(request)) continue;
      const std::size_t epoch = pass.epoch();
      const PendingJob& p = waiting.job(r);
      const auto result = pass.offer(p, c);
      if (result == Pass::Result::kStop) {
        stop = true;
        break;
      }
      if (result == Pass::Result::kStarted) {
        started.push_back(&p);
        ++started_of_class[static_cast<std::size_t>(c + 1)];
      }
      if (pass.epoch() != epoch)
        skip.new_epoch();
      else if (result == Pass::Result::kWaits && pass.remembers_failures())
        skip.waited(request);
    }
  }
  // The best class among the jobs that still wait (rejected ones included).
  std::int64_t min_left = kNoClass;
  for (int c = LasIndex::kStarving; c <= waiting.max_class(); ++c)
    if (waiting.count(c) > started_of_class[static_cast<std::size_t>(c + 1)]) {
      min_left = c;
      break;
    }
  d.wake_at = std::min(d.wake_at, wake_after_pass(s, now, th, min_left, started, pass.preempted(),
                                                  pass.worst_victim_cls(), running.cls));
  return d;
}

Decisions PreemptivePolicy::decide_srtf(const Snapshot& s, TimeMs now) const {
  Decisions d;
  std::vector<std::int64_t> pcls(s.pending.size());
  std::int64_t min_pcls = kNoClass;
  for (std::size_t i = 0; i < s.pending.size(); ++i) {
    pcls[i] = pending_class(s, s.pending[i], now);
    min_pcls = std::min(min_pcls, pcls[i]);
  }
  const RunningView running = view_running(s, now, {}, min_pcls);
  d.wake_at = running.wake;
  // Nothing free and nobody worth preempting: nothing can change in this pass.
  if (running.max_victim_cls <= min_pcls && usable_free_total(s) == 0) return d;

  const auto order = sorted_order(
      pcls, [&](std::uint32_t i) { return pending_key(s, s.pending[i], now); },
      [&](std::uint32_t a, std::uint32_t b) {
        const PendingJob& x = s.pending[a];
        const PendingJob& y = s.pending[b];
        if (x.job->submit != y.job->submit) return x.job->submit < y.job->submit;
        return x.job->id < y.job->id;
      });
  Pass pass(*this, s, running, d);
  std::vector<const PendingJob*> started;
  std::vector<bool> started_now(s.pending.size(), false);
  for (std::uint32_t idx : order) {
    const auto result = pass.offer(s.pending[idx], pcls[idx]);
    if (result == Pass::Result::kStop) break;
    if (result == Pass::Result::kStarted) {
      started.push_back(&s.pending[idx]);
      started_now[idx] = true;
    }
  }
  std::int64_t min_left = kNoClass;
  for (std::size_t i = 0; i < s.pending.size(); ++i)
    if (!started_now[i]) min_left = std::min(min_left, pcls[i]);
  d.wake_at = std::min(d.wake_at, wake_after_pass(s, now, {}, min_left, started, pass.preempted(),
                                                  pass.worst_victim_cls(), running.cls));
  return d;
}

}  // namespace zs
