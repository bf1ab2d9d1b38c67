#include "sim/synthetic.h"

#include <algorithm>
#include <bit>

namespace zs {

std::uint64_t Rng::next() {
  std::uint64_t x = (s_ += 0x9E3779B97F4A7C15ull);
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

Snapshot SyntheticSnapshot::snapshot() const {
  Snapshot s;
  s.cluster = cluster.get();
  s.catalog = catalog;
  s.nodes = nodes;
  s.running = running;
  s.pending = pending;
  s.params = params;
  if (shares) {
    s.shares = shares.get();
    s.tenants = tenants;
  }
  return s;
}

SyntheticSnapshot make_synthetic_snapshot(const SyntheticSpec& spec, const Catalog& catalog) {
  SyntheticSnapshot out;
  out.catalog = &catalog;
  NodeGroupSpec g;
  g.count = spec.nodes;
  g.accel_count = spec.per_node;
  g.accel_type = spec.type;
  g.where = "synthetic cluster";
  out.cluster = std::make_unique<Cluster>(build_cluster({g}, catalog, "synthetic"));
  const Cluster& c = *out.cluster;
  Rng rng(spec.seed);
  const TimeMs now = 1'000'000'000;  // ~11.6 days after the synthetic epoch
  out.now = now;
  out.nodes.resize(c.nodes.size());
  const std::uint64_t all = spec.per_node >= 64 ? ~0ull : ((1ull << spec.per_node) - 1);
  for (std::size_t n = 0; n < c.nodes.size(); ++n) {
    out.nodes[n].free = all;
    out.nodes[n].free_cpu = c.nodes[n].cpu_cores;
    out.nodes[n].free_mem_gib = c.nodes[n].memory_gib;
  }
  const TypeId type = c.nodes.front().type;
  // Running jobs: fill nodes in order until the busy fraction is reached; sizes 1..per_node
  // on one node, or whole nodes.
  const long total = static_cast<long>(c.nodes.size()) * spec.per_node;
  const long target = static_cast<long>(spec.busy_fraction * static_cast<double>(total));
  long busy = 0;
  out.jobs.reserve(static_cast<std::size_t>(spec.pending_jobs) + c.nodes.size() * 2);
  struct Run {
    std::size_t job;
    Placement p;
  };
  std::vector<Run> runs;
  JobId next_id = 1;
  for (NodeId n = 0; n < c.nodes.size() && busy < target; ++n) {
    std::uint64_t free = out.nodes[n].free;
    while (free != 0 && busy < target) {
      const int avail = std::popcount(free);
      const int size = std::min<int>(avail, 1 << rng.below(4));  // 1, 2, 4 or 8
      std::uint64_t mask = 0;
      for (int k = 0; k < size; ++k) {
        const std::uint64_t low = free & (~free + 1);
        mask |= low;
        free &= ~low;
      }
      Job j;
      j.id = next_id++;
      j.accel_count = size;
      j.accepted = TypeSet::of(type);
      j.submit = now - static_cast<TimeMs>(rng.below(3600'000));
      j.walltime = static_cast<TimeMs>(600'000 + rng.below(24 * 3600'000));
      out.jobs.push_back(j);
      runs.push_back({out.jobs.size() - 1, {{n, mask}}});
      busy += size;
    }
    out.nodes[n].free = free;
  }
  // Pending jobs: 1 (50%), 2, 4, 8 (~40% together), 16..512 (~10%).
  for (int i = 0; i < spec.pending_jobs; ++i) {
    Job j;
    j.id = next_id++;
    const std::uint64_t r = rng.below(100);
    int size = 1;
    if (r >= 50 && r < 90)
      size = 1 << (1 + rng.below(3));
    else if (r >= 90)
      size = 1 << (4 + rng.below(6));  // 16 .. 512
    j.accel_count = size;
    j.accepted = TypeSet::of(type);
    j.submit = now - static_cast<TimeMs>(rng.below(7 * 24 * 3600'000ull));
    j.walltime = static_cast<TimeMs>(600'000 + rng.below(24 * 3600'000));
    j.duration = j.walltime;
    j.priority = static_cast<std::int32_t>(rng.below(3));
    out.jobs.push_back(j);
  }
  if (spec.tenants > 0) {
    // Shares: equal guarantees adding up to the whole cluster; borrowing none, up to the
    // guarantee again, or unlimited.
    // A generator of its own: the same seed gives the same jobs with or without tenants.
    Rng rng(spec.seed ^ 0x7e4a47u);
    out.shares = std::make_unique<TenantShares>();
    const int guaranteed = static_cast<int>(total / spec.tenants);
    for (int t = 0; t < spec.tenants; ++t) {
      TenantShare share;
      share.name = "t" + std::to_string(t);
      share.weight = 1.0 + static_cast<double>(rng.below(4));
      share.quota.assign(catalog.size(), {});
      const std::uint64_t b = rng.below(3);
      for (auto& q : share.quota)
        q = {guaranteed, b == 0 ? 0 : b == 1 ? guaranteed : TypeQuota::kUnlimited};
      out.shares->tenants.push_back(std::move(share));
    }
    out.shares->index();
    for (const TenantShare& share : out.shares->tenants)
      out.tenants.push_back({&share, rng.unit() * 1000.0});
    for (Job& j : out.jobs) {
      j.tenant_index =
          static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(spec.tenants)));
      j.tenant = out.shares->tenants[static_cast<std::size_t>(j.tenant_index)].name;
    }
    out.params.preempt_grace_ms = out.shares->preemption.grace_ms;
    out.params.min_run_ms = out.shares->preemption.min_runtime_ms;
  }
  for (const Run& r : runs) {
    const Job& j = out.jobs[r.job];
    RunningJob rj;
    rj.job = &j;
    rj.type = type;
    rj.accel_count = j.accel_count;
    rj.placement = r.p;
    rj.started = now - static_cast<TimeMs>(rng.below(static_cast<std::uint64_t>(j.walltime)));
    rj.expected_end = rj.started + j.walltime;
    rj.attained_accel_ms = (now - rj.started) * j.accel_count;
    rj.remaining_ms = rj.expected_end - now;
    out.running.push_back(std::move(rj));
  }
  for (std::size_t i = runs.size(); i < out.jobs.size(); ++i) {
    PendingJob p;
    p.job = &out.jobs[i];
    p.waiting_since = out.jobs[i].submit;
    p.remaining_ms = out.jobs[i].duration;
    out.pending.push_back(p);
  }
  return out;
}

}  // namespace zs
