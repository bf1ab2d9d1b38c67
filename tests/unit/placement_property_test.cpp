// Property tests of the placement core over arbitrary topologies: leaves and spines that hold
// several accelerator types, islands of any size (a leaf of one node, a spine of one leaf,
// uneven leaves), unhealthy devices, down nodes, busy devices and node constraints
// (Job::required_nodes / excluded_nodes). Fixed seeds, so every failure reproduces.
//
// Invariants: every placement FreePool::find or a policy returns passes find_violations (one
// type, devices that exist and are free and healthy, none twice, the job's count and shape, its
// constraints); find fails only if no placement exists (checked by brute force); never_fits
// agrees with brute force on the idle cluster; and in simulation nothing that fits waits forever.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <memory>
#include <sstream>

#include "sched/decision_check.h"
#include "sched/free_pool.h"
#include "sched/policy.h"
#include "sched/shape.h"
#include "sim/simulator.h"
#include "sim/synthetic.h"

namespace zs {
namespace {

const Catalog& catalog() {
  return Catalog::builtin();
}

std::uint64_t all_devices(int n) {
  return n >= 64 ? ~0ull : ((1ull << n) - 1);
}

const char* const kTypes[] = {"V100", "K80", "T4", "MLU590"};

// 1-3 spines of 1-3 leaves of 1-`max_per_leaf` nodes; each node of one of 1-3 types, 1, 2, 4
// or 8 devices in 1 or 2 islands. Types are mixed under leaves and spines.
Cluster random_topology(Rng& rng, int max_per_leaf = 4, int max_leaves = 3) {
  std::vector<TypeId> types;
  const int type_count = 1 + static_cast<int>(rng.below(3));
  while (static_cast<int>(types.size()) < type_count) {
    const TypeId t = *catalog().find(kTypes[rng.below(4)]);
    if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
  }
  static const int kSizes[] = {1, 2, 4, 8};
  std::vector<int> size_of(types.size());
  for (auto& s : size_of) s = kSizes[rng.below(4)];
  Cluster c;
  c.name = "random-topology";
  const int spines = 1 + static_cast<int>(rng.below(3));
  for (int sp = 0; sp < spines; ++sp) {
    Spine spine{"s" + std::to_string(sp), static_cast<std::uint32_t>(c.leaves.size()), 0};
    const int leaves = 1 + static_cast<int>(rng.below(static_cast<std::uint64_t>(max_leaves)));
    for (int l = 0; l < leaves; ++l) {
      Leaf leaf{"l" + std::to_string(c.leaves.size()), static_cast<std::uint32_t>(sp),
                static_cast<NodeId>(c.nodes.size()), 0};
      const int nodes = 1 + static_cast<int>(rng.below(static_cast<std::uint64_t>(max_per_leaf)));
      for (int i = 0; i < nodes; ++i) {
        const std::size_t k = rng.below(types.size());
        Node n;
        n.name = "n" + std::to_string(c.nodes.size());
        n.type = types[k];
        // Mostly one size per type; sometimes another (nodes of one type may differ).
        const int size = rng.below(5) == 0 ? kSizes[rng.below(4)] : size_of[k];
        n.accel_count = static_cast<std::uint8_t>(size);
        n.island_size = static_cast<std::uint8_t>(size >= 2 && rng.below(2) ? size / 2 : size);
        n.cpu_cores = static_cast<std::uint32_t>(16 * size);
        n.memory_gib = 128.0 * size;
        n.leaf = static_cast<std::uint32_t>(c.leaves.size());
        c.nodes.push_back(std::move(n));
      }
      leaf.end_node = static_cast<NodeId>(c.nodes.size());
      c.leaves.push_back(std::move(leaf));
    }
    spine.end_leaf = static_cast<std::uint32_t>(c.leaves.size());
    c.spines.push_back(std::move(spine));
  }
  c.finalize(catalog().size());
  return c;
}

// Every device free and every node up; some devices unhealthy.
std::vector<NodeState> idle_state(Rng& rng, const Cluster& c, bool faults) {
  std::vector<NodeState> s(c.nodes.size());
  for (NodeId n = 0; n < c.nodes.size(); ++n) {
    s[n].free = all_devices(c.nodes[n].accel_count);
    if (faults && rng.below(4) == 0) s[n].healthy &= ~(1ull << rng.below(c.nodes[n].accel_count));
    s[n].free_cpu = c.nodes[n].cpu_cores;
    s[n].free_mem_gib = c.nodes[n].memory_gib;
  }
  return s;
}

// Some devices busy (their CPU share too), some unhealthy, some nodes down.
std::vector<NodeState> busy_state(Rng& rng, const Cluster& c) {
  auto s = idle_state(rng, c, true);
  for (NodeId n = 0; n < c.nodes.size(); ++n) {
    for (int d = 0; d < c.nodes[n].accel_count; ++d)
      if (rng.below(3) == 0) {
        s[n].free &= ~(1ull << d);
        s[n].free_cpu -= 16;
      }
    if (rng.below(10) == 0) s[n].up = false;
  }
  return s;
}

std::vector<NodeId> random_nodes(Rng& rng, const Cluster& c, int max, bool one_type) {
  std::vector<NodeId> out;
  const int k = 1 + static_cast<int>(rng.below(static_cast<std::uint64_t>(max)));
  const TypeId t = c.nodes[rng.below(c.nodes.size())].type;
  for (int i = 0; i < 4 * k && static_cast<int>(out.size()) < k; ++i) {
    const NodeId n = static_cast<NodeId>(rng.below(c.nodes.size()));
    if (!one_type || c.nodes[n].type == t) out.push_back(n);
  }
  normalize_node_set(out);
  return out;
}

// A job of 1..2x the largest node, sometimes an explicit shape, a type restriction, CPU and
// memory requests, a node list and an exclude list.
Job random_job(Rng& rng, const Cluster& c, JobId id) {
  int m = 0;
  for (const auto& n : c.nodes) m = std::max<int>(m, n.accel_count);
  Job j;
  j.id = id;
  j.accel_count = 1 + static_cast<int>(rng.below(static_cast<std::uint64_t>(2 * m)));
  const auto shape = rng.below(8);
  if (shape < 2) {
    std::vector<int> divisors;
    for (int d = 1; d <= j.accel_count; ++d)
      if (j.accel_count % d == 0 && j.accel_count / d <= m) divisors.push_back(d);
    const int nodes = divisors[rng.below(divisors.size())];
    if (shape == 0)
      j.per_node = j.accel_count / nodes;
    else
      j.nodes = nodes;
  }
  const auto restrict = rng.below(3);
  if (restrict == 1) {
    j.accepted = TypeSet::of(c.nodes[rng.below(c.nodes.size())].type);
  } else if (restrict == 2) {
    j.accepted = TypeSet{};
    j.accepted.add(c.nodes[rng.below(c.nodes.size())].type);
    j.accepted.add(c.nodes[rng.below(c.nodes.size())].type);
  }
  if (rng.below(5) == 0) j.cpu_per_accel = static_cast<double>(rng.below(20));
  if (rng.below(3) == 0) j.required_nodes = random_nodes(rng, c, 3, rng.below(4) != 0);
  if (rng.below(3) == 0) j.excluded_nodes = random_nodes(rng, c, 4, false);
  j.duration = static_cast<TimeMs>(1 + rng.below(600)) * 1000;
  j.walltime = j.duration;
  return j;
}

std::string describe(const Cluster& c) {
  std::ostringstream s;
  for (const auto& n : c.nodes)
    s << n.name << "(" << catalog().name(n.type) << " x" << int(n.accel_count) << " leaf " << n.leaf
      << " spine " << c.leaves[n.leaf].spine << ") ";
  return s.str();
}

std::string describe(const Job& j) {
  std::ostringstream s;
  s << "job " << j.id << " n " << j.accel_count << " nodes " << j.nodes << " per_node "
    << j.per_node << " types " << (j.accepted.is_any() ? "any" : std::to_string(j.accepted.bits()))
    << " cpu " << j.cpu_per_accel << " required";
  for (NodeId n : j.required_nodes) s << " " << n;
  s << " excluded";
  for (NodeId n : j.excluded_nodes) s << " " << n;
  return s.str();
}

std::string describe(const std::vector<NodeState>& st) {
  std::ostringstream s;
  for (std::size_t n = 0; n < st.size(); ++n)
    s << n << ":" << (st[n].up ? "" : "down,") << "free " << st[n].usable() << " cpu "
      << st[n].free_cpu << " ";
  return s.str();
}

// By brute force over the node subsets: can `job` run on type `t` in state `st`?
// nullopt when there are too many candidate nodes to enumerate.
std::optional<bool> fits_by_brute_force(const Cluster& c, const std::vector<NodeState>& st,
                                        const Job& job, TypeId t) {
  const auto shape = shape_for(job, c.max_per_node_of_type[t]);
  if (!shape) return false;
  std::vector<NodeId> cand;
  for (NodeId n = 0; n < c.nodes.size(); ++n)
    if (c.nodes[n].type == t && !job.excludes_node(n)) cand.push_back(n);
  for (NodeId r : job.required_nodes)
    if (std::find(cand.begin(), cand.end(), r) == cand.end()) return false;
  if (cand.size() > 14) return std::nullopt;
  auto holds = [&](NodeId n, int k) {
    const int usable = std::popcount(st[n].usable() & all_devices(c.nodes[n].accel_count));
    return usable >= k && k * job.cpu_per_accel <= st[n].free_cpu + 1e-9 &&
           k * job.mem_gib_per_accel <= st[n].free_mem_gib + 1e-9;
  };
  for (std::uint32_t set = 0; set < (1u << cand.size()); ++set) {
    if (std::popcount(set) != shape->node_count()) continue;
    std::vector<NodeId> s;
    for (std::size_t i = 0; i < cand.size(); ++i)
      if ((set >> i) & 1u) s.push_back(cand[i]);
    bool has_required = true;
    for (NodeId r : job.required_nodes)
      has_required = has_required && std::find(s.begin(), s.end(), r) != s.end();
    if (!has_required) continue;
    if (shape->remainder == 0) {
      if (std::all_of(s.begin(), s.end(), [&](NodeId n) { return holds(n, shape->per_node); }))
        return true;
      continue;
    }
    for (NodeId q : s) {
      bool ok = holds(q, shape->remainder);
      for (NodeId n : s) ok = ok && (n == q || holds(n, shape->per_node));
      if (ok) return true;
    }
  }
  return false;
}

std::vector<TypeId> accepted_types(const Cluster& c, const Job& j) {
  std::vector<TypeId> out;
  for (TypeId t = 0; t < c.accels_of_type.size(); ++t)
    if (c.accels_of_type[t] > 0 && j.accepted.contains(t)) out.push_back(t);
  return out;
}

Snapshot snapshot_of(const Cluster& c, const std::vector<NodeState>& st,
                     const std::vector<PendingJob>& pending) {
  Snapshot s;
  s.cluster = &c;
  s.catalog = &catalog();
  s.nodes = st;
  s.pending = pending;
  return s;
}

constexpr int kSeeds = 1500;

// find() returns only valid placements, and one whenever brute force finds one. Jobs placed one
// after another (the pool shrinking) never share a device.
TEST(PlacementProperty, FindIsValidAndCompleteOnMixedTopologies) {
  int found = 0, refused = 0, checked = 0, constrained_found = 0;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Rng rng(seed * 6151 + 11);
    const Cluster c = random_topology(rng);
    const auto st = rng.below(2) ? busy_state(rng, c) : idle_state(rng, c, true);
    FreePool pool(c, st);
    std::vector<std::unique_ptr<Job>> jobs;
    std::vector<PendingJob> pending;
    Decisions d;
    const int job_count = 1 + static_cast<int>(rng.below(8));
    for (int k = 0; k < job_count; ++k) {
      jobs.push_back(std::make_unique<Job>(random_job(rng, c, static_cast<JobId>(k + 1))));
      const Job& j = *jobs.back();
      pending.push_back(PendingJob{&j});
      const std::string ctx = "seed " + std::to_string(seed * 6151 + 11) + " " + describe(j) +
                              "\ncluster: " + describe(c) + "\nstate: " + describe(st);
      bool placed = false;
      for (TypeId t : accepted_types(c, j)) {
        const auto p = pool.find(j, t);
        if (k == 0) {  // the pool is the state: compare with brute force
          const auto truth = fits_by_brute_force(c, st, j, t);
          if (truth) {
            ++checked;
            ASSERT_EQ(p.has_value(), *truth) << ctx << "\ntype " << catalog().name(t)
                                             << (*truth ? ": a placement exists but find() refused"
                                                        : ": find() placed a job that cannot fit");
          }
        }
        if (!p) continue;
        d.starts.push_back({j.id, t, *p, false});
        pool.take(*p, j);
        placed = true;
        constrained_found += j.has_node_constraints();
        break;
      }
      placed ? ++found : ++refused;
    }
    const Snapshot s = snapshot_of(c, st, pending);
    const auto v = find_violations(s, d);
    ASSERT_TRUE(v.empty()) << "seed " << seed * 6151 + 11 << ": " << describe(v)
                           << "\ncluster: " << describe(c);
  }
  // The generator must exercise both outcomes, and constraints.
  EXPECT_GT(found, kSeeds);
  EXPECT_GT(refused, kSeeds / 2);
  EXPECT_GT(checked, kSeeds);
  EXPECT_GT(constrained_found, kSeeds / 4);
}

// On the idle, fully healthy cluster, never_fits is nullopt exactly when some accepted type can
// hold the job, node constraints included.
TEST(PlacementProperty, NeverFitsAgreesWithBruteForce) {
  int fits = 0, never = 0;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Rng rng(seed * 7727 + 5);
    const Cluster c = random_topology(rng);
    const auto st = idle_state(rng, c, false);
    const Job j = random_job(rng, c, 1);
    bool any = false, known = true;
    for (TypeId t : accepted_types(c, j)) {
      const auto truth = fits_by_brute_force(c, st, j, t);
      if (!truth) known = false;
      any = any || truth.value_or(false);
    }
    if (!known && !any) continue;
    const auto why = never_fits(j, c, catalog());
    ASSERT_EQ(!why.has_value(), any)
        << "seed " << seed * 7727 + 5 << " " << describe(j) << "\ncluster: " << describe(c)
        << "\nnever_fits: " << why.value_or("(fits)");
    any ? ++fits : ++never;
  }
  EXPECT_GT(fits, kSeeds / 4);
  EXPECT_GT(never, kSeeds / 10);
}

// Policies on random snapshots of mixed topologies (jobs running, devices unhealthy, nodes
// down, constrained jobs waiting): every decision passes the checker.
class PolicyOnMixedTopology : public testing::TestWithParam<std::string> {};

TEST_P(PolicyOnMixedTopology, DecisionsPassTheChecker) {
  auto policy = make_policy(GetParam());
  int starts = 0;
  for (std::uint64_t seed = 1; seed <= 400; ++seed) {
    Rng rng(seed * 3571 + 7);
    const Cluster c = random_topology(rng);
    auto st = idle_state(rng, c, true);
    std::vector<std::unique_ptr<Job>> jobs;
    std::vector<RunningJob> running;
    const TimeMs now = 50'000'000;
    // Running jobs, placed by the pool itself.
    {
      FreePool pool(c, st);
      const int k = static_cast<int>(rng.below(6));
      for (int i = 0; i < k; ++i) {
        auto j = std::make_unique<Job>(random_job(rng, c, static_cast<JobId>(100 + i)));
        j->required_nodes.clear();
        for (TypeId t : accepted_types(c, *j))
          if (auto p = pool.find(*j, t)) {
            pool.take(*p, *j);
            RunningJob r;
            r.job = j.get();
            r.type = t;
            r.placement = *p;
            r.started = now - 1'000'000 - static_cast<TimeMs>(rng.below(1'000'000));
            r.expected_end = r.started + j->walltime + static_cast<TimeMs>(rng.below(5'000'000));
            r.attained_accel_ms = (now - r.started) * j->accel_count;
            running.push_back(std::move(r));
            jobs.push_back(std::move(j));
            break;
          }
      }
      for (NodeId n = 0; n < c.nodes.size(); ++n) {
        st[n].free = pool.free_mask(n) | (st[n].free & ~st[n].healthy);
        if (rng.below(12) == 0) st[n].up = false;
      }
      for (const auto& r : running)
        for (const Slot& sl : r.placement)
          st[sl.node].free_cpu -= std::popcount(sl.devices) * r.job->cpu_per_accel;
    }
    std::vector<PendingJob> pending;
    const int k = 1 + static_cast<int>(rng.below(12));
    for (int i = 0; i < k; ++i) {
      jobs.push_back(std::make_unique<Job>(random_job(rng, c, static_cast<JobId>(200 + i))));
      jobs.back()->submit = now - static_cast<TimeMs>(k - i) * 1000;
      pending.push_back(PendingJob{jobs.back().get(), 0, jobs.back()->submit});
    }
    Snapshot s = snapshot_of(c, st, pending);
    s.running = running;
    s.params.min_run_ms = 0;
    const Decisions d = policy->decide(s, now);
    const auto v = find_violations(s, d);
    ASSERT_TRUE(v.empty()) << GetParam() << " seed " << seed * 3571 + 7 << ": " << describe(v)
                           << "\ncluster: " << describe(c);
    starts += static_cast<int>(d.starts.size());
  }
  EXPECT_GT(starts, 200);
}

INSTANTIATE_TEST_SUITE_P(Property, PolicyOnMixedTopology,
                         testing::Values("fifo", "easy", "las", "srtf", "hetero", "easy-pred",
                                         "spf", "gittins"));

// Whole simulations on mixed topologies with constrained jobs: the simulator checks every pass
// with find_violations (and throws), and a job is rejected only if never_fits says so: nothing
// that fits waits forever.
class SimOnMixedTopology : public testing::TestWithParam<std::string> {};

TEST_P(SimOnMixedTopology, EveryJobThatFitsRuns) {
  auto policy = make_policy(GetParam());
  int ran = 0, ran_constrained = 0;
  for (std::uint64_t seed = 1; seed <= 120; ++seed) {
    Rng rng(seed * 1299709 + 1);
    const Cluster c = random_topology(rng);
    std::vector<Job> jobs;
    const int k = 5 + static_cast<int>(rng.below(20));
    for (int i = 0; i < k; ++i) {
      jobs.push_back(random_job(rng, c, static_cast<JobId>(i + 1)));
      jobs.back().submit = static_cast<TimeMs>(rng.below(600)) * 1000;
    }
    std::sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) {
      return a.submit != b.submit ? a.submit < b.submit : a.id < b.id;
    });
    SimOptions opt;
    opt.sched.min_run_ms = 60'000;
    SimResult r;
    const std::string ctx = GetParam() + " seed " + std::to_string(seed * 1299709 + 1);
    ASSERT_NO_THROW(r = simulate(c, catalog(), nullptr, jobs, *policy, opt))
        << ctx << "\ncluster: " << describe(c);
    ASSERT_EQ(r.jobs.size(), jobs.size());
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      const auto why = never_fits(jobs[i], c, catalog());
      ASSERT_EQ(r.jobs[i].rejected, why.has_value())
          << ctx << ": " << describe(jobs[i]) << " " << r.jobs[i].reject_reason
          << "\ncluster: " << describe(c);
      if (!r.jobs[i].rejected) {
        ++ran;
        ran_constrained += jobs[i].has_node_constraints();
      }
    }
  }
  EXPECT_GT(ran, 300);
  EXPECT_GT(ran_constrained, 50);
}

INSTANTIATE_TEST_SUITE_P(Property, SimOnMixedTopology,
                         testing::Values("fifo", "easy", "las", "srtf", "hetero", "easy-pred",
                                         "spf", "gittins"));

}  // namespace
}  // namespace zs
