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
  leaf_hist_.assign(cluster.leaves.size() * static_cast<std::size_t>(kmax_), 0);
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
    leaf_hist_[node.leaf * static_cast<std::size_t>(kmax_) + static_cast<std::size_t>(f.count)] +=
        1;
    types_[node.type].free += f.count;
    free_total_ += f.count;
    if (f.capacity != 0 && f.free == f.capacity) free_on_empty_nodes_ += f.count;
  }
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
  leaf_hist_[node.leaf * static_cast<std::size_t>(kmax_) + old_count] -= 1;
  leaf_hist_[node.leaf * static_cast<std::size_t>(kmax_) + new_count] += 1;
  types_[node.type].free += new_count - old_count;
  free_total_ += new_count - old_count;
  f.count = new_count;
}

void FreePool::take(const Placement& p, const Job& job) {
  for (const Slot& s : p) {
    NodeFree& f = nodes_[s.node];
    set_mask(s.node, f.free & ~s.devices);
    const int d = device_count(s.devices);
    f.cpu -= d * job.cpu_per_accel;
    f.mem -= d * job.mem_gib_per_accel;
  }
}

void FreePool::give(const Placement& p, const Job& job) {
  for (const Slot& s : p) {
    NodeFree& f = nodes_[s.node];
    set_mask(s.node, f.free | (s.devices & f.capacity));
    const int d = device_count(s.devices);
    f.cpu += d * job.cpu_per_accel;
    f.mem += d * job.mem_gib_per_accel;
  }
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

int FreePool::leaf_count_ge(std::uint32_t leaf, int need) const {
  int total = 0;
  const int* h = &leaf_hist_[leaf * static_cast<std::size_t>(kmax_)];
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
                                              std::span<const NodeId> exclude) const {
  for (int k = need; k < types_[t].rows; ++k) {
    const std::uint64_t* nodes = bucket(row(t, k));
    for (std::size_t w = 0; w < words_; ++w) {
      std::uint64_t word = nodes[w];
      while (word != 0) {
        const NodeId n =
            static_cast<NodeId>(w * 64 + static_cast<std::size_t>(std::countr_zero(word)));
        word &= word - 1;
        if (std::find(exclude.begin(), exclude.end(), n) != exclude.end()) continue;
        if (!resources_ok(n, need, job)) continue;
        return n;
      }
    }
  }
  return std::nullopt;
}

void FreePool::candidates_in_leaf(std::uint32_t leaf, int need, const Job& job,
                                  std::vector<NodeId>& out) const {
  const Leaf& l = cluster_->leaves[leaf];
  const std::size_t start = out.size();
  for (NodeId n = l.first_node; n < l.end_node; ++n)
    if (nodes_[n].count >= need && resources_ok(n, need, job)) out.push_back(n);
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(start), out.end(), [&](NodeId a, NodeId b) {
    const int ca = nodes_[a].count, cb = nodes_[b].count;
    return ca != cb ? ca < cb : a < b;
  });
}

std::optional<Placement> FreePool::find(const Job& job, TypeId type) const {
  if (type >= types_.size() || types_[type].rows == 0) return std::nullopt;
  if (types_[type].free < job.accel_count) return std::nullopt;
  auto shape = shape_for(job, cluster_->max_per_node_of_type[type]);
  if (!shape || shape->per_node <= 0 || shape->per_node >= types_[type].rows) return std::nullopt;

  std::vector<NodeId> chosen;
  chosen.reserve(static_cast<std::size_t>(shape->node_count()));
  if (shape->nodes == 1 && shape->remainder == 0) {
    auto n = best_fit_node(type, shape->per_node, job, {});
    if (!n) return std::nullopt;
    chosen.push_back(*n);
  } else {
    const int m = shape->per_node, need = shape->nodes;
    std::vector<std::uint32_t> leaves;  // the leaves with nodes of this type
    for (std::uint32_t l = 0; l < cluster_->leaves.size(); ++l) {
      const Leaf& leaf = cluster_->leaves[l];
      if (leaf.first_node < leaf.end_node && cluster_->nodes[leaf.first_node].type == type)
        leaves.push_back(l);
    }
    std::vector<NodeId> cand;
    // 1) One leaf: the best-fitting leaf (fewest qualifying nodes), preferring one that can
    //    also take the remainder.
    auto try_single_leaf = [&](bool with_remainder) -> bool {
      // Leaves that can hold the gang by device counts, best fit first; CPU and memory limits
      // may still rule a leaf out, so try them in that order.
      std::vector<std::pair<int, std::uint32_t>> fits;
      for (std::uint32_t l : leaves) {
        const int c = leaf_count_ge(l, m);
        if (c < need) continue;
        if (with_remainder && shape->remainder > 0 && leaf_count_ge(l, shape->remainder) < need + 1)
          continue;
        fits.emplace_back(c, l);
      }
      std::sort(fits.begin(), fits.end());
      for (const auto& [count, l] : fits) {
        cand.clear();
        candidates_in_leaf(l, m, job, cand);
        if (static_cast<int>(cand.size()) < need) continue;
        chosen.assign(cand.begin(), cand.begin() + need);
        return true;
      }
      return false;
    };
    // 2) Several leaves: take leaves with the most qualifying nodes first (fewest leaves),
    //    within one spine if any spine can hold the gang, else across spines.
    auto take_from_leaves = [&](const std::vector<std::uint32_t>& ls) -> bool {
      std::vector<std::pair<int, std::uint32_t>> order;
      for (std::uint32_t l : ls) {
        const int c = leaf_count_ge(l, m);
        if (c > 0) order.emplace_back(-c, l);
      }
      std::sort(order.begin(), order.end());
      chosen.clear();
      for (const auto& [negc, l] : order) {
        cand.clear();
        candidates_in_leaf(l, m, job, cand);
        for (NodeId n : cand) {
          if (static_cast<int>(chosen.size()) == need) break;
          chosen.push_back(n);
        }
        if (static_cast<int>(chosen.size()) == need) return true;
      }
      return false;
    };
    bool ok = try_single_leaf(true) || try_single_leaf(false);
    if (!ok) {
      // Best-fitting spine that can hold the whole gang.
      int best_spine = -1, best_total = 0;
      for (std::uint32_t s = 0; s < cluster_->spines.size(); ++s) {
        const Spine& sp = cluster_->spines[s];
        if (sp.first_leaf >= sp.end_leaf ||
            cluster_->nodes[cluster_->leaves[sp.first_leaf].first_node].type != type)
          continue;
        int total = 0;
        for (std::uint32_t l = sp.first_leaf; l < sp.end_leaf; ++l) total += leaf_count_ge(l, m);
        if (total >= need && (best_spine < 0 || total < best_total))
          best_spine = static_cast<int>(s), best_total = total;
      }
      if (best_spine >= 0) {
        const Spine& sp = cluster_->spines[static_cast<std::size_t>(best_spine)];
        std::vector<std::uint32_t> ls;
        for (std::uint32_t l = sp.first_leaf; l < sp.end_leaf; ++l) ls.push_back(l);
        ok = take_from_leaves(ls);
      }
      if (!ok) ok = take_from_leaves(leaves);
    }
    if (!ok) return std::nullopt;
    if (shape->remainder > 0) {
      // The remainder goes best-fit, under a leaf the gang already uses if possible.
      std::optional<NodeId> extra;
      std::vector<std::uint32_t> used_leaves;
      for (NodeId n : chosen) {
        std::uint32_t l = cluster_->nodes[n].leaf;
        if (std::find(used_leaves.begin(), used_leaves.end(), l) == used_leaves.end())
          used_leaves.push_back(l);
      }
      for (std::uint32_t l : used_leaves) {
        cand.clear();
        candidates_in_leaf(l, shape->remainder, job, cand);
        for (NodeId n : cand)
          if (std::find(chosen.begin(), chosen.end(), n) == chosen.end()) {
            extra = n;
            break;
          }
        if (extra) break;
      }
      if (!extra) extra = best_fit_node(type, shape->remainder, job, chosen);
      if (!extra) return std::nullopt;
      chosen.push_back(*extra);
    }
  }

  Placement p;
  p.reserve(chosen.size());
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    const int need = (shape->remainder > 0 && i + 1 == chosen.size() &&
                      static_cast<int>(chosen.size()) > shape->nodes)
                         ? shape->remainder
                         : shape->per_node;
    const std::uint64_t devices = pick_devices(chosen[i], need);
    if (devices == 0) return std::nullopt;
    p.push_back({chosen[i], devices});
  }
  std::sort(p.begin(), p.end(), [](const Slot& a, const Slot& b) { return a.node < b.node; });
  return p;
}

}  // namespace zs
