// What the simulator keeps from pass to pass for the policies must never change a decision:
// Snapshot::pending_in_priority_order (a promise that saves an O(queue) check on every pass)
// and Snapshot::las_index and keyed_index. A wrapping policy (FreshCheck) decides every pass twice
// - on the driver's snapshot and on the same snapshot without anything the driver kept - and the
// two must be identical, on random worlds with and without tenants' shares, equal and mixed
// priorities. It also checks the promise itself. And PendingList, which makes the promise,
// against a plain model under random adds, drops and settles.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <numeric>
#include <set>

#include "decision_text.h"
#include "sched/free_pool.h"
#include "sched/gittins_running.h"
#include "sched/keyed_index.h"
#include "sched/las_index.h"
#include "sched/las_running.h"
#include "sched/policy.h"
#include "sched/preemptive_policy.h"
#include "sched/share_index.h"
#include "sim/pending_list.h"
#include "sim/simulator.h"
#include "sim/synthetic.h"

namespace zs {
namespace {

const Catalog& catalog() {
  return Catalog::builtin();
}

// How far `order` breaks the promise of being a permutation of `running` in ascending key().
template <class Key>
long broken_order(std::span<const std::uint32_t> order, std::span<const RunningJob> running,
                  Key key) {
  long broken = order.size() != running.size();
  std::vector<bool> seen(running.size());
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::uint32_t i = order[k];
    if (i >= running.size() || seen[i]) return broken + 1;
    seen[i] = true;
    if (k > 0 && key(running[order[k - 1]]) > key(running[i])) ++broken;
  }
  return broken;
}

// Decides each pass on the driver's snapshot (the answer the simulator applies) and again on a
// fresh copy without the driver's caches; counts the passes where they differ.
class FreshCheck : public Policy {
 public:
  explicit FreshCheck(std::unique_ptr<Policy> inner) : inner_(std::move(inner)) {}
  std::string_view name() const override { return inner_->name(); }
  bool needs_oracle() const override { return inner_->needs_oracle(); }
  bool preemptive() const override { return inner_->preemptive(); }
  bool uses_las_index() const override { return inner_->uses_las_index(); }
  std::optional<WaitKey> keyed_by() const override { return inner_->keyed_by(); }

  Decisions decide(const Snapshot& s, TimeMs now) const override {
    Decisions d = inner_->decide(s, now);
    Snapshot fresh = s;
    fresh.las_index = nullptr;
    fresh.keyed_index = nullptr;
    fresh.pending_in_priority_order = false;
    fresh.share_index = nullptr;
    fresh.pending_ranks = {};
    fresh.running_by_start = {};
    fresh.running_by_end = {};
    fresh.running_by_predicted_end = {};
    fresh.free_pool = nullptr;
    fresh.las_running = nullptr;
    fresh.gittins_running = nullptr;
    fresh.running_submit_ranks = {};
    fresh.memory = nullptr;
    // ... and with running jobs whose device counts are read from their records.
    std::vector<RunningJob> unnamed(s.running.begin(), s.running.end());
    for (RunningJob& r : unnamed) r.accel_count = -1;
    fresh.running = unnamed;
    // With an index the waiting jobs may come in any order; without one, in (submit, id) order.
    const std::vector<PendingJob> sorted = test::in_submit_order(s.pending);
    fresh.pending = sorted;
    const std::string a = test::describe_decisions(d, s.share_index),
                      b = test::describe_decisions(inner_->decide(fresh, now), nullptr);
    if (!s.running_by_start.empty()) {
      std::vector<std::uint32_t> order;
      std::map<std::pair<std::int32_t, TypeId>, std::int32_t> held;
      for (const StartRow& row : s.running_by_start) {
        order.push_back(row.index);
        if (row.index < s.running.size()) {
          const RunningJob& r = s.running[row.index];
          const std::int32_t h = held[{r.job->tenant_index, r.type}] += r.job->accel_count;
          broken_promises += row != StartRow{row.index, r.job->tenant_index, r.job->accel_count,
                                             r.type,    r.started,           h};
        }
      }
      broken_promises += broken_order(order, s.running, [](const RunningJob& r) {
        return std::pair{r.started, r.job->id};
      });
    }
    for (const RunningJob& r : s.running)
      broken_promises += r.accel_count != -1 && r.accel_count != r.job->accel_count;
    if (!s.running_submit_ranks.empty()) {
      ++ranks_promised;
      // Ranks unique, in the order of (submit, id).
      std::vector<std::uint32_t> by_rank(s.running.size());
      std::iota(by_rank.begin(), by_rank.end(), 0u);
      broken_promises += s.running_submit_ranks.size() != s.running.size();
      if (s.running_submit_ranks.size() == s.running.size()) {
        std::sort(by_rank.begin(), by_rank.end(), [&](std::uint32_t x, std::uint32_t y) {
          return s.running_submit_ranks[x] < s.running_submit_ranks[y];
        });
        for (std::size_t k = 1; k < by_rank.size(); ++k)
          broken_promises +=
              s.running_submit_ranks[by_rank[k - 1]] == s.running_submit_ranks[by_rank[k]];
        broken_promises += broken_order(by_rank, s.running, [](const RunningJob& r) {
          return std::pair{r.job->submit, r.job->id};
        });
      }
    }
    if (s.las_running && s.las_running->describes(s, now)) {
      ++las_running_kept;
      // Each running job's queue as las ranks it, the jobs past their lease and their devices.
      const auto* las = dynamic_cast<const PreemptivePolicy*>(inner_.get());
      const auto cls = s.las_running->cls();
      std::vector<std::uint32_t> victims, kept_victims;
      std::vector<int> accels(s.cluster->accels_of_type.size());
      std::int64_t worst = std::numeric_limits<std::int64_t>::min();
      broken_promises += !las || cls.size() != s.running.size();
      for (std::uint32_t i = 0; las && i < s.running.size() && i < cls.size(); ++i) {
        const RunningJob& r = s.running[i];
        broken_promises += cls[i] != las->running_key(s, r, now).cls;
        if (now - r.started >= s.params.min_run_ms) {
          victims.push_back(i);
          accels[r.type] += r.job->accel_count;
          worst = std::max(worst, cls[i]);
        }
      }
      s.las_running->victims(kept_victims);
      broken_promises += kept_victims != victims || s.las_running->max_victim_cls() != worst;
      const auto kept_accels = s.las_running->victim_accels();
      for (std::size_t t = 0; t < accels.size(); ++t)
        broken_promises += accels[t] != (t < kept_accels.size() ? kept_accels[t] : 0);
    }
    if (s.gittins_running && s.gittins_running->describes(s, now)) {
      ++gittins_running_kept;
      // Each running job's key as gittins ranks it, and what the pass reads beside it.
      const auto* gittins = dynamic_cast<const PreemptivePolicy*>(inner_.get());
      const GittinsRunning& kept = *s.gittins_running;
      broken_promises += !gittins || kept.key().size() != s.running.size();
      for (std::uint32_t i = 0; gittins && i < s.running.size() && i < kept.key().size(); ++i) {
        const RunningJob& r = s.running[i];
        const int n = r.job->accel_count;
        const int bin = ServiceDistribution::bin_of(r.attained_accel_ms);
        const TimeMs next = bin + 1 < ServiceDistribution::kBins
                                ? now + std::max<TimeMs>((ServiceDistribution::bin_start(bin + 1) -
                                                          r.attained_accel_ms + n - 1) /
                                                             n,
                                                         1)
                                : kNever;
        broken_promises += kept.key()[i] != gittins->running_key(s, r, now).cls ||
                           kept.lease_end()[i] != r.started + s.params.min_run_ms ||
                           kept.next_bin_at()[i] != next || kept.accels()[i] != n ||
                           kept.types()[i] != r.type;
      }
    }
    if (s.memory) ++lent;  // compared with a pass without it (fresh.memory above)
    if (s.free_pool) {
      ++pools;
      broken_promises += !(*s.free_pool == FreePool(*s.cluster, s.nodes));
    }
    if (!s.running_by_predicted_end.empty()) {
      ++predicted_promised;
      broken_promises +=
          broken_order(s.running_by_predicted_end, s.running, [](const RunningJob& r) {
            return std::pair{r.predicted_end < kNever ? r.predicted_end : r.expected_end,
                             r.job->id};
          });
    }
    if (!s.running_by_end.empty()) {
      ++ends_promised;
      broken_promises += broken_order(s.running_by_end, s.running, [](const RunningJob& r) {
        return std::pair{r.expected_end, r.job->id};
      });
    }
    if (s.share_index) {
      ++indexed;
      if (!s.share_index->describes(s)) ++broken_promises;
      for (std::size_t i = 0; i < s.pending.size(); ++i)
        if (const PendingJob& p = s.share_index->pending(s.pending_ranks[i]);
            p.job != s.pending[i].job || p.attained_accel_ms != s.pending[i].attained_accel_ms ||
            p.waiting_since != s.pending[i].waiting_since ||
            p.last_run_ms != s.pending[i].last_run_ms ||
            p.remaining_ms != s.pending[i].remaining_ms)
          ++broken_promises;
    }
    if (s.keyed_index) {
      ++keyed;
      if (!keyed_by() || !s.keyed_index->describes(s, *keyed_by())) ++broken_promises;
    }
    // Under shares the LAS and keyed indexes file the jobs by share group (the pass merges the
    // groups in their order instead of ranking every job).
    if (s.share_index && s.share_index->describes(s)) {
      if (s.keyed_index) {
        ++grouped;
        if (!s.keyed_index->describes_groups(*s.share_index)) ++broken_promises;
      }
      if (s.las_index) {
        ++grouped;
        if (!s.las_index->describes(s, now) || !s.las_index->describes_groups(*s.share_index))
          ++broken_promises;
      }
    }
    ++passes;
    if (s.pending_in_priority_order) {
      ++promised;
      for (std::size_t i = 1; i < s.pending.size(); ++i) {
        const Job& x = *s.pending[i - 1].job;
        const Job& y = *s.pending[i].job;
        if (x.priority != y.priority || x.submit > y.submit ||
            (x.submit == y.submit && x.id > y.id))
          ++broken_promises;
      }
    }
    if (a != b && differing++ == 0)
      first_difference = "t=" + std::to_string(now) + "\n" + a + "vs\n" + b;
    return d;
  }

  mutable long passes = 0, promised = 0, indexed = 0, keyed = 0, grouped = 0, ends_promised = 0,
               pools = 0, predicted_promised = 0, ranks_promised = 0, las_running_kept = 0,
               gittins_running_kept = 0, lent = 0, broken_promises = 0, differing = 0;
  mutable std::string first_difference;

 private:
  std::unique_ptr<Policy> inner_;
};

const char* const kTypes[] = {"V100", "K80", "P100"};

struct World {
  Cluster cluster;
  TenantShares shares;
  std::vector<Job> jobs;
};

World random_world(std::uint64_t seed) {
  Rng rng(seed);
  World w;
  std::vector<NodeGroupSpec> groups;
  const int n_groups = 1 + static_cast<int>(rng.below(2));
  for (int g = 0; g < n_groups; ++g) {
    NodeGroupSpec s;
    s.accel_type = kTypes[g];
    s.accel_count = rng.below(2) ? 4 : 8;
    s.count = 1 + static_cast<int>(rng.below(3));
    s.nodes_per_leaf = 1 + static_cast<int>(rng.below(2));
    s.where = "group " + std::to_string(g);
    groups.push_back(s);
  }
  w.cluster = build_cluster(groups, catalog(), "random");
  // Tenants: guarantees that add up to at most each type, borrowing none, some or unlimited.
  const int n_tenants = 2 + static_cast<int>(rng.below(3));
  for (int i = 0; i < n_tenants; ++i) {
    TenantShare t;
    t.name = "t" + std::to_string(i);
    t.weight = rng.below(2) ? 1.0 : 2.5;
    t.quota.assign(catalog().size(), TypeQuota{});
    w.shares.tenants.push_back(std::move(t));
  }
  for (TypeId type = 0; type < w.cluster.accels_of_type.size(); ++type) {
    int left = w.cluster.accels_of_type[type];
    if (left == 0) continue;
    for (auto& t : w.shares.tenants) {
      TypeQuota& q = t.quota[type];
      q.guaranteed = static_cast<int>(rng.below(static_cast<std::uint64_t>(left) / 2 + 1));
      left -= q.guaranteed;
      const auto b = rng.below(3);
      q.borrow = b == 0 ? 0 : b == 1 ? TypeQuota::kUnlimited : 1 + static_cast<int>(rng.below(8));
    }
  }
  w.shares.half_life_ms = 3'600'000;
  w.shares.preemption.grace_ms = rng.below(2) ? 0 : 30'000;
  w.shares.preemption.min_runtime_ms = rng.below(2) ? 0 : 120'000;
  w.shares.preemption.grace_set = w.shares.preemption.min_runtime_set = true;
  w.shares.index();
  // Priorities: all equal, a few jobs above the rest (the queue is in priority order only once
  // they have left it), or mixed.
  const auto priorities = rng.below(3);
  const int n = 40 + static_cast<int>(rng.below(60));
  for (int i = 0; i < n; ++i) {
    Job j;
    j.id = static_cast<JobId>(5000 - 3 * i);
    j.submit = static_cast<TimeMs>(rng.below(900)) * 1000;
    j.duration = static_cast<TimeMs>(1 + rng.below(900)) * 1000;
    const TypeId main =
        static_cast<TypeId>(w.cluster.nodes[rng.below(w.cluster.nodes.size())].type);
    j.accel_count = 1 + static_cast<int>(rng.below(12));
    j.accepted = rng.below(3) ? TypeSet::of(main) : TypeSet::any();
    j.walltime = rng.below(4) ? j.duration : 0;
    j.priority = priorities == 0   ? 0
                 : priorities == 1 ? (rng.below(10) == 0 ? 5 : 0)
                                   : static_cast<std::int32_t>(rng.below(3));
    j.tenant = rng.below(8) ? w.shares.tenants[rng.below(w.shares.tenants.size())].name : "guest";
    w.jobs.push_back(std::move(j));
  }
  return w;
}

class DriverCacheProperty : public testing::TestWithParam<std::string> {};

TEST_P(DriverCacheProperty, CachedAndFreshPassesDecideTheSame) {
  long passes = 0, promised = 0, indexed = 0, keyed = 0, grouped = 0, ends_promised = 0, pools = 0,
       predicted_promised = 0, ranks_promised = 0, las_running_kept = 0, gittins_running_kept = 0,
       lent = 0;
  for (std::uint64_t k = 1; k <= 40; ++k) {
    const World w = random_world(k * 7919 + 13);
    for (bool shares : {false, true}) {
      const std::string ctx = GetParam() + " world " + std::to_string(k) +
                              (shares ? " with shares" : " without shares");
      FreshCheck check(make_policy(GetParam()));
      SimOptions opt;
      opt.preempt_cost_ms = 5'000;
      // Queues the random jobs cross (their service reaches 10,800 accelerator-s), and leases
      // of several lengths, none among them.
      if (k % 3 == 1) opt.sched.las_thresholds_accel_s = {300.0, 1800.0, 5400.0};
      opt.sched.min_run_ms = k % 4 == 0 ? 0 : k % 4 == 1 ? 60'000 : 5LL * 60 * 1000;
      if (shares) opt.use_shares(w.shares, false);
      simulate(w.cluster, catalog(), &ThroughputTable::builtin(), w.jobs, check, opt);
      EXPECT_EQ(check.differing, 0) << ctx << ": first difference at " << check.first_difference;
      EXPECT_EQ(check.broken_promises, 0) << ctx;
      passes += check.passes;
      promised += check.promised;
      indexed += check.indexed;
      keyed += check.keyed;
      grouped += check.grouped;
      ends_promised += check.ends_promised;
      pools += check.pools;
      predicted_promised += check.predicted_promised;
      ranks_promised += check.ranks_promised;
      las_running_kept += check.las_running_kept;
      gittins_running_kept += check.gittins_running_kept;
      lent += check.lent;
      if (HasFailure()) return;
    }
  }
  EXPECT_GT(indexed, passes / 4);             // the simulator keeps a share index under shares
  EXPECT_GT(ends_promised, passes / 2);       // and its running jobs in end order, always
  EXPECT_EQ(pools, passes);                   // and its free pool
  EXPECT_EQ(lent, passes);                    // and lends its pass memory (sched/pass_memory.h)
  EXPECT_GT(predicted_promised, passes / 2);  // and its running jobs by predicted end
  EXPECT_GT(ranks_promised, passes / 2);      // and their (submit, id) ranks
  // ... and the running jobs' LAS queues for las, their keys for gittins, without shares.
  EXPECT_TRUE(GetParam() == "las" ? las_running_kept > passes / 4 : las_running_kept == 0);
  EXPECT_TRUE(GetParam() == "gittins" ? gittins_running_kept > passes / 4
                                      : gittins_running_kept == 0);
  // ... and a keyed index for srtf, spf and gittins, a LAS index for las, with and without
  // shares (under shares filed by share group).
  const auto policy = make_policy(GetParam());
  if (policy->keyed_by()) {
    EXPECT_GT(keyed, passes / 4);
  }
  if (policy->keyed_by() || policy->uses_las_index()) {
    EXPECT_GT(grouped, passes / 8);
  } else {
    EXPECT_EQ(grouped, 0);
  }
  // Both kinds of pass must have been seen (las keeps no sorted list: it never promises).
  EXPECT_GT(passes, 1000);
  if (GetParam() != "las") {
    EXPECT_GT(promised, passes / 10);
    EXPECT_LT(promised, passes);
  }
}

INSTANTIATE_TEST_SUITE_P(Property, DriverCacheProperty,
                         testing::Values("fifo", "easy", "las", "srtf", "hetero", "easy-pred",
                                         "spf", "gittins"));

// Worlds made for one situation: a tenant borrows with a big gang started first and small jobs
// after it; a tenant within its guarantee reclaims the gang, which takes the first tenant below
// its guarantee; in the same pass the first tenant's own waiting job, and others', may need
// devices. The jobs started after the gang are then within their tenant's guarantee: no reclaim
// may take them (the simulator checks every pass's decisions and throws if one does), and the
// pass decides the same with and without the driver's indexes.
World reclaim_world(std::uint64_t seed) {
  Rng rng(seed);
  World w;
  NodeGroupSpec g;
  g.accel_type = "V100";
  g.accel_count = 8;
  g.count = 2 + static_cast<int>(rng.below(3));
  g.nodes_per_leaf = 1 + static_cast<int>(rng.below(2));
  g.where = "rack";
  w.cluster = build_cluster({g}, catalog(), "reclaim");
  const int total = g.count * 8;
  const TypeId v100 = *catalog().find("V100");
  const int small_g = 2 + static_cast<int>(rng.below(4));  // a: small guarantee
  const int other_g = static_cast<int>(rng.below(5));      // c: borrows too
  const int big_g = total - small_g - other_g;             // b: the rest
  const int guarantees[] = {small_g, big_g, other_g};
  for (int i = 0; i < 3; ++i) {
    TenantShare t;
    t.name = std::string(1, static_cast<char>('a' + i));
    t.quota.assign(catalog().size(), TypeQuota{});
    t.quota[v100].guaranteed = guarantees[i];
    t.quota[v100].borrow = i == 1 ? 0 : TypeQuota::kUnlimited;
    w.shares.tenants.push_back(std::move(t));
  }
  w.shares.half_life_ms = 3'600'000;
  w.shares.preemption.grace_ms = rng.below(2) ? 0 : 20'000;
  w.shares.preemption.min_runtime_ms = rng.below(3) ? 0 : 3'000;
  w.shares.preemption.grace_set = w.shares.preemption.min_runtime_set = true;
  w.shares.index();
  JobId id = 1;
  auto add = [&](const char* tenant, TimeMs submit_s, int count) {
    Job j;
    j.id = id++;
    j.submit = submit_s * 1000;
    j.duration = static_cast<TimeMs>(200 + rng.below(800)) * 1000;
    j.accel_count = count;
    j.accepted = TypeSet::of(v100);
    j.walltime = rng.below(2) ? j.duration : 0;
    j.tenant = tenant;
    w.jobs.push_back(std::move(j));
  };
  // c borrows from the start; a's gang, then a's small jobs, fill most of the rest.
  if (rng.below(2)) add("c", 0, other_g + 1 + static_cast<int>(rng.below(4)));
  add("a", 1, small_g + 3 + static_cast<int>(rng.below(static_cast<std::uint64_t>(total) / 2)));
  for (int k = 0, n = 1 + static_cast<int>(rng.below(4)); k < n; ++k)
    add("a", 2 + k, 1 + static_cast<int>(rng.below(2)));
  // Later, b within its guarantee, and more small jobs of a and c at the same moment.
  const TimeMs later = 10 + static_cast<TimeMs>(rng.below(20));
  add("b", later,
      std::min(big_g, 4 + static_cast<int>(rng.below(static_cast<std::uint64_t>(total)))));
  for (int k = 0, n = 1 + static_cast<int>(rng.below(4)); k < n; ++k)
    add(rng.below(3) ? "a" : "c", later + static_cast<TimeMs>(rng.below(2)),
        1 + static_cast<int>(rng.below(3)));
  if (rng.below(2)) add("b", later + 1, 1 + static_cast<int>(rng.below(3)));
  // A bigger job of a: when the pass begins it may not borrow (too little is free), so the pass
  // sets its group aside; once a's small job has reclaimed c's devices it may fit.
  if (rng.below(2)) add("a", later, 3 + static_cast<int>(rng.below(4)));
  return w;
}

TEST_P(DriverCacheProperty, ReclaimedGangLeavesLaterJobsWithinGuarantee) {
  long passes = 0;
  for (std::uint64_t k = 1; k <= 150; ++k) {
    const World w = reclaim_world(k * 6007 + 1);
    const std::string ctx = GetParam() + " reclaim world " + std::to_string(k);
    FreshCheck check(make_policy(GetParam()));
    SimOptions opt;
    opt.preempt_cost_ms = 5'000;
    opt.use_shares(w.shares, false);
    try {
      simulate(w.cluster, catalog(), &ThroughputTable::builtin(), w.jobs, check, opt);
    } catch (const std::exception& e) {
      ADD_FAILURE() << ctx << ": " << e.what();
      return;
    }
    EXPECT_EQ(check.differing, 0) << ctx << ": first difference at " << check.first_difference;
    EXPECT_EQ(check.broken_promises, 0) << ctx;
    passes += check.passes;
    if (HasFailure()) return;
  }
  EXPECT_GT(passes, 500);
}

// Decides without the driver's share index: every wait is said job by job.
class WithoutShareIndex : public Policy {
 public:
  explicit WithoutShareIndex(std::unique_ptr<Policy> inner) : inner_(std::move(inner)) {}
  std::string_view name() const override { return inner_->name(); }
  bool needs_oracle() const override { return inner_->needs_oracle(); }
  bool preemptive() const override { return inner_->preemptive(); }
  bool uses_las_index() const override { return inner_->uses_las_index(); }
  Decisions decide(const Snapshot& s, TimeMs now) const override {
    Snapshot plain = s;
    plain.share_index = nullptr;
    plain.pending_ranks = {};
    return inner_->decide(plain, now);
  }

 private:
  std::unique_ptr<Policy> inner_;
};

// The simulator keeps each job's last wait reason from group waits (Decisions::group_waits)
// lazily: after every pass each waiting job's must be the one it was last told
// (SimOptions::check_wait_reasons), and a whole replay must end the same as one told every wait
// job by job - the reasons of the jobs that never started included.
TEST_P(DriverCacheProperty, GroupWaitsLeaveTheSameReasons) {
  long never_started = 0;
  for (std::uint64_t k = 1; k <= 400; ++k) {
    World w = random_world(k * 104729 + 7);
    // Tight limits (some jobs never fit their tenant's), and often a grace period.
    for (auto& t : w.shares.tenants)
      for (auto& q : t.quota)
        if (q.borrow != TypeQuota::kUnlimited && k % 2 == 0) q.borrow = 0;
    w.shares.index();
    SimOptions opt;
    opt.preempt_cost_ms = 5'000;
    opt.use_shares(w.shares, false);
    opt.check_wait_reasons = true;  // throws if a job's last reason is ever wrong
    const SimResult a = simulate(w.cluster, catalog(), &ThroughputTable::builtin(), w.jobs,
                                 *make_policy(GetParam()), opt);
    WithoutShareIndex plain(make_policy(GetParam()));
    const SimResult b =
        simulate(w.cluster, catalog(), &ThroughputTable::builtin(), w.jobs, plain, opt);
    ASSERT_EQ(a.jobs.size(), b.jobs.size());
    EXPECT_EQ(a.passes, b.passes) << "world " << k;
    for (std::size_t i = 0; i < a.jobs.size(); ++i) {
      const JobOutcome &x = a.jobs[i], &y = b.jobs[i];
      EXPECT_EQ(x.reject_reason, y.reject_reason)
          << GetParam() << " world " << k << " job " << x.id;
      EXPECT_EQ(x.first_start, y.first_start) << "world " << k << " job " << x.id;
      EXPECT_EQ(x.end, y.end) << "world " << k << " job " << x.id;
      EXPECT_EQ(x.attempts, y.attempts) << "world " << k << " job " << x.id;
      EXPECT_EQ(x.type, y.type) << "world " << k << " job " << x.id;
      never_started += x.reject_reason.starts_with("never started");
    }
    if (HasFailure()) return;
  }
  EXPECT_GT(never_started, 20);
}

// PendingList against a map from rank to job, under random adds, drops and settles.
TEST(PendingListProperty, MatchesAPlainModel) {
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    Rng rng(seed);
    const std::uint32_t ranks = 50 + static_cast<std::uint32_t>(rng.below(400));
    std::vector<Job> jobs(ranks);
    const bool mixed = rng.below(2);
    for (std::uint32_t r = 0; r < ranks; ++r) {
      jobs[r].id = r;
      jobs[r].submit = r;
      jobs[r].priority = mixed && rng.below(20) == 0 ? 1 : 0;
    }
    PendingList list(true, ranks);
    std::map<std::uint32_t, bool> model;  // settled: rank -> in the list
    std::map<std::uint32_t, bool> now;    // after the changes not yet settled
    std::uint32_t next = 0;               // arrivals come in rank order
    // As in the simulator, a job that leaves (starts) does not come back before the list is
    // settled (a pass's starts are settled at its end, before any of them can be preempted).
    std::set<std::uint32_t> left;
    for (int step = 0; step < 2000; ++step) {
      const auto op = rng.below(10);
      if (op < 3 && next < ranks) {
        list.add(next, PendingJob{&jobs[next]});
        now[next++] = true;
      } else if (op < 7 && !now.empty()) {
        // Leave (start) a random waiting job; the oldest ones most often.
        auto it = now.begin();
        std::advance(it, rng.below(4) ? rng.below(std::min<std::size_t>(now.size(), 4))
                                      : rng.below(now.size()));
        list.drop(it->first);
        left.insert(it->first);
        now.erase(it);
      } else if (op < 8 && next > 0) {
        // A job that left earlier comes back (preempted): any rank not waiting.
        const auto r = static_cast<std::uint32_t>(rng.below(next));
        if (!now.count(r) && !left.count(r)) {
          list.add(r, PendingJob{&jobs[r]});
          now[r] = true;
        }
      } else {
        list.settle();
        model = now;
        left.clear();
      }
      // Between settles the list may be behind, but only on ranks that came back or left.
      if (op >= 8) {
        const auto got = list.jobs();
        ASSERT_EQ(got.size(), model.size()) << "seed " << seed << " step " << step;
        std::size_t i = 0;
        bool one_priority = true;
        for (const auto& [r, in] : model) {
          ASSERT_EQ(got[i].job, &jobs[r]) << "seed " << seed << " step " << step;
          one_priority = one_priority && jobs[r].priority == got[0].job->priority;
          ++i;
        }
        EXPECT_EQ(list.in_priority_order(), one_priority) << "seed " << seed << " step " << step;
      }
    }
  }
}

}  // namespace
}  // namespace zs
