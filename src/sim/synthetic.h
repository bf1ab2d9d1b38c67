// Synthetic cluster snapshots for `zs bench sched` and for property tests: a cluster of
// nodes x per_node accelerators, part of it held by running jobs, and a queue of pending jobs
// whose sizes follow a power-of-two mix from 1 to 512 accelerators. Deterministic per seed.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sched/snapshot.h"

namespace zs {

struct SyntheticSpec {
  int nodes = 1000;
  int per_node = 8;
  std::string type = "MLU590";
  int pending_jobs = 1000;
  double busy_fraction = 0.9;
  std::uint64_t seed = 1;
  // Tenants' shares: jobs (running and pending) spread over this many tenants, each guaranteed
  // an equal part of the cluster and allowed to borrow (none, some or without limit);
  // fair-share usage random. 0: no shares.
  int tenants = 0;
};

struct SyntheticSnapshot {
  std::unique_ptr<Cluster> cluster;
  const Catalog* catalog = nullptr;
  std::vector<Job> jobs;  // running first, then pending
  std::vector<NodeState> nodes;
  std::vector<RunningJob> running;
  std::vector<PendingJob> pending;
  std::unique_ptr<TenantShares> shares;  // with SyntheticSpec::tenants
  std::vector<TenantView> tenants;
  SchedParams params;
  TimeMs now = 0;
  Snapshot snapshot() const;
};

SyntheticSnapshot make_synthetic_snapshot(const SyntheticSpec& spec, const Catalog& catalog);

// Deterministic 64-bit generator (SplitMix64) with helpers; identical on every platform.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next();
  std::uint64_t below(std::uint64_t n) { return n ? next() % n : 0; }  // [0, n)
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t s_;
};

}  // namespace zs
