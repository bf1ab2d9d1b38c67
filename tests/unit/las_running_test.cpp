// LasRunning (sched/las_running.h) against a model that works everything out again at each
// step, from the rules as PreemptivePolicy states them: random starts, stops and moves of
// running jobs between random advances of the clock. The model's wake is running_wake()'s rule
// for las written out (lease end, or the crossing into the queue after the best waiting one), not
// the index's formula.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <vector>

#include "running_model.h"
#include "sched/las_index.h"
#include "sched/las_running.h"
#include "sim/synthetic.h"

namespace zs {
namespace {

using test::ModelJob;

struct Model {
  SchedParams params;
  std::vector<TimeMs> th;
  std::vector<ModelJob> running;  // by slot, as a driver keeps Snapshot::running

  TimeMs service(const ModelJob& j, TimeMs now) const {
    const RunningJob& r = j.run;
    const TimeMs this_run = (now - r.started) * r.accel_count;
    if (r.waited_ms >= params.starvation_ms) return this_run;
    if (r.previous_run_ms > 0 &&
        static_cast<double>(r.waited_ms) >=
            params.las_promote_factor * static_cast<double>(r.previous_run_ms) &&
        las_queue_ms(j.attained_at_start, th) > 0)
      return this_run;
    return j.attained_at_start + this_run;
  }
  TimeMs crossing(TimeMs service, int n, TimeMs now, std::int64_t q) const {
    if (q < 0 || static_cast<std::size_t>(q) >= th.size()) return kNever;
    const TimeMs need = th[static_cast<std::size_t>(q)] - service;
    return now + (need <= 0 ? 1 : std::max<TimeMs>((need + n - 1) / n, 1));
  }
  TimeMs wake_of(const ModelJob& j, TimeMs now, std::int64_t q) const {
    const TimeMs s = service(j, now);
    const int cls = las_queue_ms(s, th);
    const int n = j.run.accel_count;
    const TimeMs lease_end = j.run.started + params.min_run_ms;
    if (lease_end <= now) return cls <= q ? crossing(s, n, now, q) : kNever;
    if (las_queue_ms(s + (lease_end - now) * n, th) > q) return lease_end;
    return crossing(s, n, now, q);
  }
};

TEST(LasRunning, KeepsWhatAPassWouldWorkOutAgain) {
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    Rng rng(seed * 104729 + 7);
    Model m;
    m.params.las_thresholds_accel_s =
        rng.below(2) ? std::vector<double>{60.0, 600.0} : std::vector<double>{30.0, 90.0, 400.0};
    m.params.min_run_ms = static_cast<TimeMs>(rng.below(3)) * 20'000;
    m.params.starvation_ms = 200'000;
    m.params.las_promote_factor = 2.0;
    m.th = las_threshold_ms(m.params.las_thresholds_accel_s);
    LasRunning index(m.params);
    TimeMs now = 0;
    std::uint32_t next_id = 0;
    for (int step = 0; step < 400; ++step) {
      const auto what = rng.below(10);
      if (what < 4 || m.running.empty()) {  // a job starts now, at the end of the list
        ModelJob j{next_id++, {}, static_cast<TimeMs>(rng.below(4)) * 50'000};
        j.run.started = now;
        j.run.type = static_cast<TypeId>(rng.below(3));
        j.run.accel_count = 1 + static_cast<int>(rng.below(8));
        j.run.waited_ms = static_cast<TimeMs>(rng.below(300)) * 1000;
        j.run.previous_run_ms = rng.below(2) ? 0 : static_cast<TimeMs>(rng.below(100)) * 1000;
        test::start_job(m.running, index, j);
      } else if (what < 7) {  // a job stops: the last one takes its slot
        test::stop_job(m.running, index, static_cast<std::uint32_t>(rng.below(m.running.size())));
      } else {  // time passes
        now += static_cast<TimeMs>(rng.below(3)) * static_cast<TimeMs>(1 + rng.below(40'000));
      }
      index.advance(now);
      Snapshot s;
      const std::vector<RunningJob> runs = test::runs_of(m.running);
      s.running = runs;
      s.params = m.params;
      ASSERT_TRUE(index.describes(s, now)) << "seed " << seed << " step " << step;
      std::vector<std::uint32_t> victims, kept;
      std::vector<int> accels(3, 0);
      std::int64_t worst = std::numeric_limits<std::int64_t>::min();
      const auto cls = index.cls();
      ASSERT_EQ(cls.size(), m.running.size());
      for (std::uint32_t i = 0; i < m.running.size(); ++i) {
        const ModelJob& j = m.running[i];
        const int c = las_queue_ms(m.service(j, now), m.th);
        ASSERT_EQ(cls[i], c) << "seed " << seed << " step " << step << " slot " << i;
        if (j.run.started + m.params.min_run_ms <= now) {
          victims.push_back(i);
          accels[j.run.type] += j.run.accel_count;
          worst = std::max<std::int64_t>(worst, c);
        }
      }
      index.victims(kept);
      EXPECT_EQ(kept, victims) << "seed " << seed << " step " << step;
      EXPECT_EQ(index.max_victim_cls(), worst);
      const auto kept_accels = index.victim_accels();
      for (std::size_t t = 0; t < accels.size(); ++t)
        EXPECT_EQ(t < kept_accels.size() ? kept_accels[t] : 0, accels[t]);
      // Every queue a waiting job may be in, with and without some jobs left out.
      for (std::int64_t q = 0; q <= static_cast<std::int64_t>(m.th.size()); ++q) {
        TimeMs all = kNever, some = kNever;
        for (std::uint32_t i = 0; i < m.running.size(); ++i) {
          const TimeMs w = m.wake_of(m.running[i], now, q);
          all = std::min(all, w);
          if (i % 3 != 1) some = std::min(some, w);
        }
        ASSERT_EQ(index.wake(q), all) << "seed " << seed << " step " << step << " q " << q;
        const TimeMs enough = now + 500'000;
        EXPECT_EQ(index.wake(
                      q, [](std::uint32_t slot) { return slot % 3 == 1; }, enough),
                  std::min(some, enough))
            << "seed " << seed << " step " << step << " q " << q;
      }
    }
  }
}

// A snapshot at another time, with other thresholds or with another number of running jobs is
// not described: the policy then ranks the running jobs itself.
TEST(LasRunning, DescribesOnlyItsOwnSnapshot) {
  SchedParams params;
  LasRunning index(params);
  RunningJob r;
  r.started = 0;
  r.accel_count = 2;
  index.insert(0, 0, r, 0);
  index.advance(1000);
  std::vector<RunningJob> runs{r};
  Snapshot s;
  s.running = runs;
  s.params = params;
  EXPECT_TRUE(index.describes(s, 1000));
  EXPECT_FALSE(index.describes(s, 2000));
  s.params.las_thresholds_accel_s = {1.0};
  EXPECT_FALSE(index.describes(s, 1000));
  s.params = params;
  index.erase(0);
  EXPECT_FALSE(index.describes(s, 1000));  // stale until advanced, and one job fewer
  index.advance(1000);
  s.running = {};
  EXPECT_TRUE(index.describes(s, 1000));
  // A job without devices never crosses a threshold: the index steps aside.
  r.accel_count = 0;
  index.insert(1, 0, r, 0);
  index.advance(1000);
  s.running = runs;
  EXPECT_FALSE(index.describes(s, 1000));
}

}  // namespace
}  // namespace zs
