#include "sched/shape.h"

#include <charconv>

namespace zs {

namespace {
// The automatic shape of a job with a node list: it spans at least its nodes (Slurm: --nodelist
// raises the node count), with the devices spread as evenly as a Shape allows.
std::optional<Shape> spread_over_required(const Job& job, int max_per_node) {
  const int n = job.accel_count;
  const Shape s =
      n <= max_per_node ? Shape{1, n, 0} : Shape{n / max_per_node, max_per_node, n % max_per_node};
  const auto k = static_cast<std::int64_t>(job.required_nodes.size());
  if (k <= s.node_count()) return s;
  if (k > n) return std::nullopt;
  if (n % k == 0) return Shape{static_cast<int>(k), static_cast<int>(n / k), 0};
  const auto per = (n + k - 1) / k;
  const auto rest = n - (k - 1) * per;
  if (rest <= 0) return std::nullopt;
  return Shape{static_cast<int>(k - 1), static_cast<int>(per), static_cast<int>(rest)};
}
}  // namespace

std::optional<Shape> shape_for(const Job& job, int max_per_node) {
  const int n = job.accel_count;
  if (n <= 0) return std::nullopt;
  if (job.per_node > 0) {
    if (n % job.per_node != 0) return std::nullopt;
    if (job.nodes > 0 && static_cast<std::int64_t>(job.nodes) * job.per_node != n)
      return std::nullopt;
    return Shape{n / job.per_node, job.per_node, 0};
  }
  if (job.nodes > 0) {
    if (n % job.nodes == 0) return Shape{job.nodes, n / job.nodes, 0};
    // Spread as evenly as a Shape allows (Slurm: -N 2 -n 13 gives 7 + 6): nodes - 1 nodes of
    // ceil(n / nodes) and the rest on the last one (13 on 2: 7 + 6; 9 on 4: 3 + 3 + 3 + 0 is
    // no shape, such a job never fits).
    if (n < job.nodes) return std::nullopt;
    const int per = (n + job.nodes - 1) / job.nodes;
    const int rest = n - (job.nodes - 1) * per;
    if (rest <= 0) return std::nullopt;
    return Shape{job.nodes - 1, per, rest};
  }
  if (max_per_node <= 0) return std::nullopt;
  if (job.required_nodes.empty()) {
    if (n <= max_per_node) return Shape{1, n, 0};
    return Shape{n / max_per_node, max_per_node, n % max_per_node};
  }
  return spread_over_required(job, max_per_node);
}

namespace {
// "800", "1.5": shortest round-trip form, for messages.
std::string number(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// Enough nodes of type t hold the shape's per-node count (nodes of one type may differ in size).
bool enough_big_nodes(const Shape& shape, const Cluster& cluster, TypeId t) {
  const auto& ge = cluster.nodes_with_at_least[t];
  if (shape.per_node >= static_cast<int>(ge.size()) || ge[shape.per_node] < shape.nodes)
    return false;
  return shape.remainder == 0 || ge[shape.remainder] >= shape.nodes + 1;
}

// How many nodes of type t can hold k of the job's devices with their CPU and memory share;
// with `others_only`, not counting the job's required and excluded nodes (disjoint here). The
// per-type counts are exact unless the job's share exceeds the smallest node's CPU or memory:
// then the nodes of the type are scanned.
int nodes_that_hold(const Job& job, const Cluster& cluster, TypeId t, int k, bool others_only) {
  const auto& nodes = cluster.nodes;
  auto holds = [&](const Node& n) {
    return n.accel_count >= k && k * job.cpu_per_accel <= n.cpu_cores + 1e-9 &&
           k * job.mem_gib_per_accel <= n.memory_gib + 1e-9;
  };
  int count = 0;
  if (k * job.cpu_per_accel <= cluster.min_cpu_of_type[t] + 1e-9 &&
      k * job.mem_gib_per_accel <= cluster.min_mem_gib_of_type[t] + 1e-9) {
    const auto& ge = cluster.nodes_with_at_least[t];
    count = k < static_cast<int>(ge.size()) ? ge[static_cast<std::size_t>(std::max(k, 0))] : 0;
    if (others_only) {
      for (NodeId n : job.required_nodes) count -= n < nodes.size() && holds(nodes[n]);
      for (NodeId n : job.excluded_nodes)
        count -= n < nodes.size() && nodes[n].type == t && holds(nodes[n]);
    }
    return count;
  }
  const std::uint32_t lo = cluster.type_leaf_begin[t], hi = cluster.type_leaf_begin[t + 1];
  if (lo == hi) return 0;
  for (std::uint32_t i = cluster.type_leaves[lo].first; i < cluster.type_leaves[hi - 1].end; ++i) {
    const NodeId n = cluster.type_leaf_nodes[i];
    if (holds(nodes[n]) && !(others_only && (job.requires_node(n) || job.excludes_node(n))))
      ++count;
  }
  return count;
}

// Enough nodes of type t can hold the shape with the job's CPU and memory share.
bool enough_nodes_hold(const Job& job, const Shape& shape, const Cluster& cluster, TypeId t) {
  return nodes_that_hold(job, cluster, t, shape.per_node, false) >= shape.nodes &&
         (shape.remainder == 0 ||
          nodes_that_hold(job, cluster, t, shape.remainder, false) >= shape.nodes + 1);
}

// Why `job` cannot run on the nodes of type `t`, or "" if it can.
std::string type_reason(const Job& job, const Cluster& cluster, const Catalog& catalog, TypeId t) {
  const int max_per_node = cluster.max_per_node_of_type[t];
  auto shape = shape_for(job, max_per_node);
  if (!shape)
    return "cannot split " + std::to_string(job.accel_count) +
           " accelerators evenly over the requested nodes";
  if (job.accel_count > cluster.accels_of_type[t])
    return "needs " + std::to_string(job.accel_count) + " x " + catalog.name(t) +
           " but the cluster has only " + std::to_string(cluster.accels_of_type[t]);
  if (shape->per_node > max_per_node)
    return "needs " + std::to_string(shape->per_node) + " x " + catalog.name(t) +
           " per node but the largest such node has " + std::to_string(max_per_node);
  if (shape->node_count() > cluster.nodes_of_type[t])
    return "needs " + std::to_string(shape->node_count()) + " nodes of " + catalog.name(t) +
           " but the cluster has only " + std::to_string(cluster.nodes_of_type[t]);
  if (!enough_big_nodes(*shape, cluster, t))
    return "needs " + std::to_string(shape->nodes) + " nodes with " +
           std::to_string(shape->per_node) + " x " + catalog.name(t) +
           (shape->remainder > 0 ? " (and one more with " + std::to_string(shape->remainder) + ")"
                                 : std::string()) +
           " but only " + std::to_string(cluster.nodes_with_at_least[t][shape->per_node]) +
           " nodes have that many";
  const int per = shape->per_node;
  if (per * job.cpu_per_accel > cluster.max_cpu_of_type[t] + 1e-9 ||
      per * job.mem_gib_per_accel > cluster.max_mem_gib_of_type[t] + 1e-9)
    return "needs " + number(per * job.cpu_per_accel) + " CPU cores and " +
           number(per * job.mem_gib_per_accel) + " GiB of memory per node, more than any " +
           catalog.name(t) + " node has";
  if (!enough_nodes_hold(job, *shape, cluster, t))
    return "needs " + std::to_string(shape->nodes) + " nodes with " + std::to_string(per) + " x " +
           catalog.name(t) + ", " + number(per * job.cpu_per_accel) + " CPU cores and " +
           number(per * job.mem_gib_per_accel) + " GiB of memory each" +
           (shape->remainder > 0 ? " (and one more for " + std::to_string(shape->remainder) + ")"
                                 : std::string()) +
           " but only " + std::to_string(nodes_that_hold(job, cluster, t, per, false)) +
           " nodes have that much";
  return "";
}

// Why `job`'s node constraints rule out type `t` (on which its shape fits), or "".
std::string constraint_reason(const Job& job, const Cluster& cluster, const Catalog& catalog,
                              TypeId t) {
  if (!job.has_node_constraints()) return "";
  const auto shape = shape_for(job, cluster.max_per_node_of_type[t]);
  if (!shape) return "cannot split the accelerators over the required nodes";
  const auto& nodes = cluster.nodes;
  for (NodeId n : job.required_nodes)
    if (n >= nodes.size())
      return "requires node id " + std::to_string(n) + ", which is not in the cluster";
  for (NodeId n : job.required_nodes)
    if (job.excludes_node(n)) return "node " + nodes[n].name + " is both required and excluded";
  for (NodeId n : job.required_nodes)
    if (nodes[n].type != t)
      return "required node " + nodes[n].name + " holds " + catalog.name(nodes[n].type) + ", not " +
             catalog.name(t) + " (a gang never mixes types)";
  if (static_cast<int>(job.required_nodes.size()) > shape->node_count())
    return "requires " + std::to_string(job.required_nodes.size()) +
           " nodes but the gang spans only " + std::to_string(shape->node_count());
  auto holds = [&](NodeId n, int k) {
    return k > 0 && nodes[n].accel_count >= k &&
           k * job.cpu_per_accel <= nodes[n].cpu_cores + 1e-9 &&
           k * job.mem_gib_per_accel <= nodes[n].memory_gib + 1e-9;
  };
  int mains = 0, small = 0;
  for (NodeId n : job.required_nodes) {
    if (holds(n, shape->per_node)) {
      ++mains;
    } else if (holds(n, shape->remainder)) {
      if (++small > 1)
        return "only one node of the gang holds fewer than " + std::to_string(shape->per_node) +
               " x " + catalog.name(t) + ", but several required nodes are that small";
    } else {
      const int least = shape->remainder > 0 ? shape->remainder : shape->per_node;
      return "required node " + nodes[n].name + " cannot hold " + std::to_string(least) + " x " +
             catalog.name(t) + " with the requested CPU and memory";
    }
  }
  const bool remainder_placed = small == 1 || mains > shape->nodes;
  const int more = shape->nodes - std::min(mains, shape->nodes);
  // Other nodes of type t that can hold k devices: neither required nor excluded.
  auto others = [&](int k) { return nodes_that_hold(job, cluster, t, k, true); };
  if (more > 0 && others(shape->per_node) < more)
    return "needs " + std::to_string(more) + " more nodes with " + std::to_string(shape->per_node) +
           " x " + catalog.name(t) + " besides the required ones, but only " +
           std::to_string(others(shape->per_node)) + " that are not excluded can hold them";
  if (shape->remainder > 0 && !remainder_placed && others(shape->remainder) < more + 1)
    return "needs one more node with " + std::to_string(shape->remainder) + " x " +
           catalog.name(t) + " for the rest of the gang, but none is left that is not excluded";
  return "";
}

bool type_fits(const Job& job, const Cluster& cluster, TypeId t) {
  const int max_per_node = cluster.max_per_node_of_type[t];
  auto shape = shape_for(job, max_per_node);
  return shape && job.accel_count <= cluster.accels_of_type[t] && shape->per_node <= max_per_node &&
         shape->node_count() <= cluster.nodes_of_type[t] && enough_big_nodes(*shape, cluster, t) &&
         shape->per_node * job.cpu_per_accel <= cluster.max_cpu_of_type[t] + 1e-9 &&
         shape->per_node * job.mem_gib_per_accel <= cluster.max_mem_gib_of_type[t] + 1e-9 &&
         enough_nodes_hold(job, *shape, cluster, t);
}
}  // namespace

std::optional<std::string> never_fits(const Job& job, const Cluster& cluster,
                                      const Catalog& catalog) {
  if (job.accel_count <= 0) return "requests no accelerators (accel_count must be >= 1)";
  if (job.accepted.empty())
    return job.unknown_type.empty() ? std::string("accepts no accelerator type")
                                    : "unknown accelerator type '" + job.unknown_type +
                                          "' (not in the accelerator catalog)";
  const std::size_t types = cluster.accels_of_type.size();
  for (TypeId t = 0; t < types; ++t)
    if (cluster.accels_of_type[t] > 0 && job.accepted.contains(t) && type_fits(job, cluster, t) &&
        constraint_reason(job, cluster, catalog, t).empty())
      return std::nullopt;
  // Slow path, only for a job that never fits: say why, for the first accepted type present.
  // A node list settles the type: say why that type fails.
  for (NodeId n : job.required_nodes)
    if (n >= cluster.nodes.size())
      return "requires node id " + std::to_string(n) + ", which is not in the cluster";
  if (!job.required_nodes.empty()) {
    const TypeId t = cluster.nodes[job.required_nodes.front()].type;
    if (job.accepted.contains(t) && t < types && cluster.accels_of_type[t] > 0) {
      std::string why = type_reason(job, cluster, catalog, t);
      return why.empty() ? constraint_reason(job, cluster, catalog, t) : why;
    }
  }
  std::string present;
  for (TypeId t = 0; t < types; ++t) {
    if (cluster.accels_of_type[t] == 0) continue;
    if (job.accepted.contains(t)) {
      std::string why = type_reason(job, cluster, catalog, t);
      return why.empty() ? constraint_reason(job, cluster, catalog, t) : why;
    }
    present += (present.empty() ? "" : ", ") + std::to_string(cluster.accels_of_type[t]) + " x " +
               catalog.name(t);
  }
  std::string wanted;
  if (job.accepted.is_any()) {
    wanted = "any type";
  } else {
    for (TypeId t = 0; t < catalog.size(); ++t)
      if (job.accepted.contains(t)) wanted += (wanted.empty() ? "" : "|") + catalog.name(t);
  }
  return "no accelerator of type " + wanted + " in this cluster (it has " +
         (present.empty() ? std::string("none") : present) + ")";
}

}  // namespace zs
