// Clusters: the inline form, YAML cluster files (every file in data/clusters) and the topology
// build_cluster makes (leaves and spines as contiguous index ranges covering every node).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include "core/cluster.h"
#include "core/input_error.h"
#include "sim/cluster_file.h"
#include "test_util.h"

namespace zs {
namespace {

using test::cat;
using test::error_of;
using test::type_of;

Cluster yaml(const std::string& text) {
  return parse_cluster_yaml(text, "c.yaml", cat());
}

// Leaves are contiguous node ranges covering every node, spines contiguous leaf ranges covering
// every leaf; every node's `leaf` points back at its leaf; a leaf holds one type only unless
// `mixed_leaves`. The TypeLeafs partition the nodes by (type, leaf), in (type, spine, leaf) order.
void expect_topology(const Cluster& c, bool mixed_leaves = false) {
  ASSERT_FALSE(c.nodes.empty());
  NodeId next = 0;
  for (std::uint32_t l = 0; l < c.leaves.size(); ++l) {
    const Leaf& leaf = c.leaves[l];
    ASSERT_EQ(leaf.first_node, next) << "leaf " << l;
    ASSERT_LT(leaf.first_node, leaf.end_node) << "leaf " << l << " is empty";
    for (NodeId n = leaf.first_node; n < leaf.end_node; ++n) {
      ASSERT_EQ(c.nodes[n].leaf, l) << "node " << n;
      if (!mixed_leaves) {
        ASSERT_EQ(c.nodes[n].type, c.nodes[leaf.first_node].type) << "leaf " << l << " mixes types";
      }
    }
    next = leaf.end_node;
  }
  ASSERT_EQ(next, c.nodes.size());
  std::uint32_t next_leaf = 0;
  for (std::uint32_t s = 0; s < c.spines.size(); ++s) {
    ASSERT_EQ(c.spines[s].first_leaf, next_leaf) << "spine " << s;
    ASSERT_LT(c.spines[s].first_leaf, c.spines[s].end_leaf) << "spine " << s << " is empty";
    for (auto l = c.spines[s].first_leaf; l < c.spines[s].end_leaf; ++l)
      ASSERT_EQ(c.leaves[l].spine, s);
    next_leaf = c.spines[s].end_leaf;
  }
  ASSERT_EQ(next_leaf, c.leaves.size());
  ASSERT_EQ(c.type_leaf_nodes.size(), c.nodes.size());
  ASSERT_EQ(c.type_leaf_of_node.size(), c.nodes.size());
  std::set<NodeId> seen;
  for (std::uint32_t p = 0; p < c.type_leaves.size(); ++p) {
    const TypeLeaf& tl = c.type_leaves[p];
    ASSERT_LT(tl.first, tl.end) << "type leaf " << p << " is empty";
    ASSERT_EQ(tl.spine, c.leaves[tl.leaf].spine);
    ASSERT_GE(p, c.type_leaf_begin[tl.type]);
    ASSERT_LT(p, c.type_leaf_begin[tl.type + 1]);
    if (p > 0) {
      const TypeLeaf& prev = c.type_leaves[p - 1];
      ASSERT_TRUE(std::tie(prev.type, prev.spine, prev.leaf) <
                  std::tie(tl.type, tl.spine, tl.leaf));
    }
    for (std::uint32_t i = tl.first; i < tl.end; ++i) {
      const NodeId n = c.type_leaf_nodes[i];
      ASSERT_EQ(c.nodes[n].type, tl.type);
      ASSERT_EQ(c.nodes[n].leaf, tl.leaf);
      ASSERT_EQ(c.type_leaf_of_node[n], p);
      ASSERT_TRUE(seen.insert(n).second);
    }
  }
  ASSERT_EQ(seen.size(), c.nodes.size());
  std::set<std::string> names;
  for (const Node& n : c.nodes) {
    ASSERT_TRUE(names.insert(n.name).second) << "node name " << n.name << " repeats";
    ASSERT_GE(n.accel_count, 1);
    ASSERT_LE(n.accel_count, kMaxDevicesPerNode);
    ASSERT_GE(n.island_size, 1);
    ASSERT_EQ(n.accel_count % n.island_size, 0);
  }
}

std::vector<std::size_t> leaf_sizes(const Cluster& c) {
  std::vector<std::size_t> v;
  for (const auto& l : c.leaves) v.push_back(l.end_node - l.first_node);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Inline specs

TEST(ClusterInline, SingleGroup) {
  auto groups = parse_inline_cluster("256x8xMLU590");
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].count, 256);
  EXPECT_EQ(groups[0].accel_count, 8);
  EXPECT_EQ(groups[0].accel_type, "MLU590");
  EXPECT_EQ(groups[0].islands, 1);

  Cluster c = build_cluster(groups, cat(), "inline");
  EXPECT_EQ(c.name, "inline");
  ASSERT_EQ(c.nodes.size(), 256u);
  EXPECT_EQ(c.total_accels(), 2048);
  for (const Node& n : c.nodes) {
    EXPECT_EQ(n.type, type_of("MLU590"));
    EXPECT_EQ(n.accel_count, 8);
    EXPECT_EQ(n.island_size, 8);
    EXPECT_EQ(n.cpu_cores, 16u * 8);     // default: 16 cores per accelerator
    EXPECT_EQ(n.memory_gib, 128.0 * 8);  // default: 128 GiB per accelerator
  }
  // Default 16 nodes per leaf and 16 leaves per spine.
  EXPECT_EQ(c.leaves.size(), 16u);
  EXPECT_EQ(c.spines.size(), 1u);
  EXPECT_EQ(leaf_sizes(c), std::vector<std::size_t>(16, 16));
  expect_topology(c);
  EXPECT_EQ(c.accels_of_type[type_of("MLU590")], 2048);
  EXPECT_EQ(c.nodes_of_type[type_of("MLU590")], 256);
  EXPECT_EQ(c.max_per_node_of_type[type_of("MLU590")], 8);
  EXPECT_EQ(c.accels_of_type[type_of("V100")], 0);
}

TEST(ClusterInline, TwoGroupsKeepTheirOwnLeavesAndSpines) {
  auto groups = parse_inline_cluster("64x8xMLU590+32x8xA100-SXM4-80GB");
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1].count, 32);
  EXPECT_EQ(groups[1].accel_type, "A100-SXM4-80GB");
  Cluster c = build_cluster(groups, cat());
  ASSERT_EQ(c.nodes.size(), 96u);
  for (std::size_t i = 0; i < 64; ++i) EXPECT_EQ(c.nodes[i].type, type_of("MLU590")) << i;
  for (std::size_t i = 64; i < 96; ++i) EXPECT_EQ(c.nodes[i].type, type_of("A100-80GB")) << i;
  EXPECT_EQ(c.leaves.size(), 4u + 2u);
  EXPECT_EQ(c.spines.size(), 2u);
  EXPECT_EQ(c.spines[0].end_leaf, 4u);
  EXPECT_EQ(c.leaves[4].first_node, 64u);
  EXPECT_EQ(c.total_accels(), 96 * 8);
  EXPECT_EQ(c.accels_of_type[type_of("A100-80GB")], 256);
  expect_topology(c);
}

TEST(ClusterInline, SpinesGroupSixteenLeaves) {
  Cluster c = build_cluster(parse_inline_cluster("1000x4xT4"), cat());
  EXPECT_EQ(c.leaves.size(), 63u);  // 62 full leaves of 16 and one of 8
  EXPECT_EQ(leaf_sizes(c).back(), 8u);
  EXPECT_EQ(c.spines.size(), 4u);  // 16 + 16 + 16 + 15 leaves
  EXPECT_EQ(c.spines.back().end_leaf - c.spines.back().first_leaf, 15u);
  expect_topology(c);
}

TEST(ClusterInline, AcceptsSpacesCaseAndAliases) {
  auto groups = parse_inline_cluster(" 2x4xv100 + 1x64xAscend 910B3 ");
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1].accel_type, "Ascend 910B3");
  Cluster c = build_cluster(groups, cat());
  EXPECT_EQ(c.nodes[0].type, type_of("V100-SXM2-32GB"));
  EXPECT_EQ(c.nodes[2].type, type_of("910B3"));
  EXPECT_EQ(c.nodes[2].accel_count, 64);
  expect_topology(c);
}

TEST(ClusterInline, RejectsMalformedSpecsNamingThePart) {
  std::string msg = error_of([] { parse_inline_cluster("8x8xMLU590+0x8xA100-80GB"); });
  EXPECT_EQ(msg.rfind("cluster spec '0x8xA100-80GB': node count '0'", 0), 0u) << msg;
  msg = error_of([] { parse_inline_cluster("8x65xMLU590"); });
  EXPECT_EQ(msg, "cluster spec '8x65xMLU590': accelerators per node '65' is not a number in 1..64");
  msg = error_of([] { parse_inline_cluster("8x8"); });
  EXPECT_NE(msg.find("expected NODESxPER_NODExTYPE"), std::string::npos) << msg;
  for (const char* bad : {"", "8x8x", "x8xV100", "8xx V100", "-1x8xV100", "1000001x8xV100",
                          "1.5x8xV100", "8x0xV100", "8x8xV100+", "abc"})
    EXPECT_THROW(parse_inline_cluster(bad), InputError) << bad;
  msg = error_of([] { build_cluster(parse_inline_cluster("8x8xNOPE"), cat()); });
  EXPECT_EQ(msg.rfind("cluster spec '8x8xNOPE': unknown accelerator type 'NOPE'", 0), 0u) << msg;
  msg = error_of([] { build_cluster(parse_inline_cluster("8x8xA100"), cat()); });
  EXPECT_NE(msg.find("ambiguous"), std::string::npos) << msg;
}

TEST(ClusterInline, RecognisesInlineSpecs) {
  EXPECT_TRUE(looks_like_inline_cluster("256x8xMLU590"));
  EXPECT_TRUE(looks_like_inline_cluster("64x8xMLU590+32x8xA100-SXM4-80GB"));
  EXPECT_FALSE(looks_like_inline_cluster("data/clusters/philly.yaml"));
  EXPECT_FALSE(looks_like_inline_cluster("x8xV100"));
  EXPECT_FALSE(looks_like_inline_cluster(""));
}

// ---------------------------------------------------------------------------------------------
// build_cluster directly

TEST(ClusterBuild, RejectsBadGroups) {
  NodeGroupSpec g;
  g.count = 2;
  g.accel_count = 8;
  g.accel_type = "V100";
  g.where = "grp";
  EXPECT_NO_THROW(build_cluster({g}, cat()));
  EXPECT_EQ(error_of([] {
              build_cluster({}, cat());
            }).rfind("cluster: no node groups: a cluster needs at least one", 0),
            0u);
  auto with = [&](auto change) {
    NodeGroupSpec h = g;
    change(h);
    return error_of([&] { build_cluster({h}, cat()); });
  };
  EXPECT_EQ(with([](NodeGroupSpec& h) { h.accel_count = 65; }),
            "grp: accelerators per node must be 1..64, got 65");
  EXPECT_EQ(with([](NodeGroupSpec& h) { h.islands = 3; }),
            "grp: islands (3) must divide the accelerators per node (8)");
  EXPECT_EQ(with([](NodeGroupSpec& h) { h.count = 0; }).rfind("grp: node count must be", 0), 0u);
  EXPECT_EQ(with([](NodeGroupSpec& h) { h.cpu_cores = -1; }),
            "grp: counts and sizes must not be negative");
}

TEST(ClusterBuild, NodeNamesAreUniqueEvenWhenPrefixesCollide) {
  // Two unnamed V100 groups get "v100" and "v100g2"; a group explicitly named "v100g2" must not
  // produce the same node names as the second one.
  auto groups = parse_inline_cluster("2x8xV100+2x8xV100");
  NodeGroupSpec named = groups[0];
  named.name = "v100g2";
  groups.push_back(named);
  Cluster c = build_cluster(groups, cat());
  ASSERT_EQ(c.nodes.size(), 6u);
  EXPECT_EQ(c.nodes[0].name, "v100-0");
  expect_topology(c);
}

// ---------------------------------------------------------------------------------------------
// YAML files

TEST(ClusterYaml, EveryShippedClusterFileLoads) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(ZS_SOURCE_DIR) / "data" / "clusters";
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".yaml") continue;
    ++files;
    SCOPED_TRACE(e.path().string());
    Cluster c;
    ASSERT_NO_THROW(c = load_cluster(e.path().string(), cat()));
    EXPECT_FALSE(c.name.empty()) << "every shipped cluster has a name";
    EXPECT_GT(c.total_accels(), 0);
    expect_topology(c, e.path().filename() == "mixed-leaf.yaml");
  }
  EXPECT_GE(files, 1);
}

TEST(ClusterYaml, PhillyFile) {
  Cluster c = load_cluster(std::string(ZS_SOURCE_DIR) + "/data/clusters/philly.yaml", cat());
  EXPECT_EQ(c.name, "philly-512");
  ASSERT_EQ(c.nodes.size(), 64u);
  EXPECT_EQ(c.total_accels(), 512);
  EXPECT_EQ(c.nodes[0].type, type_of("V100-SXM2-32GB"));
  EXPECT_EQ(c.nodes[0].island_size, 4);
  EXPECT_EQ(c.nodes[0].cpu_cores, 48u);
  EXPECT_EQ(c.nodes[0].memory_gib, 512.0);
  EXPECT_EQ(c.nodes[0].name, "v100-0");
  EXPECT_EQ(c.nodes[63].name, "v100-63");
  EXPECT_EQ(c.leaves.size(), 4u);
  EXPECT_EQ(c.spines.size(), 1u);
}

TEST(ClusterYaml, InlineSpecThroughLoadCluster) {
  Cluster c = load_cluster("4x8xMLU590", cat());
  EXPECT_EQ(c.nodes.size(), 4u);
  EXPECT_EQ(c.name, "4x8xMLU590");
  std::string msg = error_of([] { load_cluster("/nonexistent/cluster.yaml", cat()); });
  EXPECT_EQ(msg.rfind("/nonexistent/cluster.yaml: cannot open cluster file", 0), 0u) << msg;
}

TEST(ClusterYaml, DefaultsApplyToEveryGroupAndGroupsOverrideThem) {
  Cluster c = yaml(
      "name: d\n"
      "defaults:\n  cpu_cores: 64\n  islands: 2\n  memory_gib: 300\n"
      "groups:\n"
      "  - nodes: 2\n    accelerators: 8xMLU590\n"
      "  - nodes: 3\n    accelerators: 4xV100\n    cpu_cores: 32\n    islands: 4\n");
  ASSERT_EQ(c.nodes.size(), 5u);
  EXPECT_EQ(c.nodes[0].cpu_cores, 64u);
  EXPECT_EQ(c.nodes[0].island_size, 4);
  EXPECT_EQ(c.nodes[0].memory_gib, 300.0);
  EXPECT_EQ(c.nodes[2].cpu_cores, 32u);
  EXPECT_EQ(c.nodes[2].island_size, 1);
  EXPECT_EQ(c.nodes[2].memory_gib, 300.0);
  EXPECT_EQ(c.nodes[2].type, type_of("V100"));
  expect_topology(c);
}

TEST(ClusterYaml, AccelTypeAndPerNodeInsteadOfAccelerators) {
  Cluster c = yaml(
      "groups:\n  - name: npu\n    nodes: 2\n    accel_type: Ascend 910B3\n"
      "    accel_per_node: 16\n    islands: 2\n");
  ASSERT_EQ(c.nodes.size(), 2u);
  EXPECT_EQ(c.nodes[1].name, "npu-1");
  EXPECT_EQ(c.nodes[1].type, type_of("910B3"));
  EXPECT_EQ(c.nodes[1].accel_count, 16);
  EXPECT_EQ(c.nodes[1].island_size, 8);
}

TEST(ClusterYaml, IslandsSplitTheDevicesEvenly) {
  for (int islands : {1, 2, 4, 8}) {
    Cluster c = yaml("groups:\n  - nodes: 1\n    accelerators: 8xMLU590\n    islands: " +
                     std::to_string(islands) + "\n");
    EXPECT_EQ(c.nodes[0].island_size, 8 / islands) << islands;
  }
}

TEST(ClusterYaml, NodesPerLeafAndLeavesPerSpine) {
  Cluster c = yaml(
      "groups:\n  - nodes: 20\n    accelerators: 8xMLU590\n    nodes_per_leaf: 8\n"
      "    leaves_per_spine: 2\n");
  EXPECT_EQ(leaf_sizes(c), (std::vector<std::size_t>{8, 8, 4}));
  ASSERT_EQ(c.spines.size(), 2u);
  EXPECT_EQ(c.spines[0].end_leaf, 2u);
  expect_topology(c);
}

TEST(ClusterYaml, LeafSwitchesSpreadTheNodes) {
  Cluster c = yaml("groups:\n  - nodes: 20\n    accelerators: 8xMLU590\n    leaf_switches: 4\n");
  EXPECT_EQ(leaf_sizes(c), (std::vector<std::size_t>{5, 5, 5, 5}));
  c = yaml("groups:\n  - nodes: 20\n    accelerators: 8xMLU590\n    leaf_switches: 3\n");
  EXPECT_EQ(c.leaves.size(), 3u);
  expect_topology(c);
  // More switches than nodes: one node per leaf, never an empty leaf.
  c = yaml("groups:\n  - nodes: 3\n    accelerators: 8xMLU590\n    leaf_switches: 10\n");
  EXPECT_EQ(leaf_sizes(c), (std::vector<std::size_t>{1, 1, 1}));
  expect_topology(c);
}

TEST(ClusterYaml, LeafSwitchesGiveThatManyLeaves) {
  // "leaf_switches: 4" on 6 nodes: 4 leaves (2, 2, 1, 1), not ceil(6/4) = 2 nodes per leaf,
  // which gives 3 leaves.
  Cluster c = yaml("groups:\n  - nodes: 6\n    accelerators: 8xMLU590\n    leaf_switches: 4\n");
  EXPECT_EQ(c.leaves.size(), 4u);
  c = yaml("groups:\n  - nodes: 10\n    accelerators: 8xMLU590\n    leaf_switches: 4\n");
  EXPECT_EQ(c.leaves.size(), 4u);
  for (auto n : leaf_sizes(c)) EXPECT_TRUE(n == 2 || n == 3) << n;
}

TEST(ClusterYaml, UnknownKeysNameLineAndColumn) {
  std::string msg = error_of([] { yaml("groups:\n  - nodes: 2\n    acelerators: 8xV100\n"); });
  EXPECT_EQ(msg.rfind("c.yaml:3:", 0), 0u) << msg;
  EXPECT_NE(msg.find("unknown key 'acelerators' (known: name, nodes, accelerators"),
            std::string::npos)
      << msg;
  msg = error_of([] { yaml("name: x\ngrups: []\n"); });
  EXPECT_EQ(msg.rfind("c.yaml:2:1: unknown key 'grups' (known: name, description, defaults, "
                      "groups)",
                      0),
            0u)
      << msg;
  msg = error_of([] { yaml("defaults:\n  colour: red\ngroups: []\n"); });
  EXPECT_EQ(msg.rfind("c.yaml:2:", 0), 0u) << msg;
  EXPECT_NE(msg.find("unknown key 'colour'"), std::string::npos) << msg;
}

TEST(ClusterYaml, BadNumbersNameLineAndColumn) {
  std::string msg = error_of([] { yaml("groups:\n  - nodes: two\n    accelerators: 8xV100\n"); });
  EXPECT_EQ(msg, "c.yaml:2:12: nodes: 'two' is not an integer");
  msg = error_of([] { yaml("groups:\n  - nodes: 0\n    accelerators: 8xV100\n"); });
  EXPECT_EQ(msg, "c.yaml:2:12: nodes: 0 is out of range 1..1000000");
  msg = error_of(
      [] { yaml("groups:\n  - nodes: 1\n    accelerators: 8xV100\n    memory_gib: -5\n"); });
  EXPECT_EQ(msg, "c.yaml:4:17: memory_gib: '-5' is not a non-negative number");
  msg = error_of(
      [] { yaml("groups:\n  - nodes: 1\n    accelerators: 8xV100\n    cpu_cores: [1]\n"); });
  EXPECT_EQ(msg, "c.yaml:4:16: cpu_cores: expected a number");
  msg = error_of([] { yaml("groups:\n  - nodes: 1\n    accelerators: eightxV100\n"); });
  EXPECT_EQ(msg.rfind("c.yaml:3:19: accelerators: 'eightxV100' is not COUNTxTYPE", 0), 0u) << msg;
}

TEST(ClusterYaml, IslandsMustDivideTheAcceleratorCount) {
  std::string msg = error_of([] {
    yaml("name: bad\ngroups:\n  - nodes: 2\n    accelerators: 8xMLU590\n    islands: 3\n");
  });
  EXPECT_EQ(msg, "c.yaml:3:5: islands (3) must divide the accelerators per node (8)");
  // Through defaults too: the error points at the group.
  msg = error_of([] {
    yaml(
        "defaults:\n  islands: 4\ngroups:\n  - nodes: 1\n    accelerators: 8xV100\n"
        "  - nodes: 1\n    accelerators: 6xV100\n");
  });
  EXPECT_EQ(msg, "c.yaml:6:5: islands (4) must divide the accelerators per node (6)");
}

TEST(ClusterYaml, AtMostSixtyFourDevicesPerNode) {
  EXPECT_EQ(yaml("groups:\n  - nodes: 1\n    accelerators: 64xMLU590\n").nodes[0].accel_count, 64);
  std::string msg = error_of([] { yaml("groups:\n  - nodes: 1\n    accelerators: 65xMLU590\n"); });
  EXPECT_EQ(msg, "c.yaml:3:19: accelerators: count 65 is out of range 1..64");
  msg = error_of(
      [] { yaml("groups:\n  - nodes: 1\n    accel_type: MLU590\n    accel_per_node: 128\n"); });
  EXPECT_EQ(msg, "c.yaml:4:21: accel_per_node: 128 is out of range 1..64");
}

TEST(ClusterYaml, StructuralErrors) {
  std::string msg = error_of([] { yaml("groups: [\n"); });
  EXPECT_EQ(msg.rfind("c.yaml:", 0), 0u) << msg;
  EXPECT_NE(msg.find("invalid YAML"), std::string::npos) << msg;
  msg = error_of([] { yaml("- nodes: 1\n"); });
  EXPECT_EQ(msg.rfind("c.yaml: expected a mapping with 'groups'", 0), 0u) << msg;
  msg = error_of([] { yaml("name: empty\n"); });
  EXPECT_EQ(msg.rfind("c.yaml: no node groups", 0), 0u) << msg;
  msg = error_of([] { yaml("groups:\n  - accelerators: 8xV100\n"); });
  EXPECT_EQ(msg, "c.yaml:2:5: group needs 'nodes' (how many nodes)");
  msg = error_of([] { yaml("groups:\n  - nodes: 1\n"); });
  EXPECT_EQ(msg.rfind("c.yaml:2:5: group needs 'accelerators: COUNTxTYPE'", 0), 0u) << msg;
  msg = error_of([] { yaml("groups:\n  - nodes: 1\n    accelerators: 8xZ9000\n"); });
  EXPECT_EQ(msg.rfind("c.yaml:2:5: unknown accelerator type 'Z9000'", 0), 0u) << msg;
  msg = error_of([] { yaml("groups:\n  - 3\n"); });
  EXPECT_EQ(msg, "c.yaml:2:5: each group must be a mapping");
  msg = error_of([] { yaml("groups: {nodes: 1}\n"); });
  EXPECT_EQ(msg.rfind("c.yaml:1:9: groups: expected a list", 0), 0u) << msg;
  msg = error_of([] { yaml(""); });
  EXPECT_EQ(msg.rfind("c.yaml: expected a mapping", 0), 0u) << msg;
}

TEST(ClusterYaml, GroupsShareANamedLeaf) {
  // Two types under leaf "rack1" (as a real leaf switch may hold), a third group with leaves of
  // its own under the same spine, and a named leaf without a spine.
  Cluster c = yaml(
      "groups:\n"
      "  - {name: mlu, nodes: 2, accelerators: 8xMLU590, leaf: rack1, spine: pod1}\n"
      "  - {name: a100, nodes: 2, accelerators: 8xA100-SXM4-80GB, leaf: rack1}\n"
      "  - {name: v100, nodes: 3, accelerators: 8xV100, nodes_per_leaf: 2, spine: pod1}\n"
      "  - {name: lone, nodes: 1, accelerators: 4xT4, leaf: rack9}\n"
      "  - {name: mlu2, nodes: 1, accelerators: 8xMLU590, leaf: rack1}\n");
  expect_topology(c, true);
  ASSERT_EQ(c.nodes.size(), 9u);
  ASSERT_EQ(c.leaves.size(), 4u);  // rack1, v100-leaf0, v100-leaf1, rack9
  EXPECT_EQ(c.leaves[0].name, "rack1");
  std::vector<std::string> rack1;
  for (NodeId n = c.leaves[0].first_node; n < c.leaves[0].end_node; ++n)
    rack1.push_back(c.nodes[n].name);
  EXPECT_EQ(rack1, (std::vector<std::string>{"mlu-0", "mlu-1", "a100-0", "a100-1", "mlu2-0"}));
  ASSERT_EQ(c.spines.size(), 2u);
  EXPECT_EQ(c.spines[0].name, "pod1");
  EXPECT_EQ(c.spines[0].end_leaf, 3u);  // rack1 and the two v100 leaves
  EXPECT_EQ(c.leaves[3].name, "rack9");
  EXPECT_EQ(c.spines[1].name, "rack9-spine");
  // rack1 holds two TypeLeafs: MLU590 (3 nodes) and A100 (2 nodes).
  const TypeId mlu = type_of("MLU590"), a100 = type_of("A100-SXM4-80GB");
  EXPECT_EQ(c.type_leaf_begin[mlu + 1] - c.type_leaf_begin[mlu], 1u);
  const TypeLeaf& tl = c.type_leaves[c.type_leaf_begin[mlu]];
  EXPECT_EQ(tl.end - tl.first, 3u);
  EXPECT_EQ(c.type_leaves[c.type_leaf_begin[a100]].leaf, 0u);
}

TEST(ClusterYaml, ClustersWithoutNamedSwitchesKeepTheirLayout) {
  // Named switches change nothing for files that use none: node i is the same node.
  Cluster c = yaml(
      "groups:\n  - {nodes: 3, accelerators: 8xV100, nodes_per_leaf: 2}\n"
      "  - {nodes: 2, accelerators: 8xK80}\n");
  std::vector<std::string> names;
  for (const auto& n : c.nodes) names.push_back(n.name);
  EXPECT_EQ(names, (std::vector<std::string>{"v100-0", "v100-1", "v100-2", "k80-0", "k80-1"}));
  EXPECT_EQ(leaf_sizes(c), (std::vector<std::size_t>{2, 1, 2}));
  ASSERT_EQ(c.spines.size(), 2u);
  expect_topology(c);
}

TEST(ClusterYaml, NamedSwitchErrors) {
  std::string msg = error_of([] {
    yaml(
        "groups:\n  - {nodes: 1, accelerators: 8xV100, leaf: a, spine: s1}\n"
        "  - {nodes: 1, accelerators: 8xK80, leaf: a, spine: s2}\n");
  });
  EXPECT_EQ(msg, "c.yaml:3:5: leaf 'a' is under spine 's1' (c.yaml:2:5), not 's2'");
  msg = error_of(
      [] { yaml("groups:\n  - {nodes: 2, accelerators: 8xV100, leaf: a, nodes_per_leaf: 1}\n"); });
  EXPECT_NE(msg.find("nodes_per_leaf and leaf exclude each other"), std::string::npos) << msg;
  msg = error_of([] {
    yaml("groups:\n  - {nodes: 2, accelerators: 8xV100, spine: s, leaves_per_spine: 1}\n");
  });
  EXPECT_NE(msg.find("leaves_per_spine and spine exclude each other"), std::string::npos) << msg;
  msg =
      error_of([] { yaml("groups:\n  - {nodes: 2, accelerators: 8xV100, leaf: \"a b\\x1b\"}\n"); });
  EXPECT_EQ(msg, "c.yaml:2:5: leaf name 'a b\\x1b' must be 1-64 letters, digits, '-', '_' or '.'");
  msg = error_of([] { yaml("groups:\n  - {nodes: 2, accelerators: 8xV100, spine: [x]}\n"); });
  EXPECT_NE(msg.find("spine: expected a name"), std::string::npos) << msg;
  // A named leaf in the defaults wins over nodes_per_leaf there.
  Cluster c = yaml(
      "defaults: {nodes_per_leaf: 1}\n"
      "groups:\n  - {nodes: 2, accelerators: 8xV100, leaf: a}\n  - {nodes: 2, accelerators: "
      "8xK80}\n");
  EXPECT_EQ(leaf_sizes(c), (std::vector<std::size_t>{2, 1, 1}));
}

TEST(ClusterYaml, AnchorsAndAliasesWork) {
  Cluster c = yaml(
      "description: &g {nodes: 2, accelerators: 4xT4}\n"
      "groups:\n  - *g\n  - *g\n");
  EXPECT_EQ(c.nodes.size(), 4u);
  expect_topology(c);
}

}  // namespace
}  // namespace zs
