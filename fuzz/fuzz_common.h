// Shared by the libFuzzer targets: invariants that whatever a parser accepts must satisfy.
// A violated invariant prints what is wrong and aborts, so libFuzzer saves the input.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string_view>

#include "core/cluster.h"
#include "core/throughput.h"
#include "sim/trace.h"

namespace zs::fuzz {

#define ZS_FUZZ_CHECK(cond)                                                             \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

inline void check_cluster(const Cluster& c, const Catalog& cat) {
  ZS_FUZZ_CHECK(!c.nodes.empty() && !c.leaves.empty() && !c.spines.empty());
  NodeId next = 0;
  for (std::uint32_t l = 0; l < c.leaves.size(); ++l) {
    const Leaf& leaf = c.leaves[l];
    ZS_FUZZ_CHECK(leaf.first_node == next && leaf.first_node < leaf.end_node);
    ZS_FUZZ_CHECK(leaf.end_node <= c.nodes.size() && leaf.spine < c.spines.size());
    for (NodeId n = leaf.first_node; n < leaf.end_node; ++n) ZS_FUZZ_CHECK(c.nodes[n].leaf == l);
    next = leaf.end_node;
  }
  ZS_FUZZ_CHECK(next == c.nodes.size());
  std::uint32_t next_leaf = 0;
  for (std::uint32_t s = 0; s < c.spines.size(); ++s) {
    ZS_FUZZ_CHECK(c.spines[s].first_leaf == next_leaf &&
                  c.spines[s].first_leaf < c.spines[s].end_leaf);
    for (auto l = c.spines[s].first_leaf; l < c.spines[s].end_leaf; ++l)
      ZS_FUZZ_CHECK(c.leaves[l].spine == s);
    next_leaf = c.spines[s].end_leaf;
  }
  ZS_FUZZ_CHECK(next_leaf == c.leaves.size());
  long long total = 0;
  for (const Node& n : c.nodes) {
    ZS_FUZZ_CHECK(n.accel_count >= 1 && n.accel_count <= kMaxDevicesPerNode);
    ZS_FUZZ_CHECK(n.island_size >= 1 && n.accel_count % n.island_size == 0);
    ZS_FUZZ_CHECK(n.type < cat.size());
    ZS_FUZZ_CHECK(n.cpu_cores > 0 && std::isfinite(n.memory_gib) && n.memory_gib > 0);
    ZS_FUZZ_CHECK(!n.name.empty());
    total += n.accel_count;
  }
  ZS_FUZZ_CHECK(total == c.total_accels());
  ZS_FUZZ_CHECK(c.accels_of_type.size() == cat.size());
}

inline void check_trace(const Trace& t, const Catalog& cat, const ThroughputTable& speeds) {
  std::set<JobId> ids;
  for (const Job& j : t.jobs) {
    ZS_FUZZ_CHECK(ids.insert(j.id).second);
    ZS_FUZZ_CHECK(j.accel_count >= 1 && j.accel_count <= 1'000'000);
    ZS_FUZZ_CHECK(j.submit >= 0 && j.duration >= 0 && j.walltime >= 0);
    ZS_FUZZ_CHECK(j.nodes >= 0 && j.per_node >= 0);
    ZS_FUZZ_CHECK(std::isfinite(j.cpu_per_accel) && j.cpu_per_accel >= 0);
    ZS_FUZZ_CHECK(std::isfinite(j.mem_gib_per_accel) && j.mem_gib_per_accel >= 0);
    ZS_FUZZ_CHECK(j.model >= -1 && j.model < static_cast<int>(speeds.model_count()));
    ZS_FUZZ_CHECK(j.recorded_type >= -1 && j.recorded_type < static_cast<int>(cat.size()));
  }
  ZS_FUZZ_CHECK(t.skipped_rows >= 0);
}

}  // namespace zs::fuzz
