// ShareIndex (sched/share_index.h): groups of waiting jobs by tenant and request, kept by the
// driver. Whether a pass with it decides as one without is checked on random worlds in
// driver_cache_test.cpp; here the structure itself, against a plain model.
#include "sched/share_index.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

#include "sim/synthetic.h"

namespace zs {
namespace {

TEST(ShareIndex, GroupsJobsByTenantAndRequest) {
  std::vector<Job> jobs(6);
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    jobs[i].id = static_cast<JobId>(100 + i);
    jobs[i].tenant_index = static_cast<std::int32_t>(i % 2);
    jobs[i].accel_count = i < 4 ? 1 : 8;
    jobs[i].accepted = TypeSet::of(0);
  }
  jobs[5].required_nodes = {3};  // a job with node constraints is a group of its own
  ShareIndex index;
  for (std::uint32_t r = 0; r < jobs.size(); ++r) index.insert(r, PendingJob{&jobs[r]});
  EXPECT_EQ(index.size(), 6u);
  // (tenant 0, 1 device): ranks 0, 2; (tenant 1, 1): 1, 3; (tenant 0, 8): 4; rank 5 alone.
  EXPECT_EQ(index.group_count(), 4u);
  const std::uint32_t g = index.group_of(0);
  EXPECT_EQ(index.group_of(2), g);
  EXPECT_NE(index.group_of(1), g);
  EXPECT_NE(index.group_of(4), g);
  EXPECT_TRUE(index.group(index.group_of(5)).one_by_one);
  EXPECT_FALSE(index.group(g).one_by_one);
  EXPECT_EQ(index.first(g, 0), 0u);
  EXPECT_EQ(index.first(g, 1), 2u);
  EXPECT_EQ(index.first(g, 3), ShareIndex::kEnd);
  EXPECT_EQ(index.rank_of(102), 2u);
  EXPECT_EQ(&index.job(2), &jobs[2]);

  index.erase(0);
  EXPECT_EQ(index.group(g).size, 1u);
  EXPECT_EQ(index.first(g, 0), 2u);
  EXPECT_EQ(index.group_of(0), ShareIndex::kNoGroup);
  EXPECT_EQ(index.rank_of(100), ShareIndex::kEnd);
  EXPECT_THROW(index.erase(0), std::logic_error);
  EXPECT_THROW(index.insert(2, PendingJob{&jobs[2]}), std::logic_error);
  index.insert(0, PendingJob{&jobs[0]});  // back, in the same group
  EXPECT_EQ(index.group_of(0), g);
  EXPECT_EQ(index.group_count(), 4u);

  // describes(): the same jobs as the snapshot, with their ranks.
  std::vector<PendingJob> pending;
  std::vector<std::uint32_t> ranks;
  for (std::uint32_t r = 0; r < jobs.size(); ++r) {
    pending.push_back(PendingJob{&jobs[r]});
    ranks.push_back(r);
  }
  Snapshot s;
  s.pending = pending;
  s.pending_ranks = ranks;
  EXPECT_TRUE(index.describes(s));
  index.erase(5);
  EXPECT_FALSE(index.describes(s));
}

// Random inserts and erases against a map rank -> job: every group lists exactly its jobs, in
// rank order, and jobs with the same tenant and request share a group.
TEST(ShareIndex, MatchesAPlainModel) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    Rng rng(seed);
    const std::uint32_t ranks = 20 + static_cast<std::uint32_t>(rng.below(300));
    std::vector<Job> jobs(ranks);
    for (std::uint32_t r = 0; r < ranks; ++r) {
      jobs[r].id = 7 * r + 1;
      jobs[r].tenant_index = static_cast<std::int32_t>(rng.below(4)) - 1;
      jobs[r].accel_count = 1 << rng.below(3);
      jobs[r].accepted =
          rng.below(3) ? TypeSet::of(static_cast<TypeId>(rng.below(2))) : TypeSet::any();
      jobs[r].priority = static_cast<std::int32_t>(rng.below(2));
    }
    ShareIndex index;
    std::map<std::uint32_t, const Job*> model;
    for (int step = 0; step < 3000; ++step) {
      const auto r = static_cast<std::uint32_t>(rng.below(ranks));
      if (model.count(r)) {
        index.erase(r);
        model.erase(r);
      } else {
        index.insert(r, PendingJob{&jobs[r]});
        model[r] = &jobs[r];
      }
    }
    ASSERT_EQ(index.size(), model.size()) << "seed " << seed;
    std::map<std::uint32_t, std::set<std::uint32_t>> by_group;
    for (const auto& [r, job] : model) {
      const std::uint32_t g = index.group_of(r);
      ASSERT_NE(g, ShareIndex::kNoGroup);
      const Job& like = *index.group(g).like;
      EXPECT_EQ(like.tenant_index, job->tenant_index);
      EXPECT_EQ(like.accel_count, job->accel_count);
      EXPECT_EQ(like.accepted, job->accepted);
      EXPECT_EQ(like.priority, job->priority);
      EXPECT_EQ(index.rank_of(job->id), r);
      by_group[g].insert(r);
    }
    for (const auto& [g, members] : by_group) {
      std::vector<std::uint32_t> listed;
      for (std::uint32_t r = index.first(g, 0); r != ShareIndex::kEnd; r = index.first(g, r + 1))
        listed.push_back(r);
      EXPECT_EQ(listed, std::vector<std::uint32_t>(members.begin(), members.end()));
      EXPECT_EQ(index.group(g).size, members.size());
    }
  }
}

}  // namespace
}  // namespace zs
