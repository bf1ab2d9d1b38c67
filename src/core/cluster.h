// The cluster: nodes with accelerators, and the topology above and inside them.
//
// Topology (flux-sched style, kept flat for speed):
//   spine/pod -> leaf switch -> node -> link island (NVLink / MLU-Link / HCCS) -> device
// Nodes of one leaf are contiguous in `nodes`, and leaves of one spine are contiguous in
// `leaves`, so a subtree is an index range. A node holds accelerators of exactly one type.
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
  std::string where;         // for error messages: "file:line" or "--cluster"
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
  // nodes_with_at_least[type][k]: nodes of that type with >= k accelerators (k = 0..64).
  std::vector<std::vector<int>> nodes_with_at_least;

  int total_accels() const;
  void finalize(std::size_t catalog_size);  // computes the derived fields
};

// Builds a cluster from groups. Each group gets its own leaf switches; spines group leaves.
// Throws InputError (naming group.where) on a bad count, unknown type or > 64 devices per node.
Cluster build_cluster(const std::vector<NodeGroupSpec>& groups, const Catalog& catalog,
                      std::string name = "");

// Parses the inline form "256x8xMLU590" or several joined with '+':
// "64x8xMLU590+32x8xA100-SXM4-80GB" (nodes x accelerators per node x type).
std::vector<NodeGroupSpec> parse_inline_cluster(std::string_view spec);

// True if `text` looks like an inline cluster spec rather than a file name.
bool looks_like_inline_cluster(std::string_view text);

}  // namespace zs
