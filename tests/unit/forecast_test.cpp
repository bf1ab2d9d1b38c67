// Start-time forecasts (sim/forecast.h): the queue replayed forward on predicted run times.
#include "sim/forecast.h"

#include <gtest/gtest.h>

#include "sim/synthetic.h"
#include "test_util.h"

namespace zs {
namespace {

constexpr TimeMs kHour = 3'600'000;
constexpr TimeMs kNow = 100 * kHour;

Job job(JobId id, int accels, TimeMs submit, TimeMs walltime = 0) {
  Job j;
  j.id = id;
  j.accel_count = accels;
  j.submit = submit;
  j.walltime = walltime;
  j.duration = 1;  // what really happens: a forecast must never read it
  return j;
}

// One node of 8 MLU590 held by job 1 until its predicted end (in 2 h); jobs 2 (8 devices,
// predicted 1 h) and 3 (4 devices, predicted 30 min) wait.
struct World {
  Cluster cluster = build_cluster(parse_inline_cluster("1x8xMLU590"), test::cat());
  std::vector<Job> jobs{job(1, 8, kNow - 2 * kHour, 10 * kHour), job(2, 8, kNow - kHour),
                        job(3, 4, kNow - kHour / 2)};
  std::vector<NodeState> nodes{NodeState{}};
  std::vector<RunningJob> running;
  std::vector<PendingJob> pending;
  World() {
    nodes[0].free = 0;
    RunningJob r;
    r.job = &jobs[0];
    r.type = cluster.nodes[0].type;
    r.placement = {Slot{0, 0xff}};
    r.started = kNow - kHour;
    r.expected_end = r.started + jobs[0].walltime;
    r.predicted_end = kNow + 2 * kHour;
    r.attained_accel_ms = kHour * 8;
    running.push_back(r);
    for (std::size_t k : {1u, 2u}) {
      PendingJob p;
      p.job = &jobs[k];
      p.waiting_since = jobs[k].submit;
      p.predicted_ms = k == 1 ? kHour : kHour / 2;
      pending.push_back(p);
    }
  }
  Snapshot snapshot() const {
    Snapshot s;
    s.cluster = &cluster;
    s.catalog = &test::cat();
    s.nodes = nodes;
    s.running = running;
    s.pending = pending;
    return s;
  }
};

ForecastOptions exact() {
  ForecastOptions o;
  o.tick_ms = 1;
  o.ticks_per_doubling = 0;
  return o;
}

TEST(Forecast, JobsStartWhenThePredictionsSayTheDevicesFree) {
  World w;
  auto fifo = make_policy("fifo");
  const auto starts = forecast_starts(capture_forecast(w.snapshot(), kNow), *fifo, exact());
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[0].job, 2u);
  EXPECT_EQ(starts[0].start, kNow + 2 * kHour);  // when job 1 is predicted to end
  EXPECT_EQ(starts[1].job, 3u);
  EXPECT_EQ(starts[1].start, kNow + 3 * kHour);  // fifo: behind job 2's predicted hour
}

TEST(Forecast, NeverReadsRealRunTimes) {
  World w;
  auto easy = make_policy("easy-pred");
  const auto before = forecast_starts(capture_forecast(w.snapshot(), kNow), *easy, exact());
  for (Job& j : w.jobs) j.duration = 1000 * kHour;
  const auto after = forecast_starts(capture_forecast(w.snapshot(), kNow), *easy, exact());
  ASSERT_EQ(before.size(), after.size());
  for (std::size_t k = 0; k < before.size(); ++k) EXPECT_EQ(before[k].start, after[k].start);
}

TEST(Forecast, AJobThatOutlivesItsPredictionEndsNoSoonerThanNow) {
  World w;
  w.running[0].predicted_end = kNow - kHour;  // the driver has not extended it yet
  auto fifo = make_policy("fifo");
  const auto starts = forecast_starts(capture_forecast(w.snapshot(), kNow), *fifo, exact());
  EXPECT_EQ(starts[0].start, kNow);
}

TEST(Forecast, AskingForOneJobGivesItsEstimateFromTheWholeQueue) {
  World w;
  auto fifo = make_policy("fifo");
  const ForecastInput in = capture_forecast(w.snapshot(), kNow);
  ForecastOptions only = exact();
  only.only = {3};
  const auto all = forecast_starts(in, *fifo, exact());
  const auto one = forecast_starts(in, *fifo, only);
  EXPECT_EQ(one[1].start, all[1].start);
}

TEST(Forecast, OnlyTheFirstJobsInPriorityOrderAreCapturedWhenAsked) {
  World w;
  w.jobs[2].priority = 5;  // job 3 goes first
  auto fifo = make_policy("fifo");
  const ForecastInput in = capture_forecast(w.snapshot(), kNow, 1);
  ASSERT_EQ(in.seed.waiting.size(), 1u);
  EXPECT_EQ(in.jobs[in.seed.waiting[0].job].id, 3u);
  const auto starts = forecast_starts(in, *fifo, exact());
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].start, kNow + 2 * kHour);
}

TEST(Forecast, AJobBeyondTheHorizonHasNoEstimate) {
  World w;
  auto fifo = make_policy("fifo");
  ForecastOptions o = exact();
  o.horizon_ms = 150 * 60'000;  // 2.5 h: job 2 starts at 2 h, job 3 would at 3 h
  const auto starts = forecast_starts(capture_forecast(w.snapshot(), kNow), *fifo, o);
  EXPECT_EQ(starts[0].start, kNow + 2 * kHour);
  EXPECT_EQ(starts[1].start, -1);
}

TEST(Forecast, TicksAreCoarserFurtherAheadButNeverEarly) {
  World w;
  w.running[0].predicted_end = kNow + 20 * kHour + 12'345;
  auto fifo = make_policy("fifo");
  const ForecastInput in = capture_forecast(w.snapshot(), kNow);
  const auto fine = forecast_starts(in, *fifo, exact());
  const auto coarse = forecast_starts(in, *fifo);  // 1 min ticks doubling every 32
  for (std::size_t k = 0; k < fine.size(); ++k) {
    EXPECT_GE(coarse[k].start, fine[k].start);
    const TimeMs ahead = fine[k].start - kNow;
    EXPECT_LE(coarse[k].start - fine[k].start, ahead / 16 + 2 * 60'000) << k;
  }
}

// Passes on coarse ticks must not make every job of a chain wait for a tick: each starts when
// the one before it is predicted to end, however far ahead.
TEST(Forecast, TicksDoNotPileUpAlongAChainOfJobs) {
  World w;
  w.running[0].predicted_end = kNow + 5 * kHour + 17'000;
  std::vector<Job> chain;
  chain.reserve(40);
  for (JobId id = 10; id < 50; ++id)
    chain.push_back(job(id, 8, kNow - kHour + static_cast<TimeMs>(id)));
  w.pending.clear();
  for (const Job& j : chain) {
    PendingJob p;
    p.job = &j;
    p.waiting_since = j.submit;
    p.predicted_ms = kHour + 3 * 60'000 + 7'000;
    w.pending.push_back(p);
  }
  auto fifo = make_policy("fifo");
  const ForecastInput in = capture_forecast(w.snapshot(), kNow);
  const auto fine = forecast_starts(in, *fifo, exact());
  const auto coarse = forecast_starts(in, *fifo);
  ASSERT_EQ(coarse.size(), 40u);
  for (std::size_t k = 0; k < coarse.size(); ++k) {
    EXPECT_EQ(fine[k].start,
              kNow + 5 * kHour + 17'000 + static_cast<TimeMs>(k) * (kHour + 187'000));
    EXPECT_EQ(coarse[k].start, fine[k].start) << k;
  }
}

// With exact predictions, a forecast from a state is the simulation from it: the forecast
// replays the same policy through the same simulator, so the estimates are the real starts.
TEST(Forecast, ExactPredictionsGiveTheSimulatedStarts) {
  Rng rng(7);
  const Cluster cluster =
      build_cluster(parse_inline_cluster("3x8xMLU590+2x4xA100-SXM4-80GB"), test::cat());
  for (const char* name : {"fifo", "easy", "hetero", "las"}) {
    auto policy = make_policy(name);
    std::vector<Job> jobs;
    for (JobId id = 1; id <= 40; ++id) {
      Job j = job(id, 1 << rng.below(4), 0);
      j.duration = static_cast<TimeMs>(60'000 * (1 + rng.below(600)));
      j.walltime = 2 * j.duration;
      jobs.push_back(j);
    }
    SimOptions so;
    so.wake_granularity_ms = 0;
    const SimResult real = simulate(cluster, test::cat(), nullptr, jobs, *policy, so);
    std::vector<PendingJob> pending;
    for (const Job& j : jobs) {
      PendingJob p;
      p.job = &j;
      p.predicted_ms = j.duration;
      pending.push_back(p);
    }
    std::vector<NodeState> nodes(cluster.nodes.size());
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      nodes[n].free = (1ull << cluster.nodes[n].accel_count) - 1;
      nodes[n].free_cpu = cluster.nodes[n].cpu_cores;
      nodes[n].free_mem_gib = cluster.nodes[n].memory_gib;
    }
    Snapshot s;
    s.cluster = &cluster;
    s.catalog = &test::cat();
    s.nodes = nodes;
    s.pending = pending;
    const auto starts = forecast_starts(capture_forecast(s, 0), *policy, exact());
    ASSERT_EQ(starts.size(), jobs.size());
    for (std::size_t k = 0; k < jobs.size(); ++k)
      EXPECT_EQ(starts[k].start, real.jobs[k].first_start) << name << " job " << jobs[k].id;
  }
}

TEST(Forecast, SameInputSameEstimates) {
  SyntheticSpec spec;
  spec.nodes = 200;
  spec.pending_jobs = 300;
  const SyntheticSnapshot syn = make_synthetic_snapshot(spec, test::cat());
  for (const char* name : {"easy", "spf", "las", "gittins"}) {
    auto policy = make_policy(name);
    const ForecastInput in = capture_forecast(syn.snapshot(), syn.now);
    const auto a = forecast_starts(in, *policy);
    const auto b = forecast_starts(in, *policy);
    ASSERT_EQ(a.size(), 300u);
    std::size_t estimated = 0;
    for (std::size_t k = 0; k < a.size(); ++k) {
      EXPECT_EQ(a[k].start, b[k].start);
      EXPECT_TRUE(a[k].start == -1 || a[k].start >= syn.now);
      estimated += a[k].start >= 0;
    }
    EXPECT_EQ(estimated, 300u) << name;
  }
}

}  // namespace
}  // namespace zs
