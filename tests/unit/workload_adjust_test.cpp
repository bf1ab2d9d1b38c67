// What-if adjustments of a workload: walltime rules, --load and --limit.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "core/input_error.h"
#include "sim/workload_adjust.h"

namespace zs {
namespace {

using Kind = WalltimeRule::Kind;

Job job(JobId id, TimeMs submit, TimeMs duration, TimeMs walltime = 0) {
  Job j;
  j.id = id;
  j.submit = submit;
  j.duration = duration;
  j.walltime = walltime;
  return j;
}

std::vector<Job> many_jobs(int n) {
  std::vector<Job> jobs;
  for (int i = 0; i < n; ++i)
    jobs.push_back(job(static_cast<JobId>(i + 1), i * 1000, 60'000 + i * 997));
  return jobs;
}

std::vector<TimeMs> walltimes(const std::vector<Job>& jobs) {
  std::vector<TimeMs> w;
  for (const auto& j : jobs) w.push_back(j.walltime);
  return w;
}

std::vector<JobId> ids(const std::vector<Job>& jobs) {
  std::vector<JobId> v;
  for (const auto& j : jobs) v.push_back(j.id);
  return v;
}

std::vector<Job> adjusted(std::vector<Job> jobs, const std::string& rule, std::uint64_t seed = 1) {
  WorkloadAdjust adj;
  adj.walltime = parse_walltime_rule(rule);
  adj.seed = seed;
  adjust_workload(jobs, adj);
  return jobs;
}

TEST(WorkloadAdjust, ParsesEveryRuleForm) {
  EXPECT_EQ(parse_walltime_rule("exact").kind, Kind::kExact);
  EXPECT_EQ(parse_walltime_rule(" EXACT ").kind, Kind::kExact);
  EXPECT_EQ(parse_walltime_rule("none").kind, Kind::kNone);
  WalltimeRule r = parse_walltime_rule("2x");
  EXPECT_EQ(r.kind, Kind::kFactor);
  EXPECT_EQ(r.lo, 2.0);
  EXPECT_EQ(r.hi, 2.0);
  EXPECT_EQ(parse_walltime_rule("1.5X").lo, 1.5);
  r = parse_walltime_rule("uniform:1-4");
  EXPECT_EQ(r.kind, Kind::kUniform);
  EXPECT_EQ(r.lo, 1.0);
  EXPECT_EQ(r.hi, 4.0);
  r = parse_walltime_rule("Uniform:1.5-1.5");
  EXPECT_EQ(r.kind, Kind::kUniform);
  EXPECT_EQ(r.hi, 1.5);
  r = parse_walltime_rule("4h");
  EXPECT_EQ(r.kind, Kind::kFixed);
  EXPECT_EQ(r.fixed, 4 * 3600 * kMsPerSecond);
  EXPECT_EQ(parse_walltime_rule("1-00:00").fixed, 86400 * kMsPerSecond);
  EXPECT_EQ(parse_walltime_rule("30:00").fixed, 1800 * kMsPerSecond);
  EXPECT_EQ(parse_walltime_rule("90").fixed, 90 * kMsPerSecond);
}

TEST(WorkloadAdjust, RejectsBadRulesAsWalltimeFlagErrors) {
  for (const char* bad : {"", "0", "-4h", "0.5x", "x", "1001x", "nanx", "uniform:4-1",
                          "uniform:0.5-2", "uniform:1-1001", "uniform:1", "uniform:1-2-3",
                          "uniform:", "bogus", "4 hours", "1:2:3:4"}) {
    try {
      parse_walltime_rule(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InputError& e) {
      EXPECT_EQ(e.where(), "--walltime") << bad;
      EXPECT_NE(std::string(e.what()).find("'" + std::string(bad) + "'"), std::string::npos)
          << e.what();
    }
  }
}

TEST(WorkloadAdjust, ExactUsesTheRealDuration) {
  auto jobs = adjusted({job(1, 0, 5000), job(2, 0, 0), job(3, 0, 7000, 99'000)}, "exact");
  EXPECT_EQ(jobs[0].walltime, 5000);
  EXPECT_EQ(jobs[1].walltime, 1) << "a zero-length job still gets a positive limit";
  EXPECT_EQ(jobs[2].walltime, 99'000) << "a given limit is kept";
}

TEST(WorkloadAdjust, FactorMultipliesTheDuration) {
  auto jobs = adjusted({job(1, 0, 5000), job(2, 0, 500), job(3, 0, 7000, 8000)}, "2x");
  EXPECT_EQ(jobs[0].walltime, 10'000);
  EXPECT_EQ(jobs[1].walltime, 2000) << "durations under a second count as one second";
  EXPECT_EQ(jobs[2].walltime, 8000);
  EXPECT_EQ(adjusted({job(1, 0, 3001)}, "1.5x")[0].walltime, 4502);  // ceil(4501.5)
}

TEST(WorkloadAdjust, UniformIsDeterministicPerSeedAndWithinBounds) {
  const auto base = many_jobs(500);
  const auto a = adjusted(base, "uniform:1-4", 42);
  const auto b = adjusted(base, "uniform:1-4", 42);
  const auto c = adjusted(base, "uniform:1-4", 43);
  EXPECT_EQ(walltimes(a), walltimes(b)) << "same seed, same limits";
  EXPECT_NE(walltimes(a), walltimes(c)) << "another seed, other limits";
  double lo = 10, hi = 0;
  std::set<TimeMs> distinct;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = static_cast<double>(base[i].duration);
    EXPECT_GE(a[i].walltime, static_cast<TimeMs>(std::ceil(d * 1.0))) << i;
    EXPECT_LE(a[i].walltime, static_cast<TimeMs>(std::ceil(d * 4.0))) << i;
    const double f = static_cast<double>(a[i].walltime) / d;
    lo = std::min(lo, f);
    hi = std::max(hi, f);
    distinct.insert(a[i].walltime);
  }
  EXPECT_LT(lo, 1.1) << "the draws cover the range";
  EXPECT_GT(hi, 3.9);
  EXPECT_GT(distinct.size(), 450u);
  // A job's limit depends on (seed, job id), not on its position or the other jobs.
  std::vector<Job> reversed(base.rbegin(), base.rend());
  const auto r = adjusted(reversed, "uniform:1-4", 42);
  EXPECT_EQ(r.front().walltime, a.back().walltime);
  EXPECT_EQ(adjusted({base[7]}, "uniform:1-4", 42)[0].walltime, a[7].walltime);
}

TEST(WorkloadAdjust, UniformWithEqualBoundsIsThatFactor) {
  for (const auto& j : adjusted(many_jobs(20), "uniform:3-3", 9))
    EXPECT_EQ(j.walltime, static_cast<TimeMs>(std::ceil(static_cast<double>(j.duration) * 3)));
}

TEST(WorkloadAdjust, FixedAndNone) {
  for (const auto& j : adjusted(many_jobs(10), "4h")) EXPECT_EQ(j.walltime, 4 * 3600 * 1000);
  for (const auto& j : adjusted(many_jobs(10), "none")) EXPECT_EQ(j.walltime, 0);
  EXPECT_EQ(adjusted({job(1, 0, 10, 777)}, "4h")[0].walltime, 777);
}

TEST(WorkloadAdjust, LoadScalesArrivalsAroundTheFirstSubmit) {
  std::vector<Job> jobs = {job(1, 1000, 10), job(2, 3000, 10), job(3, 5001, 10)};
  WorkloadAdjust adj;
  adj.load = 2.0;
  adjust_workload(jobs, adj);
  EXPECT_EQ(jobs[0].submit, 1000);
  EXPECT_EQ(jobs[1].submit, 2000);
  EXPECT_EQ(jobs[2].submit, 3001);  // 1000 + round(4001 / 2)
  EXPECT_EQ(jobs[0].duration, 10) << "durations are not scaled";

  jobs = {job(1, 1000, 10), job(2, 3000, 10), job(3, 500, 10)};
  adj.load = 0.5;  // half the arrival rate: gaps double
  adjust_workload(jobs, adj);
  EXPECT_EQ(jobs[2].submit, 500) << "the earliest submit is the origin";
  EXPECT_EQ(jobs[0].submit, 1500);
  EXPECT_EQ(jobs[1].submit, 5500);
}

TEST(WorkloadAdjust, LoadOfOneOrLessThanZeroChangesNothing) {
  for (double load : {1.0, 0.0, -2.0}) {
    std::vector<Job> jobs = {job(1, 1000, 10), job(2, 3000, 10)};
    WorkloadAdjust adj;
    adj.load = load;
    adjust_workload(jobs, adj);
    EXPECT_EQ(jobs[1].submit, 3000) << load;
  }
}

TEST(WorkloadAdjust, LimitKeepsTheFirstJobsBySubmitTime) {
  std::vector<Job> jobs = {job(5, 400, 1), job(1, 100, 1), job(3, 100, 1), job(2, 300, 1),
                           job(4, 50, 1)};
  WorkloadAdjust adj;
  adj.limit = 3;
  adjust_workload(jobs, adj);
  EXPECT_EQ(ids(jobs), (std::vector<JobId>{4, 1, 3}));  // ties by id

  std::vector<Job> all = many_jobs(5);
  adj.limit = 0;
  adjust_workload(all, adj);
  EXPECT_EQ(all.size(), 5u);
  adj.limit = 10;
  adjust_workload(all, adj);
  EXPECT_EQ(all.size(), 5u);
}

TEST(WorkloadAdjust, LimitThenLoadThenWalltime) {
  std::vector<Job> jobs = {job(1, 10'000, 4000), job(2, 2000, 4000), job(3, 4000, 4000)};
  WorkloadAdjust adj;
  adj.limit = 2;
  adj.load = 2.0;
  adj.walltime = parse_walltime_rule("2x");
  adjust_workload(jobs, adj);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(ids(jobs), (std::vector<JobId>{2, 3}));
  EXPECT_EQ(jobs[0].submit, 2000);
  EXPECT_EQ(jobs[1].submit, 3000);  // scaled after the cut: 2000 + 2000 / 2
  EXPECT_EQ(jobs[1].walltime, 8000);
}

}  // namespace
}  // namespace zs

namespace zs {
namespace {

// Walltimes made from the real durations by a known factor reveal them (the clairvoyance label
// of zs sim); a random factor, a fixed limit, none, or the trace's own walltimes do not.
TEST(WorkloadAdjust, CountsWalltimesThatRevealDurations) {
  auto count = [](const std::string& rule, TimeMs given) {
    std::vector<Job> jobs(3);
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      jobs[i].id = i + 1;
      jobs[i].duration = 60'000;
    }
    jobs[0].walltime = given;
    WorkloadAdjust adj;
    adj.walltime = parse_walltime_rule(rule);
    return adjust_workload(jobs, adj).walltimes_reveal_durations;
  };
  EXPECT_EQ(count("exact", 0), 3u);
  EXPECT_EQ(count("exact", 120'000), 2u);  // the trace gave one
  EXPECT_EQ(count("2x", 0), 3u);
  EXPECT_EQ(count("uniform:1-4", 0), 0u);
  EXPECT_EQ(count("4h", 0), 0u);
  EXPECT_EQ(count("none", 0), 0u);
}

}  // namespace
}  // namespace zs
