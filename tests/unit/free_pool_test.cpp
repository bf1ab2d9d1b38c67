// The placement engine: FreePool (best fit, link islands, leaf/spine-aware gangs, remainder
// nodes, health, CPU/memory, fragmentation) and the gang shape rules (shape_for, never_fits).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <set>

#include "sched/free_pool.h"
#include "sched/shape.h"
#include "sim/synthetic.h"

namespace zs {
namespace {

const Catalog& catalog() {
  return Catalog::builtin();
}
TypeId v100() {
  return *catalog().find("V100");
}
TypeId k80() {
  return *catalog().find("K80");
}

NodeGroupSpec group(int nodes, int per_node, const char* type, int islands = 1,
                    int nodes_per_leaf = 0, int leaves_per_spine = 0, const char* name = "") {
  NodeGroupSpec g;
  g.count = nodes;
  g.accel_count = per_node;
  g.accel_type = type;
  g.islands = islands;
  g.nodes_per_leaf = nodes_per_leaf;
  g.leaves_per_spine = leaves_per_spine;
  g.name = name;
  g.where = "test";
  return g;
}

Cluster cluster(std::vector<NodeGroupSpec> groups) {
  return build_cluster(groups, catalog());
}

// Every device free, every node up and healthy, all CPU and memory free.
std::vector<NodeState> idle(const Cluster& c) {
  std::vector<NodeState> s(c.nodes.size());
  for (std::size_t n = 0; n < c.nodes.size(); ++n) {
    s[n].free = c.nodes[n].accel_count >= 64 ? ~0ull : (1ull << c.nodes[n].accel_count) - 1;
    s[n].free_cpu = c.nodes[n].cpu_cores;
    s[n].free_mem_gib = c.nodes[n].memory_gib;
  }
  return s;
}

Job job(int accel_count, int nodes = 0, int per_node = 0) {
  Job j;
  j.id = 1;
  j.accel_count = accel_count;
  j.nodes = nodes;
  j.per_node = per_node;
  return j;
}

std::set<NodeId> nodes_of(const Placement& p) {
  std::set<NodeId> s;
  for (const Slot& sl : p) s.insert(sl.node);
  return s;
}

std::set<std::uint32_t> leaves_of(const Cluster& c, const Placement& p) {
  std::set<std::uint32_t> s;
  for (const Slot& sl : p) s.insert(c.nodes[sl.node].leaf);
  return s;
}

int devices(const Placement& p) {
  int n = 0;
  for (const Slot& sl : p) n += std::popcount(sl.devices);
  return n;
}

// --- Single node: best fit ---

TEST(FreePool, SingleNodeJobGoesBestFit) {
  const Cluster c = cluster({group(3, 8, "V100")});
  auto s = idle(c);
  s[0].free = 0x1F;  // 5 free
  s[1].free = 0x03;  // 2 free
  // node 2: 8 free
  FreePool pool(c, s);
  EXPECT_EQ(pool.free_of_type(v100()), 15);
  // The node with the fewest free devices that still fit the job.
  EXPECT_EQ(pool.find(job(1), v100()), (Placement{{1, 0x01}}));
  EXPECT_EQ(pool.find(job(2), v100()), (Placement{{1, 0x03}}));
  EXPECT_EQ(pool.find(job(3), v100()), (Placement{{0, 0x07}}));
  EXPECT_EQ(pool.find(job(5), v100()), (Placement{{0, 0x1F}}));
  EXPECT_EQ(pool.find(job(6), v100()), (Placement{{2, 0x3F}}));
  EXPECT_EQ(pool.find(job(8), v100()), (Placement{{2, 0xFF}}));
}

TEST(FreePool, BestFitTiesGoToTheLowestNodeId) {
  const Cluster c = cluster({group(3, 8, "V100")});
  FreePool pool(c, idle(c));
  EXPECT_EQ(pool.find(job(4), v100()), (Placement{{0, 0x0F}}));
  auto s = idle(c);
  s[0].free = 0;
  s[1].free = 0xF0;
  s[2].free = 0x0F;
  FreePool half(c, s);
  EXPECT_EQ(half.find(job(3), v100()), (Placement{{1, 0x70}}));
}

TEST(FreePool, SingleNodeJobNeverSpansNodes) {
  // 4 + 4 devices are free, but a 6-device job fits one node: it waits for one.
  const Cluster c = cluster({group(2, 8, "V100")});
  auto s = idle(c);
  s[0].free = 0x0F;
  s[1].free = 0xF0;
  FreePool pool(c, s);
  EXPECT_EQ(pool.find(job(6), v100()), std::nullopt);
  EXPECT_EQ(pool.find(job(4), v100()), (Placement{{0, 0x0F}}));
}

TEST(FreePool, CpuAndMemoryLimitTheNodeChoice) {
  const Cluster c = cluster({group(2, 8, "V100")});
  auto s = idle(c);
  s[0].free = 0x0F;    // the best fit for 2 devices...
  s[0].free_cpu = 10;  // ...but only 10 cores left there
  FreePool pool(c, s);
  Job j = job(2);
  j.cpu_per_accel = 8;  // 16 cores
  EXPECT_EQ(pool.find(j, v100()), (Placement{{1, 0x03}}));
  j.cpu_per_accel = 5;  // 10 cores: fits node 0
  EXPECT_EQ(pool.find(j, v100()), (Placement{{0, 0x03}}));
  Job m = job(2);
  m.mem_gib_per_accel = 600;  // 1200 GiB: more than node 1's 1024 GiB as well
  EXPECT_EQ(pool.find(m, v100()), std::nullopt);
}

// --- Inside a node: link islands ---

TEST(FreePool, FourDeviceJobTakesOneWholeIsland) {
  const Cluster c = cluster({group(1, 8, "V100", /*islands=*/2)});
  ASSERT_EQ(c.nodes[0].island_size, 4);
  auto s = idle(c);
  EXPECT_EQ(FreePool(c, s).find(job(4), v100()), (Placement{{0, 0x0F}}));
  // Device 0 busy: island 0 has 3 free, island 1 has 4: the job takes island 1 whole instead of
  // 3 + 1 across both.
  s[0].free = 0xFE;
  EXPECT_EQ(FreePool(c, s).find(job(4), v100()), (Placement{{0, 0xF0}}));
  // A smaller job goes to the island it fits best (fewest free that still fit).
  s[0].free = 0xF6;  // island 0: devices 1, 2 free; island 1: all 4 free
  EXPECT_EQ(FreePool(c, s).find(job(2), v100()), (Placement{{0, 0x06}}));
  EXPECT_EQ(FreePool(c, s).find(job(3), v100()), (Placement{{0, 0x70}}));
  // More than an island: a whole island first, then the rest from another.
  s[0].free = 0xFF;
  EXPECT_EQ(FreePool(c, s).find(job(6), v100()), (Placement{{0, 0x3F}}));
}

TEST(FreePool, SmallJobFillsTheFullestIsland) {
  const Cluster c = cluster({group(1, 8, "V100", /*islands=*/4)});  // islands of 2
  auto s = idle(c);
  s[0].free = 0xFA;  // island 0: device 1; island 1: device 3; islands 2, 3: both free
  FreePool pool(c, s);
  EXPECT_EQ(pool.find(job(1), v100()), (Placement{{0, 0x02}}));
  EXPECT_EQ(pool.find(job(2), v100()), (Placement{{0, 0x30}}));
}

// --- Multi-node gangs: leaves and spines ---

TEST(FreePool, GangGoesUnderOneLeafWhenPossible) {
  // Two leaves of two nodes. Node 0 is busy: {1, 2} would span both leaves; {2, 3} does not.
  const Cluster c = cluster({group(4, 8, "V100", 1, /*nodes_per_leaf=*/2)});
  auto s = idle(c);
  s[0].free = 0;
  FreePool pool(c, s);
  auto p = pool.find(job(16), v100());
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (Placement{{2, 0xFF}, {3, 0xFF}}));
  // Also when node 0 is only partly busy.
  s[0].free = 0x0F;
  EXPECT_EQ(FreePool(c, s).find(job(16), v100()), (Placement{{2, 0xFF}, {3, 0xFF}}));
}

TEST(FreePool, GangPrefersTheLeafThatCanAlsoTakeTheRemainder) {
  // 20 = 8 + 8 + 4. Leaf 0 (nodes 0-2) has two whole nodes but nothing for the remainder;
  // leaf 1 (nodes 3-5) has two whole nodes and 4 free on node 5.
  const Cluster c = cluster({group(6, 8, "V100", 1, /*nodes_per_leaf=*/3)});
  auto s = idle(c);
  s[2].free = 0;
  s[5].free = 0xF0;
  auto p = FreePool(c, s).find(job(20), v100());
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (Placement{{3, 0xFF}, {4, 0xFF}, {5, 0xF0}}));
}

TEST(FreePool, GangUsesTheFewestLeavesWhenNoLeafSuffices) {
  // Three leaves of two nodes: leaf 0 has two free nodes, leaves 1 and 2 one each.
  const Cluster c = cluster({group(6, 8, "V100", 1, /*nodes_per_leaf=*/2)});
  auto s = idle(c);
  s[3].free = 0;
  s[4].free = 0;
  auto p = FreePool(c, s).find(job(24), v100());
  ASSERT_TRUE(p);
  EXPECT_EQ(devices(*p), 24);
  EXPECT_EQ(leaves_of(c, *p).size(), 2u);
  EXPECT_EQ(nodes_of(*p), (std::set<NodeId>{0, 1, 2}));
}

TEST(FreePool, GangStaysUnderOneSpineWhenPossible) {
  // One node per leaf, two leaves per spine: spine 0 = nodes 0, 1; spine 1 = nodes 2, 3.
  const Cluster c = cluster({group(4, 8, "V100", 1, /*nodes_per_leaf=*/1, /*per_spine=*/2)});
  ASSERT_EQ(c.spines.size(), 2u);
  auto s = idle(c);
  s[1].free = 0x01;
  auto p = FreePool(c, s).find(job(16), v100());
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (Placement{{2, 0xFF}, {3, 0xFF}}));
}

TEST(FreePool, GangWithCpuRequestStillGoesUnderOneLeaf) {
  // Three leaves of four 8-device nodes; the gang needs 2 whole nodes with 8 cores free each.
  // leaf 0: nodes 0, 1 free, but node 0 has no free cores;  -> 1 usable node
  // leaf 1: nodes 4, 5, 6 free;                             -> 3 usable nodes
  // leaf 2: nodes 8-11 free, but 8, 9, 10 have no free cores -> 1 usable node
  // Only leaf 1 can hold the gang alone, so it must go there.
  const Cluster c = cluster({group(12, 8, "V100", 1, /*nodes_per_leaf=*/4)});
  auto s = idle(c);
  for (NodeId n : {2u, 3u, 7u}) s[n].free = 0;
  for (NodeId n : {0u, 8u, 9u, 10u}) s[n].free_cpu = 0;
  Job j = job(16);
  j.cpu_per_accel = 1;
  auto p = FreePool(c, s).find(j, v100());
  ASSERT_TRUE(p);
  EXPECT_EQ(devices(*p), 16);
  EXPECT_EQ(leaves_of(c, *p).size(), 1u);
  EXPECT_EQ(nodes_of(*p), (std::set<NodeId>{4, 5}));
}

TEST(FreePool, RemainderGoesBestFitOnOneMoreNode) {
  // 12 on 8-device nodes = one whole node + 4 on another; the remainder takes the node with
  // exactly 4 free rather than breaking up a whole one.
  const Cluster c = cluster({group(3, 8, "V100")});
  auto s = idle(c);
  s[1].free = 0xF0;
  auto p = FreePool(c, s).find(job(12), v100());
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (Placement{{0, 0xFF}, {1, 0xF0}}));
  // No node with 8 free: the gang does not fit (it never takes 4 + 4 + 4).
  s[0].free = 0x0F;
  s[2].free = 0x0F;
  EXPECT_EQ(FreePool(c, s).find(job(12), v100()), std::nullopt);
}

TEST(FreePool, ExplicitShapeIsRespected) {
  const Cluster c = cluster({group(3, 8, "V100")});
  FreePool pool(c, idle(c));
  // per_node 4: two nodes with 4 each, although one node could hold all 8.
  auto p = pool.find(job(8, 0, 4), v100());
  ASSERT_TRUE(p);
  ASSERT_EQ(p->size(), 2u);
  for (const Slot& sl : *p) EXPECT_EQ(std::popcount(sl.devices), 4);
  // nodes 3: 2 devices on each of three nodes.
  p = pool.find(job(6, 3), v100());
  ASSERT_TRUE(p);
  ASSERT_EQ(p->size(), 3u);
  for (const Slot& sl : *p) EXPECT_EQ(std::popcount(sl.devices), 2);
  // nodes 2 with 7 devices: 4 + 3, as Slurm spreads -N 2 -n 7.
  p = pool.find(job(7, 2), v100());
  ASSERT_TRUE(p);
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ(std::popcount((*p)[0].devices) + std::popcount((*p)[1].devices), 7);
  // A node count the devices cannot be spread over (9 on 4: 3 + 3 + 3 + 0) has no placement.
  EXPECT_EQ(pool.find(job(9, 4), v100()), std::nullopt);
}

TEST(FreePool, GangNeverMixesTypes) {
  const Cluster c = cluster({group(1, 8, "V100"), group(1, 8, "K80")});
  auto s = idle(c);
  s[0].free = 0x0F;
  s[1].free = 0x0F;
  FreePool pool(c, s);
  EXPECT_EQ(pool.find(job(8), v100()), std::nullopt);
  EXPECT_EQ(pool.find(job(8), k80()), std::nullopt);
  EXPECT_EQ(pool.find(job(4), k80()), (Placement{{1, 0x0F}}));
  EXPECT_EQ(pool.find(job(1), *catalog().find("T4")), std::nullopt);  // absent type
}

// --- Leaves and spines holding several types ---

// The issue-10 cluster: node1/node3 MLU590, node2/node4 A100, two per leaf, so every leaf
// holds both types (as `zs up --nodes-per-leaf 2` builds it).
Cluster issue10_cluster() {
  NodeGroupSpec mlu_a = group(1, 8, "MLU590", 1, 0, 0, "node1"),
                a100_a = group(1, 8, "A100-SXM4-80GB", 1, 0, 0, "node2");
  NodeGroupSpec mlu_b = group(1, 8, "MLU590", 1, 0, 0, "node3"),
                a100_b = group(1, 8, "A100-SXM4-80GB", 1, 0, 0, "node4");
  mlu_a.leaf = a100_a.leaf = "leaf0";
  mlu_b.leaf = a100_b.leaf = "leaf1";
  return cluster({mlu_a, a100_a, mlu_b, a100_b});
}

TEST(FreePool, GangUnderMixedLeavesStaysOnOneType) {
  const Cluster c = issue10_cluster();
  ASSERT_EQ(c.leaves.size(), 2u);
  const TypeId mlu = *catalog().find("MLU590"), a100 = *catalog().find("A100-SXM4-80GB");
  FreePool pool(c, idle(c));
  for (TypeId t : {mlu, a100}) {
    // -N 2 --accel T:16: both nodes of that type, one under each leaf.
    auto p = pool.find(job(16, 2), t);
    ASSERT_TRUE(p) << catalog().name(t);
    ASSERT_EQ(p->size(), 2u);
    for (const Slot& sl : *p) EXPECT_EQ(c.nodes[sl.node].type, t) << c.nodes[sl.node].name;
    EXPECT_EQ(devices(*p), 16);
  }
  // With one A100 node busy, a 2-node A100 gang does not fit, though the leaves have room.
  auto s = idle(c);
  for (NodeId n = 0; n < c.nodes.size(); ++n)
    if (c.nodes[n].name == "node4-0") s[n].free = 0;
  EXPECT_EQ(FreePool(c, s).find(job(16, 2), a100), std::nullopt);
  EXPECT_TRUE(FreePool(c, s).find(job(16, 2), mlu));
}

TEST(FreePool, GangPacksIntoOneLeafByTypeNotByLeaf) {
  // leaf A: 2 V100 + 2 K80; leaf B: 1 V100 + 3 K80. A 3-node K80 gang fits under leaf B alone
  // (a per-leaf count that included V100 nodes would call leaf A "4 free nodes" and split it).
  NodeGroupSpec va = group(2, 8, "V100", 1, 0, 0, "va"), ka = group(2, 8, "K80", 1, 0, 0, "ka");
  NodeGroupSpec vb = group(1, 8, "V100", 1, 0, 0, "vb"), kb = group(3, 8, "K80", 1, 0, 0, "kb");
  va.leaf = ka.leaf = "A";
  vb.leaf = kb.leaf = "B";
  const Cluster c = cluster({va, ka, vb, kb});
  FreePool pool(c, idle(c));
  auto p = pool.find(job(24), k80());
  ASSERT_TRUE(p);
  EXPECT_EQ(leaves_of(c, *p).size(), 1u);
  for (const Slot& sl : *p) EXPECT_EQ(c.nodes[sl.node].name.substr(0, 2), "kb");
  // A 3-node V100 gang must span both leaves and still never touch a K80 node.
  p = pool.find(job(24), v100());
  ASSERT_TRUE(p);
  for (const Slot& sl : *p) EXPECT_EQ(c.nodes[sl.node].type, v100());
}

// --- Node constraints (--nodelist / --exclude) ---

TEST(FreePool, RequiredNodesAreInTheGang) {
  // Two leaves of two nodes; node 3 is required: the gang packs beside it (node 2), not under
  // leaf 0 although leaf 0 fits best.
  const Cluster c = cluster({group(4, 8, "V100", 1, /*nodes_per_leaf=*/2)});
  FreePool pool(c, idle(c));
  Job j = job(16);
  j.required_nodes = {3};
  EXPECT_EQ(pool.find(j, v100()), (Placement{{2, 0xFF}, {3, 0xFF}}));
  // A single-node job with a node list goes on that node.
  Job one = job(2);
  one.required_nodes = {1};
  EXPECT_EQ(pool.find(one, v100()), (Placement{{1, 0x03}}));
  // More required nodes than the shape's node count: the gang spans them all (Slurm raises the
  // node count): 8 devices over nodes 0 and 3, 4 each.
  Job spread = job(8);
  spread.required_nodes = {0, 3};
  EXPECT_EQ(pool.find(spread, v100()), (Placement{{0, 0x0F}, {3, 0x0F}}));
  // A required node that is busy, of another type, or missing: no placement.
  auto s = idle(c);
  s[3].free = 0x01;
  EXPECT_EQ(FreePool(c, s).find(j, v100()), std::nullopt);
  Job other = job(8);
  other.required_nodes = {1};
  EXPECT_EQ(pool.find(other, k80()), std::nullopt);
  Job missing = job(8);
  missing.required_nodes = {7};
  EXPECT_EQ(pool.find(missing, v100()), std::nullopt);
}

TEST(FreePool, RequiredNodeTakesTheRemainder) {
  // 20 = 8 + 8 + 4; the required node 2 has only 4 free, so it holds the remainder.
  const Cluster c = cluster({group(4, 8, "V100")});
  auto s = idle(c);
  s[2].free = 0xF0;
  Job j = job(20);
  j.required_nodes = {2};
  auto p = FreePool(c, s).find(j, v100());
  ASSERT_TRUE(p);
  EXPECT_EQ(devices(*p), 20);
  EXPECT_TRUE(nodes_of(*p).count(2));
  for (const Slot& sl : *p)
    if (sl.node == 2) {
      EXPECT_EQ(sl.devices, 0xF0u);
    }
  // Two required nodes with 4 free: only one can hold the remainder.
  s[1].free = 0x0F;
  j.required_nodes = {1, 2};
  EXPECT_EQ(FreePool(c, s).find(j, v100()), std::nullopt);
}

TEST(FreePool, ExcludedNodesAreNeverUsed) {
  const Cluster c = cluster({group(4, 8, "V100", 1, /*nodes_per_leaf=*/2)});
  FreePool pool(c, idle(c));
  Job j = job(16);
  j.excluded_nodes = {1};
  // Leaf 0 minus node 1 cannot hold the gang; leaf 1 can.
  EXPECT_EQ(pool.find(j, v100()), (Placement{{2, 0xFF}, {3, 0xFF}}));
  Job one = job(8);
  one.excluded_nodes = {0, 1, 2};
  EXPECT_EQ(pool.find(one, v100()), (Placement{{3, 0xFF}}));
  one.excluded_nodes = {0, 1, 2, 3};
  EXPECT_EQ(pool.find(one, v100()), std::nullopt);
  // Excluding across leaves: three nodes left over two leaves.
  Job three = job(24);
  three.excluded_nodes = {2};
  auto p = pool.find(three, v100());
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), (std::set<NodeId>{0, 1, 3}));
}

TEST(Shape, NeverFitsNamesBrokenNodeConstraints) {
  // v100-0..2 (ids 0-2), k80-0 (id 3, 4 devices).
  const Cluster c = cluster({group(3, 8, "V100"), group(1, 4, "K80")});
  Job j = job(16, 2);
  j.required_nodes = {0};
  EXPECT_EQ(never_fits(j, c, catalog()), std::nullopt);
  j.excluded_nodes = {1, 2};
  EXPECT_EQ(never_fits(j, c, catalog()).value_or(""),
            "needs 1 more nodes with 8 x V100-SXM2-32GB besides the required ones, but only 0 "
            "that are not excluded can hold them");
  j.excluded_nodes = {0};
  EXPECT_EQ(never_fits(j, c, catalog()).value_or(""), "node v100-0 is both required and excluded");
  j.excluded_nodes.clear();
  j.required_nodes = {3};
  EXPECT_EQ(never_fits(j, c, catalog()).value_or(""), "needs 16 x K80 but the cluster has only 4");
  j = job(8);
  j.required_nodes = {0, 1, 3};
  EXPECT_EQ(never_fits(j, c, catalog()).value_or(""),
            "required node k80-0 holds K80, not V100-SXM2-32GB (a gang never mixes types)");
  j.required_nodes = {9};
  EXPECT_EQ(never_fits(j, c, catalog()).value_or(""),
            "requires node id 9, which is not in the cluster");
  j = job(8, 1);
  j.required_nodes = {0, 1};
  EXPECT_EQ(never_fits(j, c, catalog()).value_or(""), "requires 2 nodes but the gang spans only 1");
}

// --- Health ---

TEST(FreePool, UnhealthyAndDownDevicesAreNeverUsed) {
  const Cluster c = cluster({group(2, 8, "V100")});
  auto s = idle(c);
  s[0].healthy = 0xF0;  // devices 0-3 failed
  s[1].up = false;
  FreePool pool(c, s);
  EXPECT_EQ(pool.free_of_type(v100()), 4);
  EXPECT_EQ(pool.free_total(), 4);
  EXPECT_EQ(pool.find(job(4), v100()), (Placement{{0, 0xF0}}));
  EXPECT_EQ(pool.find(job(5), v100()), std::nullopt);
  EXPECT_EQ(pool.find(job(16), v100()), std::nullopt);
  // Returning a placement that covered failed devices does not make them usable.
  pool.take({{0, 0xF0}}, job(4));
  EXPECT_EQ(pool.free_total(), 0);
  pool.give({{0, 0xFF}, {1, 0xFF}}, job(16));
  EXPECT_EQ(pool.free_mask(0), 0xF0u);
  EXPECT_EQ(pool.free_mask(1), 0u);
  pool.remove_devices({{0, 0x30}});
  pool.add_devices({{0, 0x3F}});
  EXPECT_EQ(pool.free_mask(0), 0xF0u);
  // Bits beyond a node's device count are ignored.
  auto g = idle(c);
  g[0].free = ~0ull;
  EXPECT_EQ(FreePool(c, g).free_mask(0), 0xFFu);
}

TEST(FreePool, RandomHealthNeverLeaksIntoPlacements) {
  const Cluster c = cluster({group(3, 8, "V100", 2, 2), group(2, 4, "K80", 1, 1)});
  Rng rng(42);
  int found = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    auto s = idle(c);
    for (auto& n : s) {
      n.free &= rng.next();
      n.healthy = rng.next() | rng.next();
      n.up = rng.below(6) != 0;
    }
    FreePool pool(c, s);
    const TypeId t = rng.below(2) ? v100() : k80();
    Job j = job(1 + static_cast<int>(rng.below(20)));
    auto p = pool.find(j, t);
    if (!p) continue;
    ++found;
    EXPECT_EQ(devices(*p), j.accel_count);
    for (const Slot& sl : *p) {
      EXPECT_EQ(c.nodes[sl.node].type, t);
      EXPECT_EQ(sl.devices & ~s[sl.node].usable(), 0u) << "iteration " << iter;
    }
    EXPECT_EQ(nodes_of(*p).size(), p->size());
  }
  EXPECT_GT(found, 200);
}

// --- Bookkeeping ---

TEST(FreePool, TakeAndGiveKeepTheCounts) {
  const Cluster c = cluster({group(2, 8, "V100"), group(1, 4, "K80")});
  FreePool pool(c, idle(c));
  EXPECT_EQ(pool.free_total(), 20);
  const Placement p{{0, 0x0F}, {1, 0x0F}};
  pool.take(p, job(8));
  EXPECT_EQ(pool.free_total(), 12);
  EXPECT_EQ(pool.free_of_type(v100()), 8);
  EXPECT_EQ(pool.free_of_type(k80()), 4);
  EXPECT_EQ(pool.free_count(0), 4);
  EXPECT_EQ(pool.find(job(8), v100()), std::nullopt);
  pool.give(p, job(8));
  EXPECT_EQ(pool.free_total(), 20);
  EXPECT_EQ(pool.find(job(8), v100()), (Placement{{0, 0xFF}}));
}

TEST(FreePool, FragmentationIsTheShareOfFreeDevicesOnPartlyUsedNodes) {
  const Cluster c = cluster({group(2, 8, "V100")});
  FreePool pool(c, idle(c));
  EXPECT_NEAR(pool.fragmentation(), 0.0, 1e-12);  // every free device on a whole free node
  pool.take({{0, 0x0F}}, job(4));
  EXPECT_NEAR(pool.fragmentation(), 4.0 / 12.0, 1e-12);  // 4 of 12 free devices on node 0
  pool.take({{1, 0xFF}}, job(8));
  EXPECT_NEAR(pool.fragmentation(), 1.0, 1e-12);  // all free devices on a partly used node
  pool.take({{0, 0xF0}}, job(4));
  EXPECT_NEAR(pool.fragmentation(), 0.0, 1e-12);  // nothing free
  pool.give({{0, 0xFF}}, job(8));
  EXPECT_NEAR(pool.fragmentation(), 0.0, 1e-12);
  pool.give({{1, 0x01}}, job(1));
  EXPECT_NEAR(pool.fragmentation(), 1.0 / 9.0, 1e-12);
  // A down node contributes nothing.
  auto s = idle(c);
  s[1].up = false;
  s[0].free = 0x03;
  EXPECT_NEAR(FreePool(c, s).fragmentation(), 1.0, 1e-12);
}

// A driver's pool kept from pass to pass (Snapshot::free_pool) must equal one built afresh:
// random changes of free devices, CPU, health and up/down, refreshed node by node.
TEST(FreePool, RefreshOfTheChangedNodesEqualsAFreshPool) {
  const Cluster c = cluster({group(5, 8, "V100", 2, 2, 2), group(3, 4, "K80", 1, 2)});
  std::vector<NodeState> s = idle(c);
  FreePool kept(c, s);
  std::uint64_t x = 88172645463325252ull;  // xorshift
  auto next = [&] { return x ^= x << 13, x ^= x >> 7, x ^= x << 17; };
  for (int round = 0; round < 400; ++round) {
    std::vector<NodeId> changed;
    for (int k = static_cast<int>(next() % 4); k > 0; --k) {
      const NodeId n = static_cast<NodeId>(next() % c.nodes.size());
      NodeState& st = s[n];
      switch (next() % 5) {
        case 0:
          st.up = !st.up;
          break;
        case 1:
          st.healthy = next() | (next() % 2 ? ~0ull : 0);
          break;
        case 2:
          st.free_cpu = static_cast<double>(next() % 64);
          break;
        default:
          st.free = next() & ((1ull << c.nodes[n].accel_count) - 1);
          break;
      }
      changed.push_back(n);  // may name a node twice
    }
    kept.refresh(s, changed);
    ASSERT_TRUE(kept == FreePool(c, s)) << "round " << round;
  }
  // Refreshing nothing changes nothing; a pool with one node changed differs until refreshed.
  kept.refresh(s, {});
  EXPECT_TRUE(kept == FreePool(c, s));
  s[0].up = true;
  s[0].healthy = ~0ull;
  s[0].free = (kept.free_mask(0) ^ 1) & 0xFF;
  EXPECT_FALSE(kept == FreePool(c, s));
  const NodeId zero = 0;
  kept.refresh(s, std::span(&zero, 1));
  EXPECT_TRUE(kept == FreePool(c, s));
}

// --- Shapes ---

TEST(Shape, ShapeForSplitsIntoWholeNodesPlusARemainder) {
  auto eq = [](std::optional<Shape> s, int nodes, int per_node, int remainder) {
    return s && s->nodes == nodes && s->per_node == per_node && s->remainder == remainder;
  };
  EXPECT_TRUE(eq(shape_for(job(4), 8), 1, 4, 0));
  EXPECT_TRUE(eq(shape_for(job(8), 8), 1, 8, 0));
  EXPECT_TRUE(eq(shape_for(job(12), 8), 1, 8, 4));
  EXPECT_TRUE(eq(shape_for(job(16), 8), 2, 8, 0));
  EXPECT_TRUE(eq(shape_for(job(20), 8), 2, 8, 4));
  EXPECT_EQ(shape_for(job(20), 8)->node_count(), 3);
  EXPECT_EQ(shape_for(job(20), 8)->total(), 20);
  EXPECT_TRUE(eq(shape_for(job(12, 0, 4), 8), 3, 4, 0));  // explicit per_node
  EXPECT_TRUE(eq(shape_for(job(12, 3), 8), 3, 4, 0));     // explicit nodes
  EXPECT_TRUE(eq(shape_for(job(12, 3, 4), 8), 3, 4, 0));  // both, consistent
  EXPECT_FALSE(shape_for(job(12, 5), 8));                 // 12 on 5 nodes: 3+3+3+3+0
  EXPECT_TRUE(eq(shape_for(job(13, 2), 8), 1, 7, 6));     // as Slurm's -N 2 -n 13: 7 + 6
  EXPECT_TRUE(eq(shape_for(job(8, 3), 8), 2, 3, 2));      // 3 + 3 + 2
  EXPECT_FALSE(shape_for(job(12, 0, 5), 8));              // 12 / 5 per node
  EXPECT_FALSE(shape_for(job(12, 2, 4), 8));              // 2 x 4 != 12
  EXPECT_FALSE(shape_for(job(0), 8));
  EXPECT_FALSE(shape_for(job(4), 0));  // no node of the type
}

TEST(Shape, NeverFitsNamesWhatIsMissing) {
  const Cluster c = cluster({group(2, 8, "V100")});
  auto why = [&](const Job& j) { return never_fits(j, c, catalog()).value_or("(fits)"); };
  EXPECT_EQ(why(job(16)), "(fits)");
  EXPECT_EQ(why(job(12)), "(fits)");
  EXPECT_EQ(why(job(9999)), "needs 9999 x V100-SXM2-32GB but the cluster has only 16");
  EXPECT_EQ(why(job(16, 0, 16)),
            "needs 16 x V100-SXM2-32GB per node but the largest such node has 8");
  EXPECT_EQ(why(job(3, 3)), "needs 3 nodes of V100-SXM2-32GB but the cluster has only 2");
  EXPECT_EQ(why(job(8, 3)), "needs 3 nodes of V100-SXM2-32GB but the cluster has only 2");
  EXPECT_EQ(why(job(9, 4)), "cannot split 9 accelerators evenly over the requested nodes");
  EXPECT_EQ(why(job(0)), "requests no accelerators (accel_count must be >= 1)");
  Job unknown = job(1);
  unknown.accepted = TypeSet{};
  unknown.unknown_type = "TPUv9";
  EXPECT_EQ(why(unknown), "unknown accelerator type 'TPUv9' (not in the accelerator catalog)");
  Job none = job(1);
  none.accepted = TypeSet{};
  EXPECT_EQ(why(none), "accepts no accelerator type");
  Job absent = job(1);
  absent.accepted = TypeSet::of(k80());
  EXPECT_EQ(why(absent), "no accelerator of type K80 in this cluster (it has 16 x V100-SXM2-32GB)");
  absent.accepted.add(*catalog().find("T4"));
  EXPECT_EQ(why(absent),
            "no accelerator of type K80|T4 in this cluster (it has 16 x V100-SXM2-32GB)");
  Job cpu = job(8);
  cpu.cpu_per_accel = 100;  // 800 cores on one node; nodes have 128
  EXPECT_NE(why(cpu).find("CPU cores"), std::string::npos) << why(cpu);
  EXPECT_NE(why(cpu).find("more than any V100-SXM2-32GB node has"), std::string::npos);
  cpu.cpu_per_accel = 16;  // exactly a whole node's cores
  EXPECT_EQ(why(cpu), "(fits)");
}

TEST(Shape, NeverFitsLooksAtEachAcceptedTypeOnItsOwn) {
  // 16 accelerators in total, but no type has 12: a gang never mixes types.
  const Cluster c = cluster({group(1, 8, "V100"), group(1, 8, "K80")});
  Job j = job(12);
  EXPECT_EQ(never_fits(j, c, catalog()).value_or("(fits)"),
            "needs 12 x K80 but the cluster has only 8");
  j.accepted = TypeSet::of(v100());
  EXPECT_EQ(never_fits(j, c, catalog()).value_or("(fits)"),
            "needs 12 x V100-SXM2-32GB but the cluster has only 8");
  EXPECT_FALSE(never_fits(job(8), c, catalog()));
}

}  // namespace
}  // namespace zs

namespace zs {
TEST(Shape, HugeExplicitShapeDoesNotOverflow) {
  // nodes * per_node once overflowed int (UBSan): 10^6 x 10^6 must simply not match 10^6.
  Job j;
  j.accel_count = 1'000'000;
  j.nodes = 1'000'000;
  j.per_node = 1'000'000;
  EXPECT_FALSE(shape_for(j, 8).has_value());
}
}  // namespace zs
