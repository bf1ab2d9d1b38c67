#include "sim/cluster_file.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/input_error.h"
#include "core/text.h"

namespace zs {

namespace {

std::string at(const std::string& source, const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  if (m.is_null()) return source;
  return source + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

int get_int(const YAML::Node& n, const std::string& key, const std::string& source, int lo,
            int hi) {
  const std::string where = at(source, n);
  if (!n.IsScalar()) throw InputError(where, key + ": expected a number");
  auto v = parse_int(n.Scalar());
  if (!v) throw InputError(where, key + ": '" + n.Scalar() + "' is not an integer");
  if (*v < lo || *v > hi)
    throw InputError(where, key + ": " + std::to_string(*v) + " is out of range " +
                                std::to_string(lo) + ".." + std::to_string(hi));
  return static_cast<int>(*v);
}

double get_double(const YAML::Node& n, const std::string& key, const std::string& source) {
  const std::string where = at(source, n);
  if (!n.IsScalar()) throw InputError(where, key + ": expected a number");
  auto v = parse_double(n.Scalar());
  if (!v || *v < 0)
    throw InputError(where, key + ": '" + n.Scalar() + "' is not a non-negative number");
  return *v;
}

const std::vector<std::string> kGroupKeys = {
    "name",      "nodes",      "accelerators",   "accel_type",    "accel_per_node",   "islands",
    "cpu_cores", "memory_gib", "nodes_per_leaf", "leaf_switches", "leaves_per_spine", "leaf",
    "spine"};

std::string get_name(const YAML::Node& n, const std::string& key, const std::string& source) {
  if (!n.IsScalar()) throw InputError(at(source, n), key + ": expected a name");
  return n.Scalar();  // checked by build_cluster
}

// A group may not both name a switch (itself or through the defaults) and set how its own
// switches are made; a named switch wins over such keys in the defaults.
void check_switch_keys(const YAML::Node& keys, const NodeGroupSpec& g, const std::string& source) {
  for (const auto& [named, made] : {std::pair<const char*, const char*>{"leaf", "nodes_per_leaf"},
                                    {"leaf", "leaf_switches"},
                                    {"spine", "leaves_per_spine"}}) {
    const bool is_named = std::string_view(named) == "leaf" ? !g.leaf.empty() : !g.spine.empty();
    if (is_named && keys[made])
      throw InputError(at(source, keys[made]), std::string(made) + " and " + named +
                                                   " exclude each other: '" + named +
                                                   "' puts the whole group under one " + named);
  }
}

void apply(NodeGroupSpec& g, const YAML::Node& key_node, const YAML::Node& v,
           const std::string& source) {
  const std::string key = key_node.as<std::string>();
  constexpr int kBig = 1'000'000;
  if (key == "name")
    g.name = v.as<std::string>();
  else if (key == "nodes")
    g.count = get_int(v, key, source, 1, kBig);
  else if (key == "accelerators") {
    // "8xMLU590"
    if (!v.IsScalar())
      throw InputError(at(source, v), "accelerators: expected COUNTxTYPE, e.g. 8xMLU590");
    const std::string s = v.Scalar();
    auto x = s.find('x');
    auto count =
        x == std::string::npos ? std::nullopt : parse_int(std::string_view(s).substr(0, x));
    if (!count || x + 1 >= s.size())
      throw InputError(at(source, v), "accelerators: '" + s + "' is not COUNTxTYPE, e.g. 8xMLU590");
    if (*count < 1 || *count > kMaxDevicesPerNode)
      throw InputError(at(source, v),
                       "accelerators: count " + std::to_string(*count) + " is out of range 1..64");
    g.accel_count = static_cast<int>(*count);
    g.accel_type = s.substr(x + 1);
  } else if (key == "accel_type")
    g.accel_type = v.as<std::string>();
  else if (key == "accel_per_node")
    g.accel_count = get_int(v, key, source, 1, kMaxDevicesPerNode);
  else if (key == "islands")
    g.islands = get_int(v, key, source, 1, kMaxDevicesPerNode);
  else if (key == "cpu_cores")
    g.cpu_cores = get_int(v, key, source, 1, kBig);
  else if (key == "memory_gib")
    g.memory_gib = get_double(v, key, source);
  else if (key == "nodes_per_leaf")
    g.nodes_per_leaf = get_int(v, key, source, 1, kBig);
  else if (key == "leaf_switches")
    g.leaf_switches = get_int(v, key, source, 1, kBig);
  else if (key == "leaves_per_spine")
    g.leaves_per_spine = get_int(v, key, source, 1, kBig);
  else if (key == "leaf")
    g.leaf = get_name(v, key, source);
  else if (key == "spine")
    g.spine = get_name(v, key, source);
  else {
    std::string known;
    for (const auto& k : kGroupKeys) known += (known.empty() ? "" : ", ") + k;
    throw InputError(at(source, key_node), "unknown key '" + key + "' (known: " + known + ")");
  }
}

}  // namespace

Cluster parse_cluster_yaml(std::string_view text, const std::string& source,
                           const Catalog& catalog) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw InputError(
        source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1),
        "invalid YAML: " + e.msg);
  }
  try {
    if (!root.IsMap())
      throw InputError(source, "expected a mapping with 'groups' (see docs/cluster-format.md)");
    std::string name;
    NodeGroupSpec defaults;
    std::vector<NodeGroupSpec> groups;
    for (const auto& kv : root) {
      const std::string key = kv.first.as<std::string>();
      if (key == "name") {
        name = kv.second.as<std::string>();
      } else if (key == "description") {
        // free text
      } else if (key == "defaults") {
        if (!kv.second.IsMap())
          throw InputError(at(source, kv.second), "defaults: expected a mapping");
        for (const auto& d : kv.second) apply(defaults, d.first, d.second, source);
        check_switch_keys(kv.second, defaults, source);
      } else if (key == "groups") {
        if (!kv.second.IsSequence())
          throw InputError(at(source, kv.second), "groups: expected a list of node groups");
        for (const auto& gnode : kv.second) {
          if (!gnode.IsMap()) throw InputError(at(source, gnode), "each group must be a mapping");
          NodeGroupSpec g = defaults;
          g.where = at(source, gnode);
          for (const auto& f : gnode) apply(g, f.first, f.second, source);
          check_switch_keys(gnode, g, source);
          if (g.count == 0) throw InputError(g.where, "group needs 'nodes' (how many nodes)");
          if (g.accel_count == 0 || g.accel_type.empty())
            throw InputError(
                g.where,
                "group needs 'accelerators: COUNTxTYPE' (or accel_type and accel_per_node)");
          groups.push_back(std::move(g));
        }
      } else {
        throw InputError(at(source, kv.first),
                         "unknown key '" + key + "' (known: name, description, defaults, groups)");
      }
    }
    if (groups.empty())
      throw InputError(source, "no node groups: add 'groups:' with at least one group");
    return build_cluster(groups, catalog, name);
  } catch (const YAML::Exception& e) {
    throw InputError(
        source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1),
        e.msg);
  }
}

Cluster load_cluster(const std::string& spec, const Catalog& catalog) {
  if (!std::filesystem::exists(spec) && looks_like_inline_cluster(spec))
    return build_cluster(parse_inline_cluster(spec), catalog, spec);
  std::ifstream in(spec, std::ios::binary);
  if (!in)
    throw InputError(spec,
                     "cannot open cluster file (and it is not an inline spec like 64x8xMLU590)");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_cluster_yaml(ss.str(), spec, catalog);
}

}  // namespace zs
