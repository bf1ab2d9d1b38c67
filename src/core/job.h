// A job as the scheduler sees it: what it asks for and (in simulation) how long it really runs.
#pragma once
#include <algorithm>
#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "core/accelerator.h"
#include "core/cluster.h"
#include "core/time.h"

namespace zs {

using JobId = std::uint64_t;

// The accelerator types a job accepts: a set of catalog ids, or any type.
class TypeSet {
 public:
  static TypeSet any() {
    TypeSet s;
    s.any_ = true;
    return s;
  }
  static TypeSet of(TypeId t) {
    TypeSet s;
    s.bits_ = std::uint64_t{1} << t;
    return s;
  }
  void add(TypeId t) { bits_ |= std::uint64_t{1} << t; }
  bool is_any() const { return any_; }
  bool contains(TypeId t) const { return any_ || ((bits_ >> t) & 1u); }
  bool empty() const { return !any_ && bits_ == 0; }
  std::uint64_t bits() const { return bits_; }
  int count() const { return std::popcount(bits_); }
  bool operator==(const TypeSet&) const = default;

 private:
  std::uint64_t bits_ = 0;
  bool any_ = false;
};

struct Job {
  // The fields a scheduling pass reads for every waiting job come first, together: a replay
  // looks at ~1,000 jobs on each of ~160,000 passes, and each cache line of a job costs. The
  // names come last.
  JobId id = 0;
  // With tenants' shares: the tenant's index in the snapshot's tenant table (Snapshot::tenants),
  // set by the driver; -1 otherwise.
  std::int32_t tenant_index = -1;
  std::int32_t priority = 0;  // higher runs first
  TimeMs submit = 0;

  // Request. accel_count is the whole gang. nodes/per_node are optional shape constraints
  // (0 = let the scheduler choose); when both are set accel_count == nodes * per_node.
  int accel_count = 1;
  int nodes = 0;
  int per_node = 0;
  TypeSet accepted = TypeSet::any();
  double cpu_per_accel = 0;      // cores; 0 = no CPU request
  double mem_gib_per_accel = 0;  // 0 = no memory request
  TimeMs walltime = 0;           // limit; 0 = none given
  std::string unknown_type;      // a requested type the catalog does not know (job never fits)
  // Node constraints (Slurm --nodelist/-w and --exclude/-x), as ids of the Cluster the job is
  // scheduled on, ascending and without repeats (normalize_node_set). A gang includes every
  // required node (and more nodes when its shape needs them); it never uses an excluded one.
  // A driver whose node ids change (the controller rebuilds its cluster) maps them again.
  std::vector<NodeId> required_nodes;
  std::vector<NodeId> excluded_nodes;

  // Whether it checkpoints on its signal (sbatch --signal): a reclaimed job that does resumes
  // where it was; one that does not starts again from zero. 1 yes, 0 no, -1 not said (the
  // tenants file's preemption.checkpoint decides).
  std::int8_t checkpoint = -1;

  // Simulation only.
  TimeMs duration = 0;     // real run time on `recorded_type` (or on any type if unknown)
  int model = -1;          // index into the throughput table, -1 = unknown
  int recorded_type = -1;  // catalog type the duration was measured on, -1 = unknown

  std::string name;
  std::string tenant;
  std::string user;
  std::string partition;  // informational in simulation (SWF's queue, canonical `partition`)

  bool has_node_constraints() const { return !required_nodes.empty() || !excluded_nodes.empty(); }
  // Binary search: an exclude list may name thousands of nodes.
  bool requires_node(NodeId n) const {
    return std::binary_search(required_nodes.begin(), required_nodes.end(), n);
  }
  bool excludes_node(NodeId n) const {
    return std::binary_search(excluded_nodes.begin(), excluded_nodes.end(), n);
  }
};

// Sorts and removes repeats: the form Job::required_nodes and excluded_nodes must have.
inline void normalize_node_set(std::vector<NodeId>& set) {
  std::sort(set.begin(), set.end());
  set.erase(std::unique(set.begin(), set.end()), set.end());
}

}  // namespace zs
