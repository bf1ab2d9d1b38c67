#include "sched/free_pool.h"

#include <algorithm>
#include <bit>

namespace zs {

namespace {
std::uint64_t all_devices(int count) {
  return count >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << count) - 1);
}
}  // namespace

FreePool::FreePool(const Cluster& cluster, std::span<const NodeState> nodes) : cluster_(&cluster) {
  const std::size_t n = cluster.nodes.size();
  int max_count = 0;
  for (const auto& node : cluster.nodes) max_count = std::max<int>(max_count, node.accel_count);
  kmax_ = max_count + 1;
  nodes_.resize(n);
  types_.resize(cluster.accels_of_type.size());
  std::size_t rows = 0;
  for (std::size_t t = 0; t < types_.size(); ++t)
    if (cluster.nodes_of_type[t] > 0) {
      types_[t].rows = cluster.max_per_node_of_type[t] + 1;
      types_[t].first_row = rows;
      rows += static_cast<std::size_t>(types_[t].rows);
    }
  words_ = (n + 63) / 64;
  buckets_.assign(rows * words_, 0);
  row_nodes_.assign(rows, 0);
  part_hist_.assign(cluster.type_leaves.size() * static_cast<std::size_t>(kmax_), 0);
  for (NodeId i = 0; i < n; ++i) {
    const Node& node = cluster.nodes[i];
    const NodeState& st = i < nodes.size() ? nodes[i] : NodeState{};
    const std::uint64_t mask = all_devices(node.accel_count);
    NodeFree& f = nodes_[i];
    f.capacity = st.up ? (st.healthy & mask) : 0;
    f.cpu = st.free_cpu;
    f.mem = st.free_mem_gib;
    f.free = st.usable() & mask;
    f.count = device_count(f.free);
    const std::size_t r = row(node.type, f.count);
    bucket(r)[i / 64] |= std::uint64_t{1} << (i % 64);
    ++row_nodes_[r];
    part_hist_[cluster.type_leaf_of_node[i] * static_cast<std::size_t>(kmax_) +
               static_cast<std::size_t>(f.count)] += 1;
    types_[node.type].free += f.count;
    free_total_ += f.count;
    if (f.capacity != 0 && f.free == f.capacity) free_on_empty_nodes_ += f.count;
  }
}

void FreePool::refresh(std::span<const NodeState> nodes, std::span<const NodeId> changed) {
  for (NodeId n : changed) {
    const NodeState& st = n < nodes.size() ? nodes[n] : NodeState{};
    const std::uint64_t mask = all_devices(cluster_->nodes[n].accel_count);
    NodeFree& f = nodes_[n];
    // As the constructor counts them: the node's devices free on an empty node leave with the
    // old capacity and come back with the new one.
    if (f.capacity != 0 && f.free == f.capacity) free_on_empty_nodes_ -= f.count;
    f.capacity = st.up ? (st.healthy & mask) : 0;
    f.cpu = st.free_cpu;
    f.mem = st.free_mem_gib;
    const std::uint64_t free = st.usable() & mask;
    if (f.capacity != 0 && f.free == f.capacity) free_on_empty_nodes_ += f.count;
    set_mask(n, free);
  }
}

bool FreePool::operator==(const FreePool& o) const {
  return cluster_ == o.cluster_ && kmax_ == o.kmax_ && nodes_ == o.nodes_ && types_ == o.types_ &&
         free_total_ == o.free_total_ && free_on_empty_nodes_ == o.free_on_empty_nodes_ &&
         words_ == o.words_ && buckets_ == o.buckets_ && row_nodes_ == o.row_nodes_ &&
         part_hist_ == o.part_hist_;
}

void FreePool::set_mask(NodeId n, std::uint64_t mask) {
  const Node& node = cluster_->nodes[n];
  NodeFree& f = nodes_[n];
  const int old_count = f.count;
  const int new_count = device_count(mask);
  const bool was_empty = f.capacity != 0 && f.free == f.capacity;
  const bool is_empty = f.capacity != 0 && mask == f.capacity;
  free_on_empty_nodes_ += (is_empty ? new_count : 0) - (was_empty ? old_count : 0);
  f.free = mask;
  if (old_count == new_count) return;
  const std::uint64_t bit = std::uint64_t{1} << (n % 64);
  const std::size_t from = row(node.type, old_count), to = row(node.type, new_count);
  bucket(from)[n / 64] &= ~bit;
  bucket(to)[n / 64] |= bit;
  --row_nodes_[from];
  ++row_nodes_[to];
  int* hist = &part_hist_[cluster_->type_leaf_of_node[n] * static_cast<std::size_t>(kmax_)];
  hist[old_count] -= 1;
  hist[new_count] += 1;
  types_[node.type].free += new_count - old_count;
  free_total_ += new_count - old_count;
  f.count = new_count;
}

void FreePool::take_slot(const Slot& s, double cpu, double mem) {
  NodeFree& f = nodes_[s.node];
  set_mask(s.node, f.free & ~s.devices);
  const int d = device_count(s.devices);
  f.cpu -= d * cpu;
  f.mem -= d * mem;
}

void FreePool::give_slot(const Slot& s, double cpu, double mem) {
  NodeFree& f = nodes_[s.node];
  set_mask(s.node, f.free | (s.devices & f.capacity));
  const int d = device_count(s.devices);
  f.cpu += d * cpu;
  f.mem += d * mem;
}

void FreePool::take(const Placement& p, const Job& job) {
  for (const Slot& s : p) take_slot(s, job.cpu_per_accel, job.mem_gib_per_accel);
}

void FreePool::give(const Placement& p, const Job& job) {
  for (const Slot& s : p) give_slot(s, job.cpu_per_accel, job.mem_gib_per_accel);
}

void FreePool::remove_devices(const Placement& p) {
  for (const Slot& s : p) set_mask(s.node, nodes_[s.node].free & ~s.devices);
}

void FreePool::add_devices(const Placement& p) {
  for (const Slot& s : p)
    set_mask(s.node, nodes_[s.node].free | (s.devices & nodes_[s.node].capacity));
}

double FreePool::fragmentation() const {
  if (free_total_ == 0) return 0.0;
  return 1.0 - static_cast<double>(free_on_empty_nodes_) / static_cast<double>(free_total_);
}

bool FreePool::resources_ok(NodeId n, int devices, const Job& job) const {
  return devices * job.cpu_per_accel <= nodes_[n].cpu + 1e-9 &&
         devices * job.mem_gib_per_accel <= nodes_[n].mem + 1e-9;
}

bool FreePool::has_resources(const Placement& p, const Job& job) const {
  for (const Slot& s : p)
    if (!resources_ok(s.node, device_count(s.devices), job)) return false;
  return true;
}

int FreePool::part_count_ge(std::uint32_t part, int need) const {
  int total = 0;
  const int* h = &part_hist_[part * static_cast<std::size_t>(kmax_)];
  for (int k = std::max(need, 0); k < kmax_; ++k) total += h[k];
  return total;
}

std::uint64_t FreePool::pick_devices(NodeId n, int need) const {
  const Node& node = cluster_->nodes[n];
  const int island = node.island_size > 0 ? node.island_size : node.accel_count;
  const int islands = node.accel_count / std::max(island, 1);
  std::uint64_t free = nodes_[n].free, chosen = 0;
  const std::uint64_t island_mask = all_devices(island);
  // Greedy by island: while the need covers a whole island take fully free islands; then
  // the best-fitting island (fewest free >= need); else the island with most free devices.
  while (need > 0 && free != 0) {
    int best = -1, best_free = 0;
    bool best_fits = false;
    for (int i = 0; i < islands; ++i) {
      const int f = device_count(free & (island_mask << (i * island)));
      if (f == 0) continue;
      const bool fits = f >= need;
      bool better;
      if (best < 0) {
        better = true;
      } else if (need >= island) {
        better = f > best_free;  // whole islands first
      } else if (fits != best_fits) {
        better = fits;
      } else {
        better = fits ? f < best_free : f > best_free;
      }
      if (better) best = i, best_free = f, best_fits = fits;
    }
    if (best < 0) break;
    std::uint64_t avail = free & (island_mask << (best * island));
    while (need > 0 && avail != 0) {
      const std::uint64_t low = avail & (~avail + 1);
      chosen |= low;
      avail &= ~low;
      free &= ~low;
      --need;
    }
  }
  return need == 0 ? chosen : 0;
}

std::optional<NodeId> FreePool::best_fit_node(TypeId t, int need, const Job& job,
                                              std::span<const NodeId> skip) const {
  for (int k = need; k < types_[t].rows; ++k) {
    const std::uint64_t* nodes = bucket(row(t, k));
    for (std::size_t w = 0; w < words_; ++w) {
      std::uint64_t word = nodes[w];
      while (word != 0) {
        const NodeId n =
            static_cast<NodeId>(w * 64 + static_cast<std::size_t>(std::countr_zero(word)));
        word &= word - 1;
        if (std::find(skip.begin(), skip.end(), n) != skip.end()) continue;
        if (!resources_ok(n, need, job) || job.excludes_node(n)) continue;
        return n;
      }
    }
  }
  return std::nullopt;
}

void FreePool::candidates_in_part(std::uint32_t part, int need, const Job& job,
                                  std::vector<NodeId>& out) const {
  const TypeLeaf& p = cluster_->type_leaves[part];
  const std::size_t start = out.size();
  for (std::uint32_t i = p.first; i < p.end; ++i) {
    const NodeId n = cluster_->type_leaf_nodes[i];
    if (nodes_[n].count >= need && resources_ok(n, need, job) && !job.excludes_node(n))
      out.push_back(n);
  }
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(start), out.end(), [&](NodeId a, NodeId b) {
    const int ca = nodes_[a].count, cb = nodes_[b].count;
    return ca != cb ? ca < cb : a < b;
  });
}

bool FreePool::take_from_parts(std::vector<std::pair<long, std::uint32_t>>& parts, int m,
                               std::size_t want, const Job& job,
                               std::vector<NodeId>& chosen) const {
  std::sort(parts.begin(), parts.end());
  std::vector<NodeId> cand;
  for (const auto& [key, part] : parts) {
    if (chosen.size() >= want) break;
    cand.clear();
    candidates_in_part(part, m, job, cand);
    for (NodeId n : cand) {
      if (chosen.size() >= want) break;
      if (std::find(chosen.begin(), chosen.end(), n) == chosen.end()) chosen.push_back(n);
    }
  }
  return chosen.size() >= want;
}

bool FreePool::add_remainder(const Job& job, TypeId type, int remainder,
                             std::vector<NodeId>& chosen) const {
  std::vector<std::uint32_t> used_parts;
  for (NodeId n : chosen) {
    const std::uint32_t p = cluster_->type_leaf_of_node[n];
    if (std::find(used_parts.begin(), used_parts.end(), p) == used_parts.end())
      used_parts.push_back(p);
  }
  std::vector<NodeId> cand;
  for (std::uint32_t p : used_parts) {
    cand.clear();
    candidates_in_part(p, remainder, job, cand);
    for (NodeId n : cand)
      if (std::find(chosen.begin(), chosen.end(), n) == chosen.end()) {
        chosen.push_back(n);
        return true;
      }
  }
  auto extra = best_fit_node(type, remainder, job, chosen);
  if (!extra) return false;
  chosen.push_back(*extra);
  return true;
}

bool FreePool::choose_gang(const Job& job, TypeId type, const Shape& shape,
                           std::vector<NodeId>& chosen) const {
  const int m = shape.per_node, need = shape.nodes;
  const std::uint32_t lo = cluster_->type_leaf_begin[type],
                      hi = cluster_->type_leaf_begin[type + 1];
  std::vector<NodeId> cand;
  // 1) One leaf: the best-fitting TypeLeaf (fewest qualifying nodes), preferring one that can
  //    also take the remainder.
  std::vector<std::pair<int, std::uint32_t>> fits;
  auto try_single_leaf = [&](bool with_remainder) -> bool {
    // Leaves that can hold the gang by device counts, best fit first; CPU and memory limits
    // (and excluded nodes) may still rule a leaf out, so try them in that order.
    fits.clear();
    for (std::uint32_t p = lo; p < hi; ++p) {
      const int c = part_count_ge(p, m);
      if (c < need) continue;
      if (with_remainder && shape.remainder > 0 && part_count_ge(p, shape.remainder) < need + 1)
        continue;
      fits.emplace_back(c, p);
    }
    std::sort(fits.begin(), fits.end());
    for (const auto& [count, p] : fits) {
      cand.clear();
      candidates_in_part(p, m, job, cand);
      if (static_cast<int>(cand.size()) < need) continue;
      chosen.assign(cand.begin(), cand.begin() + need);
      return true;
    }
    return false;
  };
  // 2) Several leaves: the TypeLeafs with the most qualifying nodes first (fewest leaves),
  //    within one spine if any spine can hold the gang (best-fitting spine first), else across
  //    spines. A type's TypeLeafs of one spine are adjacent.
  std::vector<std::pair<long, std::uint32_t>> parts;
  auto take_from_range = [&](std::uint32_t a, std::uint32_t b) -> bool {
    parts.clear();
    for (std::uint32_t p = a; p < b; ++p)
      if (const int c = part_count_ge(p, m); c > 0) parts.emplace_back(-c, p);
    chosen.clear();
    return take_from_parts(parts, m, static_cast<std::size_t>(need), job, chosen);
  };
  bool ok = try_single_leaf(true) || try_single_leaf(false);
  if (!ok) {
    std::vector<std::pair<long, std::pair<std::uint32_t, std::uint32_t>>> spines;  // total, range
    for (std::uint32_t a = lo; a < hi;) {
      const std::uint32_t spine = cluster_->type_leaves[a].spine;
      std::uint32_t b = a;
      long total = 0;
      for (; b < hi && cluster_->type_leaves[b].spine == spine; ++b) total += part_count_ge(b, m);
      if (total >= need) spines.push_back({total, {a, b}});
      a = b;
    }
    std::sort(spines.begin(), spines.end());
    for (const auto& [total, range] : spines)
      if ((ok = take_from_range(range.first, range.second))) break;
    if (!ok) ok = take_from_range(lo, hi);
  }
  if (!ok) return false;
  return shape.remainder == 0 || add_remainder(job, type, shape.remainder, chosen);
}

bool FreePool::choose_with_required(const Job& job, TypeId type, const Shape& shape,
                                    std::vector<NodeId>& chosen) const {
  const std::vector<NodeId>& required = job.required_nodes;
  if (static_cast<int>(required.size()) > shape.node_count()) return false;
  // Each required node holds per_node devices (a "main" node) or, at most one, the remainder.
  std::vector<NodeId> main;
  std::optional<NodeId> rem;
  for (std::size_t i = 0; i < required.size(); ++i) {
    const NodeId n = required[i];
    if (n >= nodes_.size() || cluster_->nodes[n].type != type || job.excludes_node(n)) return false;
    if (i > 0 && required[i - 1] >= n) return false;  // not a node set (see Job)
    if (nodes_[n].count >= shape.per_node && resources_ok(n, shape.per_node, job)) {
      main.push_back(n);
    } else if (shape.remainder > 0 && !rem && nodes_[n].count >= shape.remainder &&
               resources_ok(n, shape.remainder, job)) {
      rem = n;
    } else {
      return false;
    }
  }
  if (static_cast<int>(main.size()) > shape.nodes) {
    // One more than the shape's main nodes: one of them takes the remainder (best fit).
    if (rem || shape.remainder == 0 || static_cast<int>(main.size()) > shape.nodes + 1)
      return false;
    auto it = std::min_element(main.begin(), main.end(), [&](NodeId a, NodeId b) {
      return nodes_[a].count != nodes_[b].count ? nodes_[a].count < nodes_[b].count : a < b;
    });
    rem = *it;
    main.erase(it);
  }
  chosen = main;
  if (static_cast<int>(chosen.size()) < shape.nodes) {
    // The rest of the gang goes near the required nodes: their TypeLeafs first, then the other
    // TypeLeafs of their spines, then the rest; most qualifying nodes first within each.
    std::vector<std::uint32_t> near_parts, near_spines;
    for (NodeId n : required) {
      const std::uint32_t p = cluster_->type_leaf_of_node[n];
      near_parts.push_back(p);
      near_spines.push_back(cluster_->type_leaves[p].spine);
    }
    const std::uint32_t lo = cluster_->type_leaf_begin[type];
    const std::uint32_t hi = cluster_->type_leaf_begin[type + 1];
    const long span = static_cast<long>(kMaxDevicesPerNode) * 1'000'000;  // > any node count
    std::vector<std::pair<long, std::uint32_t>> parts;
    for (std::uint32_t p = lo; p < hi; ++p) {
      const int c = part_count_ge(p, shape.per_node);
      if (c == 0) continue;
      const bool near = std::find(near_parts.begin(), near_parts.end(), p) != near_parts.end();
      const bool same_spine = std::find(near_spines.begin(), near_spines.end(),
                                        cluster_->type_leaves[p].spine) != near_spines.end();
      parts.emplace_back((near ? 0 : same_spine ? span : 2 * span) - c, p);
    }
    if (rem) chosen.push_back(*rem);  // keeps it out of the main nodes taken below
    const bool ok = take_from_parts(
        parts, shape.per_node, static_cast<std::size_t>(shape.nodes) + (rem ? 1 : 0), job, chosen);
    if (rem) chosen.erase(std::find(chosen.begin(), chosen.end(), *rem));
    if (!ok) return false;
  }
  if (rem) {
    chosen.push_back(*rem);
    return true;
  }
  return shape.remainder == 0 || add_remainder(job, type, shape.remainder, chosen);
}

std::optional<Placement> FreePool::find(const Job& job, TypeId type) const {
  if (type >= types_.size() || types_[type].rows == 0) return std::nullopt;
  if (types_[type].free < job.accel_count) return std::nullopt;
  auto shape = shape_for(job, cluster_->max_per_node_of_type[type]);
  if (!shape || shape->per_node <= 0 || shape->per_node >= types_[type].rows) return std::nullopt;
  // Too few nodes with room for the shape: fails before any search (most tries of a blocked
  // gang's reservation, one per ending job, end here).
  if (shape->node_count() > 1) {
    int wide = 0, rest = 0;  // nodes with >= per_node / >= remainder free
    for (int k = types_[type].rows - 1; k >= 1; --k) {
      const int n = nodes_with_free(type, k);
      if (k >= shape->per_node) wide += n;
      if (shape->remainder > 0 && k >= shape->remainder) rest += n;
    }
    if (wide < shape->nodes || (shape->remainder > 0 && rest < shape->nodes + 1))
      return std::nullopt;
  }

  std::vector<NodeId>& chosen = chosen_;
  chosen.clear();
  if (!job.required_nodes.empty()) {
    if (!choose_with_required(job, type, *shape, chosen)) return std::nullopt;
  } else if (shape->nodes == 1 && shape->remainder == 0) {
    auto n = best_fit_node(type, shape->per_node, job, {});
    if (!n) return std::nullopt;
    chosen.push_back(*n);
  } else if (!choose_gang(job, type, *shape, chosen)) {
    return std::nullopt;
  }

  // chosen: shape->nodes main nodes, then the remainder node (if any).
  Placement p;
  p.reserve(chosen.size());
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    const int need = static_cast<int>(i) < shape->nodes ? shape->per_node : shape->remainder;
    const std::uint64_t devices = pick_devices(chosen[i], need);
    if (devices == 0) return std::nullopt;
    p.push_back({chosen[i], devices});
  }
  std::sort(p.begin(), p.end(), [](const Slot& a, const Slot& b) { return a.node < b.node; });
  return p;
}

}  // namespace zs
