#include "sim/simulator.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <optional>
#include <queue>
#include <stdexcept>
#include <unordered_map>

#include "core/fair_share.h"
#include "core/runtime_predictor.h"
#include "sched/decision_check.h"
#include "sched/free_pool.h"
#include "sched/gittins_running.h"
#include "sched/keyed_index.h"
#include "sched/las_index.h"
#include "sched/las_running.h"
#include "sched/pass_memory.h"
#include "sched/shape.h"
#include "sched/share_index.h"
#include "sim/forecast.h"
#include "sim/pending_list.h"
#include "sim/running_accrual.h"

namespace zs {

namespace {

// kStopping: reclaimed, in its grace period; it holds its devices until it stops.
enum class State : std::uint8_t { kFuture, kPending, kRunning, kStopping, kDone, kRejected };

struct SimJob {
  const Job* job = nullptr;
  State state = State::kFuture;
  double remaining = 1.0;  // fraction of the work still to do
  TimeMs attained = 0;     // accelerator-ms before the current run
  TimeMs waiting_since = 0;
  TimeMs last_run = 0;
  // current run (its placement is in the running vector, at running_slot)
  TypeId type = 0;
  TimeMs start = 0, end = 0, overhead = 0, limit = kNever;
  double full_run_ms = 0;  // whole job's run time on the current type
  std::uint32_t epoch = 0;
  std::uint32_t running_slot = 0;  // index in the running vector
  Placement stopping;              // kStopping: the devices it still holds
  std::int32_t wait_reason = -1;   // last reason it waited for (tenants' shares), -1: none
  TimeMs predicted = 0;            // run time predicted at its submit, from jobs ended before
  // gittins: its group's learned service distribution, chosen when it last joined the queue
  const ServiceDistribution::Ranks* service_ranks = nullptr;
  std::uint32_t wait_pass = 0;    // the pass that gave it (group waits: see Stamp)
  std::uint32_t joined_pass = 0;  // the first pass that saw it waiting, this time
  TimeMs forecast = -2;           // SimOptions::forecasts: its estimate at submit (-1: none)
};

struct Finish {
  TimeMs at;
  JobId id;
  std::uint32_t index;
  std::uint32_t epoch;
  bool operator>(const Finish& o) const { return at != o.at ? at > o.at : id > o.id; }
};

class Simulation final : private PendingListener {
 public:
  Simulation(const Cluster& c, const Catalog& cat, const ThroughputTable* speeds,
             std::span<const Job> jobs, const Policy& policy, const SimOptions& opt,
             const SimSeed* seed = nullptr)
      : seed_(seed),
        cluster_(c),
        catalog_(cat),
        speeds_(speeds),
        policy_(policy),
        opt_(opt),
        base_(jobs.data()),
        // Under tenants' shares a policy orders the queue by share standing and does not read
        // the index: keeping one would only cost its upkeep, and leave pending_ unsorted (the
        // share order then sorted it on every pass).
        // Under shares the LAS and keyed indexes follow the list the policy sees, filed by
        // share group (joined(), left()), and that list stays sorted (the share order reads it).
        las_index_(policy.uses_las_index() ? std::optional<LasIndex>(opt.sched) : std::nullopt),
        // (a pass under shares does not rank running jobs by queue)
        las_running_(policy.uses_las_index() && !opt.shares ? std::optional<LasRunning>(opt.sched)
                                                            : std::nullopt),
        gittins_running_(policy.keyed_by() == WaitKey::kGittins && !opt.shares
                             ? std::optional<GittinsRunning>(opt.sched)
                             : std::nullopt),
        keyed_index_(policy.keyed_by()
                         ? std::optional<KeyedIndex>(std::in_place, *policy.keyed_by(), opt.sched)
                         : std::nullopt),
        pending_(!las_index_ || opt.shares, jobs.size()),
        // ... but such a policy saw every change to an unsorted list at once, where a sorted
        // one shows a job that rejoins between passes (end of a grace period) only after the
        // next pass: settling after each instant's events keeps what it sees the same.
        settle_events_(policy.uses_las_index() && opt.shares),
        fair_(opt.shares ? opt.shares->half_life_ms : 1),
        accrual_(opt.shares ? opt.shares->half_life_ms : 0) {
    snap_.params = opt.sched;  // the rest of snap_ is set on every pass (snapshot_at())
    order_.resize(jobs.size());
    if (opt.shares) {
      own_.assign(jobs.begin(), jobs.end());
      base_ = own_.data();
      for (std::size_t i = 0; i < jobs.size(); ++i) order_[i] = &own_[i];
    } else {
      for (std::size_t i = 0; i < jobs.size(); ++i) order_[i] = &jobs[i];
    }
    std::sort(order_.begin(), order_.end(), [](const Job* a, const Job* b) {
      return a->submit != b->submit ? a->submit < b->submit : a->id < b->id;
    });
    if (opt.shares) {
      // The scheduler finds a job's tenant by index: give every job one (on the copy). Tenants
      // are numbered in (submit, id) order, not input order: the index breaks fair-share ties,
      // and the same jobs given in another order must be scheduled the same.
      std::unordered_map<std::string, std::int32_t> index;
      for (std::size_t i = 0; i < order_.size(); ++i) {
        Job& j = own_[static_cast<std::size_t>(order_[i] - own_.data())];
        auto [it, added] = index.emplace(j.tenant, static_cast<std::int32_t>(tenants_.size()));
        if (added) tenants_.push_back({&opt.shares->share_of(j.tenant), 0.0, 0});
        j.tenant_index = it->second;
      }
    }
    if (opt.shares) {
      share_index_.emplace();
      pending_.listen(this);
    }
    sim_.resize(order_.size());
    index_.reserve(order_.size());
    for (std::uint32_t i = 0; i < order_.size(); ++i) {
      sim_[i].job = order_[i];
      if (!index_.emplace(order_[i]->id, i).second)
        throw std::invalid_argument("duplicate job id " + std::to_string(order_[i]->id));
    }
    // Ids of a trace are mostly dense: then a job is found by id without hashing (a pass under
    // shares says why it waits for each of ~1,000 jobs).
    if (!order_.empty()) {
      const auto [lo, hi] = std::minmax_element(
          order_.begin(), order_.end(), [](const Job* a, const Job* b) { return a->id < b->id; });
      const auto span =
          static_cast<std::uint64_t>((*hi)->id) - static_cast<std::uint64_t>((*lo)->id);
      if (span < 4 * order_.size() + 1024) {
        dense_base_ = (*lo)->id;
        dense_.assign(span + 1, kNoIndex);
        for (std::uint32_t i = 0; i < order_.size(); ++i)
          dense_[static_cast<std::size_t>(order_[i]->id - dense_base_)] = i;
      }
    }
    nodes_.resize(c.nodes.size());
    if (opt.pass_tick_ms > 0) node_freed_at_.assign(c.nodes.size(), -kNever);
    for (std::size_t n = 0; n < c.nodes.size(); ++n) {
      const Node& node = c.nodes[n];
      nodes_[n].free = node.accel_count >= 64 ? ~0ull : ((1ull << node.accel_count) - 1);
      nodes_[n].free_cpu = node.cpu_cores;
      nodes_[n].free_mem_gib = node.memory_gib;
      free_devices_ += node.accel_count;
      free_on_empty_ += node.accel_count;
    }
    result_.policy = std::string(policy.name());
    result_.total_accels = c.total_accels();
    result_.jobs.resize(jobs.size());
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      auto& o = result_.jobs[i];
      o.id = jobs[i].id;
      o.tenant = jobs[i].tenant;
      o.user = jobs[i].user;
      o.partition = jobs[i].partition;
      o.submit = jobs[i].submit;
      o.accel_count = jobs[i].accel_count;
    }
  }

  SimResult run() {
    if (order_.empty()) return std::move(result_);
    result_.first_submit = order_.front()->submit;
    last_time_ = result_.first_submit;
    result_.last_end = result_.first_submit;
    std::size_t next_arrival = 0;
    TimeMs wake = kNever;
    std::size_t finished = 0, reported = 0;
    if (seed_) {
      // Everything has arrived; the first pass is at seed_->now.
      seed_state();
      next_arrival = order_.size();
      wake = seed_->now;
      last_time_ = seed_->now;
    }
    while (true) {
      if (seed_ && waiting_left_ == 0) break;
      TimeMs t = kNever;
      if (next_arrival < order_.size()) t = order_[next_arrival]->submit;
      if (!finishes_.empty()) t = std::min(t, finishes_.top().at);
      if (wake < kNever && (!pending_.empty())) t = std::min(t, wake);
      if (pass_due_ < kNever) t = std::min(t, pass_due_);
      if (t == kNever || (seed_ && t > seed_->horizon)) break;
      advance_to(t);
      bool changed = false;
      while (!finishes_.empty() && finishes_.top().at == t) {
        Finish f = finishes_.top();
        finishes_.pop();
        if (sim_[f.index].epoch != f.epoch) continue;
        if (sim_[f.index].state == State::kStopping) {
          stopped(f.index, t);
          changed = true;
          continue;
        }
        if (sim_[f.index].state != State::kRunning) continue;
        finish(f.index, t);
        ++finished;
        changed = true;
      }
      const std::size_t arrived_from = next_arrival;
      while (next_arrival < order_.size() && order_[next_arrival]->submit == t) {
        arrive(static_cast<std::uint32_t>(next_arrival++), t);
        changed = true;
      }
      if (settle_events_) pending_.settle();
      if (opt_.pass_tick_ms > 0) {
        // Changes wait for the next tick's pass.
        if (changed) {
          first_change_ = std::min(first_change_, t);
          pass_due_ = std::min(pass_due_, on_tick(t));
        }
        changed = pass_due_ <= t;
      }
      if (!changed && t < wake) continue;
      if (pending_.empty()) {
        wake = kNever;
        pass_due_ = first_change_ = kNever;
        continue;
      }
      wake = schedule(t);
      pass_due_ = first_change_ = kNever;
      if (opt_.forecasts > 0) forecast_arrivals(arrived_from, next_arrival, t);
      if (opt_.progress && finished - reported > order_.size() / 200) {
        reported = finished;
        opt_.progress(static_cast<double>(finished) / static_cast<double>(order_.size()));
      }
    }
    // Anything still waiting could not be placed even on an idle cluster (a forecast stopped
    // at its horizon or its last start: they have no start, and that is all it says).
    for (const PendingJob& p : seed_ ? std::span<const PendingJob>() : pending_.jobs()) {
      auto& o = out(p.job);
      o.rejected = true;
      const std::int32_t why = last_wait_reason(index_.at(p.job->id));
      o.reject_reason = why >= 0 ? "never started: " + wait_texts_[static_cast<std::size_t>(why)]
                                 : "could not be placed even when the cluster was idle";
      sim_[index_.at(p.job->id)].state = State::kRejected;
    }
    if (opt_.progress) opt_.progress(1.0);
    result_.clairvoyant =
        policy_.needs_oracle() || (policy_.reads_walltimes() && opt_.walltimes_reveal_durations);
    result_.predictions = prediction_errors_.count();
    result_.prediction_mae_s = prediction_errors_.mean_absolute_s();
    result_.prediction_median_rel = prediction_errors_.median_relative();
    result_.prediction_under_share = prediction_errors_.under_share();
    if (opt_.forecasts > 0) summarize_forecasts();
    return std::move(result_);
  }

 private:
  // A job appears in / leaves the pending list the policy sees (the share index follows it).
  void joined(std::uint32_t rank, const PendingJob& p) override {
    share_index_->insert(rank, p);
    const std::uint32_t g = share_index_->group_of(rank);
    if (las_index_) las_index_->insert(rank, p, LasIndex::part_of_group(g));
    if (keyed_index_) keyed_index_->insert(rank, p, g);
    sim_[rank].joined_pass = static_cast<std::uint32_t>(result_.passes + 1);
  }
  void left(std::uint32_t rank) override {
    const std::uint32_t g = share_index_->group_of(rank);
    if (g < stamps_.size()) settle_stamp(rank, stamps_[g]);
    share_index_->erase(rank);
    if (las_index_) las_index_->erase(rank);
    if (keyed_index_) keyed_index_->erase(rank);
  }

  // Group waits (Decisions::group_waits): the last one given to each group stands for all the
  // jobs it covered, until a later one for the group (or the job's leaving) writes it down for
  // those the later one does not cover. A job's last reason is the later of its own and that.
  struct Stamp {
    std::uint32_t pass = 0;
    std::int32_t reason = -1;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;  // [from, to) of ranks
    bool covers(std::uint32_t rank) const {
      for (const auto& [from, to] : ranges)
        if (rank >= from && rank < to) return true;
      return false;
    }
  };
  // Writes stamp `st`'s reason down for job `rank` if the stamp covers it and is newer.
  void settle_stamp(std::uint32_t rank, const Stamp& st) {
    SimJob& j = sim_[rank];
    if (st.reason < 0 || st.pass <= j.wait_pass || j.joined_pass > st.pass || !st.covers(rank))
      return;
    j.wait_reason = st.reason;
    j.wait_pass = st.pass;
  }
  std::int32_t last_wait_reason(std::uint32_t rank) const {
    const SimJob& j = sim_[rank];
    if (share_index_) {
      const std::uint32_t g = share_index_->group_of(rank);
      if (g < stamps_.size()) {
        const Stamp& st = stamps_[g];
        if (st.reason >= 0 && st.pass > j.wait_pass && j.joined_pass <= st.pass && st.covers(rank))
          return st.reason;
      }
    }
    return j.wait_reason;
  }
  // This pass's group waits (ids: interned reasons), grouped by group.
  void apply_group_waits(const Decisions& d, const std::vector<std::int32_t>& ids) {
    const auto pass = static_cast<std::uint32_t>(result_.passes);
    std::vector<GroupWait>& gw = group_waits_;  // (storage kept from pass to pass)
    gw.assign(d.group_waits.begin(), d.group_waits.end());
    std::sort(gw.begin(), gw.end(), [](const GroupWait& a, const GroupWait& b) {
      return a.group != b.group ? a.group < b.group : a.from < b.from;
    });
    for (std::size_t k = 0; k < gw.size();) {
      const std::uint32_t g = gw[k].group;
      if (g >= share_index_->group_count()) throw std::logic_error("group wait: no such group");
      if (stamps_.size() <= g) stamps_.resize(share_index_->group_count());
      Stamp& next = next_stamp_;  // (its ranges' storage is kept from pass to pass)
      next.ranges.clear();
      next.pass = pass;
      next.reason = gw[k].reason < ids.size() ? ids[gw[k].reason] : -1;
      for (; k < gw.size() && gw[k].group == g; ++k) {
        if (gw[k].reason < ids.size() && ids[gw[k].reason] != next.reason)
          throw std::logic_error("group wait: one group, two reasons in a pass");
        next.ranges.emplace_back(gw[k].from, gw[k].to);
      }
      Stamp& old = stamps_[g];
      if (old.reason >= 0 && old.ranges != next.ranges) {
        // Jobs the old stamp covered and the new one does not keep the old reason: those in the
        // old ranges less the new ones (both sorted, disjoint).
        std::size_t n = 0;
        for (auto [from, to] : old.ranges) {
          while (from < to) {
            while (n < next.ranges.size() && next.ranges[n].second <= from) ++n;
            const std::uint32_t upto =
                n < next.ranges.size() ? std::min(to, next.ranges[n].first) : to;
            for (std::uint32_t r = share_index_->first(g, from); r != ShareIndex::kEnd && r < upto;
                 r = share_index_->first(g, r + 1))
              settle_stamp(r, old);
            if (n == next.ranges.size() || upto == to) break;
            from = next.ranges[n].second;  // skip what the new stamp covers
          }
        }
      }
      old.pass = next.pass;
      old.reason = next.reason;
      old.ranges.assign(next.ranges.begin(), next.ranges.end());
    }
  }
  Stamp next_stamp_;
  std::vector<GroupWait> group_waits_;

  // The job's index in sim_, kNoIndex if there is no such job.
  std::uint32_t find_index(JobId id) const {
    if (!dense_.empty()) {
      const auto k = static_cast<std::uint64_t>(id) - static_cast<std::uint64_t>(dense_base_);
      return k < dense_.size() ? dense_[k] : kNoIndex;
    }
    auto it = index_.find(id);
    return it == index_.end() ? kNoIndex : it->second;
  }
  // The index in sim_ of a job known to exist.
  std::uint32_t index_at(JobId id) const {
    const std::uint32_t i = find_index(id);
    if (i == kNoIndex) throw std::out_of_range("unknown job id " + std::to_string(id));
    return i;
  }

  // Outcomes are in input order; a job's outcome is found from its address in the input.
  JobOutcome& out(const Job* j) { return result_.jobs[static_cast<std::size_t>(j - base_)]; }

  // Integrates utilization and fragmentation up to time t.
  void advance_to(TimeMs t) {
    const double dt = static_cast<double>(t - last_time_);
    if (dt > 0) {
      const int busy = result_.total_accels - free_devices_;
      result_.busy_accel_ms += dt * busy;
      if (free_devices_ > 0)
        result_.fragmentation_ms +=
            dt * (1.0 - static_cast<double>(free_on_empty_) / free_devices_);
    }
    last_time_ = t;
  }

  void set_free(NodeId n, std::uint64_t mask) {
    const Node& node = cluster_.nodes[n];
    const std::uint64_t all = node.accel_count >= 64 ? ~0ull : ((1ull << node.accel_count) - 1);
    const int before = device_count(nodes_[n].free), after = device_count(mask);
    free_devices_ += after - before;
    free_on_empty_ -= nodes_[n].free == all ? before : 0;
    free_on_empty_ += mask == all ? after : 0;
    nodes_[n].free = mask;
    node_changed(n);
  }

  // Snapshot::free_pool: nodes whose state changed since the last pass.
  void node_changed(NodeId n) {
    if (node_changed_.empty()) node_changed_.assign(nodes_.size(), false);
    if (!node_changed_[n]) {
      node_changed_[n] = true;
      changed_nodes_.push_back(n);
    }
  }

  void arrive(std::uint32_t i, TimeMs t) {
    SimJob& s = sim_[i];
    if (auto why = never_fits(*s.job, cluster_, catalog_)) {
      s.state = State::kRejected;
      auto& o = out(s.job);
      o.rejected = true;
      o.reject_reason = *why;
      return;
    }
    s.state = State::kPending;
    s.waiting_since = t;
    s.predicted = predictor_.predict(*s.job).ms;
    add_pending(i);
  }

  PendingJob pending_entry(std::uint32_t i) const {
    const SimJob& s = sim_[i];
    PendingJob p;
    p.job = s.job;
    p.attained_accel_ms = s.attained;
    p.waiting_since = s.waiting_since;
    p.last_run_ms = s.last_run;
    p.predicted_ms = s.predicted;
    p.service_ranks = s.service_ranks;
    if (policy_.needs_oracle()) {
      const double dur = static_cast<double>(s.job->duration);
      p.remaining_ms = static_cast<TimeMs>(std::ceil(s.remaining * dur));
    }
    return p;
  }

  // A job's index in sim_ is its rank in (submit, id) order.
  void add_pending(std::uint32_t i) {
    // A forecast's jobs keep the ranks they were captured with (its own predictor knows nothing).
    if (!seed_) sim_[i].service_ranks = predictor_.service().ranks_for(*sim_[i].job);
    const PendingJob p = pending_entry(i);
    if (opt_.shares) ++tenants_[static_cast<std::size_t>(p.job->tenant_index)].waiting;
    if (las_index_ && !opt_.shares) las_index_->insert(i, p);
    if (keyed_index_ && !opt_.shares) keyed_index_->insert(i, p);
    pending_.add(i, p);
  }

  void drop_pending(std::uint32_t i) {
    if (opt_.shares) --tenants_[static_cast<std::size_t>(sim_[i].job->tenant_index)].waiting;
    if (las_index_ && !opt_.shares) las_index_->erase(i);
    if (keyed_index_ && !opt_.shares) keyed_index_->erase(i);
    pending_.drop(i);
  }

  void free_devices(const Placement& placement, const Job& j) {
    for (const Slot& slot : placement) {
      if (!node_freed_at_.empty()) node_freed_at_[slot.node] = last_time_;
      set_free(slot.node, nodes_[slot.node].free | slot.devices);
      const int d = device_count(slot.devices);
      nodes_[slot.node].free_cpu += d * j.cpu_per_accel;
      nodes_[slot.node].free_mem_gib += d * j.mem_gib_per_accel;
    }
  }

  // The end of a run at t (devices released): service, billing and fair-share usage.
  void account(SimJob& s, TimeMs t) {
    const TimeMs ran = t - s.start;
    s.attained += ran * s.job->accel_count;
    s.last_run = ran;
    auto& o = out(s.job);
    o.run_ms += ran;
    const double held = static_cast<double>(ran) * s.job->accel_count;
    const double price = opt_.shares ? opt_.shares->price(s.type) : 1.0;
    o.accel_ms += held;
    o.cost += held / 3.6e6 * price;
    if (opt_.shares && s.job->tenant_index >= 0)
      fair_.charge(static_cast<std::size_t>(s.job->tenant_index),
                   s.job->accel_count * price / 3.6e6, s.start, t);
  }

  // Fair share: what a running job is billed per ms, and its entry in accrual_.
  double accrual_rate(const RunningJob& r) const {
    return r.job->accel_count * opt_.shares->price(r.type) / 3.6e6;
  }
  void accrue(const RunningJob& r) {
    if (!opt_.shares) return;
    if (accrual_.needs_rebase(r.started)) {
      accrual_.rebase(r.started);
      for (const RunningJob& other : running_)
        if (&other != &r)
          accrual_.add(static_cast<std::size_t>(other.job->tenant_index), accrual_rate(other),
                       other.started);
    }
    accrual_.add(static_cast<std::size_t>(r.job->tenant_index), accrual_rate(r), r.started);
  }

  // end_order_: running slots in (expected_end, id) order (Snapshot::running_by_end).
  bool ends_before(std::uint32_t a, std::uint32_t b) const {
    const RunningJob& x = running_[a];
    const RunningJob& y = running_[b];
    return x.expected_end != y.expected_end ? x.expected_end < y.expected_end
                                            : x.job->id < y.job->id;
  }
  void order_end(std::uint32_t slot) {
    end_order_.insert(
        std::upper_bound(end_order_.begin(), end_order_.end(), slot,
                         [&](std::uint32_t a, std::uint32_t b) { return ends_before(a, b); }),
        slot);
    order_predicted_end(slot);
  }
  // predicted_order_: running slots in (predicted end, else expected end, id) order
  // (Snapshot::running_by_predicted_end).
  static TimeMs predicted_or_expected_end(const RunningJob& r) {
    return r.predicted_end < kNever ? r.predicted_end : r.expected_end;
  }
  bool predicted_end_before(std::uint32_t a, std::uint32_t b) const {
    const TimeMs x = predicted_or_expected_end(running_[a]);
    const TimeMs y = predicted_or_expected_end(running_[b]);
    return x != y ? x < y : running_[a].job->id < running_[b].job->id;
  }
  void order_predicted_end(std::uint32_t slot) {
    predicted_order_.insert(std::upper_bound(predicted_order_.begin(), predicted_order_.end(), slot,
                                             [&](std::uint32_t a, std::uint32_t b) {
                                               return predicted_end_before(a, b);
                                             }),
                            slot);
  }
  // Where `slot` is in one of those orders (sorted by `before`, a strict order: ids are unique),
  // by binary search rather than a walk - a forecast with tens of thousands of running jobs
  // drops many of them (a walk that does not find it is the answer if the order was broken).
  template <class Before>
  static std::vector<std::uint32_t>::iterator find_in_order(std::vector<std::uint32_t>& order,
                                                            std::uint32_t slot, Before before) {
    const auto at = std::lower_bound(order.begin(), order.end(), slot, before);
    if (at != order.end() && *at == slot) return at;
    return std::find(order.begin(), order.end(), slot);
  }
  std::vector<std::uint32_t>::iterator in_end_order(std::uint32_t slot) {
    return find_in_order(end_order_, slot,
                         [&](std::uint32_t a, std::uint32_t b) { return ends_before(a, b); });
  }
  std::vector<std::uint32_t>::iterator in_predicted_order(std::uint32_t slot) {
    return find_in_order(predicted_order_, slot, [&](std::uint32_t a, std::uint32_t b) {
      return predicted_end_before(a, b);
    });
  }

  // Removes a job from the running vector (swap with last).
  void drop_running(SimJob& s) {
    if (opt_.shares) {
      const auto i = static_cast<std::uint32_t>(&s - sim_.data());
      const auto at = std::find(start_order_.begin(), start_order_.end(), i);
      const auto pos = at - start_order_.begin();
      const StartRow gone = start_rows_[static_cast<std::size_t>(pos)];
      start_rows_.erase(start_rows_.begin() + pos);
      start_order_.erase(at);
      // Only the rows after it held its devices too.
      for (auto r = start_rows_.begin() + pos; r != start_rows_.end(); ++r)
        if (r->tenant == gone.tenant && r->type == gone.type) r->held -= gone.accel_count;
    }
    const std::uint32_t slot = s.running_slot;
    if (las_running_) las_running_->erase(running_sim_[slot].index);
    if (gittins_running_) gittins_running_->erase(running_sim_[slot].index);
    if (opt_.shares) {
      const RunningJob& r = running_[slot];
      accrual_.remove(static_cast<std::size_t>(r.job->tenant_index), accrual_rate(r), r.started);
    }
    end_order_.erase(in_end_order(slot));
    predicted_order_.erase(in_predicted_order(slot));
    if (slot + 1 != running_.size()) {
      const auto last = static_cast<std::uint32_t>(running_.size() - 1);
      *in_end_order(last) = slot;
      *in_predicted_order(last) = slot;
      running_[slot] = std::move(running_.back());
      running_sim_[slot] = running_sim_.back();
      running_ranks_[slot] = running_ranks_.back();
      sim_[running_sim_[slot].index].running_slot = slot;
      if (las_running_) las_running_->move(running_sim_[slot].index, slot);
      if (gittins_running_) gittins_running_->move(running_sim_[slot].index, slot);
      if (opt_.shares)  // the moved job's row, found through the (smaller) start order
        start_rows_[static_cast<std::size_t>(std::find(start_order_.begin(), start_order_.end(),
                                                       running_sim_[slot].index) -
                                             start_order_.begin())]
            .index = slot;
    }
    running_.pop_back();
    running_sim_.pop_back();
    running_ranks_.pop_back();
  }

  void release(SimJob& s, TimeMs t) {
    free_devices(running_[s.running_slot].placement, *s.job);
    account(s, t);
    drop_running(s);
  }

  void finish(std::uint32_t i, TimeMs t) {
    SimJob& s = sim_[i];
    // What it ran, as anyone could see once it ended: the work before this run plus this run
    // (without the restart cost). The predictor learns it now, not before.
    const double before = (1.0 - s.remaining) * s.full_run_ms;
    const TimeMs ran =
        static_cast<TimeMs>(std::llround(before)) + std::max<TimeMs>(0, t - s.start - s.overhead);
    prediction_errors_.add(s.predicted, ran);
    predictor_.observe(*s.job, ran);
    release(s, t);
    s.state = State::kDone;
    auto& o = out(s.job);
    o.end = t;
    o.killed_at_walltime =
        (t - s.start) >= s.limit &&
        (t - s.start) < s.overhead + static_cast<TimeMs>(std::ceil(s.remaining * s.full_run_ms));
    result_.last_end = std::max(result_.last_end, t);
  }

  void preempt(std::uint32_t i, TimeMs t, bool reclaim) {
    SimJob& s = sim_[i];
    const TimeMs progress = std::max<TimeMs>(0, t - s.start - s.overhead);
    const bool checkpoints = s.job->checkpoint == 1 || (s.job->checkpoint < 0 && opt_.shares &&
                                                        opt_.shares->preemption.checkpoint_all);
    if (reclaim && !checkpoints)
      s.remaining = 1.0;  // requeued without a checkpoint: it starts again from zero
    else if (s.full_run_ms > 0)
      s.remaining = std::max(0.0, s.remaining - progress / s.full_run_ms);
    out(s.job).preemptions += 1;
    ++result_.preemptions;
    ++s.epoch;
    const TimeMs grace = opt_.sched.preempt_grace_ms;
    if (reclaim && grace > 0) {
      // Signalled now, stopped (and requeued) at the end of its grace period; it holds its
      // devices, and is billed, until then.
      s.stopping = std::move(running_[s.running_slot].placement);
      drop_running(s);
      s.state = State::kStopping;
      finishes_.push({t + grace, s.job->id, i, s.epoch});
      return;
    }
    release(s, t);
    s.state = State::kPending;
    s.waiting_since = t;
    add_pending(i);
  }

  // A reclaimed job's grace period is over: its devices are free and it waits again.
  void stopped(std::uint32_t i, TimeMs t) {
    SimJob& s = sim_[i];
    free_devices(s.stopping, *s.job);
    s.stopping.clear();
    account(s, t);
    s.state = State::kPending;
    s.waiting_since = t;
    add_pending(i);
  }

  // `d` passed find_violations (schedule()).
  void start(StartDecision& d, TimeMs t) {
    const std::uint32_t index = index_at(d.job);
    SimJob& s = sim_[index];
    const Job& j = *s.job;
    for (const Slot& slot : d.placement) {
      set_free(slot.node, nodes_[slot.node].free & ~slot.devices);
      const int n = device_count(slot.devices);
      nodes_[slot.node].free_cpu -= n * j.cpu_per_accel;
      nodes_[slot.node].free_mem_gib -= n * j.mem_gib_per_accel;
    }
    drop_pending(index);
    // Passes on ticks: it could have started when its devices were freed, not before the first
    // change since the previous pass (SimOptions::pass_tick_ms).
    TimeMs at = t;
    if (opt_.pass_tick_ms > 0 && first_change_ < t) {
      at = first_change_;
      for (const Slot& slot : d.placement) at = std::max(at, node_freed_at_[slot.node]);
      at = std::min(at, t);
    }
    s.state = State::kRunning;
    s.type = d.type;
    s.start = at;
    const double factor =
        speeds_ ? speeds_->duration_factor(j.model, j.recorded_type, d.type, j.accel_count) : 1.0;
    s.full_run_ms = static_cast<double>(j.duration) * factor;
    s.overhead = out(&j).preemptions > 0 ? opt_.preempt_cost_ms : 0;
    TimeMs need = s.overhead + static_cast<TimeMs>(std::ceil(s.remaining * s.full_run_ms));
    // A walltime is stated for the recorded type; on another type it scales with the speed.
    const TimeMs limit =
        j.walltime > 0
            ? s.overhead + static_cast<TimeMs>(std::ceil(static_cast<double>(j.walltime) * factor))
            : kNever;
    s.limit = limit;
    need = std::min(need, limit);
    s.end = std::max(at + std::max<TimeMs>(need, 0), t);
    ++s.epoch;
    finishes_.push({s.end, j.id, index, s.epoch});
    auto& o = out(&j);
    if (o.first_start < 0) {
      o.first_start = at;
      if (seed_ && tracked_[index]) --waiting_left_;
    }
    o.last_start = at;
    ++o.attempts;
    o.nodes = static_cast<int>(d.placement.size());
    o.type = d.type;
    o.backfilled = o.backfilled || d.backfilled;
    RunningJob r;
    r.job = &j;
    r.type = d.type;
    r.accel_count = j.accel_count;
    r.placement = std::move(d.placement);
    r.started = at;
    r.expected_end = limit < kNever ? at + limit : kNever;
    r.waited_ms = std::max<TimeMs>(0, at - s.waiting_since);
    r.previous_run_ms = s.last_run;
    r.service_ranks = s.service_ranks;
    // Predicted end: the predicted work on this type (scaled like the duration) still to do; a
    // job resumed past its prediction gets a longer one at once.
    const TimeMs done = static_cast<TimeMs>(std::llround((1.0 - s.remaining) * s.full_run_ms));
    const TimeMs wall = limit < kNever ? limit - s.overhead : 0;
    TimeMs work = static_cast<TimeMs>(std::ceil(static_cast<double>(s.predicted) * factor));
    if (wall > 0) work = std::min(work, wall);
    if (work <= done) work = RuntimePredictor::extended(work, done, wall);
    r.predicted_end = std::min(at + s.overhead + std::max<TimeMs>(work - done, 0), r.expected_end);
    s.running_slot = static_cast<std::uint32_t>(running_.size());
    running_.push_back(std::move(r));
    running_sim_.push_back({index, j.accel_count, s.attained, s.end, work, done});
    running_ranks_.push_back(index);
    if (las_running_) las_running_->insert(index, s.running_slot, running_.back(), s.attained);
    if (gittins_running_)
      gittins_running_->insert(index, s.running_slot, running_.back(), s.attained);
    accrue(running_.back());
    order_end(s.running_slot);
    if (opt_.shares) {
      // In (start, id) order: it started last, with the others started now ordered by id.
      auto at = start_order_.end();
      while (at != start_order_.begin() && sim_[*(at - 1)].start == t &&
             sim_[*(at - 1)].job->id > j.id)
        --at;
      const StartRow row = start_row(s.running_slot);
      start_rows_.insert(start_rows_.begin() + (at - start_order_.begin()), row);
      start_order_.insert(at, index);
      recount_held(start_rows_, row.tenant, row.type);
    }
  }

  // SimOptions::pass_tick_ms: the first tick at or after `end`.
  TimeMs on_tick(TimeMs end) const {
    TimeMs g = opt_.pass_tick_ms;
    if (g <= 0 || end >= kNever / 2) return end;
    if (opt_.ticks_per_doubling <= 0) return ((end + g - 1) / g) * g;
    // Ticks of g from the origin, then of 2g, 4g, ...: each length for ticks_per_doubling
    // ticks (the grids nest, so a later end never lands before an earlier one).
    const TimeMs origin = opt_.tick_origin_ms;
    if (end <= origin) return end;
    TimeMs from = origin;
    while (end - from > opt_.ticks_per_doubling * g && g < kNever / 4 / opt_.ticks_per_doubling) {
      from += opt_.ticks_per_doubling * g;
      g *= 2;
    }
    return from + ((end - from + g - 1) / g) * g;
  }

  // SimOptions::forecasts: the jobs that arrived at t (ranks [from, to)) and are sampled, if
  // still waiting after the pass, get the forecast a controller would give them now.
  void forecast_arrivals(std::size_t from, std::size_t to, TimeMs t) {
    const std::size_t every =
        std::max<std::size_t>(1, (order_.size() + opt_.forecasts - 1) / opt_.forecasts);
    std::vector<JobId> asked;
    for (std::size_t i = from; i < to; ++i)
      if (i % every == 0 && sim_[i].state == State::kPending) asked.push_back(sim_[i].job->id);
    if (asked.empty()) return;
    const Snapshot& snap = snapshot_at(t);
    const ForecastInput in = capture_forecast(snap, t);
    ForecastOptions fo;
    fo.only = asked;
    fo.preempt_cost_ms = opt_.preempt_cost_ms;
    std::sort(asked.begin(), asked.end());
    for (const StartForecast& f : forecast_starts(in, policy_, fo))
      if (std::binary_search(asked.begin(), asked.end(), f.job))
        sim_[index_at(f.job)].forecast = f.start;
  }

  void summarize_forecasts() {
    std::vector<double> errors, waits;
    std::size_t early = 0;
    for (const SimJob& s : sim_) {
      if (s.forecast == -2) continue;
      if (s.forecast < 0) {
        ++result_.forecasts_without_estimate;
        continue;
      }
      const TimeMs actual = out(s.job).first_start;
      if (actual < 0) continue;  // never started: nothing to compare with
      errors.push_back(static_cast<double>(std::llabs(s.forecast - actual)) / 1000.0);
      waits.push_back(static_cast<double>(actual - s.job->submit) / 1000.0);
      early += s.forecast < actual;
    }
    result_.forecasts = errors.size();
    if (errors.empty()) return;
    auto at = [](std::vector<double>& v, double q) {
      const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
      std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
      return v[k];
    };
    result_.forecast_median_abs_s = at(errors, 0.5);
    result_.forecast_p90_abs_s = at(errors, 0.9);
    result_.forecast_median_wait_s = at(waits, 0.5);
    result_.forecast_early_share = static_cast<double>(early) / static_cast<double>(errors.size());
  }

  // simulate_from: puts the seed's running jobs on their devices and its waiting jobs in the
  // queue, as they are at seed_->now.
  void seed_state() {
    const SimSeed& seed = *seed_;
    if (seed.nodes.size() != nodes_.size())
      throw std::invalid_argument("seed: node states do not match the cluster");
    for (std::size_t n = 0; n < nodes_.size(); ++n) {
      nodes_[n].healthy = seed.nodes[n].healthy;
      nodes_[n].up = seed.nodes[n].up;
      node_changed(static_cast<NodeId>(n));
    }
    auto rank_of = [&](std::size_t job) {
      if (job >= result_.jobs.size()) throw std::invalid_argument("seed: no such job");
      return index_at(result_.jobs[job].id);
    };
    std::vector<const SimSeed::Running*> running;
    for (const auto& r : seed.running) running.push_back(&r);
    // In (start, id) order, as start_order_ keeps them.
    std::sort(running.begin(), running.end(), [&](const auto* a, const auto* b) {
      return a->started != b->started ? a->started < b->started
                                      : result_.jobs[a->job].id < result_.jobs[b->job].id;
    });
    for (const SimSeed::Running* r : running) {
      const std::uint32_t i = rank_of(r->job);
      SimJob& s = sim_[i];
      if (s.state != State::kFuture) throw std::invalid_argument("seed: a job given twice");
      const Job& j = *s.job;
      for (const Slot& slot : r->placement) {
        if (slot.node >= nodes_.size() || (slot.devices & ~nodes_[slot.node].free))
          throw std::invalid_argument("seed: job " + std::to_string(j.id) +
                                      " on a busy or unknown device");
        set_free(slot.node, nodes_[slot.node].free & ~slot.devices);
        const int n = device_count(slot.devices);
        nodes_[slot.node].free_cpu -= n * j.cpu_per_accel;
        nodes_[slot.node].free_mem_gib -= n * j.mem_gib_per_accel;
      }
      s.state = State::kRunning;
      s.type = r->type;
      s.start = r->started;
      s.attained = r->attained_before_ms;
      s.end = std::max(r->end, seed.now);
      s.full_run_ms = static_cast<double>(s.end - r->started);
      s.overhead = 0;
      s.limit = r->expected_end < kNever ? r->expected_end - r->started : kNever;
      s.predicted = j.duration;
      s.service_ranks = r->service_ranks;
      ++s.epoch;
      finishes_.push({s.end, j.id, i, s.epoch});
      auto& o = out(&j);
      o.first_start = o.last_start = r->started;
      o.attempts = 1;
      o.type = r->type;
      o.nodes = static_cast<int>(r->placement.size());
      RunningJob rj;
      rj.job = &j;
      rj.type = r->type;
      rj.accel_count = j.accel_count;
      rj.placement = r->placement;
      rj.started = r->started;
      rj.expected_end = r->expected_end;
      rj.waited_ms = r->waited_ms;
      rj.previous_run_ms = r->previous_run_ms;
      rj.predicted_end = s.end;
      rj.service_ranks = r->service_ranks;
      s.running_slot = static_cast<std::uint32_t>(running_.size());
      running_.push_back(std::move(rj));
      accrue(running_.back());
      order_end(s.running_slot);
      const TimeMs work = s.end - r->started;
      running_sim_.push_back({i, j.accel_count, s.attained, s.end, work, 0});
      running_ranks_.push_back(i);
      if (las_running_) las_running_->insert(i, s.running_slot, running_.back(), s.attained);
      if (gittins_running_)
        gittins_running_->insert(i, s.running_slot, running_.back(), s.attained);
      if (opt_.shares) {
        start_order_.push_back(i);
        start_rows_.push_back(start_row(s.running_slot));
      }
    }
    recount_all_held(start_rows_);  // (once: per job, it was quadratic in the running jobs)
    tracked_.assign(sim_.size(), false);
    auto wait = [&](const SimSeed::Waiting& w, bool tracked) {
      const std::uint32_t i = rank_of(w.job);
      SimJob& s = sim_[i];
      if (s.state != State::kFuture) throw std::invalid_argument("seed: a job given twice");
      s.state = State::kPending;
      s.waiting_since = w.waiting_since;
      s.attained = w.attained_ms;
      s.last_run = w.last_run_ms;
      s.predicted = w.predicted_ms;
      s.service_ranks = w.service_ranks;
      add_pending(i);
      tracked_[i] = tracked;
      waiting_left_ += tracked;
    };
    for (const SimSeed::Waiting& w : seed.waiting) wait(w, true);
    for (const SimSeed::Waiting& w : seed.waiting_untracked) wait(w, false);
    if (opt_.shares) {
      std::unordered_map<std::string_view, std::size_t> tenant_of;
      for (const Job* j : order_)
        tenant_of.emplace(j->tenant, static_cast<std::size_t>(j->tenant_index));
      for (const auto& [name, usage] : seed.tenant_usage) {
        auto it = tenant_of.find(name);
        if (it != tenant_of.end()) fair_.seed(it->second, usage, seed.now);
      }
    }
    pending_.settle();
  }

  // The snapshot a pass at t sees (running jobs' service and predictions brought to t).
  const Snapshot& snapshot_at(TimeMs t) {
    std::vector<std::uint32_t>& moved = moved_slots_;
    moved.clear();
    for (std::size_t k = 0; k < running_.size(); ++k) {
      RunningSim& s = running_sim_[k];
      RunningJob& r = running_[k];
      r.attained_accel_ms = s.attained + (t - r.started) * s.accel_count;
      r.remaining_ms = s.end - t;
      // Still running at its predicted end: it gets a longer prediction (never past its limit),
      // as a live driver would do - it sees the job running, not when it will end.
      if (r.predicted_end <= t && r.predicted_end < r.expected_end) {
        const SimJob& job = sim_[s.index];
        const TimeMs wall = job.limit < kNever ? job.limit - job.overhead : 0;
        const TimeMs elapsed = s.done_before + std::max<TimeMs>(0, t - r.started - job.overhead);
        s.predicted_work = RuntimePredictor::extended(s.predicted_work, elapsed, wall);
        const TimeMs was = r.predicted_end;
        r.predicted_end = std::min(
            r.started + job.overhead + std::max<TimeMs>(s.predicted_work - s.done_before, 0),
            r.expected_end);
        if (r.predicted_end != was) moved.push_back(static_cast<std::uint32_t>(k));
      }
    }
    // Jobs with a longer prediction take their new place in predicted_order_.
    for (std::uint32_t k : moved)
      predicted_order_.erase(std::find(predicted_order_.begin(), predicted_order_.end(), k));
    for (std::uint32_t k : moved) order_predicted_end(k);
    // One snapshot, made again in place: its params (with their vector of thresholds, set by
    // the constructor) never change, and copying them on every pass was an allocation per pass.
    Snapshot& snap = snap_;
    snap.cluster = &cluster_;
    snap.catalog = &catalog_;
    snap.throughput = speeds_;
    snap.nodes = nodes_;
    if (!free_pool_) {
      free_pool_.emplace(cluster_, nodes_);
    } else {
      free_pool_->refresh(nodes_, changed_nodes_);
    }
    for (NodeId n : changed_nodes_) node_changed_[n] = false;
    changed_nodes_.clear();
    snap.free_pool = &*free_pool_;
    snap.running = running_;
    snap.running_by_end = end_order_;
    snap.running_by_predicted_end = predicted_order_;
    snap.running_submit_ranks = running_ranks_;
    snap.pending = pending_.jobs();
    snap.pending_in_priority_order = pending_.in_priority_order();
    if (share_index_) {
      snap.share_index = &*share_index_;
      snap.pending_ranks = pending_.ranks();
      snap.running_by_start = start_rows_;
    }
    snap.memory = &memory_;  // cluster_, catalog_, speeds_ and opt_.shares never change
    if (las_index_) {
      las_index_->advance(t);
      snap.las_index = &*las_index_;
    }
    if (las_running_) {
      las_running_->advance(t);
      snap.las_running = &*las_running_;
    }
    if (gittins_running_) {
      gittins_running_->advance(t, predictor_.service().refreshes());
      snap.gittins_running = &*gittins_running_;
    }
    if (keyed_index_) {
      keyed_index_->refresh();  // gittins: groups that learned more since the last pass
      snap.keyed_index = &*keyed_index_;
    }
    if (opt_.shares) {
      // Fair share: settled usage decayed to now, plus what running jobs accrued so far.
      for (std::size_t k = 0; k < tenants_.size(); ++k) tenants_[k].usage = fair_.usage(k, t);
      for (std::size_t k = 0; k < tenants_.size(); ++k) tenants_[k].usage += accrual_.of(k, t);
      snap.shares = opt_.shares;
      snap.tenants = tenants_;
      snap.holds = holds_;
    }
    return snap;
  }

  TimeMs schedule(TimeMs t) {
    const Snapshot& snap = snapshot_at(t);
    Decisions d = policy_.decide(snap, t);
    ++result_.passes;
    // Every decision is checked against the state before any is applied: a policy that breaks
    // one (a busy device, a wrong count, a gang on two types, ...) is a bug, never a schedule.
    JobLookup lookup;
    lookup.pending = [&](JobId id) -> const Job* {
      const std::uint32_t i = find_index(id);
      return i != kNoIndex && sim_[i].state == State::kPending ? sim_[i].job : nullptr;
    };
    lookup.running = [&](JobId id) -> const RunningJob* {
      const std::uint32_t i = find_index(id);
      return i != kNoIndex && sim_[i].state == State::kRunning ? &running_[sim_[i].running_slot]
                                                               : nullptr;
    };
    const auto violations = find_violations(snap, d, lookup, t);
    if (!violations.empty())
      throw std::logic_error("policy " + result_.policy + " at t=" + std::to_string(t) +
                             " ms: " + describe(violations));
    for (const auto& p : d.preemptions) preempt(index_at(p.job), t, p.reclaim);
    // A hold lasts until its job starts (or no longer waits).
    for (auto& h : d.holds) holds_.push_back(std::move(h));
    for (auto& s : d.starts) start(s, t);
    if (!holds_.empty())
      std::erase_if(holds_, [&](const Hold& h) {
        const std::uint32_t i = find_index(h.for_job);
        return i == kNoIndex || sim_[i].state != State::kPending;
      });
    if (!d.waits.empty() || !d.group_waits.empty()) {
      // Interned: many passes give the same few reasons to many jobs.
      std::vector<std::int32_t> ids(d.wait_reasons.size());
      for (std::size_t k = 0; k < d.wait_reasons.size(); ++k) {
        // (find first: emplace would make a node, and copy the text, on every pass)
        auto it = wait_ids_.find(d.wait_reasons[k]);
        if (it == wait_ids_.end()) {
          it = wait_ids_.emplace(d.wait_reasons[k], static_cast<std::int32_t>(wait_texts_.size()))
                   .first;
          wait_texts_.push_back(d.wait_reasons[k]);
        }
        ids[k] = it->second;
      }
      const auto pass = static_cast<std::uint32_t>(result_.passes);
      for (const auto& w : d.waits)
        if (w.reason < ids.size()) {
          SimJob& j = sim_[index_at(w.job)];
          j.wait_reason = ids[w.reason];
          j.wait_pass = pass;
        }
      if (!d.group_waits.empty()) {
        if (!share_index_) throw std::logic_error("group waits without a share index");
        apply_group_waits(d, ids);
      }
      if (opt_.check_wait_reasons) {
        eager_reason_.resize(sim_.size(), -1);
        for (const auto& w : d.waits)
          if (w.reason < ids.size()) eager_reason_[index_at(w.job)] = ids[w.reason];
        for (const auto& w : d.group_waits)
          for (std::uint32_t r = share_index_->first(w.group, w.from);
               r != ShareIndex::kEnd && r < w.to; r = share_index_->first(w.group, r + 1))
            eager_reason_[r] = w.reason < ids.size() ? ids[w.reason] : -1;
      }
    }
    for (const auto& r : d.rejections) {
      const std::uint32_t i = index_at(r.job);
      drop_pending(i);
      sim_[i].state = State::kRejected;
      auto& o = out(sim_[i].job);
      if (seed_ && o.first_start < 0 && tracked_[i]) --waiting_left_;
      o.rejected = true;
      o.reject_reason = r.reason;
    }
    pending_.settle();
    if (opt_.check_wait_reasons && share_index_) {
      eager_reason_.resize(sim_.size(), -1);
      for (std::uint32_t r : pending_.ranks())
        if (last_wait_reason(r) != eager_reason_[r])
          throw std::logic_error("pass " + std::to_string(result_.passes) + ": job " +
                                 std::to_string(sim_[r].job->id) + " waits for reason " +
                                 std::to_string(last_wait_reason(r)) + ", told " +
                                 std::to_string(eager_reason_[r]));
    }
    if (opt_.record_reservations)
      for (const auto& r : d.reservations) result_.reservations.push_back({r.job, t, r.at});
    give_decisions(&memory_, d);
    if (d.wake_at <= t || d.wake_at >= kNever) return kNever;
    if (opt_.pass_tick_ms > 0) return on_tick(d.wake_at);
    const TimeMs g = opt_.wake_granularity_ms;
    return g > 0 ? ((d.wake_at + g - 1) / g) * g : d.wake_at;
  }

  // simulate_from: the state at seed_->now, and how many of its waiting jobs have not started.
  const SimSeed* seed_;
  std::size_t waiting_left_ = 0;
  std::vector<bool> tracked_;  // by index in sim_: a waiting job of SimSeed::waiting
  // SimOptions::pass_tick_ms: the next pass due, the first change since the last pass, and
  // when each node last had devices freed.
  TimeMs pass_due_ = kNever, first_change_ = kNever;
  std::vector<TimeMs> node_freed_at_;
  const Cluster& cluster_;
  const Catalog& catalog_;
  const ThroughputTable* speeds_;
  const Policy& policy_;
  const SimOptions& opt_;
  std::vector<Job> own_;  // copies with tenant indices (tenants' shares only)
  RuntimePredictor predictor_;
  PredictionErrors prediction_errors_;
  std::vector<const Job*> order_;
  std::vector<SimJob> sim_;
  std::unordered_map<JobId, std::uint32_t> index_;
  static constexpr std::uint32_t kNoIndex = ~std::uint32_t{0};
  std::vector<std::uint32_t> dense_;  // by id - dense_base_, when ids are dense; else empty
  JobId dense_base_ = 0;
  const Job* base_ = nullptr;
  std::vector<NodeState> nodes_;
  // The waiting jobs by LAS class, for a policy that reads them (it then needs no order in
  // pending_, except under shares). Declared first: pending_ is made knowing whether there is
  // one. Under shares it and keyed_index_ file each job under its share group.
  std::optional<LasIndex> las_index_;
  PassMemory memory_;  // lent to every pass (sched/pass_memory.h)
  Snapshot snap_;      // snapshot_at()'s
  // las without shares: the running jobs' queues, victims and wakes (sched/las_running.h).
  std::optional<LasRunning> las_running_;
  // gittins without shares: the running jobs' keys (sched/gittins_running.h).
  std::optional<GittinsRunning> gittins_running_;
  // The waiting jobs in key order, for a keyed policy (srtf, spf, gittins) that reads them.
  std::optional<KeyedIndex> keyed_index_;
  PendingList pending_;
  // With shares: the waiting jobs by tenant and request (pending_ keeps it), and the last group
  // wait of each group.
  std::optional<ShareIndex> share_index_;
  std::vector<Stamp> stamps_;
  // With shares: running jobs (sim_ indices) by (start, id), and their running_ slots for a pass
  // (Snapshot::running_by_start).
  // With shares: the running jobs in (start, id) order, as indices in sim_ and as the rows a
  // pass counts (Snapshot::running_by_start), kept as jobs start and stop.
  std::vector<std::uint32_t> start_order_;
  std::vector<StartRow> start_rows_;
  // Snapshot::free_pool, brought up to date with the nodes changed since the last pass.
  std::optional<FreePool> free_pool_;
  std::vector<NodeId> changed_nodes_;
  std::vector<bool> node_changed_;
  StartRow start_row(std::uint32_t slot) const {
    const RunningJob& r = running_[slot];
    return {slot, r.job->tenant_index, r.job->accel_count, r.type, r.started};
  }
  std::vector<std::uint32_t> end_order_;  // running_ slots by (expected_end, id)
  std::vector<std::uint32_t> predicted_order_, moved_slots_;
  std::vector<std::int32_t> eager_reason_;  // SimOptions::check_wait_reasons
  bool settle_events_;
  std::vector<RunningJob> running_;
  // Parallel to running_: what updating its service needs, without touching sim_ or the jobs.
  struct RunningSim {
    std::uint32_t index;  // in sim_
    int accel_count;
    TimeMs attained;  // before this run
    TimeMs end;
    // The run-time prediction on this run's type: the whole job's predicted work and the work
    // done before this run (RunningJob::predicted_end).
    TimeMs predicted_work, done_before;
  };
  std::vector<RunningSim> running_sim_;
  // Parallel to running_: each job's index in sim_, which is in (submit, id) order
  // (Snapshot::running_submit_ranks).
  std::vector<std::uint32_t> running_ranks_;
  std::priority_queue<Finish, std::vector<Finish>, std::greater<>> finishes_;
  int free_devices_ = 0, free_on_empty_ = 0;
  TimeMs last_time_ = 0;
  // Tenants' shares: the tenant table (Job::tenant_index), decayed usage, reclaims in progress
  // and the texts of wait reasons.
  std::vector<TenantView> tenants_;
  FairShareLedger fair_;
  RunningAccrual accrual_;  // what running jobs have accrued so far
  std::vector<Hold> holds_;
  std::unordered_map<std::string, std::int32_t> wait_ids_;
  std::vector<std::string> wait_texts_;
  SimResult result_;
};

}  // namespace

SimResult simulate(const Cluster& cluster, const Catalog& catalog, const ThroughputTable* speeds,
                   std::span<const Job> jobs, const Policy& policy, const SimOptions& options) {
  Simulation sim(cluster, catalog, speeds, jobs, policy, options);
  return sim.run();
}

SimResult simulate_from(const Cluster& cluster, const Catalog& catalog,
                        const ThroughputTable* speeds, std::span<const Job> jobs,
                        const SimSeed& seed, const Policy& policy, const SimOptions& options) {
  Simulation sim(cluster, catalog, speeds, jobs, policy, options, &seed);
  return sim.run();
}

}  // namespace zs
