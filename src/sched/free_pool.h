// FreePool: the usable devices of a cluster during one scheduling pass, indexed so that gang
// placement is fast on 10,000 nodes (a pass must stay well under 100 ms).
//
// Indexes (all updated in O(1) per node change):
//  - per type and per free-device count k, a bitset of nodes: best-fit is "lowest node id in
//    the smallest bucket k >= need", ties broken by id;
//  - per TypeLeaf (the nodes of one type under one leaf switch, core/cluster.h), a histogram of
//    nodes by free count: "how many nodes of type T under this leaf have >= m free" is
//    O(devices per node). Per leaf alone would count nodes of other types: a leaf switch may
//    hold servers of several types;
//  - per type, the total free devices: the common "cluster is full" case fails in O(1).
//
// Placement rules (see docs/policies.md): a gang never mixes types; a job that fits one node
// goes best-fit onto one node (keeping whole nodes free for large gangs); a multi-node gang goes
// under as few leaf switches as possible (one leaf, else one spine, else the fewest leaves);
// inside a node, devices are taken from as few link islands as possible. Node constraints
// (Job::required_nodes, excluded_nodes) are honoured: a gang holds every required node (the
// rest of it packed near them) and no excluded one.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "sched/shape.h"
#include "sched/snapshot.h"

namespace zs {

// Devices in a mask. std::popcount is a library call unless the build targets a CPU with
// POPCNT; this is the same bit trick, inlined, for the per-device bookkeeping of every pass.
inline int device_count(std::uint64_t x) {
  x -= (x >> 1) & 0x5555555555555555ULL;
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return static_cast<int>((x * 0x0101010101010101ULL) >> 56);
}

class FreePool {
 public:
  FreePool(const Cluster& cluster, std::span<const NodeState> nodes);

  // A driver that keeps a pool from pass to pass (Snapshot::free_pool): nodes `changed` now
  // stand as in `nodes`. The pool then equals FreePool(cluster, nodes) if it did before except
  // on those nodes. O(changed).
  void refresh(std::span<const NodeState> nodes, std::span<const NodeId> changed);
  bool operator==(const FreePool& o) const;

  const Cluster& cluster() const { return *cluster_; }
  int free_of_type(TypeId t) const { return t < types_.size() ? types_[t].free : 0; }
  std::uint64_t free_mask(NodeId n) const { return nodes_[n].free; }
  int free_count(NodeId n) const { return nodes_[n].count; }
  int free_total() const { return free_total_; }
  // The node's devices that are up and healthy: what give() can return to the pool.
  std::uint64_t capacity(NodeId n) const { return nodes_[n].capacity; }
  // How many nodes of type t have exactly k usable free devices (0 <= k <= their size).
  int nodes_with_free(TypeId t, int k) const { return row_nodes_[row(t, k)]; }

  // A placement for `job` on type `type` with the current free devices, or nullopt.
  std::optional<Placement> find(const Job& job, TypeId type) const;

  // True if every node of `p` has the CPU cores and memory for the job's share of it.
  bool has_resources(const Placement& p, const Job& job) const;

  // Devices (and the job's CPU/memory share) leave / return to the pool.
  void take(const Placement& p, const Job& job);
  void give(const Placement& p, const Job& job);
  // The same for one slot of a job that asks for `cpu` cores and `mem` GiB per accelerator.
  void take_slot(const Slot& s, double cpu, double mem);
  void give_slot(const Slot& s, double cpu, double mem);
  // Devices only (reservations): no CPU/memory accounting.
  void remove_devices(const Placement& p);
  void add_devices(const Placement& p);

  // Share of free devices that sit on partly-used nodes: 0 when every free device is on a
  // fully free node, near 1 when free devices are scattered. 0 when nothing is free.
  double fragmentation() const;

 private:
  // One node's state in the pool.
  struct NodeFree {
    std::uint64_t free = 0;      // usable free devices
    std::uint64_t capacity = 0;  // devices that are up and healthy
    double cpu = 0, mem = 0;     // free CPU cores and memory
    int count = 0;               // popcount(free)
    bool operator==(const NodeFree&) const = default;
  };
  void set_mask(NodeId n, std::uint64_t mask);
  bool resources_ok(NodeId n, int devices, const Job& job) const;
  std::uint64_t pick_devices(NodeId n, int need) const;
  // Lowest-id node of type t in the smallest bucket with >= need free that the job may use,
  // not in `skip`.
  std::optional<NodeId> best_fit_node(TypeId t, int need, const Job& job,
                                      std::span<const NodeId> skip) const;
  // Nodes of TypeLeaf `part` with >= need free (and room for the job's CPU/memory) that the
  // job may use, best fit first.
  void candidates_in_part(std::uint32_t part, int need, const Job& job,
                          std::vector<NodeId>& out) const;
  // Nodes of TypeLeaf `part` with >= need free devices (an upper bound for a job that excludes
  // nodes or asks for CPU/memory).
  int part_count_ge(std::uint32_t part, int need) const;
  // The nodes of a gang (shape.nodes with per_node devices, then the remainder node, if any).
  bool choose_gang(const Job& job, TypeId type, const Shape& shape,
                   std::vector<NodeId>& chosen) const;
  bool choose_with_required(const Job& job, TypeId type, const Shape& shape,
                            std::vector<NodeId>& chosen) const;
  // Adds nodes with >= m free from `parts`, most qualifying nodes first, until `chosen` holds
  // `want`. False (chosen then holds what was found) if they do not suffice.
  bool take_from_parts(std::vector<std::pair<long, std::uint32_t>>& parts, int m, std::size_t want,
                       const Job& job, std::vector<NodeId>& chosen) const;
  // Adds the remainder node: best fit under a TypeLeaf the gang already uses, else anywhere.
  bool add_remainder(const Job& job, TypeId type, int remainder, std::vector<NodeId>& chosen) const;
  // Row of (type, free count k): buckets_ holds words_ words per row.
  std::size_t row(TypeId t, int k) const {
    return types_[t].first_row + static_cast<std::size_t>(k);
  }
  std::uint64_t* bucket(std::size_t r) { return &buckets_[r * words_]; }
  const std::uint64_t* bucket(std::size_t r) const { return &buckets_[r * words_]; }

  struct TypeFree {
    int free = 0;  // usable free devices of the type
    int rows = 0;  // largest node of the type + 1 (0: no such node)
    std::size_t first_row = 0;
    bool operator==(const TypeFree&) const = default;
  };
  const Cluster* cluster_;
  int kmax_ = 0;                 // largest node's device count + 1 (histogram width)
  std::vector<NodeFree> nodes_;  // by node id
  std::vector<TypeFree> types_;  // by type id
  int free_total_ = 0;
  int free_on_empty_nodes_ = 0;  // free devices on nodes whose every device is free
  // Per row: a bitset over node ids (the nodes of that type with exactly k free devices)...
  std::size_t words_ = 0;
  std::vector<std::uint64_t> buckets_;
  std::vector<int> row_nodes_;  // ...and how many nodes that is
  std::vector<int> part_hist_;  // TypeLeaf * kmax_ + k
  // find()'s nodes of the placement being chosen, kept to reuse their memory: a pass tries
  // thousands of placements. Not part of the pool's state (operator== ignores it).
  mutable std::vector<NodeId> chosen_;
};

}  // namespace zs
