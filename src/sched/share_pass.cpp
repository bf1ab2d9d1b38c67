#include "sched/share_pass.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

#include "sched/holds.h"
#include "sched/keyed_index.h"
#include "sched/las_index.h"
#include "sched/pass_memory.h"
#include "sched/placement_search.h"
#include "sched/prefetch.h"
#include "sched/reclaim.h"
#include "sched/share_gate.h"
#include "sched/share_index.h"

namespace zs {

namespace {

using RankFn = std::function<std::int64_t(const PendingJob&)>;
using Keyed = std::pair<std::int64_t, std::uint32_t>;  // (the policy's rank, the job's rank)

// A tenant's waiting jobs of some share groups in (policy's rank, job rank) order, as the pass
// takes them. With a driver's index that files the jobs by share group in that order - the
// keyed index (srtf, spf, gittins: the rank is the job's key) or the LAS index (las: the rank is
// the class) - the queue merges the groups: a pass pays for the jobs it takes, not for every
// waiting job of the tenant. Without one, every job is ranked and heaped.
class KeyedQueue {
 public:
  KeyedQueue(const ShareIndex& index, const KeyedIndex* keys, const LasIndex* classes,
             const RankFn& rank)
      : index_(&index), keys_(keys), classes_(keys ? nullptr : classes), rank_(&rank) {}

  // The jobs of these groups.
  void assign(std::span<const std::uint32_t> groups) {
    heap_.clear();
    merge_.clear();
    add(groups, std::nullopt);
  }
  // The jobs of these groups that come after `last`.
  void add_after(std::span<const std::uint32_t> groups, Keyed last) { add(groups, last); }
  bool empty() const { return merging() ? merge_.empty() : heap_.empty(); }
  Keyed pop() {
    if (!merging()) {
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<>{});
      const Keyed k = heap_.back();
      heap_.pop_back();
      return k;
    }
    std::pop_heap(merge_.begin(), merge_.end(), later);
    Cursor& c = merge_.back();
    const Keyed k = c.head;
    if (advance(c))
      std::push_heap(merge_.begin(), merge_.end(), later);
    else
      merge_.pop_back();
    return k;
  }

 private:
  // A group's next job (head) and, with the keyed index, the ones after it.
  struct Cursor {
    Keyed head;
    std::uint32_t group;
    KeyedIndex::const_iterator next, end;
  };
  static bool later(const Cursor& a, const Cursor& b) { return a.head > b.head; }
  bool merging() const { return keys_ || classes_; }

  // The group's first job of class >= cls with rank >= from, into c.head; false if none.
  bool seek_class(Cursor& c, std::int64_t cls, std::uint32_t from) const {
    const std::uint32_t part = LasIndex::part_of_group(c.group);
    for (int k = static_cast<int>(cls); k <= classes_->max_class(); ++k, from = 0)
      if (const std::uint32_t r = classes_->next_in(part, k, from); r != LasIndex::kEnd) {
        c.head = {k, r};
        return true;
      }
    return false;
  }
  // Moves the cursor to the group's next job; false if there is none.
  bool advance(Cursor& c) const {
    if (classes_) return seek_class(c, c.head.first, c.head.second + 1);
    if (c.next == c.end) return false;
    c.head = {c.next->key, c.next->rank};
    ++c.next;
    return true;
  }

  void add(std::span<const std::uint32_t> groups, std::optional<Keyed> after) {
    if (merging()) {
      for (std::uint32_t g : groups) {
        Cursor c{{}, g, {}, {}};
        if (classes_) {
          if (!(after ? seek_class(c, after->first, after->second + 1) : seek_class(c, 0, 0)))
            continue;
        } else {
          const auto& jobs = keys_->part(g);
          c.next = after ? jobs.upper_bound({after->first, after->second}) : jobs.begin();
          c.end = jobs.end();
          if (!advance(c)) continue;
        }
        merge_.push_back(c);
        std::push_heap(merge_.begin(), merge_.end(), later);
      }
      return;
    }
    const std::size_t from = heap_.size();
    for (std::uint32_t g : groups)
      for (std::uint32_t r = index_->first(g, 0); r != ShareIndex::kEnd;
           r = index_->first(g, r + 1))
        heap_.emplace_back(0, r);
    // Ranking reads each job's record (sched/prefetch.h).
    for (std::size_t k = from; k < heap_.size(); ++k) {
      if (k + kPrefetchAhead < heap_.size())
        prefetch_job(index_->pending(heap_[k + kPrefetchAhead].second).job);
      heap_[k].first = (*rank_)(index_->pending(heap_[k].second));
    }
    if (after)
      heap_.erase(std::remove_if(heap_.begin() + static_cast<std::ptrdiff_t>(from), heap_.end(),
                                 [&](const Keyed& k) { return !(*after < k); }),
                  heap_.end());
    std::make_heap(heap_.begin(), heap_.end(), std::greater<>{});
  }

  const ShareIndex* index_;
  const KeyedIndex* keys_;
  const LasIndex* classes_;
  const RankFn* rank_;
  std::vector<Keyed> heap_;    // without an index: a min-heap
  std::vector<Cursor> merge_;  // with one: a min-heap by head
};

}  // namespace

Decisions greedy_pass_with_shares(const Snapshot& s, TimeMs now, const RankFn& rank,
                                  const KeyedIndex* keys, const LasIndex* classes) {
  Decisions d = decisions_for(s);
  if (s.pending.empty()) return d;
  ShareGate gate(s);
  const ShareGate::PassStart start = gate.pass_start(now, d);
  if (!start.can_start) return d;
  long reclaimable = start.reclaimable;
  Borrowed<FreePool> pool_memory(lent_pool(s));  // (sched/pass_memory.h)
  FreePool& pool = working_pool(s, pool_memory);
  const std::vector<bool> holder = apply_holds(s, pool, gate, d);
  // With the driver's share index (one priority), groups are classified instead of jobs, and
  // only the jobs of the groups the pass gets to are ranked (as in backfill_policy.cpp).
  const ShareIndex* index =
      s.share_index && s.pending_in_priority_order && s.share_index->describes(s) ? s.share_index
                                                                                  : nullptr;
  ShareGate::Order order;
  ShareGate::GroupOrder groups;
  if (index) {
    groups = gate.group_order(*index, d, pool.free_total() == 0);
  } else {
    std::vector<std::int64_t> ranks(s.pending.size());
    for (std::size_t i = 0; i < s.pending.size(); ++i) ranks[i] = rank(s.pending[i]);
    order = gate.order(ranks, d, pool.free_total() == 0);
  }
  const int min_count = index ? groups.min_count : order.min_count;
  if (index ? groups.any_within : !order.within.empty())
    d.wake_at = std::min(d.wake_at, start.next_of_age);
  Borrowed<RequestCache> request_memory(lent_requests(s, false));
  RequestCache& requests = request_cache(s, false, request_memory);
  FailMemo memo;
  std::optional<Reclaimer> reclaimer;
  std::vector<TypeId> allowed;
  std::vector<std::uint32_t> deferred;
  using St = ShareGate::Standing;
  std::size_t carried_out = 0;  // reclaims: devices come back, standings improve

  // False when nothing more can start in this pass. `idx`: the job's index in s.pending (its
  // rank with the share index), for `deferred`.
  // `group`: its ShareIndex group (ShareIndex::kNoGroup without the index).
  auto offer_job = [&](const Job& job, bool is_holder, std::uint32_t idx, std::uint32_t group,
                       bool borrowing) {
    if (pool.free_total() == 0 && (borrowing || reclaimable <= 0)) return false;
    if (is_holder) return true;
    const auto& info = group == ShareIndex::kNoGroup ? requests.of(job) : requests.of(job, group);
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
    ++carried_out;
    auto carried = reclaimer->carry_out(std::move(*plan), job, pool, gate, d);
    if (carried.start) {
      memo.clear();  // the victims' devices came back
      pool.take(carried.start->placement, job);
      gate.started(job, carried.start->type);
      d.starts.push_back({job.id, carried.start->type, std::move(carried.start->placement), false});
    }
    return true;
  };
  auto offer = [&](std::uint32_t idx, bool borrowing) {
    return offer_job(*s.pending[idx].job, !holder.empty() && holder[idx], idx, ShareIndex::kNoGroup,
                     borrowing);
  };
  if (index) {
    const std::vector<std::uint32_t> holders = holder_ranks(s, holder);
    auto offer_at = [&](std::uint32_t r, bool borrowing) {
      const bool is_holder = std::binary_search(holders.begin(), holders.end(), r);
      return offer_job(index->job(r), is_holder, r, index->group_of(r), borrowing);
    };
    // The driver's keyed or LAS index if it files the jobs by these share groups.
    const KeyedIndex* keys_by_group = keys && keys->describes_groups(*index) ? keys : nullptr;
    const LasIndex* classes_by_group =
        classes && classes->describes_groups(*index) ? classes : nullptr;
    // Within guarantee: each tenant's jobs come off a heap in order. Once a job of a group of one
    // type, whose tenant may borrow without limit, is deferred (the tenant's guarantee is used
    // up), so is every later job of the group (what the tenant holds only grows until then):
    // they are deferred without being offered, and once every group of the tenant is, the rest
    // of its jobs are put in order only if the deferred jobs are offered at all.
    struct Deferred {
      std::vector<std::uint32_t> in_order;  // ranks, in order
      KeyedQueue rest;                      // after those
    };
    std::vector<Deferred> later;
    KeyedQueue heap(*index, keys_by_group, classes_by_group, rank);
    std::vector<bool> group_deferred;
    for (std::size_t k = 0; k < groups.within.size(); ++k) {
      const std::span<const std::uint32_t> within = groups.within[k];
      heap.assign(within);
      group_deferred.assign(within.size(), false);
      std::size_t open = within.size();  // groups not known to be deferred
      Deferred def{{}, KeyedQueue(*index, keys_by_group, classes_by_group, rank)};
      auto at_group = [&](std::uint32_t r) {
        return static_cast<std::size_t>(
            std::find(within.begin(), within.end(), index->group_of(r)) - within.begin());
      };
      while (!heap.empty() && open > 0) {
        const std::uint32_t r = heap.pop().second;
        const std::size_t k = at_group(r);
        if (group_deferred[k]) {
          def.in_order.push_back(r);
          continue;
        }
        const std::size_t before = deferred.size();
        if (!offer_at(r, false)) return d;
        if (deferred.size() == before) continue;
        deferred.pop_back();
        def.in_order.push_back(r);
        const ShareIndex::Group& grp = index->group(within[k]);
        const auto type = gate.sole_type(*grp.like);
        if (!grp.one_by_one && type && gate.unlimited(*grp.like, *type)) {
          group_deferred[k] = true;
          --open;
        }
      }
      std::swap(def.rest, heap);
      if (!def.in_order.empty() || !def.rest.empty()) later.push_back(std::move(def));
    }
    // Borrowing: a job that does not start leaves no trace, and until a reclaim gives devices
    // back what may start only shrinks (starts take devices and raise their tenant's holdings;
    // jobs within guarantee that wait keep more back). A group of one type whose tenant is over
    // its limit there, or may not borrow its jobs' devices, thus cannot start a job in the rest
    // of the pass: its jobs are neither ranked nor offered - unless a reclaim comes first (they
    // then join the heap behind the last job offered).
    auto hopeless = [&](std::uint32_t g) {
      const ShareIndex::Group& grp = index->group(g);
      if (grp.one_by_one) return false;
      const auto type = gate.sole_type(*grp.like);
      if (!type) return false;
      const St st = gate.standing(*grp.like, *type);
      return st == St::kOver ||
             (st == St::kBorrowing && !gate.may_borrow(pool, *type, grp.like->accel_count));
    };
    std::vector<std::uint32_t> set_aside;
    // The rest of a heap in order, as far as the pass goes (it stops once none may borrow).
    auto offer_heap = [&](KeyedQueue& h) {
      while (!h.empty()) {
        if (!gate.some_may_borrow(pool, min_count)) return false;
        const Keyed last = h.pop();
        const std::size_t reclaims = carried_out;
        if (!offer_at(last.second, true)) return false;
        if (carried_out != reclaims && !set_aside.empty()) {
          h.add_after(set_aside, last);
          set_aside.clear();
        }
      }
      return true;
    };
    for (Deferred& def : later) {
      for (std::uint32_t r : def.in_order)
        if (!gate.some_may_borrow(pool, min_count) || !offer_at(r, true)) return d;
      if (!offer_heap(def.rest)) return d;
    }
    std::vector<std::uint32_t> hopeful;
    for (std::size_t k = 0; k < groups.borrowing.size(); ++k) {
      const std::span<const std::uint32_t> borrowing = groups.borrowing[k];
      if (!gate.some_may_borrow(pool, min_count)) return d;
      hopeful.clear();
      set_aside.clear();
      for (std::uint32_t g : borrowing) (hopeless(g) ? set_aside : hopeful).push_back(g);
      heap.assign(hopeful);
      if (!offer_heap(heap)) return d;
    }
    return d;
  }
  for (std::uint32_t idx : order.within)
    if (!offer(idx, false)) return d;
  // A borrowing job that may not borrow is passed over without a word: once none may, the rest
  // of the queue need not be looked at (in a replay that is most of it, on most passes).
  for (std::uint32_t idx : deferred)
    if (!gate.some_may_borrow(pool, min_count) || !offer(idx, true)) return d;
  if (!gate.some_may_borrow(pool, min_count)) return d;  // before sorting them
  for (std::uint32_t idx : order.borrowing())
    if (!gate.some_may_borrow(pool, min_count) || !offer(idx, true)) return d;
  return d;
}

}  // namespace zs
