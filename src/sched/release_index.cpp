#include "sched/release_index.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>

namespace zs {

PrefixSums::PrefixSums(std::vector<int> values) : tree_(values.size() + 1, 0) {
  const std::size_t n = values.size();
  for (std::size_t i = 0; i < n; ++i) tree_[i + 1] = values[i];
  for (std::size_t i = 1; i <= n; ++i)
    if (const std::size_t j = i + (i & (~i + 1)); j <= n) tree_[j] += tree_[i];
}

void PrefixSums::add(std::size_t pos, int delta) {
  for (std::size_t i = pos + 1; i < tree_.size(); i += i & (~i + 1)) tree_[i] += delta;
}

int PrefixSums::sum_before(std::size_t end) const {
  int total = 0;
  for (std::size_t i = std::min(end, size()); i > 0; i &= i - 1) total += tree_[i];
  return total;
}

std::size_t PrefixSums::first_reaching(int target) const {
  const PrefixSums* self = this;
  return first_reaching(std::span<const PrefixSums* const>(&self, 1), target);
}

std::size_t PrefixSums::first_reaching(std::span<const PrefixSums* const> trees, int target) {
  if (trees.empty()) return 0;
  const std::size_t n = trees.front()->size();
  std::size_t pos = 0;
  for (std::size_t step = std::bit_floor(std::max<std::size_t>(n, 1)); step > 0; step >>= 1) {
    if (pos + step > n) continue;
    int s = 0;
    for (const PrefixSums* t : trees) s += t->tree_[pos + step];
    if (s < target) {
      pos += step;
      target -= s;
    }
  }
  return pos;
}

ReleaseIndex::ReleaseIndex(const PreemptivePolicy& policy, const Snapshot& s,
                           const PreemptivePolicy::RunningView& running, FreePool& pool)
    : s_(s), pool_(pool) {
  const Cluster& c = pool.cluster();
  // The order VictimQueue pops: by PreemptivePolicy::Key, largest (worst) first.
  struct Key {
    std::int64_t cls, a, b;
    JobId id;
    std::uint32_t victim;
  };
  std::vector<Key> keys;
  keys.reserve(running.victims.size());
  const auto ranks = s.running_submit_ranks;
  if (ranks.size() == s.running.size()) {
    // The driver's ranks order like the tie (submit, 0) and the id after it, and are unique
    // (as VictimQueue orders with them): no job record is read.
    for (std::uint32_t v : running.victims) keys.push_back({running.cls[v], ranks[v], 0, 0, v});
  } else {
    for (std::uint32_t v : running.victims) {
      const auto [a, b] = policy.running_tie(s, s.running[v]);
      keys.push_back({running.cls[v], a, b, s.running[v].job->id, v});
    }
  }
  std::sort(keys.begin(), keys.end(), [](const Key& x, const Key& y) {
    if (x.cls != y.cls) return x.cls > y.cls;
    if (x.a != y.a) return x.a > y.a;
    if (x.b != y.b) return x.b > y.b;
    return x.id > y.id;
  });
  const std::size_t n = keys.size();
  order_.resize(n);
  cls_.resize(n);
  pos_of_.assign(s.running.size(), std::numeric_limits<std::uint32_t>::max());
  type_slot_.assign(s.running.size(), 0);
  gone_.assign(n, false);
  next_.resize(n + 1);
  prev_.resize(n + 1);
  for (std::size_t p = 0; p <= n; ++p) next_[p] = prev_[p] = static_cast<std::uint32_t>(p);
  for (std::size_t p = 0; p < n; ++p) {
    const std::uint32_t v = keys[p].victim;
    order_[p] = v;
    cls_[p] = keys[p].cls;
    pos_of_[v] = static_cast<std::uint32_t>(p);
    const TypeId t = s.running[v].type;
    auto it = std::find(types_.begin(), types_.end(), t);
    if (it == types_.end()) it = types_.insert(types_.end(), t);
    type_slot_[v] = static_cast<std::uint32_t>(it - types_.begin());
  }

  // Victims by node; they must not overlap each other or free devices, and must sit on nodes
  // of their own type, for releases to add up.
  node_first_.assign(c.nodes.size() + 1, 0);
  for (std::uint32_t v : order_)
    for (const Slot& sl : s.running[v].placement) {
      if (sl.node >= c.nodes.size() || c.nodes[sl.node].type != s.running[v].type) {
        usable_ = false;
        return;
      }
      ++node_first_[sl.node + 1];
    }
  for (std::size_t i = 1; i < node_first_.size(); ++i) node_first_[i] += node_first_[i - 1];
  node_victims_.resize(node_first_.back());
  std::vector<std::uint32_t> next(node_first_.begin(), node_first_.end() - 1);
  std::vector<int> accels(n), devices(n);
  pos_first_.assign(n + 1, 0);
  pos_share_.assign(n, {std::numeric_limits<double>::quiet_NaN(), 0.0});
  for (std::size_t p = 0; p < n; ++p) {
    const RunningJob& r = s.running[order_[p]];
    pos_slots_.insert(pos_slots_.end(), r.placement.begin(), r.placement.end());
    pos_first_[p + 1] = static_cast<std::uint32_t>(pos_slots_.size());
    accels[p] = zs::accels(r);
    for (const Slot& sl : r.placement) {
      const std::uint64_t d = sl.devices & pool.capacity(sl.node);
      node_victims_[next[sl.node]++] = {static_cast<std::uint32_t>(p), d};
      devices[p] += device_count(d);
    }
  }
  for (NodeId node = 0; node < c.nodes.size(); ++node) {
    std::uint64_t seen = pool.free_mask(node);
    for (std::uint32_t i = node_first_[node]; i < node_first_[node + 1]; ++i) {
      if ((seen & node_victims_[i].devices) != 0) {
        usable_ = false;
        return;
      }
      seen |= node_victims_[i].devices;
    }
  }

  for (std::size_t slot = 0; slot < types_.size(); ++slot) {
    std::vector<int> a(n, 0), d(n, 0), l(n, 0);
    for (std::size_t p = 0; p < n; ++p)
      if (type_slot_[order_[p]] == slot) a[p] = accels[p], d[p] = devices[p], l[p] = 1;
    accels_.emplace_back(std::move(a));
    devices_.emplace_back(std::move(d));
    left_.emplace_back(std::move(l));
  }
  all_left_ = PrefixSums(std::vector<int>(n, 1));
  pos_devices_ = std::move(devices);

  // Per type and k, the position at which each node reaches k free devices.
  for (const Node& node : c.nodes) kmax_ = std::max(kmax_, node.accel_count + 1);
  reach_first_.assign(c.accels_of_type.size() + 1, 0);
  for (TypeId t = 0; t < c.accels_of_type.size(); ++t)
    reach_first_[t + 1] =
        reach_first_[t] +
        (c.nodes_of_type[t] > 0 ? static_cast<std::size_t>(c.max_per_node_of_type[t]) + 1 : 0);
  std::vector<std::vector<int>> counts(reach_first_.back(), std::vector<int>(n + 1, 0));
  reach_at_.assign(c.nodes.size() * static_cast<std::size_t>(kmax_), kNever);
  for (NodeId node = 0; node < c.nodes.size(); ++node) {
    std::int32_t* at = &reach_at_[node * static_cast<std::size_t>(kmax_)];
    reach_of(node, at);
    const TypeId t = c.nodes[node].type;
    for (int k = 1; k <= c.max_per_node_of_type[t]; ++k)
      if (at[k] != kNever) ++counts[reach_first_[t] + static_cast<std::size_t>(k)][at[k]];
  }
  reach_.reserve(counts.size());
  for (auto& v : counts) reach_.emplace_back(std::move(v));
}

void ReleaseIndex::reach_of(NodeId n, std::int32_t* out) const {
  std::fill(out, out + kmax_, kNever);
  std::uint64_t mask = pool_.free_mask(n);
  int count = device_count(mask);
  for (int k = 0; k <= count && k < kmax_; ++k) out[k] = 0;
  for (std::uint32_t i = node_first_[n]; i < node_first_[n + 1]; ++i) {
    const NodeVictim& e = node_victims_[i];
    if (gone_[e.pos]) continue;
    mask |= e.devices;
    const int now = device_count(mask);
    for (int k = count + 1; k <= now && k < kmax_; ++k)
      out[k] = static_cast<std::int32_t>(e.pos) + 1;
    count = now;
  }
}

void ReleaseIndex::refresh(NodeId n) {
  std::array<std::int32_t, kMaxDevicesPerNode + 1> now{};
  reach_of(n, now.data());
  std::int32_t* at = &reach_at_[n * static_cast<std::size_t>(kmax_)];
  const TypeId t = pool_.cluster().nodes[n].type;
  for (int k = 1; k <= pool_.cluster().max_per_node_of_type[t]; ++k) {
    if (at[k] == now[k]) continue;
    if (at[k] != kNever) reach(t, k).add(static_cast<std::size_t>(at[k]), -1);
    if (now[k] != kNever) reach(t, k).add(static_cast<std::size_t>(now[k]), +1);
    at[k] = now[k];
  }
}

std::int64_t ReleaseIndex::worst_cls() const {
  if (all_left_.sum_before(order_.size()) == 0) return std::numeric_limits<std::int64_t>::min();
  return cls_[all_left_.first_reaching(1)];
}

std::size_t ReleaseIndex::end_of_worse(std::int64_t cls) const {
  return static_cast<std::size_t>(
      std::partition_point(cls_.begin(), cls_.end(), [&](std::int64_t c) { return c > cls; }) -
      cls_.begin());
}

std::size_t ReleaseIndex::next_of_slot(std::size_t slot, std::size_t pos) const {
  const PrefixSums& left = left_[slot];
  return left.first_reaching(left.sum_before(pos) + 1);
}

std::size_t ReleaseIndex::try_position(const Job& job, int next_try, std::size_t from,
                                       std::size_t end) const {
  const std::size_t n = order_.size();
  end = std::min(end, n);
  if (from >= end) return kNone;
  // The type slots the job accepts (at most 64 types: TypeSet), and their accelerators.
  struct {
    std::array<std::uint32_t, 64> slot{};
    std::array<const PrefixSums*, 64> accels{};
    std::size_t count = 0;
  } acc;
  for (std::uint32_t slot = 0; slot < types_.size() && acc.count < acc.slot.size(); ++slot)
    if (job.accepted.contains(types_[slot])) {
      acc.accels[acc.count] = &accels_[slot];
      acc.slot[acc.count++] = slot;
    }
  if (acc.count == 0) return kNone;
  // The first victim it accepts at or after `from` whose release brings the released
  // accelerators to next_try...
  std::size_t reached = from;
  if (next_try > 0)
    reached =
        std::max(reached, PrefixSums::first_reaching({acc.accels.data(), acc.count}, next_try));
  std::size_t first = n;
  if (reached < n)
    for (std::size_t i = 0; i < acc.count; ++i)
      first = std::min(first, next_of_slot(acc.slot[i], reached));
  if (first < end) {
    // ...and from there, the first whose type then has job.accel_count free.
    std::size_t x = n;
    for (std::size_t i = 0; i < acc.count; ++i) {
      const std::uint32_t slot = acc.slot[i];
      const int need = job.accel_count - pool_.free_of_type(types_[slot]);
      const std::size_t enough = need <= 0 ? 0 : devices_[slot].first_reaching(need);
      if (enough < n) x = std::min(x, next_of_slot(slot, std::max(first, enough)));
    }
    return x < end ? x : kNone;
  }
  // Below next_try only the last victim of [0, end) that the job accepts triggers a try.
  std::size_t last = kNone, slot = 0;
  for (std::size_t i = 0; i < acc.count; ++i) {
    const int left = left_[acc.slot[i]].sum_before(end);
    if (left == 0) continue;
    const std::size_t pos = left_[acc.slot[i]].first_reaching(left);
    if (last == kNone || pos > last) last = pos, slot = acc.slot[i];
  }
  if (last == kNone || last < from) return kNone;
  if (pool_.free_of_type(types_[slot]) + devices_[slot].sum_before(last + 1) < job.accel_count)
    return kNone;
  return last;
}

int ReleaseIndex::released_accels(const Job& job, std::size_t pos) const {
  int total = 0;
  for (std::size_t slot = 0; slot < types_.size(); ++slot)
    if (job.accepted.contains(types_[slot])) total += accels_[slot].sum_before(pos + 1);
  return total;
}

int ReleaseIndex::nodes_with_at_least(TypeId t, int k, std::size_t pos) const {
  return reach(t, k).sum_before(pos + 2);
}

bool ReleaseIndex::may_fit(const Job& job, const std::vector<TypeId>& types,
                           std::size_t pos) const {
  const Cluster& c = pool_.cluster();
  for (TypeId t : types) {
    if (t >= c.nodes_of_type.size() || c.nodes_of_type[t] == 0) continue;
    const int max = c.max_per_node_of_type[t];
    const auto shape = shape_for(job, max);
    if (!shape || shape->per_node <= 0 || shape->per_node > max) continue;
    if (nodes_with_at_least(t, shape->per_node, pos) >= shape->nodes &&
        (shape->remainder == 0 ||
         nodes_with_at_least(t, shape->remainder, pos) >= shape->nodes + 1))
      return true;
  }
  return false;
}

std::size_t ReleaseIndex::next_left(std::size_t pos) const {
  while (next_[pos] != pos) pos = next_[pos] = next_[next_[pos]];
  return pos;
}

std::size_t ReleaseIndex::prev_left_plus_one(std::size_t pos) const {
  while (prev_[pos] != pos) pos = prev_[pos] = prev_[prev_[pos]];
  return pos;
}

const std::pair<double, double>& ReleaseIndex::share_of(std::size_t pos) const {
  std::pair<double, double>& share = pos_share_[pos];
  if (std::isnan(share.first)) {
    const Job& job = *s_.running[order_[pos]].job;
    share = {job.cpu_per_accel, job.mem_gib_per_accel};
  }
  return share;
}

void ReleaseIndex::move(FreePool& pool, std::size_t from, std::size_t to) const {
  for (std::size_t p = next_left(from); p < to; p = next_left(p + 1))
    for (std::uint32_t i = pos_first_[p]; i < pos_first_[p + 1]; ++i)
      pool.give_slot(pos_slots_[i], share_of(p).first, share_of(p).second);
  for (std::size_t q = prev_left_plus_one(from); q > to; q = prev_left_plus_one(q - 1)) {
    const std::size_t p = q - 1;
    for (std::uint32_t i = pos_first_[p]; i < pos_first_[p + 1]; ++i)
      pool.take_slot(pos_slots_[i], share_of(p).first, share_of(p).second);
  }
}

const FreePool& ReleaseIndex::pool_releasing(std::size_t end) {
  restore();
  end = std::min(end, order_.size());
  const auto left_between = [&](std::size_t a, std::size_t b) -> std::size_t {
    if (a > b) std::swap(a, b);
    return static_cast<std::size_t>(all_left_.sum_before(b) - all_left_.sum_before(a));
  };
  // Releasing in the pass's pool and taking back costs two steps a victim; moving a shadow,
  // one; a new shadow, a copy of the pool (about nodes / 64 steps) and one step a victim.
  const std::size_t upto = left_between(0, end);
  std::size_t best_cost = 2 * upto, best = kNone;
  for (std::size_t i = 0; i < shadows_.size(); ++i)
    if (const std::size_t cost = left_between(shadows_[i].cursor, end); cost < best_cost)
      best_cost = cost, best = i;
  if (shadows_.size() < kMaxShadows && upto + pool_.cluster().nodes.size() / 64 < best_cost) {
    shadows_.push_back({pool_, 0});
    best = shadows_.size() - 1;
  }
  if (best == kNone) {
    move(pool_, 0, end);
    direct_ = end;
    return pool_;
  }
  Shadow& sh = shadows_[best];
  move(sh.pool, sh.cursor, end);
  sh.cursor = end;
  return sh.pool;
}

void ReleaseIndex::restore() {
  move(pool_, direct_, 0);
  direct_ = 0;
}

void ReleaseIndex::victims_on(const Placement& p, const Job& job, std::size_t pos,
                              std::vector<std::uint32_t>& out) const {
  out.clear();
  for (const Slot& sl : p)
    for (std::uint32_t i = node_first_[sl.node]; i < node_first_[sl.node + 1]; ++i) {
      const NodeVictim& e = node_victims_[i];
      if (e.pos > pos) break;
      if (!gone_[e.pos] && job.accepted.contains(s_.running[order_[e.pos]].type))
        out.push_back(e.pos);
    }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  for (std::uint32_t& x : out) x = order_[x];
}

void ReleaseIndex::preempted(std::uint32_t v) {
  const std::size_t pos = pos_of_[v];
  gone_[pos] = true;
  next_[pos] = static_cast<std::uint32_t>(pos + 1);
  prev_[pos + 1] = static_cast<std::uint32_t>(pos);
  const std::uint32_t slot = type_slot_[v];
  const RunningJob& r = s_.running[v];
  accels_[slot].add(pos, -accels(r));
  devices_[slot].add(pos, -pos_devices_[pos]);
  left_[slot].add(pos, -1);
  all_left_.add(pos, -1);
  for (Shadow& sh : shadows_)
    if (pos >= sh.cursor) sh.pool.give(r.placement, *r.job);
}

void ReleaseIndex::started(const Placement& p, const Job& job,
                           std::span<const std::uint32_t> victims) {
  for (Shadow& sh : shadows_) sh.pool.take(p, job);
  for (const Slot& sl : p) refresh(sl.node);
  for (std::uint32_t v : victims)
    for (const Slot& sl : s_.running[v].placement) refresh(sl.node);
}

}  // namespace zs
