// RunningAccrual (sim/running_accrual.h): per-tenant sums give what summing each running job's
// decayed accrual gives, as jobs start and end, across rebases of the origin.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/fair_share.h"
#include "sim/running_accrual.h"

namespace zs {
namespace {

struct Run {
  std::size_t tenant;
  double rate;
  TimeMs started;
};

// Adds and removes random jobs over a long span and compares every tenant at every step.
void check_against_per_job_sums(TimeMs half_life, std::uint32_t seed) {
  std::mt19937_64 rng(seed);
  RunningAccrual acc(half_life);
  std::vector<Run> running;
  TimeMs t = 1'000'000;
  auto add = [&](const Run& r) {
    if (acc.needs_rebase(r.started)) {
      acc.rebase(r.started);
      for (const Run& o : running) acc.add(o.tenant, o.rate, o.started);
    }
    acc.add(r.tenant, r.rate, r.started);
    running.push_back(r);
  };
  for (int step = 0; step < 3000; ++step) {
    t += static_cast<TimeMs>(rng() % (4 * 3600'000));
    if (running.empty() || rng() % 3 != 0) {
      add({rng() % 5, static_cast<double>(1 + rng() % 64) * 2.5 / 3.6e6, t});
    } else {
      const std::size_t k = rng() % running.size();
      acc.remove(running[k].tenant, running[k].rate, running[k].started);
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(k));
    }
    const TimeMs now = t + static_cast<TimeMs>(rng() % 600'000);
    for (std::size_t tenant = 0; tenant < 6; ++tenant) {
      double want = 0;
      bool any = false;
      for (const Run& r : running)
        if (r.tenant == tenant) {
          want += decayed_accrual(r.rate, r.started, now, half_life);
          any = true;
        }
      const double got = acc.of(tenant, now);
      if (!any) {
        ASSERT_EQ(got, 0.0) << "tenant " << tenant << " step " << step;
        continue;
      }
      ASSERT_NEAR(got, want, 1e-9 * want + 1e-12) << "tenant " << tenant << " step " << step;
    }
  }
}

TEST(RunningAccrual, MatchesThePerJobSums) {
  check_against_per_job_sums(7LL * 86400'000, 1);
}

// A short half-life over a long span moves the origin many times.
TEST(RunningAccrual, MatchesThemAcrossRebases) {
  check_against_per_job_sums(3600'000, 2);
}

TEST(RunningAccrual, NothingRunningAccruesNothing) {
  RunningAccrual acc(3600'000);
  EXPECT_EQ(acc.of(0, 5'000), 0.0);
  acc.rebase(0);
  acc.add(0, 1.0 / 3.6e6, 1'000);
  EXPECT_GT(acc.of(0, 2'000), 0.0);
  acc.remove(0, 1.0 / 3.6e6, 1'000);
  EXPECT_EQ(acc.of(0, 9'000), 0.0);
}

}  // namespace
}  // namespace zs
