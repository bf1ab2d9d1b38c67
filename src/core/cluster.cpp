#include "core/cluster.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/input_error.h"
#include "core/text.h"

namespace zs {

int Cluster::total_accels() const {
  int total = 0;
  for (const auto& n : nodes) total += n.accel_count;
  return total;
}

void Cluster::finalize(std::size_t catalog_size) {
  accels_of_type.assign(catalog_size, 0);
  nodes_of_type.assign(catalog_size, 0);
  max_per_node_of_type.assign(catalog_size, 0);
  max_cpu_of_type.assign(catalog_size, 0);
  max_mem_gib_of_type.assign(catalog_size, 0);
  nodes_with_at_least.assign(catalog_size, std::vector<int>(kMaxDevicesPerNode + 1, 0));
  for (const auto& n : nodes) {
    accels_of_type[n.type] += n.accel_count;
    nodes_of_type[n.type] += 1;
    max_per_node_of_type[n.type] = std::max<int>(max_per_node_of_type[n.type], n.accel_count);
    max_cpu_of_type[n.type] = std::max<double>(max_cpu_of_type[n.type], n.cpu_cores);
    max_mem_gib_of_type[n.type] = std::max(max_mem_gib_of_type[n.type], n.memory_gib);
    for (int k = 0; k <= n.accel_count; ++k) nodes_with_at_least[n.type][k] += 1;
  }
}

namespace {
constexpr int kDefaultNodesPerLeaf = 16;
constexpr int kDefaultLeavesPerSpine = 16;
constexpr int kMaxNodes = 1'000'000;

std::string default_prefix(const AcceleratorType& t) {
  std::string p;
  for (char c : normalize_name(t.aliases.empty() ? t.model : t.aliases.front()))
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) p.push_back(c);
  return p.empty() ? std::string("node") : p;
}
}  // namespace

Cluster build_cluster(const std::vector<NodeGroupSpec>& groups, const Catalog& catalog,
                      std::string name) {
  Cluster c;
  c.name = std::move(name);
  if (groups.empty()) throw InputError("cluster", "no node groups: a cluster needs at least one");
  std::set<std::string> used_prefixes;
  std::map<std::string, int> next_suffix;
  for (const auto& g : groups) {
    const std::string& where = g.where.empty() ? std::string("cluster") : g.where;
    if (g.count <= 0 || g.count > kMaxNodes)
      throw InputError(where, "node count must be 1.." + std::to_string(kMaxNodes) + ", got " +
                                  std::to_string(g.count));
    if (c.nodes.size() + static_cast<std::size_t>(g.count) > static_cast<std::size_t>(kMaxNodes))
      throw InputError(where,
                       "too many nodes in total (at most " + std::to_string(kMaxNodes) + ")");
    if (g.accel_count <= 0 || g.accel_count > kMaxDevicesPerNode)
      throw InputError(where,
                       "accelerators per node must be 1..64, got " + std::to_string(g.accel_count));
    if (g.islands <= 0 || g.accel_count % g.islands != 0)
      throw InputError(where, "islands (" + std::to_string(g.islands) +
                                  ") must divide the accelerators per node (" +
                                  std::to_string(g.accel_count) + ")");
    if (g.cpu_cores < 0 || g.memory_gib < 0 || g.nodes_per_leaf < 0 || g.leaf_switches < 0 ||
        g.leaves_per_spine < 0)
      throw InputError(where, "counts and sizes must not be negative");
    TypeId type = catalog.resolve(g.accel_type, where);
    int per_leaf = g.nodes_per_leaf;
    if (per_leaf == 0 && g.leaf_switches > 0)
      per_leaf = (g.count + g.leaf_switches - 1) / g.leaf_switches;
    if (per_leaf == 0) per_leaf = kDefaultNodesPerLeaf;
    int leaves_per_spine = g.leaves_per_spine ? g.leaves_per_spine : kDefaultLeavesPerSpine;

    // Groups that would share a name prefix get a numbered one, never a name already taken.
    const std::string base = g.name.empty() ? default_prefix(catalog.type(type)) : g.name;
    std::string prefix = base;
    if (used_prefixes.count(prefix)) {
      int& k = next_suffix[base];
      if (k < 2) k = 2;
      do prefix = base + "g" + std::to_string(k++);
      while (used_prefixes.count(prefix));
    }
    used_prefixes.insert(prefix);

    // leaf_switches: exactly that many leaves (at most one per node), sizes differing by <= 1.
    const int leaves_in_group = g.nodes_per_leaf == 0 && g.leaf_switches > 0
                                    ? std::min(g.leaf_switches, g.count)
                                    : (g.count + per_leaf - 1) / per_leaf;
    int placed = 0;
    for (int l = 0; l < leaves_in_group; ++l) {
      if (l % leaves_per_spine == 0) {
        Spine s;
        s.name = prefix + "-spine" + std::to_string(l / leaves_per_spine);
        s.first_leaf = s.end_leaf = static_cast<std::uint32_t>(c.leaves.size());
        c.spines.push_back(s);
      }
      Leaf leaf;
      leaf.name = prefix + "-leaf" + std::to_string(l);
      leaf.spine = static_cast<std::uint32_t>(c.spines.size() - 1);
      leaf.first_node = static_cast<NodeId>(c.nodes.size());
      const int in_leaf = g.nodes_per_leaf == 0 && g.leaf_switches > 0
                              ? g.count / leaves_in_group + (l < g.count % leaves_in_group ? 1 : 0)
                              : std::min(per_leaf, g.count - l * per_leaf);
      for (int i = 0; i < in_leaf; ++i) {
        Node n;
        n.name = prefix + "-" + std::to_string(placed++);
        n.type = type;
        n.accel_count = static_cast<std::uint8_t>(g.accel_count);
        n.island_size = static_cast<std::uint8_t>(g.accel_count / g.islands);
        n.cpu_cores = static_cast<std::uint32_t>(g.cpu_cores ? g.cpu_cores : 16 * g.accel_count);
        n.memory_gib = g.memory_gib > 0 ? g.memory_gib : 128.0 * g.accel_count;
        n.leaf = static_cast<std::uint32_t>(c.leaves.size());
        c.nodes.push_back(std::move(n));
      }
      leaf.end_node = static_cast<NodeId>(c.nodes.size());
      c.leaves.push_back(std::move(leaf));
      c.spines.back().end_leaf = static_cast<std::uint32_t>(c.leaves.size());
    }
  }
  c.finalize(catalog.size());
  return c;
}

bool looks_like_inline_cluster(std::string_view text) {
  // "<digits>x<digits>x<type>" possibly joined by '+'
  auto first = split(text, '+').front();
  auto parts = first.find('x');
  if (parts == std::string_view::npos || parts == 0) return false;
  return parse_int(first.substr(0, parts)).has_value();
}

std::vector<NodeGroupSpec> parse_inline_cluster(std::string_view spec) {
  std::vector<NodeGroupSpec> groups;
  for (auto part : split(spec, '+')) {
    part = trim(part);
    const std::string where = "cluster spec '" + std::string(part) + "'";
    auto x1 = part.find('x');
    auto x2 = x1 == std::string_view::npos ? x1 : part.find('x', x1 + 1);
    if (x1 == std::string_view::npos || x2 == std::string_view::npos || x2 + 1 >= part.size())
      throw InputError(where, "expected NODESxPER_NODExTYPE, e.g. 64x8xMLU590");
    auto nodes = parse_int(part.substr(0, x1));
    auto per = parse_int(part.substr(x1 + 1, x2 - x1 - 1));
    if (!nodes || *nodes <= 0 || *nodes > kMaxNodes)
      throw InputError(where, "node count '" + std::string(part.substr(0, x1)) +
                                  "' is not a number in 1.." + std::to_string(kMaxNodes));
    if (!per || *per <= 0 || *per > kMaxDevicesPerNode)
      throw InputError(where, "accelerators per node '" +
                                  std::string(part.substr(x1 + 1, x2 - x1 - 1)) +
                                  "' is not a number in 1..64");
    NodeGroupSpec g;
    g.count = static_cast<int>(*nodes);
    g.accel_count = static_cast<int>(*per);
    g.accel_type = std::string(part.substr(x2 + 1));
    g.where = where;
    groups.push_back(std::move(g));
  }
  return groups;
}

}  // namespace zs
