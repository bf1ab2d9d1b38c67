// The cluster: nodes with accelerators, and the topology above and inside them.
//
// Topology (flux-sched style, kept flat for speed):
//   spine/pod -> leaf switch -> node -> link island (NVLink / MLU-Link / HCCS) -> device
// Nodes of one leaf are contiguous in `nodes`, and leaves of one spine are contiguous in
// `leaves`, so a subtree is an index range. A node holds accelerators of exactly one type, but
// a leaf (and a spine) may hold nodes of several types, as real leaf switches do: the nodes of
// one type under one leaf (a TypeLeaf) are what a gang is packed into.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/accelerator.h"

namespace zs {

using NodeId = std::uint32_t;
inline constexpr int kMaxDevicesPerNode = 64;  // a node's devices form one 64-bit mask

struct Node {
  std::string name;
  TypeId type = 0;
  std::uint8_t accel_count = 0;
  std::uint8_t island_size = 0;  // devices per link island; == accel_count when one island
  std::uint32_t cpu_cores = 0;
  double memory_gib = 0;
  std::uint32_t leaf = 0;
};

struct Leaf {
  std::string name;
  std::uint32_t spine = 0;
  NodeId first_node = 0, end_node = 0;  // [first, end)
};

struct Spine {
  std::string name;
  std::uint32_t first_leaf = 0, end_leaf = 0;
};

// The nodes of one accelerator type under one leaf switch. A gang never mixes types, so it
// is packed into these, not into whole leaves.
struct TypeLeaf {
  TypeId type = 0;
  std::uint32_t leaf = 0, spine = 0;
  std::uint32_t first = 0, end = 0;  // its nodes: Cluster::type_leaf_nodes[first, end), ascending
};

// One homogeneous group of nodes as written in a cluster file or an inline spec.
struct NodeGroupSpec {
  std::string name;  // node name prefix; default derived from the type
  int count = 0;
  int accel_count = 0;
  std::string accel_type;    // catalog name or alias
  int islands = 1;           // link islands per node (devices split evenly)
  int cpu_cores = 0;         // 0: 16 per accelerator
  double memory_gib = 0;     // 0: 128 GiB per accelerator
  int nodes_per_leaf = 0;    // 0: default 16 (or `leaf_switches` given)
  int leaf_switches = 0;     // alternative to nodes_per_leaf: spread count nodes evenly
  int leaves_per_spine = 0;  // 0: default 16
  // A named leaf switch: every node of the group goes under it, beside the nodes of any other
  // group naming it (so one leaf may hold several types). Overrides nodes_per_leaf and
  // leaf_switches. Empty: the group gets leaves of its own.
  std::string leaf;
  // A named spine: the group's leaves go under it, beside other groups' leaves naming it.
  // Overrides leaves_per_spine. Empty: spines of the group's own (a named leaf: one of its own).
  std::string spine;
  std::string where;  // for error messages: "file:line" or "--cluster"
};

struct Cluster {
  std::string name;
  std::vector<Node> nodes;
  std::vector<Leaf> leaves;
  std::vector<Spine> spines;

  // Derived per catalog type, filled by finalize().
  std::vector<int> accels_of_type;  // total accelerators of each type
  std::vector<int> nodes_of_type;   // node count of each type
  std::vector<int> max_per_node_of_type;
  std::vector<double> max_cpu_of_type;      // largest node's CPU cores
  std::vector<double> max_mem_gib_of_type;  // largest node's memory
  std::vector<double> min_cpu_of_type;      // smallest node's CPU cores (0: no such node)
  std::vector<double> min_mem_gib_of_type;  // smallest node's memory
  // nodes_with_at_least[type][k]: nodes of that type with >= k accelerators (k = 0..64).
  std::vector<std::vector<int>> nodes_with_at_least;
  // TypeLeafs in (type, spine, leaf) order: those of type t are
  // type_leaves[type_leaf_begin[t], type_leaf_begin[t + 1]), those of one spine adjacent.
  std::vector<TypeLeaf> type_leaves;
  std::vector<std::uint32_t> type_leaf_begin;  // catalog_size + 1 entries
  std::vector<NodeId> type_leaf_nodes;
  std::vector<std::uint32_t> type_leaf_of_node;  // by node id

  int total_accels() const;
  void finalize(std::size_t catalog_size);  // computes the derived fields
};

// Builds a cluster from groups. Each group gets its own leaf switches, unless it names a leaf
// (or spine) that other groups share; spines group leaves. Leaves and spines are laid out in
// order of first appearance, so a cluster without named ones keeps the groups' order. Throws
// InputError (naming group.where) on a bad count, unknown type, > 64 devices per node, a bad
// leaf or spine name, or a named leaf put under two different spines.
Cluster build_cluster(const std::vector<NodeGroupSpec>& groups, const Catalog& catalog,
                      std::string name = "");

// Parses the inline form "256x8xMLU590" or several joined with '+':
// "64x8xMLU590+32x8xA100-SXM4-80GB" (nodes x accelerators per node x type).
std::vector<NodeGroupSpec> parse_inline_cluster(std::string_view spec);

// True if `text` looks like an inline cluster spec rather than a file name.
bool looks_like_inline_cluster(std::string_view text);

}  // namespace zs
