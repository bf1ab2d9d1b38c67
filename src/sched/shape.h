// How a gang request maps onto nodes, and whether it can ever fit the cluster.
#pragma once
#include <optional>
#include <string>

#include "core/cluster.h"
#include "core/job.h"

namespace zs {

// `nodes` nodes with `per_node` devices each, plus (if remainder > 0) one more node with
// `remainder` devices. accel_count == nodes * per_node + remainder.
struct Shape {
  int nodes = 1;
  int per_node = 1;
  int remainder = 0;
  int node_count() const { return nodes + (remainder > 0 ? 1 : 0); }
  int total() const { return nodes * per_node + remainder; }
};

// Shape of `job` on nodes of a type whose largest node has `max_per_node` devices:
//  - explicit per_node or nodes: exactly that;
//  - otherwise a job that fits one node stays on one node; a larger one takes whole nodes and
//    puts the remainder on one more node (fewest nodes, so fewest network hops); a job with
//    more required nodes (Job::required_nodes) than that spans them all, as evenly as a Shape
//    allows (10 on 3 nodes: 4 + 4 + 2).
// nullopt if the explicit shape does not divide the count (or no Shape spreads the devices
// over the required nodes, e.g. 5 on 4 nodes).
std::optional<Shape> shape_for(const Job& job, int max_per_node);

// Why `job` can never run on `cluster` (even empty and fully healthy), or nullopt if it can.
// Node constraints count: a required node that is missing, of a refused type or too small, or
// too few nodes left once the excluded ones are set aside.
std::optional<std::string> never_fits(const Job& job, const Cluster& cluster,
                                      const Catalog& catalog);

}  // namespace zs
