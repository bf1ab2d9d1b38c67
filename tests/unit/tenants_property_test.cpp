// Property tests of tenants' shares (issue 16, docs/tenants.md) over random clusters, random
// TenantShares and random workloads, run through the simulator as `zs sim --tenants` runs them.
// A recording policy (TenantAudit) wraps the real one and checks every pass from the outside:
//
//  1. usage never exceeds guaranteed + borrow (TypeQuota::limit) of the tenant's share;
//  2. reclaim preempts only borrowing jobs, of another tenant, old enough, on the reclaiming
//     job's type, for a job within its guarantee, and only jobs whose nodes the job uses;
//  3. a borrowing start never leaves a job within guarantee waiting that could have run, nor
//     takes devices the waiting jobs within guarantee need (by count); and under easy and
//     hetero no job within guarantee that fits on the devices left free waits at all;
//  4. holds: a holder starts on its held devices, nobody else starts on held devices, a hold is
//     made of free devices and its victims' devices, and every hold ends in its job's start;
//  5. accounting: per-job accelerator-ms, run time and cost reconcile with the runs seen in the
//     decisions, with the utilization integral, and with compute_metrics' per-tenant rows;
//  6. no eviction cycle: a job that reclaimed devices is reclaimed itself only after its
//     tenant started another job on the type (see TenantAudit::check_cycle);
//  7. two runs, and a run with the jobs given in reverse order, give identical outcomes and
//     identical decisions;
// and after each run: nothing waits forever unless it is over its quota everywhere it fits.
// The simulator also runs find_violations (sched/decision_check.h) on every pass and throws on
// any violation. Fixed seeds: every failure reproduces.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "sched/free_pool.h"
#include "sched/policy.h"
#include "sched/shape.h"
#include "sim/metrics.h"
#include "sim/simulator.h"
#include "sim/synthetic.h"

namespace zs {
namespace {

const Catalog& catalog() {
  return Catalog::builtin();
}
const ThroughputTable& speeds() {
  return ThroughputTable::builtin();
}

// --- Random inputs, built the way production builds them ---

const char* const kTypeNames[] = {"V100", "K80", "P100", "T4", "MLU590"};

struct TenantWorld {
  Cluster cluster;
  TenantShares shares;
  std::vector<Job> jobs;
};

std::vector<TypeId> present_types(const Cluster& c) {
  std::vector<TypeId> out;
  for (TypeId t = 0; t < c.accels_of_type.size(); ++t)
    if (c.accels_of_type[t] > 0) out.push_back(t);
  return out;
}

// 2-3 node groups (types may repeat, with one node size per type), 1-3 nodes of 2/4/8 devices,
// 1-2 nodes per leaf switch, 1-2 leaves per spine, sometimes a leaf shared by several types.
Cluster random_cluster(Rng& rng) {
  std::vector<NodeGroupSpec> groups;
  const int n = 2 + static_cast<int>(rng.below(2));
  for (int g = 0; g < n; ++g) {
    static const int kSizes[] = {2, 4, 8};
    NodeGroupSpec s;
    s.accel_type = kTypeNames[rng.below(5)];
    s.accel_count = kSizes[rng.below(3)];
    for (const auto& o : groups)
      if (o.accel_type == s.accel_type) s.accel_count = o.accel_count;
    s.count = 1 + static_cast<int>(rng.below(3));
    s.islands = s.accel_count >= 4 && rng.below(2) ? 2 : 1;
    if (rng.below(4) == 0) {
      s.leaf = "shared-leaf";
    } else {
      s.nodes_per_leaf = 1 + static_cast<int>(rng.below(2));
      s.leaves_per_spine = 1 + static_cast<int>(rng.below(2));
    }
    s.where = "random group " + std::to_string(g);
    groups.push_back(s);
  }
  return build_cluster(groups, catalog(), "random");
}

int random_borrow(Rng& rng, int devices) {
  switch (rng.below(4)) {
    case 0:
      return 0;
    case 1:
      return TypeQuota::kUnlimited;
    default:
      return 1 + static_cast<int>(rng.below(static_cast<std::uint64_t>(devices)));
  }
}

// 2-6 tenants; per type, guarantees adding up to at most the cluster's devices of the type
// (check_tenants_against refuses more), borrow limits 0, unlimited or some; weights; sometimes
// a default entry (no guarantee) and prices for every type; grace, minimum run and half-life.
TenantShares random_shares(Rng& rng, const Cluster& c) {
  TenantShares sh;
  const int n = 2 + static_cast<int>(rng.below(5));
  static const double kWeights[] = {0.5, 1.0, 2.0, 3.5};
  for (int i = 0; i < n; ++i) {
    TenantShare t;
    t.name = "t" + std::to_string(i);
    t.weight = kWeights[rng.below(4)];
    t.quota.assign(catalog().size(), TypeQuota{});
    sh.tenants.push_back(std::move(t));
  }
  for (TypeId type : present_types(c)) {
    const int have = c.accels_of_type[type];
    int left = have;
    for (int i = 0; i < n; ++i) {
      TypeQuota& q = sh.tenants[static_cast<std::size_t>(i)].quota[type];
      if (rng.below(8) == 0) continue;  // the type is not in the tenant's quota: {0, 0}
      if (i == n - 1 && rng.below(2)) {
        q.guaranteed = left;  // guarantees add up to the whole type
      } else if (rng.below(3) != 0) {
        q.guaranteed = static_cast<int>(rng.below(static_cast<std::uint64_t>(left) / 2 + 1));
      }
      left -= q.guaranteed;
      q.borrow = random_borrow(rng, have);
    }
  }
  if (rng.below(5) < 2) {
    TenantShare d;
    d.weight = kWeights[rng.below(4)];
    d.quota.assign(catalog().size(), TypeQuota{});
    for (TypeId type : present_types(c))
      if (rng.below(4) != 0) d.quota[type].borrow = random_borrow(rng, c.accels_of_type[type]);
    sh.default_share = std::move(d);
  }
  if (rng.below(2)) {
    static const double kPrices[] = {0, 0.25, 1.5, 8.5, 20};
    sh.price_per_hour.assign(catalog().size(), -1.0);
    for (TypeId type : present_types(c)) sh.price_per_hour[type] = kPrices[rng.below(5)];
  }
  sh.half_life_ms = rng.below(2) ? 600'000 : 7LL * 24 * 3600 * 1000;
  sh.preemption.grace_ms = rng.below(2) ? 0 : static_cast<TimeMs>(1 + rng.below(120)) * 1000;
  sh.preemption.min_runtime_ms = rng.below(2) ? 0 : static_cast<TimeMs>(1 + rng.below(600)) * 1000;
  sh.preemption.checkpoint_all = rng.below(3) == 0;
  sh.preemption.grace_set = sh.preemption.min_runtime_set = true;
  sh.index();
  return sh;
}

// A job of a listed tenant (mostly), of an unlisted one, or of none; a gang of 1..2x the node
// size of its main type, sometimes with an explicit shape; one type, two types or any; CPU
// requests; a model for speed scaling; priorities; checkpoint yes, no or not said.
Job random_job(Rng& rng, const Cluster& c, const TenantShares& sh, JobId id, bool equal_priority) {
  static const char* const kModels[] = {"ResNet-18 (batch size 64)", "ResNet-50 (batch size 32)",
                                        "Transformer (batch size 64)", "A3C", "CycleGAN"};
  const auto types = present_types(c);
  const TypeId main = types[rng.below(types.size())];
  const int m = c.max_per_node_of_type[main];
  Job j;
  j.id = id;
  j.submit = rng.below(5) == 0 ? 0 : static_cast<TimeMs>(rng.below(1200)) * 1000;
  if (rng.below(3) == 0) j.submit += static_cast<TimeMs>(rng.below(1000));
  j.duration = static_cast<TimeMs>(1 + rng.below(600)) * 1000;
  j.accel_count = 1 + static_cast<int>(rng.below(static_cast<std::uint64_t>(2 * m)));
  if (rng.below(10) == 0) {
    std::vector<int> divisors;
    for (int d = 1; d <= j.accel_count; ++d)
      if (j.accel_count % d == 0 && j.accel_count / d <= m) divisors.push_back(d);
    j.per_node = j.accel_count / divisors[rng.below(divisors.size())];
  }
  const auto accept = rng.below(20);
  if (accept < 12) {
    j.accepted = TypeSet::of(main);
  } else if (accept < 17) {
    j.accepted = TypeSet::of(main);
    j.accepted.add(types[rng.below(types.size())]);
  }  // else any type
  if (rng.below(6) == 0) j.cpu_per_accel = static_cast<double>(1 + rng.below(16));
  if (rng.below(3) == 0) {
    j.model = *speeds().find_model(kModels[rng.below(5)]);
    j.recorded_type = static_cast<int>(main);
  }
  const auto w = rng.below(6);
  j.walltime = w < 4 ? j.duration : w == 4 ? 0 : j.duration * 2;
  j.priority = equal_priority ? 0 : static_cast<std::int32_t>(rng.below(3));
  const auto who = rng.below(20);
  j.tenant = who < 17   ? sh.tenants[rng.below(sh.tenants.size())].name
             : who < 19 ? std::string("guest")  // not listed: the default entry, or nothing
                        : std::string();
  j.user = "u" + std::to_string(rng.below(4));
  j.checkpoint = static_cast<std::int8_t>(static_cast<int>(rng.below(3)) - 1);
  return j;
}

TenantWorld random_world(std::uint64_t seed) {
  Rng rng(seed);
  TenantWorld w;
  w.cluster = random_cluster(rng);
  w.shares = random_shares(rng, w.cluster);
  const bool equal_priority = rng.below(2) == 0;
  const int n = 30 + static_cast<int>(rng.below(51));
  for (int i = 0; i < n; ++i)
    w.jobs.push_back(
        random_job(rng, w.cluster, w.shares, static_cast<JobId>(1000 - 7 * i), equal_priority));
  return w;
}

std::string quota_text(const TypeQuota& q) {
  return std::to_string(q.guaranteed) + "+" +
         (q.borrow == TypeQuota::kUnlimited ? std::string("inf") : std::to_string(q.borrow));
}

std::string describe(const TenantWorld& w) {
  std::ostringstream s;
  s << "cluster:";
  for (const auto& n : w.cluster.nodes)
    s << " " << n.name << "(" << catalog().name(n.type) << " x" << int(n.accel_count) << " leaf "
      << n.leaf << ")";
  s << "\nshares: grace " << w.shares.preemption.grace_ms << " min_run "
    << w.shares.preemption.min_runtime_ms << " half_life " << w.shares.half_life_ms
    << " checkpoint_all " << w.shares.preemption.checkpoint_all << "\n";
  auto share = [&](const TenantShare& t) {
    s << "  " << (t.name.empty() ? "(default)" : t.name) << " weight " << t.weight << ":";
    for (TypeId type : present_types(w.cluster))
      s << " " << catalog().name(type) << "=" << quota_text(t.of(type));
    s << "\n";
  };
  for (const auto& t : w.shares.tenants) share(t);
  if (w.shares.default_share) share(*w.shares.default_share);
  for (const auto& j : w.jobs)
    s << "job " << j.id << " tenant '" << j.tenant << "' submit " << j.submit << " dur "
      << j.duration << " n " << j.accel_count << " per_node " << j.per_node << " types "
      << (j.accepted.is_any() ? std::string("any") : std::to_string(j.accepted.bits())) << " cpu "
      << j.cpu_per_accel << " wall " << j.walltime << " prio " << j.priority << " model " << j.model
      << " ckpt " << int(j.checkpoint) << "\n";
  return s.str();
}

// --- The audit of every pass ---

enum Prop { kLimit, kVictim, kBorrowAhead, kHolds, kCycle, kProps };
const char* const kPropNames[] = {"usage over guaranteed + borrow", "reclaim victim",
                                  "a job within guarantee left waiting", "holds", "eviction cycle"};

bool overlaps(const Placement& a, const Placement& b) {
  for (const Slot& x : a)
    for (const Slot& y : b)
      if (x.node == y.node && (x.devices & y.devices)) return true;
  return false;
}

bool shares_node(const Placement& a, const Placement& b) {
  for (const Slot& x : a)
    for (const Slot& y : b)
      if (x.node == y.node) return true;
  return false;
}

Placement sorted(Placement p) {
  std::sort(p.begin(), p.end(), [](const Slot& a, const Slot& b) { return a.node < b.node; });
  return p;
}

std::string text(const Placement& p) {
  std::string s;
  for (const Slot& sl : sorted(p))
    s += " " + std::to_string(sl.node) + "/" + std::to_string(sl.devices);
  return s;
}

struct Attempt {
  TimeMs start = 0;
  TypeId type = 0;
  TimeMs stop = -1;  // -1: the last attempt, which ends at JobOutcome::end
};

class TenantAudit : public Policy {
 public:
  TenantAudit(std::unique_ptr<Policy> inner, const TenantShares& shares)
      : inner_(std::move(inner)), shares_(shares) {}
  std::string_view name() const override { return inner_->name(); }
  bool needs_oracle() const override { return inner_->needs_oracle(); }
  bool preemptive() const override { return inner_->preemptive(); }
  bool uses_las_index() const override { return inner_->uses_las_index(); }

  Decisions decide(const Snapshot& s, TimeMs now) const override {
    Decisions d = inner_->decide(s, now);
    Pass p(s, d, shares_);
    check_limits(p, now);
    check_victims(p, now);
    check_borrowing(p, now);
    check_within_left(p, now);
    check_holds(p, now);
    check_cycle(p, now);
    record(p, now);
    return d;
  }

  int count(Prop k) const { return counts_[k]; }
  std::string problems() const {
    std::string out;
    for (int k = 0; k < kProps; ++k)
      if (counts_[k] > 0)
        out += std::string(kPropNames[k]) + " (" + std::to_string(counts_[k]) +
               " times), first: " + first_[k] + "\n";
    return out;
  }
  const std::map<JobId, std::vector<Attempt>>& attempts() const { return attempts_; }
  const std::map<JobId, Hold>& open_holds() const { return open_holds_; }
  const std::string& log() const { return log_; }
  long reclaims() const { return reclaims_; }
  long borrowing_starts() const { return borrowing_starts_; }
  long hold_starts() const { return hold_starts_; }

 private:
  // One pass: the snapshot and decisions, indexed.
  struct Pass {
    const Snapshot& s;
    const Decisions& d;
    std::map<JobId, const PendingJob*> pending;
    std::map<JobId, const RunningJob*> running;
    std::map<JobId, std::size_t> start_of;                // index in d.starts
    std::map<JobId, const Hold*> old_hold;                // Snapshot::holds, of jobs still pending
    std::map<JobId, const Hold*> new_hold;                // Decisions::holds
    std::map<std::string, std::vector<int>> running_use;  // tenant -> devices by type
    std::map<std::string, std::vector<int>> held_use;     // old holds' jobs (counted first)
    std::map<std::string, std::vector<int>> end_use;      // after the pass
    std::set<JobId> borrowing;                            // running jobs borrowing (rule)

    Pass(const Snapshot& snap, const Decisions& dec, const TenantShares& shares) : s(snap), d(dec) {
      for (const auto& x : s.pending) pending[x.job->id] = &x;
      for (const auto& x : s.running) running[x.job->id] = &x;
      for (std::size_t i = 0; i < d.starts.size(); ++i) start_of[d.starts[i].job] = i;
      for (const auto& h : s.holds)
        if (pending.count(h.for_job)) old_hold[h.for_job] = &h;
      for (const auto& h : d.holds) new_hold[h.for_job] = &h;
      // The rule of share_gate.h: by (started, id), a running job is borrowing when what its
      // tenant started on the type before it, plus its own devices, exceed the guarantee.
      std::vector<const RunningJob*> by_start;
      for (const auto& x : s.running) by_start.push_back(&x);
      std::sort(by_start.begin(), by_start.end(), [](const RunningJob* a, const RunningJob* b) {
        return a->started != b->started ? a->started < b->started : a->job->id < b->job->id;
      });
      for (const RunningJob* r : by_start) {
        int& u = use(running_use, r->job->tenant)[r->type];
        u += r->job->accel_count;
        if (u > shares.share_of(r->job->tenant).of(r->type).guaranteed)
          borrowing.insert(r->job->id);
      }
      for (const auto& [id, h] : old_hold)
        use(held_use, job(id).tenant)[h->type] += job(id).accel_count;
      end_use = running_use;
      for (const auto& [id, h] : old_hold)
        if (!start_of.count(id)) use(end_use, job(id).tenant)[h->type] += job(id).accel_count;
      for (const auto& pr : d.preemptions)
        if (running.count(pr.job)) {
          const RunningJob& r = *running.at(pr.job);
          use(end_use, r.job->tenant)[r.type] -= r.job->accel_count;
        }
      for (const auto& st : d.starts)
        if (pending.count(st.job))
          use(end_use, job(st.job).tenant)[st.type] += job(st.job).accel_count;
      for (const auto& h : d.holds)
        if (pending.count(h.for_job))
          use(end_use, job(h.for_job).tenant)[h.type] += job(h.for_job).accel_count;
    }
    static std::vector<int>& use(std::map<std::string, std::vector<int>>& m, const std::string& t) {
      auto& v = m[t];
      if (v.empty()) v.assign(catalog().size(), 0);
      return v;
    }
    static int get(const std::map<std::string, std::vector<int>>& m, const std::string& t,
                   TypeId type) {
      auto it = m.find(t);
      return it == m.end() ? 0 : it->second[type];
    }
    const Job& job(JobId id) const { return *pending.at(id)->job; }
    // The type a pending job starts or is held on in this pass, -1 if neither.
    int placed_type(JobId id) const {
      if (auto it = start_of.find(id); it != start_of.end())
        return static_cast<int>(d.starts[it->second].type);
      if (auto it = new_hold.find(id); it != new_hold.end())
        return static_cast<int>(it->second->type);
      return -1;
    }
    const Placement* placed_on(JobId id) const {
      if (auto it = start_of.find(id); it != start_of.end()) return &d.starts[it->second].placement;
      if (auto it = new_hold.find(id); it != new_hold.end()) return &it->second->placement;
      return nullptr;
    }
  };

  void fail(Prop k, TimeMs now, const std::string& what) const {
    if (counts_[k]++ == 0) first_[k] = "t=" + std::to_string(now) + ": " + what;
  }

  // 1. After the pass (running jobs, minus its preemptions, plus its starts and the jobs that
  // hold devices), no tenant holds more of a type than its share's limit. A tenant that is not
  // listed, when there is no default entry, has limit 0 everywhere: its jobs never start.
  void check_limits(const Pass& p, TimeMs now) const {
    for (const auto& [tenant, by_type] : p.end_use)
      for (TypeId t = 0; t < by_type.size(); ++t) {
        const TypeQuota& q = shares_.share_of(tenant).of(t);
        if (by_type[t] > q.limit())
          fail(kLimit, now,
               "tenant '" + tenant + "' holds " + std::to_string(by_type[t]) + " x " +
                   catalog().name(t) + ", quota " + quota_text(q));
      }
  }

  // 2. Every preemption is a reclaim: of a running job that is borrowing by the rule, that ran
  // at least min_run_ms, of another tenant than the job it is for, on the type that job starts
  // or is held on, sharing a node with that job's devices; and that job stood within its
  // guarantee on the type when it reclaimed, and did not fit without a victim. Without a grace
  // period the pass's order is known (each reclaim starts its job at once), so the standing is
  // checked exactly; with one, against the least the tenant can have held then (running jobs
  // less its preempted ones, plus holds).
  void check_victims(const Pass& p, TimeMs now) const {
    const bool grace = p.s.params.preempt_grace_ms > 0;
    std::set<JobId> checked_need;
    for (const auto& pr : p.d.preemptions) {
      const std::string who = "job " + std::to_string(pr.job) + " preempted for job " +
                              std::to_string(pr.for_job) + ": ";
      if (!pr.reclaim) fail(kVictim, now, who + "not a reclaim");
      auto rit = p.running.find(pr.job);
      auto fit = p.pending.find(pr.for_job);
      if (rit == p.running.end() || fit == p.pending.end()) {
        fail(kVictim, now, who + "not running, or the other job is not waiting");
        continue;
      }
      const RunningJob& v = *rit->second;
      const Job& f = *fit->second->job;
      if (!p.borrowing.count(pr.job))
        fail(kVictim, now, who + "the victim is within its tenant's guarantee");
      if (now - v.started < p.s.params.min_run_ms)
        fail(kVictim, now,
             who + "the victim ran " + std::to_string(now - v.started) +
                 " ms, less than min_run_ms");
      if (v.job->tenant == f.tenant) fail(kVictim, now, who + "both of tenant '" + f.tenant + "'");
      const int t = p.placed_type(f.id);
      if (t < 0) {
        fail(kVictim, now, who + "which neither starts nor gets a hold");
        continue;
      }
      const auto type = static_cast<TypeId>(t);
      if (v.type != type)
        fail(kVictim, now,
             who + "victim on " + catalog().name(v.type) + ", job placed on " +
                 catalog().name(type));
      if (!shares_node(v.placement, *p.placed_on(f.id)))
        fail(kVictim, now,
             who + "the job's devices" + text(*p.placed_on(f.id)) +
                 " share no node with the victim's" + text(v.placement));
      // It needed a victim: it does not fit on the devices free when it reclaimed (at least:
      // free in the snapshot, less held and reserved devices, less the pass's starts before it
      // and plus the victims of its earlier reclaims; with a grace period, less every start and
      // every other hold).
      if (!checked_need.count(f.id)) {
        checked_need.insert(f.id);
        FreePool pool(*p.s.cluster, p.s.nodes);
        for (const auto& [id, h] : p.old_hold) pool.remove_devices(h->placement);
        const auto it = p.start_of.find(f.id);
        const std::size_t upto = grace || it == p.start_of.end() ? p.d.starts.size() : it->second;
        if (!grace)
          for (const auto& other : p.d.preemptions)
            if (p.start_of.count(other.for_job) && p.start_of.at(other.for_job) < upto)
              pool.give(p.running.at(other.job)->placement, *p.running.at(other.job)->job);
        for (std::size_t i = 0; i < upto; ++i)
          pool.take(p.d.starts[i].placement, p.job(p.d.starts[i].job));
        for (const auto& h : p.d.holds)
          if (h.for_job != f.id) pool.remove_devices(h.placement);
        for (const auto& r : p.d.reservations) pool.remove_devices(r.placement);
        if (pool.free_of_type(type) >= f.accel_count && pool.find(f, type))
          fail(
              kVictim, now,
              who + "the job fits on free " + catalog().name(type) + " devices without any victim");
      }
      // The reclaiming job's standing on `type` when it reclaimed.
      auto index = [&](JobId id) {
        auto it = p.start_of.find(id);
        return it == p.start_of.end() ? p.d.starts.size() : it->second;
      };
      int before = Pass::get(p.running_use, f.tenant, type) + Pass::get(p.held_use, f.tenant, type);
      const std::size_t at = grace ? 0 : index(f.id);
      for (const auto& other : p.d.preemptions) {
        auto o = p.running.find(other.job);
        if (o == p.running.end() || o->second->job->tenant != f.tenant || o->second->type != type)
          continue;
        if (grace || index(other.for_job) < at) before -= o->second->job->accel_count;
      }
      if (!grace)
        for (std::size_t i = 0; i < at; ++i)
          if (p.d.starts[i].type == type && p.job(p.d.starts[i].job).tenant == f.tenant)
            before += p.job(p.d.starts[i].job).accel_count;
      const int g = shares_.share_of(f.tenant).of(type).guaranteed;
      if (before + f.accel_count > g)
        fail(kVictim, now,
             who + "its tenant '" + f.tenant + "' held at least " + std::to_string(before) + " x " +
                 catalog().name(type) + " before it, guarantee " + std::to_string(g) +
                 ": not within guarantee");
    }
  }

  // 3. If a job started borrowing on type t (certainly: its tenant's least possible holding of t
  // before it, plus it, exceeds the guarantee), then (a) every waiting job of another tenant
  // that is within guarantee on t both before and after the pass either started, got a hold, or
  // cannot fit on the devices of t still free after the pass, less the devices reserved for
  // blocked jobs (EASY's head) and held for reclaims (a job that holds a reservation on another
  // type, as hetero waiting for a faster type, is excused); and (b) the devices of t left free
  // cover what the waiting jobs within guarantee still need by count (see below): a borrower
  // may not take devices a guarantee will need once more of them free up.
  void check_borrowing(const Pass& p, TimeMs now) const {
    std::map<TypeId, std::pair<JobId, std::string>> borrowed;  // type -> a borrowing start
    for (std::size_t i = 0; i < p.d.starts.size(); ++i) {
      const StartDecision& st = p.d.starts[i];
      const Job& b = p.job(st.job);
      int least =
          Pass::get(p.running_use, b.tenant, st.type) + Pass::get(p.held_use, b.tenant, st.type);
      for (const auto& pr : p.d.preemptions) {
        const RunningJob& o = *p.running.at(pr.job);
        if (o.job->tenant == b.tenant && o.type == st.type) least -= o.job->accel_count;
      }
      for (std::size_t k = 0; k < i; ++k)
        if (p.d.starts[k].type == st.type && p.job(p.d.starts[k].job).tenant == b.tenant &&
            !p.old_hold.count(p.d.starts[k].job))
          least += p.job(p.d.starts[k].job).accel_count;
      if (p.old_hold.count(st.job)) continue;  // counted as held from the start of the pass
      if (least + b.accel_count > shares_.share_of(b.tenant).of(st.type).guaranteed) {
        ++borrowing_starts_;
        borrowed.emplace(st.type, std::make_pair(st.job, b.tenant));
      }
    }
    if (borrowed.empty()) return;
    // The free devices after the pass.
    FreePool pool(*p.s.cluster, p.s.nodes);
    if (p.s.params.preempt_grace_ms == 0)
      for (const auto& pr : p.d.preemptions) {
        const RunningJob& r = *p.running.at(pr.job);
        pool.give(r.placement, *r.job);
      }
    for (const auto& st : p.d.starts) pool.take(st.placement, p.job(st.job));
    for (const auto& [id, h] : p.old_hold) pool.remove_devices(h->placement);
    for (const auto& h : p.d.holds) pool.remove_devices(h.placement);
    std::map<TypeId, int> free_after;  // the pool borrowers were checked against
    for (const auto& [type, start] : borrowed) free_after[type] = pool.free_of_type(type);
    for (const auto& r : p.d.reservations) pool.remove_devices(r.placement);
    std::set<JobId> decided;
    for (const auto& st : p.d.starts) decided.insert(st.job);
    for (const auto& h : p.d.holds) decided.insert(h.for_job);
    for (const auto& r : p.d.rejections) decided.insert(r.job);
    for (const auto& [id, h] : p.old_hold) decided.insert(id);
    // (b) What the borrowers left free covers what the guarantees of waiting jobs still need:
    // per tenant, the smaller of its unused guarantee and the devices its waiting jobs within
    // guarantee ask for (ShareGate::held_back; the waiting jobs counted are those within
    // guarantee on the type before and after the pass, of tenants that lost no job on it in
    // this pass: they were offered, within guarantee, before any borrowing job).
    std::set<std::pair<std::string, TypeId>> lost;
    for (const auto& pr : p.d.preemptions) {
      const RunningJob& r = *p.running.at(pr.job);
      lost.insert({r.job->tenant, r.type});
    }
    for (const auto& [type, start] : borrowed) {
      std::map<std::string, int> unmet;
      for (const auto& w : p.s.pending) {
        const Job& j = *w.job;
        if (decided.count(j.id) || !j.accepted.contains(type) || lost.count({j.tenant, type}))
          continue;
        const int g = shares_.share_of(j.tenant).of(type).guaranteed;
        if (Pass::get(p.running_use, j.tenant, type) + Pass::get(p.held_use, j.tenant, type) +
                    j.accel_count >
                g ||
            Pass::get(p.end_use, j.tenant, type) + j.accel_count > g)
          continue;
        Job one = j;
        one.accepted = TypeSet::of(type);
        if (!never_fits(one, *p.s.cluster, catalog())) unmet[j.tenant] += j.accel_count;
      }
      int held = 0;
      for (const auto& [tenant, n] : unmet) {
        const int headroom =
            shares_.share_of(tenant).of(type).guaranteed - Pass::get(p.end_use, tenant, type);
        held += std::max(0, std::min(headroom, n));
      }
      if (free_after[type] < held)
        fail(kBorrowAhead, now,
             "job " + std::to_string(start.first) + " (tenant '" + start.second +
                 "') started borrowing " + catalog().name(type) + ", leaving " +
                 std::to_string(free_after[type]) +
                 " free, while waiting jobs within guarantee "
                 "need " +
                 std::to_string(held));
    }
    // (a) No waiting job within guarantee of another tenant fits on what is left free.
    for (const auto& [type, start] : borrowed) {
      for (const auto& w : p.s.pending) {
        const Job& j = *w.job;
        if (decided.count(j.id) || j.tenant == start.second || !j.accepted.contains(type)) continue;
        const int g = shares_.share_of(j.tenant).of(type).guaranteed;
        const int before =
            Pass::get(p.running_use, j.tenant, type) + Pass::get(p.held_use, j.tenant, type);
        if (before + j.accel_count > g || Pass::get(p.end_use, j.tenant, type) + j.accel_count > g)
          continue;
        bool waits_elsewhere = false;
        for (const auto& r : p.d.reservations)
          waits_elsewhere = waits_elsewhere || (r.job == j.id && r.type != type);
        if (waits_elsewhere) continue;
        if (pool.free_of_type(type) >= j.accel_count && pool.find(j, type))
          fail(kBorrowAhead, now,
               "job " + std::to_string(start.first) + " (tenant '" + start.second +
                   "') started borrowing " + catalog().name(type) + " while job " +
                   std::to_string(j.id) + " (tenant '" + j.tenant + "', " +
                   std::to_string(j.accel_count) +
                   " devices) is within guarantee and fits on the devices left free");
      }
    }
  }

  // 3 (c). EASY and hetero (fifo stops at its first blocked job by design): no waiting job
  // within guarantee on a type, before and after the pass, fits on the devices of the type left
  // free after it (less held and reserved devices), unless it holds a reservation on another
  // type (hetero waits for a faster one).
  void check_within_left(const Pass& p, TimeMs now) const {
    if (inner_->name() == "fifo") return;
    FreePool pool(*p.s.cluster, p.s.nodes);
    if (p.s.params.preempt_grace_ms == 0)
      for (const auto& pr : p.d.preemptions) {
        const RunningJob& r = *p.running.at(pr.job);
        pool.give(r.placement, *r.job);
      }
    for (const auto& st : p.d.starts) pool.take(st.placement, p.job(st.job));
    for (const auto& [id, h] : p.old_hold) pool.remove_devices(h->placement);
    for (const auto& h : p.d.holds) pool.remove_devices(h.placement);
    for (const auto& r : p.d.reservations) pool.remove_devices(r.placement);
    std::set<JobId> decided;
    for (const auto& st : p.d.starts) decided.insert(st.job);
    for (const auto& h : p.d.holds) decided.insert(h.for_job);
    for (const auto& r : p.d.rejections) decided.insert(r.job);
    for (const auto& [id, h] : p.old_hold) decided.insert(id);
    for (const auto& w : p.s.pending) {
      const Job& j = *w.job;
      if (decided.count(j.id)) continue;
      for (TypeId type : present_types(*p.s.cluster)) {
        if (!j.accepted.contains(type)) continue;
        const int g = shares_.share_of(j.tenant).of(type).guaranteed;
        if (Pass::get(p.running_use, j.tenant, type) + Pass::get(p.held_use, j.tenant, type) +
                    j.accel_count >
                g ||
            Pass::get(p.end_use, j.tenant, type) + j.accel_count > g)
          continue;
        bool waits_elsewhere = false;
        for (const auto& r : p.d.reservations)
          waits_elsewhere = waits_elsewhere || (r.job == j.id && r.type != type);
        if (waits_elsewhere) continue;
        if (pool.free_of_type(type) >= j.accel_count && pool.find(j, type))
          fail(kBorrowAhead, now,
               "job " + std::to_string(j.id) + " (tenant '" + j.tenant +
                   "') is within guarantee on " + catalog().name(type) +
                   " and fits on the devices left free, but waits");
      }
    }
  }

  // 4. A job with a hold starts exactly on its held devices; no other job starts on held
  // devices (old holds, or this pass's); a new hold is for a waiting job without one, on free
  // devices and its own victims' devices, overlapping no other hold.
  void check_holds(const Pass& p, TimeMs now) const {
    std::vector<const Hold*> all;
    for (const auto& [id, h] : p.old_hold) all.push_back(h);
    for (const auto& h : p.d.holds) all.push_back(&h);
    for (const auto& st : p.d.starts) {
      if (auto it = p.old_hold.find(st.job); it != p.old_hold.end()) {
        ++hold_starts_;
        if (st.type != it->second->type || sorted(st.placement) != sorted(it->second->placement))
          fail(kHolds, now,
               "job " + std::to_string(st.job) + " held" + text(it->second->placement) +
                   " but starts on" + text(st.placement));
      }
      for (const Hold* h : all)
        if (h->for_job != st.job && overlaps(st.placement, h->placement))
          fail(kHolds, now,
               "job " + std::to_string(st.job) + " starts on" + text(st.placement) +
                   ", held for job " + std::to_string(h->for_job) + text(h->placement));
    }
    for (const auto& h : p.d.holds) {
      const std::string who = "hold for job " + std::to_string(h.for_job) + ": ";
      if (!p.pending.count(h.for_job) || p.old_hold.count(h.for_job) ||
          p.start_of.count(h.for_job)) {
        fail(kHolds, now, who + "the job is not waiting, already holds devices, or starts");
        continue;
      }
      for (const Slot& sl : h.placement) {
        std::uint64_t allowed = p.s.nodes[sl.node].usable();
        for (const auto& pr : p.d.preemptions)
          if (pr.for_job == h.for_job)
            for (const Slot& v : p.running.at(pr.job)->placement)
              if (v.node == sl.node) allowed |= v.devices;
        if (sl.devices & ~allowed)
          fail(kHolds, now,
               who + "node " + std::to_string(sl.node) + " devices " +
                   std::to_string(sl.devices & ~allowed) + " are neither free nor its victims'");
      }
      for (const Hold* o : all)
        if (o != &h && overlaps(o->placement, h.placement))
          fail(kHolds, now, who + "overlaps the hold for job " + std::to_string(o->for_job));
    }
  }

  // 6. No eviction cycle, in a form checked exactly: when job F reclaims devices of type t at
  // time T1 (it stands within its guarantee there: its tenant's holding then, plus F, fits the
  // guarantee), F can later be a reclaim victim itself only if, at that preemption, its tenant
  // runs on t some other job E that started at or after T1 and precedes F in (started, id)
  // order. Every job of F's tenant that precedes F and started before T1 was counted in its
  // holding at T1, so without such an E the (started, id) prefix up to F is within the
  // guarantee and F is not borrowing. So devices never go back and forth between two tenants
  // (X reclaims from Y, then Y from X) unless the first tenant took more of the type meanwhile.
  void check_cycle(const Pass& p, TimeMs now) const {
    for (const auto& pr : p.d.preemptions) {
      auto it = reclaimed_at_.find(pr.job);
      if (it == reclaimed_at_.end() || !p.running.count(pr.job)) continue;
      const RunningJob& f = *p.running.at(pr.job);
      bool other = false;
      for (const auto& e : p.s.running)
        if (e.job != f.job && e.job->tenant == f.job->tenant && e.type == f.type &&
            e.started >= it->second &&
            (e.started != f.started ? e.started < f.started : e.job->id < f.job->id))
          other = true;
      if (!other)
        fail(kCycle, now,
             "job " + std::to_string(pr.job) + " reclaimed devices at t=" +
                 std::to_string(it->second) + " and is reclaimed itself for job " +
                 std::to_string(pr.for_job) + ", its tenant '" + f.job->tenant +
                 "' having started nothing else on " + catalog().name(f.type));
    }
  }

  void record(const Pass& p, TimeMs now) const {
    std::ostringstream log;
    log << "t=" << now << "\n";
    const TimeMs grace = p.s.params.preempt_grace_ms;
    for (const auto& pr : p.d.preemptions) {
      log << " preempt " << pr.job << " for " << pr.for_job << (pr.reclaim ? " reclaim" : "")
          << "\n";
      ++reclaims_;
      auto& a = attempts_[pr.job];
      if (!a.empty() && a.back().stop < 0) a.back().stop = now + (pr.reclaim ? grace : 0);
      reclaimed_at_.erase(pr.job);
      reclaimed_at_[pr.for_job] = now;
    }
    for (const auto& h : p.d.holds) {
      log << " hold " << h.for_job << " type " << h.type << text(h.placement) << "\n";
      open_holds_[h.for_job] = h;
    }
    for (const auto& st : p.d.starts) {
      log << " start " << st.job << " type " << st.type << (st.backfilled ? " backfilled" : "")
          << text(st.placement) << "\n";
      attempts_[st.job].push_back({now, st.type, -1});
      if (auto it = open_holds_.find(st.job); it != open_holds_.end()) {
        if (sorted(it->second.placement) != sorted(st.placement))
          fail(kHolds, now, "job " + std::to_string(st.job) + " starts off its hold");
        open_holds_.erase(it);
      }
    }
    for (const auto& r : p.d.rejections) log << " reject " << r.job << "\n";
    for (const auto& r : p.d.reservations)
      log << " reserve " << r.job << " type " << r.type << " at " << r.at << text(r.placement)
          << "\n";
    for (const auto& w : p.d.waits)
      log << " wait " << w.job << ": " << p.d.wait_reasons.at(w.reason) << "\n";
    log << " wake " << p.d.wake_at << "\n";
    log_ += log.str();
  }

  std::unique_ptr<Policy> inner_;
  const TenantShares& shares_;
  mutable std::array<int, kProps> counts_{};
  mutable std::array<std::string, kProps> first_;
  mutable std::map<JobId, std::vector<Attempt>> attempts_;
  mutable std::map<JobId, Hold> open_holds_;      // made, their job not started yet
  mutable std::map<JobId, TimeMs> reclaimed_at_;  // job -> when it last reclaimed
  mutable std::string log_;
  mutable long reclaims_ = 0, borrowing_starts_ = 0, hold_starts_ = 0;
};

SimOptions options_for(const TenantWorld& w) {
  SimOptions opt;
  opt.use_shares(w.shares, false);
  return opt;
}

// 5. Accounting: every job's runs as the decisions show them (a reclaimed run ends after the
// grace, a preempted one at once, the last at JobOutcome::end) give its attempts, preemptions,
// run time, accelerator-ms (== accel_count x run_ms, exactly) and cost; the jobs' accelerator-ms
// add up to the simulator's busy integral; compute_metrics' tenant rows are the jobs' sums; and
// costs in integer milli-units add up to one total by tenant, by user and by job.
void check_accounting(const TenantWorld& w, const TenantAudit& audit, const SimResult& r,
                      const std::string& ctx) {
  ASSERT_EQ(r.jobs.size(), w.jobs.size()) << ctx;
  double busy = 0;
  for (std::size_t i = 0; i < w.jobs.size(); ++i) {
    const Job& j = w.jobs[i];
    const JobOutcome& o = r.jobs[i];
    ASSERT_EQ(o.id, j.id) << ctx;
    EXPECT_EQ(o.tenant, j.tenant) << ctx;
    EXPECT_EQ(o.user, j.user) << ctx;
    auto it = audit.attempts().find(j.id);
    const std::vector<Attempt> none;
    const auto& runs = it == audit.attempts().end() ? none : it->second;
    EXPECT_EQ(o.attempts, static_cast<int>(runs.size())) << ctx << ": job " << j.id;
    int preempted = 0;
    TimeMs held = 0;
    double cost = 0;
    for (std::size_t k = 0; k < runs.size(); ++k) {
      const bool last = k + 1 == runs.size();
      TimeMs stop = runs[k].stop;
      if (stop >= 0) ++preempted;
      if (last && stop < 0) stop = o.end;
      ASSERT_GE(stop, runs[k].start) << ctx << ": job " << j.id << " attempt " << k;
      EXPECT_TRUE(last || runs[k].stop >= 0) << ctx << ": job " << j.id << " restarted unstopped";
      held += stop - runs[k].start;
      cost += static_cast<double>(stop - runs[k].start) * j.accel_count / 3.6e6 *
              w.shares.price(runs[k].type);
    }
    if (!o.rejected) {
      EXPECT_FALSE(runs.empty()) << ctx << ": job " << j.id;
      EXPECT_TRUE(runs.empty() || runs.back().stop < 0) << ctx << ": job " << j.id;
    }
    EXPECT_EQ(o.preemptions, preempted) << ctx << ": job " << j.id;
    EXPECT_EQ(o.run_ms, held) << ctx << ": job " << j.id;
    EXPECT_EQ(o.accel_ms, static_cast<double>(j.accel_count) * static_cast<double>(o.run_ms))
        << ctx << ": job " << j.id;
    EXPECT_NEAR(o.cost, cost, 1e-9 * std::max(1.0, cost)) << ctx << ": job " << j.id;
    busy += o.accel_ms;
  }
  EXPECT_EQ(busy, r.busy_accel_ms) << ctx << ": the jobs' accelerator-ms vs the busy integral";

  const PolicyMetrics m = compute_metrics(r, &w.shares);
  std::map<std::string, std::pair<double, double>> by_tenant;  // accel-hours, cost
  std::map<std::string, long long> milli_tenant, milli_user;
  long long milli_jobs = 0;
  double total_cost = 0;
  for (const auto& o : r.jobs) {
    by_tenant[o.tenant].first += o.accel_ms / 3.6e6;
    by_tenant[o.tenant].second += o.cost;
    total_cost += o.cost;
    const long long milli = std::llround(o.cost * 1000);
    milli_tenant[o.tenant] += milli;
    milli_user[o.user] += milli;
    milli_jobs += milli;
  }
  EXPECT_NEAR(m.cost, total_cost, 1e-9 * std::max(1.0, total_cost)) << ctx;
  for (const auto& t : m.tenants) {
    const auto it = by_tenant.find(t.tenant);
    const double hours = it == by_tenant.end() ? 0 : it->second.first;
    const double cost = it == by_tenant.end() ? 0 : it->second.second;
    EXPECT_NEAR(t.accel_hours, hours, 1e-9 * std::max(1.0, hours)) << ctx << ": " << t.tenant;
    EXPECT_NEAR(t.cost, cost, 1e-9 * std::max(1.0, cost)) << ctx << ": " << t.tenant;
  }
  for (const auto& [name, sums] : by_tenant)
    EXPECT_TRUE(std::any_of(m.tenants.begin(), m.tenants.end(),
                            [&](const TenantMetrics& t) { return t.tenant == name; }))
        << ctx << ": tenant '" << name << "' has no row";
  long long a = 0, b = 0;
  for (const auto& [k, v] : milli_tenant) a += v;
  for (const auto& [k, v] : milli_user) b += v;
  EXPECT_EQ(a, milli_jobs) << ctx;
  EXPECT_EQ(b, milli_jobs) << ctx;
  EXPECT_LE(std::llabs(milli_jobs - std::llround(m.cost * 1000)),
            static_cast<long long>(r.jobs.size()) / 2 + 1)
      << ctx;
}

// Every job ends or is rejected; a job rejected for never starting is over its tenant's limit
// on every type it accepts and fits on when the cluster is idle (or never fits at all).
void check_outcomes(const TenantWorld& w, const SimResult& r, const std::string& ctx) {
  std::vector<NodeState> nodes(w.cluster.nodes.size());
  for (NodeId n = 0; n < nodes.size(); ++n) {
    const Node& node = w.cluster.nodes[n];
    nodes[n].free = node.accel_count >= 64 ? ~0ull : (1ull << node.accel_count) - 1;
    nodes[n].free_cpu = node.cpu_cores;
    nodes[n].free_mem_gib = node.memory_gib;
  }
  const FreePool idle(w.cluster, nodes);
  for (std::size_t i = 0; i < w.jobs.size(); ++i) {
    const Job& j = w.jobs[i];
    const JobOutcome& o = r.jobs[i];
    if (!o.rejected) {
      EXPECT_GE(o.end, o.first_start) << ctx << ": job " << j.id;
      EXPECT_GE(o.first_start, j.submit) << ctx << ": job " << j.id;
      continue;
    }
    if (never_fits(j, w.cluster, catalog())) continue;
    const TenantShare& share = w.shares.share_of(j.tenant);
    for (TypeId t : present_types(w.cluster))
      if (j.accepted.contains(t) && idle.find(j, t)) {
        EXPECT_GT(j.accel_count, share.of(t).limit())
            << ctx << ": job " << j.id << " of tenant '" << j.tenant << "' never ran ("
            << o.reject_reason << ") though it fits its quota of " << catalog().name(t);
      }
  }
}

struct RunOutcome {
  SimResult result;
  std::string problems;
  std::string log;
  std::string thrown;  // the simulator's checker refused a pass
  long reclaims = 0, borrowing_starts = 0, hold_starts = 0;
  std::array<int, kProps> counts{};
};

// `outcome_checks`: also the checks on the SimResult (accounting, nothing waits forever).
RunOutcome run_audited(const TenantWorld& w, std::unique_ptr<Policy> policy, const std::string& ctx,
                       bool outcome_checks = true) {
  TenantAudit audit(std::move(policy), w.shares);
  RunOutcome out;
  const SimOptions opt = options_for(w);
  // The simulator's own checker (decision_check.h) refuses a pass that breaks the shares: with
  // `outcome_checks` off (policies that ignore the rules on purpose) that is expected.
  try {
    out.result = simulate(w.cluster, catalog(), &speeds(), w.jobs, audit, opt);
  } catch (const std::logic_error& e) {
    out.thrown = e.what();
    if (outcome_checks) ADD_FAILURE() << ctx << ": " << e.what();
  }
  out.problems = audit.problems();
  out.log = audit.log();
  out.reclaims = audit.reclaims();
  out.borrowing_starts = audit.borrowing_starts();
  out.hold_starts = audit.hold_starts();
  for (int k = 0; k < kProps; ++k) out.counts[k] = audit.count(static_cast<Prop>(k));
  if (!outcome_checks) return out;
  check_accounting(w, audit, out.result, ctx);
  check_outcomes(w, out.result, ctx);
  for (const auto& [id, h] : audit.open_holds())
    ADD_FAILURE() << ctx << ": job " << id << " held" << text(h.placement) << " and never started";
  return out;
}

void expect_same(const SimResult& a, const SimResult& b, const std::string& ctx) {
  ASSERT_EQ(a.jobs.size(), b.jobs.size()) << ctx;
  for (std::size_t i = 0; i < a.jobs.size(); ++i) {
    const auto &x = a.jobs[i], &y = b.jobs[i];
    EXPECT_TRUE(x.id == y.id && x.rejected == y.rejected && x.reject_reason == y.reject_reason &&
                x.first_start == y.first_start && x.last_start == y.last_start && x.end == y.end &&
                x.run_ms == y.run_ms && x.preemptions == y.preemptions &&
                x.attempts == y.attempts && x.type == y.type && x.nodes == y.nodes &&
                x.accel_ms == y.accel_ms && x.cost == y.cost && x.backfilled == y.backfilled)
        << ctx << ": job " << x.id << " differs between runs";
  }
  EXPECT_EQ(a.busy_accel_ms, b.busy_accel_ms) << ctx;
  EXPECT_EQ(a.passes, b.passes) << ctx;
  EXPECT_EQ(a.preemptions, b.preemptions) << ctx;
}

// About 2 s per policy under ASan.
constexpr std::uint64_t kWorlds = 100;

std::uint64_t world_seed(std::uint64_t k) {
  return k * 2654435761u + 101;
}

class TenantSimProperty : public testing::TestWithParam<std::string> {};

TEST_P(TenantSimProperty, SharesHoldOnEveryPass) {
  long reclaims = 0, borrowing = 0, hold_starts = 0, finished = 0;
  for (std::uint64_t k = 1; k <= kWorlds; ++k) {
    const TenantWorld w = random_world(world_seed(k));
    const std::string ctx = GetParam() + " world seed " + std::to_string(world_seed(k));
    // What `zs sim --tenants` checks before it runs: generate only what production accepts.
    ASSERT_TRUE(w.shares.shortfalls(w.cluster, catalog()).empty()) << ctx;
    ASSERT_TRUE(w.shares.unpriced_types(w.cluster, catalog()).empty()) << ctx;
    const RunOutcome a = run_audited(w, make_policy(GetParam()), ctx);
    EXPECT_TRUE(a.problems.empty()) << ctx << "\n" << a.problems;
    // 7. Determinism: a second run decides the same, pass by pass.
    const RunOutcome b = run_audited(w, make_policy(GetParam()), ctx + " (second run)");
    expect_same(a.result, b.result, ctx);
    EXPECT_TRUE(a.log == b.log) << ctx << ": the decisions differ between two runs";
    // ... and the order of the jobs in the input does not matter (the simulator replays them in
    // (submit, id) order; ties between tenants must not depend on which one the input names
    // first).
    TenantWorld reversed = w;
    std::reverse(reversed.jobs.begin(), reversed.jobs.end());
    RunOutcome c = run_audited(reversed, make_policy(GetParam()), ctx + " (jobs reversed)");
    std::reverse(c.result.jobs.begin(), c.result.jobs.end());
    expect_same(a.result, c.result, ctx + " (jobs given in reverse order)");
    EXPECT_TRUE(a.log == c.log) << ctx << ": the decisions depend on the order of the input";
    reclaims += a.reclaims;
    borrowing += a.borrowing_starts;
    hold_starts += a.hold_starts;
    for (const auto& o : a.result.jobs) finished += !o.rejected;
    if (HasFailure()) {
      ADD_FAILURE() << describe(w);
      return;
    }
  }
  // The generator must exercise what is checked.
  const auto worlds = static_cast<long>(kWorlds);
  EXPECT_GT(finished, worlds * 15);
  EXPECT_GT(reclaims, worlds);
  EXPECT_GT(borrowing, worlds * 10);
  EXPECT_GT(hold_starts, worlds / 5);
}

// --- The audit must be able to fail: policies that break the rules on purpose ---

// Hides from the policy what the rules need: the shares (it then schedules as if there were
// none), or the holds (held devices look free, and holders compete like any job).
class Blindfold : public Policy {
 public:
  enum class Hide { kShares, kHolds };
  Blindfold(std::unique_ptr<Policy> inner, Hide hide) : inner_(std::move(inner)), hide_(hide) {}
  std::string_view name() const override { return inner_->name(); }
  Decisions decide(const Snapshot& s, TimeMs now) const override {
    Snapshot blind = s;
    if (hide_ == Hide::kShares) {
      blind.shares = nullptr;
      blind.tenants = {};
      blind.holds = {};
    } else {
      blind.holds = {};
    }
    return inner_->decide(blind, now);
  }

 private:
  std::unique_ptr<Policy> inner_;
  Hide hide_;
};

TEST(TenantProperty, AuditCatchesPoliciesThatIgnoreTheRules) {
  std::array<int, kProps> shares_blind{}, holds_blind{};
  int checker_refused = 0;
  for (std::uint64_t k = 1; k <= 20; ++k) {
    const TenantWorld w = random_world(world_seed(k));
    const std::string ctx = "world seed " + std::to_string(world_seed(k));
    const RunOutcome a = run_audited(
        w, std::make_unique<Blindfold>(make_policy("easy"), Blindfold::Hide::kShares), ctx, false);
    const RunOutcome b = run_audited(
        w, std::make_unique<Blindfold>(make_policy("easy"), Blindfold::Hide::kHolds), ctx, false);
    for (int p = 0; p < kProps; ++p) {
      shares_blind[p] += a.counts[p];
      holds_blind[p] += b.counts[p];
    }
    for (const RunOutcome* r : {&a, &b}) {
      checker_refused += r->thrown.find("its limit is") != std::string::npos ||
                         r->thrown.find("held for job") != std::string::npos;
    }
  }
  EXPECT_GT(shares_blind[kLimit], 0) << "a policy without shares exceeds no quota";
  EXPECT_GT(holds_blind[kHolds], 0) << "a policy without holds starts nothing on held devices";
  EXPECT_GT(checker_refused, 0) << "the simulator's checker never refused such a pass";
}

// Every policy: under a tenants file las and srtf keep their class order and preempt only to
// reclaim (sched/share_pass.h).
INSTANTIATE_TEST_SUITE_P(TenantProperty, TenantSimProperty,
                         testing::Values("fifo", "easy", "hetero", "las", "srtf", "easy-pred",
                                         "spf", "gittins"));

}  // namespace
}  // namespace zs
