// find_violations: each rule a pass's decisions must keep is reported when broken, with the
// job and a text naming the node and devices, and sound decisions give no violation.
#include <gtest/gtest.h>

#include <algorithm>

#include "sched/decision_check.h"
#include "sched/free_pool.h"

namespace zs {
namespace {

const Catalog& catalog() {
  return Catalog::builtin();
}

NodeGroupSpec group(const char* name, int nodes, const char* type, const char* leaf) {
  NodeGroupSpec g;
  g.name = name;
  g.count = nodes;
  g.accel_count = 8;
  g.accel_type = type;
  g.leaf = leaf;
  g.where = "test";
  return g;
}

// Leaf "rack": v100-0, v100-1 and k80-0 (two types under one leaf); leaf "other": v100b-0.
struct Fixture {
  Cluster c = build_cluster({group("v100", 2, "V100", "rack"), group("k80", 1, "K80", "rack"),
                             group("v100b", 1, "V100", "other")},
                            catalog());
  std::vector<NodeState> nodes;
  std::vector<Job> jobs;
  std::vector<PendingJob> pending;
  std::vector<RunningJob> running;
  TypeId v100 = *catalog().find("V100"), k80 = *catalog().find("K80");

  Fixture() {
    nodes.resize(c.nodes.size());
    for (auto& n : nodes) {
      n.free = 0xff;
      n.free_cpu = 128;
      n.free_mem_gib = 1024;
    }
    jobs.reserve(16);
  }
  NodeId id(const char* name) const {
    for (NodeId n = 0; n < c.nodes.size(); ++n)
      if (c.nodes[n].name == name) return n;
    ADD_FAILURE() << "no node " << name;
    return 0;
  }
  const Job& wait(JobId id, int count, int nodes_count = 0) {
    Job j;
    j.id = id;
    j.accel_count = count;
    j.nodes = nodes_count;
    jobs.push_back(j);
    pending.push_back(PendingJob{&jobs.back()});
    return jobs.back();
  }
  Snapshot snapshot() const {
    Snapshot s;
    s.cluster = &c;
    s.catalog = &catalog();
    s.nodes = nodes;
    s.pending = pending;
    s.running = running;
    return s;
  }
  std::vector<Violation> check(const Decisions& d) const { return find_violations(snapshot(), d); }
};

std::vector<ViolationKind> kinds(const std::vector<Violation>& v) {
  std::vector<ViolationKind> k;
  for (const auto& x : v) k.push_back(x.kind);
  return k;
}

bool has(const std::vector<Violation>& v, ViolationKind kind, const std::string& text = "") {
  return std::any_of(v.begin(), v.end(), [&](const Violation& x) {
    return x.kind == kind && x.what.find(text) != std::string::npos;
  });
}

TEST(DecisionCheck, SoundDecisionsHaveNoViolation) {
  Fixture f;
  f.wait(1, 16, 2);
  f.wait(2, 4);
  f.wait(3, 1);
  Decisions d;
  d.starts.push_back({1, f.v100, {{f.id("v100-0"), 0xff}, {f.id("v100-1"), 0xff}}});
  d.starts.push_back({2, f.k80, {{f.id("k80-0"), 0x0f}}});
  d.rejections.push_back({3, "never fits"});
  EXPECT_TRUE(f.check(d).empty()) << describe(f.check(d));
  EXPECT_TRUE(f.check(Decisions{}).empty());
}

TEST(DecisionCheck, GangOnTwoTypesUnderOneLeaf) {
  Fixture f;
  f.wait(1, 16, 2);
  Decisions d;
  d.starts.push_back({1, f.v100, {{f.id("v100-0"), 0xff}, {f.id("k80-0"), 0xff}}});
  const auto v = f.check(d);
  ASSERT_TRUE(has(v, ViolationKind::kMixedTypes, "job 1: gang on more than one type"))
      << describe(v);
  EXPECT_TRUE(has(v, ViolationKind::kMixedTypes, "K80 (k80-0)")) << describe(v);
  // The decision's type must be the nodes' type too.
  Decisions wrong;
  wrong.starts.push_back({1, f.k80, {{f.id("v100-0"), 0xff}, {f.id("v100-1"), 0xff}}});
  EXPECT_TRUE(has(f.check(wrong), ViolationKind::kMixedTypes, "decided on K80"));
}

TEST(DecisionCheck, DevicesThatDoNotExistAreUnhealthyDownOrBusy) {
  Fixture f;
  f.wait(1, 9);
  Decisions d;
  d.starts.push_back({1, f.v100, {{f.id("v100-0"), 0x1ff}}});  // device 8 of an 8-device node
  EXPECT_TRUE(has(f.check(d), ViolationKind::kNoSuchDevice, "device 8 of node v100-0 is beyond"));

  Fixture g;
  g.wait(1, 2);
  g.nodes[g.id("v100-0")].healthy = ~0x2ull;
  Decisions u;
  u.starts.push_back({1, g.v100, {{g.id("v100-0"), 0x3}}});
  EXPECT_TRUE(has(g.check(u), ViolationKind::kUnhealthy, "device 1 of node v100-0 is unhealthy"));

  g.nodes[g.id("v100-0")].healthy = ~0ull;
  g.nodes[g.id("v100-0")].up = false;
  EXPECT_TRUE(has(g.check(u), ViolationKind::kNodeDown, "node v100-0 is down"));

  g.nodes[g.id("v100-0")].up = true;
  g.nodes[g.id("v100-0")].free = 0xfc;  // devices 0 and 1 held by a running job
  EXPECT_TRUE(has(g.check(u), ViolationKind::kBusy, "devices 0,1 of node v100-0 are not free"));

  Decisions unknown;
  unknown.starts.push_back({1, g.v100, {{99, 0x3}}});
  EXPECT_TRUE(has(g.check(unknown), ViolationKind::kUnknownNode, "node id 99"));
}

TEST(DecisionCheck, DeviceGivenToTwoJobs) {
  Fixture f;
  f.wait(1, 4);
  f.wait(2, 4);
  Decisions d;
  d.starts.push_back({1, f.v100, {{f.id("v100-0"), 0x0f}}});
  d.starts.push_back({2, f.v100, {{f.id("v100-0"), 0x78}}});
  const auto v = f.check(d);
  ASSERT_EQ(kinds(v), std::vector<ViolationKind>{ViolationKind::kGivenTwice}) << describe(v);
  EXPECT_EQ(v[0].job, 2u);
  EXPECT_NE(v[0].what.find("device 3 of node v100-0 is also given to job 1"), std::string::npos)
      << v[0].what;
}

TEST(DecisionCheck, WrongCountAndShape) {
  Fixture f;
  f.wait(1, 8);
  f.wait(2, 8, 2);  // 2 nodes x 4
  Decisions d;
  d.starts.push_back({1, f.v100, {{f.id("v100-0"), 0x0f}}});
  d.starts.push_back({2, f.v100, {{f.id("v100-1"), 0x3f}, {f.id("v100b-0"), 0x3}}});
  const auto v = f.check(d);
  EXPECT_TRUE(has(v, ViolationKind::kWrongCount, "job 1: placed on 4 devices, asks for 8"))
      << describe(v);
  EXPECT_TRUE(has(v, ViolationKind::kWrongShape, "job 2: devices per node 2+6")) << describe(v);
  Decisions twice_on_node;
  twice_on_node.starts.push_back({1, f.v100, {{f.id("v100-0"), 0x0f}, {f.id("v100-0"), 0xf0}}});
  EXPECT_TRUE(has(f.check(twice_on_node), ViolationKind::kDuplicateNode));
  Decisions empty;
  empty.starts.push_back({1, f.v100, {}});
  EXPECT_TRUE(has(f.check(empty), ViolationKind::kWrongCount, "no device"));
}

TEST(DecisionCheck, NodeConstraints) {
  Fixture f;
  Job j;
  j.id = 1;
  j.accel_count = 16;
  j.nodes = 2;
  j.required_nodes = {f.id("v100b-0")};
  j.excluded_nodes = {f.id("v100-1")};
  f.jobs.push_back(j);
  f.pending.push_back(PendingJob{&f.jobs.back()});
  Decisions d;
  d.starts.push_back({1, f.v100, {{f.id("v100-0"), 0xff}, {f.id("v100-1"), 0xff}}});
  const auto v = f.check(d);
  EXPECT_TRUE(has(v, ViolationKind::kRequiredMissing, "required node v100b-0 is not in the gang"))
      << describe(v);
  EXPECT_TRUE(has(v, ViolationKind::kExcludedUsed, "excluded node v100-1 is in the gang"))
      << describe(v);
  Decisions good;
  good.starts.push_back({1, f.v100, {{f.id("v100-0"), 0xff}, {f.id("v100b-0"), 0xff}}});
  EXPECT_TRUE(f.check(good).empty()) << describe(f.check(good));
}

TEST(DecisionCheck, RefusedTypeAndCpu) {
  Fixture f;
  Job j;
  j.id = 1;
  j.accel_count = 2;
  j.accepted = TypeSet::of(f.v100);
  j.cpu_per_accel = 100;
  f.jobs.push_back(j);
  f.pending.push_back(PendingJob{&f.jobs.back()});
  Decisions d;
  d.starts.push_back({1, f.k80, {{f.id("k80-0"), 0x3}}});
  const auto v = f.check(d);
  EXPECT_TRUE(has(v, ViolationKind::kRefusedType, "started on K80, which it refuses"))
      << describe(v);
  EXPECT_TRUE(has(v, ViolationKind::kCpuMemory, "node k80-0")) << describe(v);
}

TEST(DecisionCheck, JobsThatAreNotWaitingOrDecidedTwice) {
  Fixture f;
  f.wait(1, 1);
  Decisions d;
  d.starts.push_back({7, f.v100, {{f.id("v100-0"), 0x1}}});
  d.starts.push_back({1, f.v100, {{f.id("v100-0"), 0x2}}});
  d.starts.push_back({1, f.v100, {{f.id("v100-0"), 0x4}}});
  d.rejections.push_back({1, "x"});
  d.rejections.push_back({8, "x"});
  d.preemptions.push_back({9, 1});
  const auto v = f.check(d);
  EXPECT_TRUE(has(v, ViolationKind::kNotPending, "job 7: started but not waiting")) << describe(v);
  EXPECT_TRUE(has(v, ViolationKind::kDecidedTwice, "job 1: started twice")) << describe(v);
  EXPECT_TRUE(has(v, ViolationKind::kDecidedTwice, "job 1: started and rejected")) << describe(v);
  EXPECT_TRUE(has(v, ViolationKind::kNotPending, "job 8: rejected but not waiting")) << describe(v);
  EXPECT_TRUE(has(v, ViolationKind::kNotRunning, "job 9")) << describe(v);
}

TEST(DecisionCheck, PreemptedDevicesMayBeReusedInTheSamePass) {
  Fixture f;
  Job victim;
  victim.id = 5;
  victim.accel_count = 8;
  f.jobs.push_back(victim);
  RunningJob r;
  r.job = &f.jobs.back();
  r.type = f.v100;
  r.placement = {{f.id("v100-0"), 0xff}};
  f.running.push_back(r);
  f.nodes[f.id("v100-0")].free = 0;
  f.wait(1, 8);
  Decisions d;
  d.starts.push_back({1, f.v100, {{f.id("v100-0"), 0xff}}});
  EXPECT_TRUE(has(f.check(d), ViolationKind::kBusy));
  d.preemptions.push_back({5, 1});
  EXPECT_TRUE(f.check(d).empty()) << describe(f.check(d));
  // A preempted job's unhealthy device does not come back.
  f.nodes[f.id("v100-0")].healthy = ~0x80ull;
  EXPECT_TRUE(has(f.check(d), ViolationKind::kUnhealthy, "device 7"));
}

TEST(DecisionCheck, LookupFromTheDriver) {
  Fixture f;
  Job j;
  j.id = 4;
  j.accel_count = 1;
  Decisions d;
  d.starts.push_back({4, f.v100, {{f.id("v100-0"), 0x1}}});
  // Not in Snapshot::pending, but the driver's index says it waits.
  JobLookup lookup;
  lookup.pending = [&](JobId id) { return id == 4 ? &j : nullptr; };
  EXPECT_TRUE(find_violations(f.snapshot(), d, lookup).empty());
  EXPECT_TRUE(has(f.check(d), ViolationKind::kNotPending));
  // A running job the driver knows, preempted in the same pass: its devices come back.
  Job victim;
  victim.id = 5;
  victim.accel_count = 8;
  RunningJob r;
  r.job = &victim;
  r.placement = {{f.id("v100-1"), 0xff}};
  f.nodes[f.id("v100-1")].free = 0;
  Decisions swap;
  swap.preemptions.push_back({5, 4});
  swap.starts.push_back({4, f.v100, {{f.id("v100-1"), 0x1}}});
  EXPECT_TRUE(has(find_violations(f.snapshot(), swap, lookup), ViolationKind::kNotRunning));
  lookup.running = [&](JobId id) { return id == 5 ? &r : nullptr; };
  EXPECT_TRUE(find_violations(f.snapshot(), swap, lookup).empty())
      << describe(find_violations(f.snapshot(), swap, lookup));
}

TEST(DecisionCheck, EveryKindHasAName) {
  for (int k = 0; k <= static_cast<int>(ViolationKind::kHeld); ++k)
    EXPECT_NE(to_string(static_cast<ViolationKind>(k)), "?") << k;
}

// Tenant a is guaranteed 4 V100 and may borrow 4 more; b is guaranteed 8 and may not borrow.
TenantShares two_tenants(TypeId v100) {
  TenantShares shares;
  TenantShare a, b;
  a.name = "a";
  a.quota.assign(catalog().size(), {});
  a.quota[v100] = {4, 4};
  b = a;
  b.name = "b";
  b.quota[v100] = {8, 0};
  shares.tenants = {a, b};
  shares.index();
  return shares;
}

// A reclaimed gang can take its tenant below its guarantee: the jobs the tenant started after it
// are within the guarantee again, and reclaiming one of them in the same pass is caught.
TEST(DecisionCheck, ReclaimCountsTheVictimsBeforeIt) {
  Fixture f;
  const TenantShares shares = two_tenants(f.v100);
  // a: a gang of 6 (borrowing 2), then a job of 1 (borrowing 3 when the pass begins).
  Job gang, small;
  gang.id = 1, gang.tenant = "a", gang.accel_count = 6;
  small.id = 2, small.tenant = "a", small.accel_count = 1;
  f.running = {
      RunningJob{.job = &gang, .type = f.v100, .placement = {{f.id("v100-0"), 0x3f}}, .started = 0},
      RunningJob{
          .job = &small, .type = f.v100, .placement = {{f.id("v100-0"), 0x40}}, .started = 10}};
  f.nodes[f.id("v100-0")].free = 0x80;
  f.jobs.reserve(8);
  const Job& b3 = f.wait(3, 6);
  f.jobs.back().tenant = "b";
  const Job& b4 = f.wait(4, 2);
  f.jobs.back().tenant = "b";
  auto check = [&](const Decisions& d) {
    Snapshot s = f.snapshot();
    s.shares = &shares;
    s.params.min_run_ms = 0;
    return find_violations(s, d, {}, 100'000);
  };
  Decisions once;
  once.preemptions.push_back({1, b3.id, true});
  EXPECT_TRUE(check(once).empty()) << describe(check(once));
  // The small job alone is borrowing: reclaiming it first is sound.
  Decisions small_only;
  small_only.preemptions.push_back({2, b4.id, true});
  EXPECT_TRUE(check(small_only).empty()) << describe(check(small_only));
  // After the gang, a holds 1 of its 4: the small job is within a's guarantee.
  Decisions twice = once;
  twice.preemptions.push_back({2, b4.id, true});
  const auto v = check(twice);
  EXPECT_EQ(kinds(v), std::vector{ViolationKind::kProtectedVictim}) << describe(v);
  EXPECT_TRUE(has(v, ViolationKind::kProtectedVictim, "within tenant 'a'")) << describe(v);
}

// Tenants' shares: a start past a tenant's limit, a reclaim of a job within its guarantee (or
// too young, or of the same tenant), and a start on devices held for another job are caught.
TEST(DecisionCheck, TenantsSharesAreKept) {
  Fixture f;
  const TenantShares shares = two_tenants(f.v100);
  // a runs 4 (within its guarantee, started first) and 4 more (borrowed) on v100-0.
  Job a1, a2;
  a1.id = 1, a1.tenant = "a", a1.accel_count = 4;
  a2.id = 2, a2.tenant = "a", a2.accel_count = 4;
  RunningJob r1{.job = &a1, .type = f.v100, .placement = {{f.id("v100-0"), 0x0f}}, .started = 0},
      r2{.job = &a2, .type = f.v100, .placement = {{f.id("v100-0"), 0xf0}}, .started = 10};
  f.running = {r1, r2};
  f.nodes[f.id("v100-0")].free = 0;
  f.jobs.reserve(8);
  const Job& b3 = f.wait(3, 4);
  f.jobs.back().tenant = "b";
  const Job& a4 = f.wait(4, 1);
  f.jobs.back().tenant = "a";
  auto check = [&](const Decisions& d, TimeMs now) {
    Snapshot s = f.snapshot();
    s.shares = &shares;
    s.params.min_run_ms = 60'000;
    return find_violations(s, d, {}, now);
  };
  // a at 8 of its 8: one more device is over its limit.
  Decisions over;
  over.starts.push_back({a4.id, f.v100, {{f.id("v100-1"), 0x1}}});
  EXPECT_EQ(kinds(check(over, 1000)), std::vector{ViolationKind::kOverQuota});
  // Reclaiming the borrowed job 2 for b's job 3 is sound; job 1 is within a's guarantee.
  Decisions good, bad;
  good.preemptions.push_back({2, b3.id, true});
  good.holds.push_back({b3.id, f.v100, {{f.id("v100-0"), 0xf0}}});
  EXPECT_TRUE(check(good, 100'000).empty()) << describe(check(good, 100'000));
  bad.preemptions.push_back({1, b3.id, true});
  EXPECT_EQ(kinds(check(bad, 100'000)), std::vector{ViolationKind::kProtectedVictim});
  // Too young (it ran 50 s of the minimum 60), or for a job of its own tenant.
  EXPECT_EQ(kinds(check(good, 60'000)), std::vector{ViolationKind::kProtectedVictim});
  Decisions own;
  own.preemptions.push_back({2, a4.id, true});
  EXPECT_EQ(kinds(check(own, 100'000)), std::vector{ViolationKind::kProtectedVictim});
  // Held devices go to their job only.
  Snapshot s = f.snapshot();
  s.shares = &shares;
  std::vector<Hold> holds = {{b3.id, f.v100, {{f.id("v100-1"), 0x0f}}}};
  s.holds = holds;
  Decisions steal;
  steal.starts.push_back({b3.id + 1, f.v100, {{f.id("v100-1"), 0x1}}});
  EXPECT_TRUE(has(find_violations(s, steal, {}, 1000), ViolationKind::kHeld));
  Decisions mine;
  mine.starts.push_back({b3.id, f.v100, {{f.id("v100-1"), 0x0f}}});
  EXPECT_TRUE(find_violations(s, mine, {}, 1000).empty())
      << describe(find_violations(s, mine, {}, 1000));
}

}  // namespace
}  // namespace zs
