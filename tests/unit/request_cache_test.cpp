// RequestCache (sched/placement_search.h): a pass's cache of what each request may run on. The
// lookup by share group (under a tenants file every job of a group has the same request) must
// give what the lookup by job gives, also after the cache has been emptied for its size bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "sched/placement_search.h"

namespace zs {
namespace {

const Catalog& catalog() {
  return Catalog::builtin();
}

NodeGroupSpec group(const char* type, int nodes, int devices) {
  NodeGroupSpec g;
  g.accel_type = type;
  g.count = nodes;
  g.accel_count = devices;
  g.where = type;
  return g;
}

TEST(RequestCache, ByGroupGivesWhatByJobGivesAcrossTheSizeBound) {
  const Cluster cluster = build_cluster({group("V100", 2, 8), group("K80", 1, 4)}, catalog());
  std::vector<NodeState> nodes(cluster.nodes.size());
  for (auto& n : nodes) n.free = ~std::uint64_t{0};
  Snapshot s;
  s.cluster = &cluster;
  s.catalog = &catalog();
  s.nodes = nodes;
  const TypeId v100 = *catalog().find("V100"), k80 = *catalog().find("K80");
  // Job k asks for 1 + k % 16 devices of V100 (k even) or of either type (k odd); 600 distinct
  // requests (different CPU per device), more than the cache keeps: it is emptied on the way.
  std::vector<Job> jobs(600);
  for (std::size_t k = 0; k < jobs.size(); ++k) {
    Job& j = jobs[k];
    j.id = static_cast<JobId>(k + 1);
    j.accel_count = 1 + static_cast<int>(k % 16);
    j.accepted = k % 2 ? TypeSet::any() : TypeSet::of(v100);
    j.cpu_per_accel = static_cast<double>(k) / 1000.0;
  }
  RequestCache plain(s, false), grouped(s, false);
  for (int round = 0; round < 2; ++round)
    for (std::size_t k = 0; k < jobs.size(); ++k) {
      const auto g = static_cast<std::uint32_t>(k);  // one group per request
      const RequestCache::Info a = plain.of(jobs[k]);
      const RequestCache::Info& b = grouped.of(jobs[k], g);
      EXPECT_EQ(a.types, b.types) << "round " << round << " job " << k;
      EXPECT_EQ(a.fit_types, b.fit_types) << "round " << round << " job " << k;
      EXPECT_EQ(a.never_fits, b.never_fits) << "round " << round << " job " << k;
    }
  // And what it gives is right: a V100 job may run on V100 only, one of either type on both.
  const RequestCache::Info& one = grouped.of(jobs[14], 14);
  EXPECT_EQ(one.types, (std::vector<TypeId>{v100}));
  const RequestCache::Info& any = grouped.of(jobs[3], 3);
  EXPECT_EQ(any.types.size(), 2u);
  EXPECT_NE(std::find(any.types.begin(), any.types.end(), k80), any.types.end());
}

}  // namespace
}  // namespace zs
