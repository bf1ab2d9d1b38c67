#include "sched/backfill_policy.h"

#include <algorithm>

#include "sched/holds.h"
#include "sched/pass_memory.h"
#include "sched/placement_search.h"
#include "sched/prefetch.h"
#include "sched/reclaim.h"
#include "sched/share_gate.h"
#include "sched/share_index.h"

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
  r.accel_count = p.job->accel_count;
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
  auto r = earliest_start(s, pool, job, std::span(&fastest, 1), now, started);
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

// One tenant's jobs from a driver's ShareIndex in rank ((submit, id)) order: a merge of some of
// its groups (each from a rank on) and of single jobs.
class TenantStream {
 public:
  struct Source {
    std::uint32_t group;
    std::uint32_t at;                       // its next rank, kEnd when done
    bool single;                            // one job (rank `at`), not a group
    std::uint32_t last = ShareIndex::kEnd;  // single: its rank
  };
  TenantStream(const ShareIndex& index, std::span<const std::uint32_t> groups) : index_(index) {
    for (std::uint32_t g : groups) add_group(g, 0);
  }
  // The same stream for other groups, keeping what it allocated (a pass walks every tenant).
  void reset(std::span<const std::uint32_t> groups) {
    src_.clear();
    parked_.clear();
    woken_.clear();
    cur_ = kNone;
    for (std::uint32_t g : groups) add_group(g, 0);
  }
  void add_group(std::uint32_t g, std::uint32_t from) {
    const std::uint32_t at = index_.first(g, from);
    if (at != ShareIndex::kEnd) src_.push_back({g, at, false});
  }
  void add_single(std::uint32_t rank) { src_.push_back({index_.group_of(rank), rank, true, rank}); }
  bool empty() const { return src_.empty(); }
  // The next rank (kEnd when none is left); source_group() is then its group.
  std::uint32_t next() {
    if (cur_ < src_.size()) advance(src_[cur_]);
    cur_ = src_.size();
    std::uint32_t best = ShareIndex::kEnd;
    for (std::size_t i = 0; i < src_.size(); ++i)
      if (src_[i].at < best) best = src_[i].at, cur_ = i;
    if (cur_ == src_.size()) src_.clear();
    return best;
  }
  std::uint32_t source_group() const { return src_[cur_].group; }
  // Leaves out the rest of the source of the last rank returned.
  void drop_source() {
    src_.erase(src_.begin() + static_cast<std::ptrdiff_t>(cur_));
    cur_ = kNone;  // (not src_.size(): sources added later must not be taken for it)
  }
  // Sets aside the rest of the group of the last rank returned (not a single job's source): its
  // later jobs are not returned until wake_parked(). `held`: each of them would have been told
  // that it is held (wake_parked() and flush_parked() then say so for the ranks skipped).
  void park_source(bool held) {
    if (src_[cur_].single) return;
    parked_.push_back({src_[cur_].group, src_[cur_].at + 1, held});
    drop_source();
  }
  // Brings the parked groups back, from the rank after `last` (the last rank returned) on;
  // `skipped(group, from, to)` for the ranks [from, to) of each held group that were skipped.
  template <class Skipped>
  void wake_parked(std::uint32_t last, Skipped skipped) {
    flush_parked(last + 1, skipped);
    for (const Parked& p : woken_) add_group(p.group, last + 1);
  }
  // The parked groups are done with: `skipped` for the ranks of held ones below `to`.
  template <class Skipped>
  void flush_parked(std::uint32_t to, Skipped skipped) {
    for (const Parked& p : parked_)
      if (p.held && p.from < to) skipped(p.group, p.from, to);
    woken_.swap(parked_);
    parked_.clear();
  }
  // What is left (after the last rank returned), in no particular order.
  const std::vector<Source>& sources() {
    if (cur_ < src_.size()) advance(src_[cur_]);
    cur_ = src_.size();
    std::erase_if(src_, [](const Source& s) { return s.at == ShareIndex::kEnd; });
    return src_;
  }

 private:
  void advance(Source& s) { s.at = s.single ? ShareIndex::kEnd : index_.first(s.group, s.at + 1); }
  const ShareIndex& index_;
  std::vector<Source> src_;
  struct Parked {
    std::uint32_t group, from;
    bool held;
  };
  std::vector<Parked> parked_, woken_;
  static constexpr std::size_t kNone = ~std::size_t{0};
  std::size_t cur_ = kNone;  // the source of the last rank returned
};

}  // namespace

Decisions BackfillPolicy::decide(const Snapshot& s, TimeMs now) const {
  Decisions d = decisions_for(s);
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
  Borrowed<FreePool> pool_memory(lent_pool(s));  // (sched/pass_memory.h)
  FreePool& pool = working_pool(s, pool_memory);
  const std::vector<bool> holder = apply_holds(s, pool, gate, d);
  Borrowed<RequestCache> request_memory(lent_requests(s, mode_ == Mode::kHetero));
  RequestCache& requests = request_cache(s, mode_ == Mode::kHetero, request_memory);
  // With the driver's share index (one priority: the order is by tenant, then submit), groups
  // are classified instead of jobs; otherwise every waiting job is.
  const ShareIndex* index =
      shares && s.share_index && s.pending_in_priority_order && s.share_index->describes(s)
          ? s.share_index
          : nullptr;
  ShareGate::Order order;
  ShareGate::GroupOrder groups;
  if (index)
    groups = gate.group_order(*index, d, pool.free_total() == 0);
  else
    order = gate.order({}, d, pool.free_total() == 0);
  const int min_count = index ? groups.min_count : order.min_count;
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
  // Counts what changes the pool or the tenants' standings (starts, reclaims, guarantees kept
  // for waiting jobs): between two changes an offer's outcome depends only on the job.
  std::uint64_t changes = 0;
  // Set by an offer of a backfill candidate of one type that does not fit even in the whole
  // pool, whatever its run time: no job with the same request fits until the next change.
  bool request_fails = false;
  auto start = [&](const Job& job, Choice c, bool backfilled) {
    ++changes;
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
    ++changes;
    for (std::uint32_t v : plan->victims) reclaimable -= accels(s.running[v]);
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
  auto held_reason = [&] {
    if (!said_held) {
      said_held = true;
      held_for_guarantees = static_cast<std::uint32_t>(d.wait_reasons.size());
      d.wait_reasons.push_back(
          "borrowing: the free devices are kept for jobs within their tenants' guarantees");
    }
    return held_for_guarantees;
  };
  bool said_held_now = false;  // the last offer told its job that it is held
  auto say_held = [&](const Job& job) {
    said_held_now = true;
    d.waits.push_back({job.id, held_reason()});
  };
  enum class Next { kGoOn, kStop };
  // `idx`: the job's index in s.pending (its rank with the share index), for `deferred`;
  // `group`: its ShareIndex group (ShareIndex::kNoGroup without the index).
  auto offer_job = [&](const PendingJob& p, bool is_holder, std::uint32_t idx, std::uint32_t group,
                       bool borrowing) -> Next {
    const Job& job = *p.job;
    // Nothing left to give anyone (a job within guarantee may still reclaim).
    if (pool.free_total() == 0 && (!shares || borrowing || reclaimable <= 0)) return Next::kStop;
    offered = &p;
    if (is_holder) return Next::kGoOn;
    // Once no borrowing job may borrow, nothing changes for the rest of the pass, and most of the
    // queue only waits: a job of one type that borrows there is told so without working out its
    // request (what the full path below concludes for it, in a fraction of the time).
    if (shares && borrowing && !gate.some_may_borrow(pool, min_count) &&
        gate.sole_standing(job) == ShareGate::Standing::kBorrowing) {
      say_held(job);
      return Next::kGoOn;
    }
    const auto& info = group == ShareIndex::kNoGroup ? requests.of(job) : requests.of(job, group);
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
      ++changes;  // the head's reservation
      if (mode_ == Mode::kFifo) return Next::kStop;
      std::optional<Reservation> r;
      if (by_speed) {
        // Reserve on the type where the job would finish first: its start there plus its run
        // time there.
        double best = 0;
        for (TypeId t : *types) {
          auto rt = earliest_start(s, pool, job, std::span(&t, 1), now, started);
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
      auto c = place_now(ends_in_time ? pool : *long_pool, job, std::span(&t, 1),
                         ends_in_time ? &memo : &long_memo);
      if (!c) {
        // The reserved devices are part of the pool: a long job that does not fit beside them
        // may still fit in the pool, and a shorter job of the same request could backfill.
        if (borrowing && types->size() == 1)
          request_fails = ends_in_time || !place_now(pool, job, std::span(&t, 1), &memo);
        continue;
      }
      start(job, std::move(*c), true);
      return Next::kGoOn;
    }
    // Reclaiming from borrowers must not take what the head's reservation counts on.
    if (shares && !borrowing) {
      if (reclaim(job, *types, *long_pool)) return Next::kGoOn;
      gate.needs(job, *types);
      ++changes;
    }
    return Next::kGoOn;
  };

  auto offer = [&](std::uint32_t idx, bool borrowing) {
    return offer_job(s.pending[idx], !holder.empty() && holder[idx], idx, ShareIndex::kNoGroup,
                     borrowing);
  };

  if (index) {
    // The same offers, in the same order, walking each tenant's groups in (submit, id) order
    // (sched/share_index.h). Two shortcuts, each giving what offering the jobs one by one gives:
    // - within guarantee: once a job of a group of one type, whose tenant may borrow without
    //   limit, is deferred (its tenant's guarantee is used up), so is every later job of that
    //   group (what its tenant holds only grows until the deferred jobs are offered);
    // - borrowing: once no job may borrow, nothing changes any more, and each group of one
    //   type that borrows there is told at once that it waits.
    if (groups.any_within) d.wake_at = std::min(d.wake_at, reclaim_next);
    const std::vector<std::uint32_t> holders = holder_ranks(s, holder);
    auto offer_at = [&](std::uint32_t rank, bool borrowing) {
      const bool is_holder = std::binary_search(holders.begin(), holders.end(), rank);
      return offer_job(index->pending(rank), is_holder, rank, index->group_of(rank), borrowing);
    };
    // Whether every job of group g (single type, shape known) is treated alike.
    auto alike = [&](std::uint32_t g) {
      const ShareIndex::Group& grp = index->group(g);
      return !grp.one_by_one && gate.sole_type(*grp.like).has_value();
    };
    using Streams = std::vector<TenantStream>;
    Streams deferred_streams;
    TenantStream within(*index, {});
    for (std::size_t k = 0; k < groups.tenants.size(); ++k) {
      within.reset(groups.within[k]);
      TenantStream later(*index, {});
      for (std::uint32_t r = within.next(); r != ShareIndex::kEnd; r = within.next()) {
        const std::uint32_t g = within.source_group();
        const std::size_t before = deferred.size();
        if (offer_at(r, false) == Next::kStop) return d;
        if (deferred.size() == before) continue;
        deferred.pop_back();
        const Job& like = *index->group(g).like;
        if (alike(g) && gate.unlimited(like, *gate.sole_type(like))) {
          later.add_group(g, r);  // this job and every later one of its group
          within.drop_source();
        } else {
          later.add_single(r);
        }
      }
      if (!later.empty()) deferred_streams.push_back(std::move(later));
    }
    bool still = false;  // no borrowing job may borrow any more: nothing changes
    // Ranks [from, to) of group g wait with `reason`, except the holders among them.
    auto group_wait = [&](std::uint32_t g, std::uint32_t from, std::uint32_t to,
                          std::uint32_t reason) {
      for (auto h = std::lower_bound(holders.begin(), holders.end(), from);
           h != holders.end() && *h < to; ++h)
        if (index->group_of(*h) == g) {
          if (from < *h) d.group_waits.push_back({g, from, *h, reason});
          from = *h + 1;
        }
      if (from < to) d.group_waits.push_back({g, from, to, reason});
    };
    // Groups told they are held by a group wait in this pass: a group waits for one reason per
    // pass (Decisions::group_waits), so one now over its limit is then told job by job.
    std::vector<std::uint32_t> held_groups;
    auto held_skipped = [&](std::uint32_t g, std::uint32_t from, std::uint32_t to) {
      group_wait(g, from, to, held_reason());
      held_groups.push_back(g);
    };
    auto offer_borrowing = [&](TenantStream& stream) {
      std::uint32_t last = 0;  // the last rank offered
      for (;;) {
        if (!still) {
          if (pool.free_total() == 0) {
            stream.flush_parked(last + 1, held_skipped);
            return Next::kStop;
          }
          still = !gate.some_may_borrow(pool, min_count);
        }
        if (still) {
          stream.wake_parked(last, held_skipped);  // (none: only a change makes it still)
          break;
        }
        const std::uint32_t r = stream.next();
        if (r == ShareIndex::kEnd) {
          stream.flush_parked(ShareIndex::kEnd, held_skipped);
          return Next::kGoOn;
        }
        last = r;
        const std::uint64_t before = changes;
        request_fails = said_held_now = false;
        if (offer_at(r, true) == Next::kStop) {
          stream.flush_parked(r, held_skipped);
          return Next::kStop;
        }
        // Until something changes, the later jobs of the group of a job that was held, or of
        // one type that fits nowhere, would each be offered for the same answer: the group is
        // set aside until then (and told it is held for the jobs skipped meanwhile).
        if (changes != before)
          stream.wake_parked(r, held_skipped);
        else if ((request_fails || said_held_now) && alike(stream.source_group()))
          stream.park_source(said_held_now);
      }
      // Still: whole groups that borrow on their one type wait, and so do those now over their
      // limit there (with the same text for each job: the group's request and its tenant's
      // holdings are the same for all); other jobs one by one.
      for (const auto& src : stream.sources()) {
        const ShareIndex::Group& grp = index->group(src.group);
        auto sole = src.single || !alike(src.group) ? std::nullopt : gate.sole_standing(*grp.like);
        if (sole == ShareGate::Standing::kOver &&
            std::find(held_groups.begin(), held_groups.end(), src.group) != held_groups.end())
          sole.reset();
        if (sole != ShareGate::Standing::kBorrowing && sole != ShareGate::Standing::kOver) {
          for (std::uint32_t r = src.at; r != ShareIndex::kEnd && r <= src.last;
               r = src.single ? ShareIndex::kEnd : index->first(src.group, r + 1))
            if (offer_at(r, true) == Next::kStop) return Next::kStop;
          continue;
        }
        std::uint32_t reason;
        if (sole == ShareGate::Standing::kBorrowing) {
          reason = held_reason();
        } else {
          const Job& job = index->job(src.at);
          reason = static_cast<std::uint32_t>(d.wait_reasons.size());
          d.wait_reasons.push_back(gate.over_reason(job, requests.of(job).fit_types));
        }
        group_wait(src.group, src.at, ShareIndex::kEnd, reason);
      }
      return Next::kGoOn;
    };
    for (TenantStream& stream : deferred_streams)
      if (offer_borrowing(stream) == Next::kStop) return d;
    TenantStream borrowing(*index, {});
    for (std::size_t k = 0; k < groups.tenants.size(); ++k) {
      borrowing.reset(groups.borrowing[k]);
      if (offer_borrowing(borrowing) == Next::kStop) return d;
    }
    return d;
  }

  // A job within guarantee that waits may reclaim from a borrowing job once that one has run
  // its minimum: a pass is due then.
  if (!order.within.empty()) d.wake_at = std::min(d.wake_at, reclaim_next);
  for (std::size_t k = 0; k < order.within.size(); ++k) {
    if (k + kPrefetchAhead < order.within.size())
      prefetch_job(s.pending[order.within[k + kPrefetchAhead]].job);
    if (offer(order.within[k], false) == Next::kStop) return d;
  }
  for (std::uint32_t idx : deferred)
    if (offer(idx, true) == Next::kStop) return d;
  for (std::uint32_t idx : order.borrowing())
    if (offer(idx, true) == Next::kStop) return d;
  return d;
}

}  // namespace zs
