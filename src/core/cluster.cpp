#include "core/cluster.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/input_error.h"
#include "core/slurm_values.h"
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
  min_cpu_of_type.assign(catalog_size, 0);
  min_mem_gib_of_type.assign(catalog_size, 0);
  nodes_with_at_least.assign(catalog_size, std::vector<int>(kMaxDevicesPerNode + 1, 0));
  for (const auto& n : nodes) {
    accels_of_type[n.type] += n.accel_count;
    const bool first = nodes_of_type[n.type] == 0;
    min_cpu_of_type[n.type] =
        first ? n.cpu_cores : std::min<double>(min_cpu_of_type[n.type], n.cpu_cores);
    min_mem_gib_of_type[n.type] =
        first ? n.memory_gib : std::min(min_mem_gib_of_type[n.type], n.memory_gib);
    nodes_of_type[n.type] += 1;
    max_per_node_of_type[n.type] = std::max<int>(max_per_node_of_type[n.type], n.accel_count);
    max_cpu_of_type[n.type] = std::max<double>(max_cpu_of_type[n.type], n.cpu_cores);
    max_mem_gib_of_type[n.type] = std::max(max_mem_gib_of_type[n.type], n.memory_gib);
    for (int k = 0; k <= n.accel_count; ++k) nodes_with_at_least[n.type][k] += 1;
  }

  // TypeLeafs: the nodes in (type, spine, leaf, id) order, cut where type or leaf changes.
  auto spine_of = [&](NodeId n) -> std::uint32_t {
    const std::uint32_t l = nodes[n].leaf;
    return l < leaves.size() ? leaves[l].spine : 0;
  };
  type_leaf_nodes.resize(nodes.size());
  for (NodeId n = 0; n < nodes.size(); ++n) type_leaf_nodes[n] = n;
  std::sort(type_leaf_nodes.begin(), type_leaf_nodes.end(), [&](NodeId a, NodeId b) {
    const Node &x = nodes[a], &y = nodes[b];
    if (x.type != y.type) return x.type < y.type;
    if (spine_of(a) != spine_of(b)) return spine_of(a) < spine_of(b);
    if (x.leaf != y.leaf) return x.leaf < y.leaf;
    return a < b;
  });
  type_leaves.clear();
  type_leaf_of_node.assign(nodes.size(), 0);
  type_leaf_begin.assign(catalog_size + 1, 0);
  for (std::uint32_t i = 0; i < type_leaf_nodes.size(); ++i) {
    const NodeId n = type_leaf_nodes[i];
    const Node& node = nodes[n];
    if (type_leaves.empty() || type_leaves.back().type != node.type ||
        type_leaves.back().leaf != node.leaf) {
      type_leaves.push_back(TypeLeaf{node.type, node.leaf, spine_of(n), i, i});
      if (node.type < catalog_size) ++type_leaf_begin[node.type + 1];
    }
    type_leaves.back().end = i + 1;
    type_leaf_of_node[n] = static_cast<std::uint32_t>(type_leaves.size() - 1);
  }
  for (std::size_t t = 0; t < catalog_size; ++t) type_leaf_begin[t + 1] += type_leaf_begin[t];
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

namespace {
// A switch name from a cluster file: shown in reports and matched between groups.
void check_switch_name(const std::string& name, const char* what, const std::string& where) {
  constexpr std::size_t kMaxName = 64;
  bool ok = !name.empty() && name.size() <= kMaxName;
  for (char ch : name)
    ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                ch == '-' || ch == '_' || ch == '.');
  if (!ok)
    throw InputError(where, std::string(what) + " name " + quote_value(name) +
                                " must be 1-64 letters, digits, '-', '_' or '.'");
}

// The layout being built: leaves and spines in order of first appearance.
struct LeafPlan {
  std::string name;
  std::string spine_key;  // "" until a group names its spine
  std::string spine_name;
  std::string spine_where;  // the group that named the spine
  std::vector<Node> nodes;
};
}  // namespace

Cluster build_cluster(const std::vector<NodeGroupSpec>& groups, const Catalog& catalog,
                      std::string name) {
  Cluster c;
  c.name = std::move(name);
  if (groups.empty()) throw InputError("cluster", "no node groups: a cluster needs at least one");
  std::set<std::string> used_prefixes;
  std::map<std::string, int> next_suffix;
  std::vector<LeafPlan> plan;
  std::map<std::string, std::size_t> leaf_of_key;  // "n:NAME" (named) or "a:GROUP#L" (auto)
  std::size_t total_nodes = 0;
  for (std::size_t gi = 0; gi < groups.size(); ++gi) {
    const NodeGroupSpec& g = groups[gi];
    const std::string& where = g.where.empty() ? std::string("cluster") : g.where;
    if (g.count <= 0 || g.count > kMaxNodes)
      throw InputError(where, "node count must be 1.." + std::to_string(kMaxNodes) + ", got " +
                                  std::to_string(g.count));
    if (total_nodes + static_cast<std::size_t>(g.count) > static_cast<std::size_t>(kMaxNodes))
      throw InputError(where,
                       "too many nodes in total (at most " + std::to_string(kMaxNodes) + ")");
    total_nodes += static_cast<std::size_t>(g.count);
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
    if (!g.leaf.empty()) check_switch_name(g.leaf, "leaf", where);
    if (!g.spine.empty()) check_switch_name(g.spine, "spine", where);
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

    // The leaf a group's l-th leaf is: a named one (shared), or one of the group's own.
    auto leaf_for = [&](int l) -> LeafPlan& {
      const std::string key =
          g.leaf.empty() ? "a:" + std::to_string(gi) + "#" + std::to_string(l) : "n:" + g.leaf;
      auto [it, fresh] = leaf_of_key.try_emplace(key, plan.size());
      if (fresh) {
        LeafPlan lp;
        lp.name = g.leaf.empty() ? prefix + "-leaf" + std::to_string(l) : g.leaf;
        if (g.leaf.empty() && g.spine.empty()) {
          lp.spine_key = "a:" + std::to_string(gi) + "#" + std::to_string(l / leaves_per_spine);
          lp.spine_name = prefix + "-spine" + std::to_string(l / leaves_per_spine);
        }
        plan.push_back(std::move(lp));
      }
      LeafPlan& lp = plan[it->second];
      if (!g.spine.empty()) {
        if (!lp.spine_key.empty() && lp.spine_key != "n:" + g.spine)
          throw InputError(where, "leaf '" + lp.name + "' is under spine '" + lp.spine_name +
                                      "' (" + lp.spine_where + "), not '" + g.spine + "'");
        lp.spine_key = "n:" + g.spine;
        lp.spine_name = g.spine;
        lp.spine_where = where;
      }
      return lp;
    };

    // leaf_switches: exactly that many leaves (at most one per node), sizes differing by <= 1.
    // A named leaf: all of the group under it.
    const int leaves_in_group = !g.leaf.empty() ? 1
                                : g.nodes_per_leaf == 0 && g.leaf_switches > 0
                                    ? std::min(g.leaf_switches, g.count)
                                    : (g.count + per_leaf - 1) / per_leaf;
    int placed = 0;
    for (int l = 0; l < leaves_in_group; ++l) {
      LeafPlan& leaf = leaf_for(l);
      const int in_leaf = !g.leaf.empty() ? g.count
                          : g.nodes_per_leaf == 0 && g.leaf_switches > 0
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
        leaf.nodes.push_back(std::move(n));
      }
    }
  }

  // Spines in order of first appearance; a named leaf no group put under a spine has its own.
  std::vector<std::string> spine_keys;
  std::map<std::string, std::vector<std::size_t>> leaves_of_spine;
  std::map<std::string, std::string> spine_names;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    LeafPlan& lp = plan[i];
    if (lp.spine_key.empty()) {
      lp.spine_key = "l:" + lp.name;
      lp.spine_name = lp.name + "-spine";
    }
    auto [it, fresh] = leaves_of_spine.try_emplace(lp.spine_key);
    if (fresh) {
      spine_keys.push_back(lp.spine_key);
      spine_names[lp.spine_key] = lp.spine_name;
    }
    it->second.push_back(i);
  }
  c.nodes.reserve(total_nodes);
  for (const std::string& key : spine_keys) {
    Spine sp;
    sp.name = spine_names[key];
    sp.first_leaf = static_cast<std::uint32_t>(c.leaves.size());
    for (std::size_t i : leaves_of_spine[key]) {
      Leaf leaf;
      leaf.name = plan[i].name;
      leaf.spine = static_cast<std::uint32_t>(c.spines.size());
      leaf.first_node = static_cast<NodeId>(c.nodes.size());
      for (Node& n : plan[i].nodes) {
        n.leaf = static_cast<std::uint32_t>(c.leaves.size());
        c.nodes.push_back(std::move(n));
      }
      leaf.end_node = static_cast<NodeId>(c.nodes.size());
      c.leaves.push_back(std::move(leaf));
    }
    sp.end_leaf = static_cast<std::uint32_t>(c.leaves.size());
    c.spines.push_back(std::move(sp));
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
