// The learned service distribution and its Gittins index (core/service_distribution.h).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/service_distribution.h"

namespace zs {
namespace {

using SD = ServiceDistribution;

Job job(std::string user, std::string tenant, int count) {
  Job j;
  j.user = std::move(user);
  j.tenant = std::move(tenant);
  j.accel_count = count;
  return j;
}

double width(int bin) {
  return static_cast<double>(SD::bin_start(bin + 1) - SD::bin_start(bin));
}

TEST(ServiceDistribution, BinsAreLogSpacedAndConsistent) {
  EXPECT_EQ(SD::bin_start(0), 0);
  EXPECT_EQ(SD::bin_start(1), 10'000);
  EXPECT_EQ(SD::bin_start(3), 20'000);
  for (int k = 1; k < SD::kBins; ++k) {
    EXPECT_EQ(SD::bin_of(SD::bin_start(k)), k);
    EXPECT_EQ(SD::bin_of(SD::bin_start(k) - 1), k - 1);
  }
  EXPECT_EQ(SD::bin_of(0), 0);
  EXPECT_EQ(SD::bin_of(-5), 0);
  EXPECT_EQ(SD::bin_of(kNever), SD::kBins - 1);
}

TEST(ServiceDistribution, GittinsIndexOfTwoKindsOfJobs) {
  // Half the jobs need bin 2's service, half bin 10's.
  std::vector<std::uint32_t> counts(SD::kBins, 0);
  counts[2] = 50;
  counts[10] = 50;
  // G(0, D to the end of bin 2) = P(S <= D) / E[min(S, D)], the survival linear inside a bin.
  const double spent = width(0) * 100 + width(1) * 100 + width(2) * (100 + 50) / 2.0;
  EXPECT_DOUBLE_EQ(SD::gittins_index(counts, 0, 3), 50 / spent);
  // Shorter quanta finish nobody; the index is the best quantum.
  EXPECT_EQ(SD::gittins_index(counts, 0, 1), 0);
  EXPECT_GE(SD::gittins_index(counts, 0), SD::gittins_index(counts, 0, 3));
  // A job past the short kind is surely long: its index drops (it expects bin 10's service).
  const double long_left =
      static_cast<double>(SD::bin_start(10) - SD::bin_start(3)) + width(10) / 2.0;
  EXPECT_DOUBLE_EQ(SD::gittins_index(counts, 3), 1 / long_left);
  EXPECT_LT(SD::gittins_index(counts, 3), SD::gittins_index(counts, 0));
  // ... and rises again as it nears its end; past every job it is 0 (nothing known).
  EXPECT_GT(SD::gittins_index(counts, 9), SD::gittins_index(counts, 3));
  EXPECT_EQ(SD::gittins_index(counts, 11), 0);
}

TEST(ServiceDistribution, OneKindOfJobIsShortestRemainingFirst) {
  std::vector<std::uint32_t> counts(SD::kBins, 0);
  counts[20] = 7;
  for (int b = 0; b <= 20; ++b) {
    const double left = static_cast<double>(SD::bin_start(20) - SD::bin_start(b)) + width(20) / 2;
    EXPECT_DOUBLE_EQ(SD::gittins_index(counts, b), 1 / left) << b;
  }
}

TEST(ServiceDistribution, LearnsPerGroupOnceTheHistorySuffices) {
  SD d(SD::Options{.min_samples = 16, .window = 4096, .max_groups = 1024});
  const Job short_job = job("alice", "vc1", 1), long_job = job("bob", "vc2", 1);
  EXPECT_EQ(d.ranks_for(short_job), nullptr);
  for (int i = 0; i < 15; ++i) d.observe(short_job, 60'000);
  EXPECT_EQ(d.ranks_for(short_job), nullptr);  // 15 is not enough history
  EXPECT_EQ(d.level_for(short_job), JobGroupLevel::kNone);
  d.observe(short_job, 60'000);
  ASSERT_NE(d.ranks_for(short_job), nullptr);
  EXPECT_EQ(d.level_for(short_job), JobGroupLevel::kUserCount);
  // bob has no history of his own: the broadest group with enough (all jobs) ranks him.
  EXPECT_EQ(d.level_for(long_job), JobGroupLevel::kCount);
  for (int i = 0; i < 16; ++i) d.observe(long_job, 36'000'000);
  EXPECT_EQ(d.level_for(long_job), JobGroupLevel::kUserCount);
  // A fresh job of alice's expects a minute, bob's ten hours: alice's ranks first.
  const TimeMs alice = d.ranks_for(short_job)->at(0), bob = d.ranks_for(long_job)->at(0);
  EXPECT_LT(alice, bob);
  EXPECT_GE(alice, 60'000);
  EXPECT_LE(alice, 2 * 60'000);
  // An alice job that outlived all of hers: ranked past its own service, behind fresh bob jobs
  // only once it has received as much as they expect.
  EXPECT_GT(d.ranks_for(short_job)->at(600'000), 600'000);
}

TEST(ServiceDistribution, RanksComeInClassesOfSqrtTwo) {
  SD d;
  const Job j = job("u", "t", 1);
  for (int i = 0; i < 64; ++i) d.observe(j, 1'000 * (i + 1) * (i + 1));
  const SD::Ranks* r = d.ranks_for(j);
  ASSERT_NE(r, nullptr);
  for (int b = 0; b < 10; ++b) {
    const TimeMs rank = r->rank_of_bin(b);
    const double steps = 2 * std::log2(static_cast<double>(rank) / 1000.0);
    EXPECT_NEAR(steps, std::round(steps), 1e-4) << b;  // ranks are whole ms
  }
}

TEST(ServiceDistribution, OldJobsFade) {
  SD d(SD::Options{.min_samples = 16, .window = 64, .max_groups = 1024});
  const Job j = job("u", "t", 1);
  for (int i = 0; i < 64; ++i) d.observe(j, 36'000'000);
  const TimeMs before = d.ranks_for(j)->at(0);
  for (int i = 0; i < 256; ++i) d.observe(j, 60'000);
  EXPECT_LT(d.ranks_for(j)->at(0), before / 100);
}

TEST(ServiceDistribution, GroupsAreBounded) {
  SD d(SD::Options{.min_samples = 2, .window = 4096, .max_groups = 100});
  for (int i = 0; i < 10'000; ++i) d.observe(job("user" + std::to_string(i), "t", 1), 1'000);
  EXPECT_LE(d.groups(), 100u + 3u);  // + the broad levels: tenant+count, tenant, count, all
  // The broad groups still learn.
  EXPECT_EQ(d.level_for(job("newcomer", "t", 1)), JobGroupLevel::kTenantCount);
}

}  // namespace
}  // namespace zs
