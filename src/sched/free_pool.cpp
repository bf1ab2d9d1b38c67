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
  free_.assign(n, 0);
  count_.assign(n, 0);
  capacity_.assign(n, 0);
  free_cpu_.assign(n, 0);
  free_mem_.assign(n, 0);
  free_of_type_.assign(cluster.accels_of_type.size(), 0);
  words_ = (n + 63) / 64;
  buckets_.resize(cluster.accels_of_type.size());
  for (std::size_t t = 0; t < buckets_.size(); ++t)
    if (cluster.nodes_of_type[t] > 0)
      buckets_[t].assign(static_cast<std::size_t>(cluster.max_per_node_of_type[t]) + 1,
                         std::vector<std::uint64_t>(words_, 0));
  leaf_hist_.assign(cluster.leaves.size() * static_cast<std::size_t>(kmax_), 0);
  leaves_of_type_.resize(cluster.accels_of_type.size());
  for (std::uint32_t l = 0; l < cluster.leaves.size(); ++l) {
    const auto& leaf = cluster.leaves[l];
    if (leaf.first_node < leaf.end_node)
      leaves_of_type_[cluster.nodes[leaf.first_node].type].push_back(l);
  }
  for (NodeId i = 0; i < n; ++i) {
    const Node& node = cluster.nodes[i];
    const NodeState& st = i < nodes.size() ? nodes[i] : NodeState{};
    const std::uint64_t mask = all_devices(node.accel_count);
    capacity_[i] = st.up ? (st.healthy & mask) : 0;
    free_cpu_[i] = st.free_cpu;
    free_mem_[i] = st.free_mem_gib;
    // Start every node in bucket 0, then move it to its real count.
    buckets_[node.type][0][i / 64] |= std::uint64_t{1} << (i % 64);
    leaf_hist_[node.leaf * static_cast<std::size_t>(kmax_)] += 1;
    set_mask(i, st.usable() & mask);
  }
}

void FreePool::set_mask(NodeId n, std::uint64_t mask) {
  const Node& node = cluster_->nodes[n];
  const int old_count = count_[n];
  const int new_count = std::popcount(mask);
  const bool was_empty = capacity_[n] != 0 && free_[n] == capacity_[n];
  const bool is_empty = capacity_[n] != 0 && mask == capacity_[n];
  free_on_empty_nodes_ += (is_empty ? new_count : 0) - (was_empty ? old_count : 0);
  free_[n] = mask;
  if (old_count == new_count) return;
  auto& b = buckets_[node.type];
  const std::uint64_t bit = std::uint64_t{1} << (n % 64);
  b[static_cast<std::size_t>(old_count)][n / 64] &= ~bit;
  b[static_cast<std::size_t>(new_count)][n / 64] |= bit;
  leaf_hist_[node.leaf * static_cast<std::size_t>(kmax_) + old_count] -= 1;
  leaf_hist_[node.leaf * static_cast<std::size_t>(kmax_) + new_count] += 1;
  free_of_type_[node.type] += new_count - old_count;
  free_total_ += new_count - old_count;
  count_[n] = static_cast<std::uint8_t>(new_count);
}

void FreePool::take(const Placement& p, const Job& job) {
  for (const Slot& s : p) {
    set_mask(s.node, free_[s.node] & ~s.devices);
    const int d = std::popcount(s.devices);
    free_cpu_[s.node] -= d * job.cpu_per_accel;
    free_mem_[s.node] -= d * job.mem_gib_per_accel;
  }
}

void FreePool::give(const Placement& p, const Job& job) {
  for (const Slot& s : p) {
    set_mask(s.node, free_[s.node] | (s.devices & capacity_[s.node]));
    const int d = std::popcount(s.devices);
    free_cpu_[s.node] += d * job.cpu_per_accel;
    free_mem_[s.node] += d * job.mem_gib_per_accel;
  }
}

void FreePool::remove_devices(const Placement& p) {
  for (const Slot& s : p) set_mask(s.node, free_[s.node] & ~s.devices);
}

void FreePool::add_devices(const Placement& p) {
  for (const Slot& s : p) set_mask(s.node, free_[s.node] | (s.devices & capacity_[s.node]));
}

double FreePool::fragmentation() const {
  if (free_total_ == 0) return 0.0;
  return 1.0 - static_cast<double>(free_on_empty_nodes_) / static_cast<double>(free_total_);
}

bool FreePool::resources_ok(NodeId n, int devices, const Job& job) const {
  return devices * job.cpu_per_accel <= free_cpu_[n] + 1e-9 &&
         devices * job.mem_gib_per_accel <= free_mem_[n] + 1e-9;
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
  std::uint64_t free = free_[n], chosen = 0;
  const std::uint64_t island_mask = all_devices(island);
  // Greedy by island: while the need covers a whole island take fully free islands; then
  // the best-fitting island (fewest free >= need); else the island with most free devices.
  while (need > 0 && free != 0) {
    int best = -1, best_free = 0;
    bool best_fits = false;
    for (int i = 0; i < islands; ++i) {
      const int f = std::popcount(free & (island_mask << (i * island)));
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
  const auto& b = buckets_[t];
  for (std::size_t k = static_cast<std::size_t>(need); k < b.size(); ++k) {
    const auto& bits = b[k];
    for (std::size_t w = 0; w < words_; ++w) {
      std::uint64_t word = bits[w];
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
    if (count_[n] >= need && resources_ok(n, need, job)) out.push_back(n);
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(start), out.end(), [&](NodeId a, NodeId b) {
    return count_[a] != count_[b] ? count_[a] < count_[b] : a < b;
  });
}

std::optional<Placement> FreePool::find(const Job& job, TypeId type) const {
  if (type >= buckets_.size() || buckets_[type].empty()) return std::nullopt;
  if (free_of_type_[type] < job.accel_count) return std::nullopt;
  auto shape = shape_for(job, cluster_->max_per_node_of_type[type]);
  if (!shape || shape->per_node <= 0 || shape->per_node >= static_cast<int>(buckets_[type].size()))
    return std::nullopt;

  std::vector<NodeId> chosen;
  chosen.reserve(static_cast<std::size_t>(shape->node_count()));
  if (shape->nodes == 1 && shape->remainder == 0) {
    auto n = best_fit_node(type, shape->per_node, job, {});
    if (!n) return std::nullopt;
    chosen.push_back(*n);
  } else {
    const int m = shape->per_node, need = shape->nodes;
    const auto& leaves = leaves_of_type_[type];
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
