#include "sched/shape.h"

#include <charconv>

namespace zs {

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
    if (n % job.nodes != 0) return std::nullopt;
    return Shape{job.nodes, n / job.nodes, 0};
  }
  if (max_per_node <= 0) return std::nullopt;
  if (n <= max_per_node) return Shape{1, n, 0};
  return Shape{n / max_per_node, max_per_node, n % max_per_node};
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
  return "";
}

bool type_fits(const Job& job, const Cluster& cluster, TypeId t) {
  const int max_per_node = cluster.max_per_node_of_type[t];
  auto shape = shape_for(job, max_per_node);
  return shape && job.accel_count <= cluster.accels_of_type[t] && shape->per_node <= max_per_node &&
         shape->node_count() <= cluster.nodes_of_type[t] && enough_big_nodes(*shape, cluster, t) &&
         shape->per_node * job.cpu_per_accel <= cluster.max_cpu_of_type[t] + 1e-9 &&
         shape->per_node * job.mem_gib_per_accel <= cluster.max_mem_gib_of_type[t] + 1e-9;
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
    if (cluster.accels_of_type[t] > 0 && job.accepted.contains(t) && type_fits(job, cluster, t))
      return std::nullopt;
  // Slow path, only for a job that never fits: say why, for the first accepted type present.
  std::string present;
  for (TypeId t = 0; t < types; ++t) {
    if (cluster.accels_of_type[t] == 0) continue;
    if (job.accepted.contains(t)) return type_reason(job, cluster, catalog, t);
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
