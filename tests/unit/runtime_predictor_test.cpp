// The run-time predictor (core/runtime_predictor.h) and the clairvoyance labels of zs sim.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/runtime_predictor.h"
#include "sim/metrics.h"
#include "sim/report.h"
#include "sim/simulator.h"

namespace zs {
namespace {

using Level = RuntimePredictor::Level;

Job job(std::string user, std::string name, std::string tenant, int count, TimeMs walltime = 0) {
  Job j;
  j.user = std::move(user);
  j.name = std::move(name);
  j.tenant = std::move(tenant);
  j.accel_count = count;
  j.walltime = walltime;
  return j;
}

TEST(RuntimePredictor, NoHistoryGivesTheWalltimeElseTheDefault) {
  RuntimePredictor p;
  EXPECT_EQ(p.predict(job("u", "n", "t", 1, 7'000)).ms, 7'000);
  EXPECT_EQ(p.predict(job("u", "n", "t", 1)).ms, 3'600'000);
  EXPECT_EQ(p.predict(job("u", "n", "t", 1)).level, Level::kNone);
}

TEST(RuntimePredictor, MeanOfTheLastTwoInTheNarrowestGroupWithHistory) {
  RuntimePredictor p;
  p.observe(job("alice", "train", "vc", 8), 100'000);
  EXPECT_EQ(p.predict(job("alice", "train", "vc", 8)).level, Level::kNone);  // one is not enough
  p.observe(job("alice", "train", "vc", 8), 300'000);
  auto got = p.predict(job("alice", "train", "vc", 8));
  EXPECT_EQ(got.level, Level::kUserNameCount);
  EXPECT_EQ(got.ms, 200'000);
  p.observe(job("alice", "train", "vc", 8), 500'000);  // the oldest is forgotten
  EXPECT_EQ(p.predict(job("alice", "train", "vc", 8)).ms, 400'000);
  // Same user and name, another size: user+name.
  got = p.predict(job("alice", "train", "vc", 16));
  EXPECT_EQ(got.level, Level::kUserName);
  EXPECT_EQ(got.ms, 400'000);
  // Another user with the same name: tenant+name; another name and user: tenant+count.
  EXPECT_EQ(p.predict(job("bob", "train", "vc", 8)).level, Level::kTenantNameCount);
  EXPECT_EQ(p.predict(job("bob", "eval", "vc", 8)).level, Level::kTenantCount);
  EXPECT_EQ(p.predict(job("bob", "eval", "other", 8)).level, Level::kCount);
  EXPECT_EQ(p.predict(job("bob", "eval", "other", 2)).level, Level::kAll);
}

// SWF logs have users and requested times, seldom names: a user's jobs with the same limit
// are predicted from each other before the user's jobs in general.
TEST(RuntimePredictor, TheRequestedWalltimeGroupsAUsersJobs) {
  RuntimePredictor p;
  p.observe(job("carol", "", "", 4, 600'000), 100'000);
  p.observe(job("carol", "", "", 4, 600'000), 120'000);
  p.observe(job("carol", "", "", 4, 14'400'000), 9'000'000);
  p.observe(job("carol", "", "", 4, 14'400'000), 11'000'000);
  auto got = p.predict(job("carol", "", "", 4, 600'000));
  EXPECT_EQ(got.level, Level::kUserWalltimeCount);
  EXPECT_EQ(got.ms, 110'000);
  got = p.predict(job("carol", "", "", 8, 14'400'000));  // another size, same limit
  EXPECT_EQ(got.level, Level::kUserWalltime);
  EXPECT_EQ(got.ms, 10'000'000);
  got = p.predict(job("carol", "", "", 4, 3'600'000));  // a limit never seen: the user's size
  EXPECT_EQ(got.level, Level::kUserCount);
  EXPECT_EQ(got.ms, 3'600'000);  // the last two (9,000 and 11,000 s), capped at the walltime
  EXPECT_EQ(p.predict(job("carol", "", "", 4)).level, Level::kUserCount);  // no walltime
}

TEST(RuntimePredictor, JobsWithoutUserOrNameUseTenantAndSize) {
  // Philly has neither: tenant (virtual cluster) and size only.
  RuntimePredictor p;
  p.observe(job("", "", "vc1", 4), 10'000);
  p.observe(job("", "", "vc1", 4), 20'000);
  p.observe(job("", "", "vc1", 1), 90'000);
  p.observe(job("", "", "vc1", 1), 70'000);
  EXPECT_EQ(p.predict(job("", "", "vc1", 4)).ms, 15'000);
  EXPECT_EQ(p.predict(job("", "", "vc1", 4)).level, Level::kTenantCount);
  EXPECT_EQ(p.predict(job("", "", "vc1", 2)).level, Level::kTenant);
  EXPECT_EQ(p.predict(job("", "", "vc1", 2)).ms, 80'000);  // the tenant's last two
}

// Hostile or merely many names cannot grow the predictor without bound: past the cap only
// existing groups and the broad levels (tenant x size, tenant, size, all) learn.
TEST(RuntimePredictor, GroupsAreBounded) {
  RuntimePredictor::Options o;
  o.max_groups = 100;
  RuntimePredictor p(o);
  for (int i = 0; i < 10'000; ++i)
    p.observe(job("user" + std::to_string(i), "name" + std::to_string(i), "t", 1 + i % 4), 1000);
  // The cap, plus the broad groups: tenant t x 4 sizes, tenant t, 4 sizes, all.
  EXPECT_LE(p.groups(), 100u + 4 + 1 + 4 + 1);
  EXPECT_EQ(p.observed(), 10'000u);
  // The broad levels still learn and predict.
  EXPECT_EQ(p.predict(job("new", "new", "t", 2)).level, Level::kTenantCount);
}

TEST(RuntimePredictor, CappedAtTheWalltime) {
  RuntimePredictor p;
  p.observe(job("u", "n", "t", 1), 900'000);
  p.observe(job("u", "n", "t", 1), 900'000);
  EXPECT_EQ(p.predict(job("u", "n", "t", 1, 60'000)).ms, 60'000);
  EXPECT_EQ(p.predict(job("u", "n", "t", 1, 0)).ms, 900'000);
}

TEST(RuntimePredictor, ExtendedPredictionGrowsAndStopsAtTheWalltime) {
  EXPECT_EQ(RuntimePredictor::extended(100'000, 50'000, 0), 100'000);   // not outlived
  EXPECT_EQ(RuntimePredictor::extended(100'000, 100'000, 0), 200'000);  // doubles
  EXPECT_EQ(RuntimePredictor::extended(10'000, 10'000, 0), 70'000);     // a minute more at least
  EXPECT_EQ(RuntimePredictor::extended(100'000, 100'000, 150'000), 150'000);
  EXPECT_EQ(RuntimePredictor::extended(100'000, 450'000, 0), 800'000);  // 200, 400, 800
  EXPECT_EQ(RuntimePredictor::extended(100'000, 10'000'000'000, 3'600'000), 3'600'000);
  // A function of the elapsed time only: asking at every second gives what asking once does.
  TimeMs p = 5'000;
  for (TimeMs t = 0; t <= 1'000'000; t += 1'000) p = RuntimePredictor::extended(p, t, 0);
  EXPECT_EQ(p, RuntimePredictor::extended(5'000, 1'000'000, 0));
}

TEST(PredictionErrors, MeanAbsoluteMedianRelativeAndUnderShare) {
  PredictionErrors e;
  e.add(100'000, 200'000);  // under by 100 s: 50%
  e.add(300'000, 200'000);  // over by 100 s: 50%
  e.add(200'000, 100'000);  // over by 100 s: 100%
  e.add(500, 0);            // ran 0 s: relative to 1 s
  EXPECT_EQ(e.count(), 4u);
  EXPECT_NEAR(e.mean_absolute_s(), (100 + 100 + 100 + 0.5) / 4.0, 1e-9);
  EXPECT_DOUBLE_EQ(e.median_relative(), 0.5);
  EXPECT_DOUBLE_EQ(e.under_share(), 0.25);
}

// zs sim: the predictor learns only from jobs that ended; each job's error is measured.
TEST(SimPredictor, ErrorsReportedAndClairvoyanceLabelled) {
  const Catalog& cat = Catalog::builtin();
  Cluster c = build_cluster({{"n", 1, 8, "V100"}}, cat);
  std::vector<Job> jobs;
  for (int i = 0; i < 6; ++i) {
    Job j = job("u", "n", "t", 8);
    j.id = static_cast<JobId>(i + 1);
    j.submit = i * 1000;
    j.duration = 100'000;
    j.walltime = 100'000;  // as --walltime exact would make it
    jobs.push_back(j);
  }
  SimOptions opt;
  opt.walltimes_reveal_durations = true;
  const auto easy = make_policy("easy");
  const auto fifo = make_policy("fifo");
  const SimResult re = simulate(c, cat, nullptr, jobs, *easy, opt);
  const SimResult rf = simulate(c, cat, nullptr, jobs, *fifo, opt);
  EXPECT_TRUE(re.clairvoyant);   // reads walltimes that are the durations
  EXPECT_FALSE(rf.clairvoyant);  // never reads them
  opt.walltimes_reveal_durations = false;
  EXPECT_FALSE(simulate(c, cat, nullptr, jobs, *easy, opt).clairvoyant);
  EXPECT_TRUE(simulate(c, cat, nullptr, jobs, *make_policy("srtf"), opt).clairvoyant);
  // All six arrive before any ends: every prediction is the walltime (no history), exact here.
  EXPECT_EQ(rf.predictions, 6u);
  EXPECT_DOUBLE_EQ(rf.prediction_mae_s, 0);

  const std::vector<PolicyMetrics> ms = {compute_metrics(re), compute_metrics(rf)};
  const auto j = nlohmann::json::parse(render_report(ms, ReportFormat::kJson, false));
  EXPECT_EQ(j["policies"][0]["policy"], "easy");
  EXPECT_EQ(j["policies"][0]["clairvoyant"], true);
  EXPECT_EQ(j["policies"][1]["clairvoyant"], false);
  EXPECT_EQ(j["policies"][1]["predictor"]["predictions"], 6);
  const std::string table = render_report(ms, ReportFormat::kTable, false);
  EXPECT_NE(table.find("easy*"), std::string::npos) << table;
  EXPECT_NE(table.find("best average JCT: fifo; best clairvoyant: easy*"), std::string::npos)
      << table;
}

TEST(SimPredictor, LearnsFromEndedJobsOnly) {
  // Job 2 is submitted after job 1 ended: its prediction is job 1's run time... once a group
  // has two; with min history 2 it is the walltime-less default until then.
  const Catalog& cat = Catalog::builtin();
  Cluster c = build_cluster({{"n", 1, 8, "V100"}}, cat);
  std::vector<Job> jobs;
  const TimeMs runs[] = {50'000, 70'000, 10'000};
  for (int i = 0; i < 3; ++i) {
    Job j = job("u", "n", "t", 8);
    j.id = static_cast<JobId>(i + 1);
    j.submit = i * 1'000'000;  // each after the previous one ended
    j.duration = runs[i];
    jobs.push_back(j);
  }
  SimOptions opt;
  const SimResult r = simulate(c, cat, nullptr, jobs, *make_policy("fifo"), opt);
  // Predictions: 1 h (none), 1 h (one ended), 60 s (mean of 50 and 70) against 50, 70, 10 s.
  EXPECT_EQ(r.predictions, 3u);
  EXPECT_NEAR(r.prediction_mae_s, ((3600 - 50) + (3600 - 70) + (60 - 10)) / 3.0, 1e-6);
  EXPECT_DOUBLE_EQ(r.prediction_under_share, 0);
}

}  // namespace
}  // namespace zs
