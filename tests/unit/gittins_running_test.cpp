// GittinsRunning (sched/gittins_running.h) against every key worked out again at each step, as
// PreemptivePolicy ranks a running job (its bin of service now, its group's ranks now): random
// starts, stops and moves between random clock steps, while groups learn from ended jobs and
// their ranks are worked out again; and the wake memo passes leave in it.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <vector>

#include "core/service_distribution.h"
#include "running_model.h"
#include "sched/gittins_running.h"
#include "sched/wait_key.h"
#include "sim/synthetic.h"

namespace zs {
namespace {

using test::ModelJob;

TEST(GittinsRunning, KeepsEveryKeyAPassWouldWorkOut) {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    Rng rng(seed * 7907 + 3);
    SchedParams params;
    params.min_run_ms = static_cast<TimeMs>(rng.below(3)) * 30'000;
    params.spf_size_weight = rng.below(2) ? 1.0 : 2.5;
    ServiceDistribution sd(ServiceDistribution::Options{2, 4096, 1u << 18});
    std::vector<Job> groups(3);
    for (std::size_t g = 0; g < groups.size(); ++g) {
      groups[g].user = "u" + std::to_string(g);
      groups[g].tenant = "t";
    }
    GittinsRunning index(params);
    std::vector<ModelJob> running;  // by slot
    // The wake memos set, by job id, with the bin and ranks version they were set in: one may
    // only be there while both are the same (and it must follow its job's slot).
    struct Memo {
      std::int64_t q;
      TimeMs at;
      int bin;
      std::uint32_t version;
    };
    std::map<std::uint32_t, Memo> memos;
    long memos_kept = 0;
    TimeMs now = 0;
    std::uint32_t next_id = 0;
    for (int step = 0; step < 300; ++step) {
      const auto what = rng.below(12);
      if (what < 4 || running.empty()) {
        ModelJob j{next_id++, {}, static_cast<TimeMs>(rng.below(50)) * 7'000};
        j.run.started = now;
        j.run.type = static_cast<TypeId>(rng.below(2));
        j.run.accel_count = 1 + static_cast<int>(rng.below(6));
        j.run.waited_ms = static_cast<TimeMs>(rng.below(500)) * 1000;
        // Some jobs have no history, the others their group's ranks (which may be null yet).
        j.run.service_ranks =
            rng.below(4) ? sd.ranks_for(groups[rng.below(groups.size())]) : nullptr;
        test::start_job(running, index, j);
      } else if (what < 7) {
        test::stop_job(running, index, static_cast<std::uint32_t>(rng.below(running.size())));
      } else if (what < 9) {  // a group learns (its ranks change now and then)
        sd.observe(groups[rng.below(groups.size())],
                   static_cast<TimeMs>(1 + rng.below(4000)) * 1'000);
      } else {
        now += static_cast<TimeMs>(rng.below(3)) * static_cast<TimeMs>(1 + rng.below(90'000));
      }
      index.advance(now, sd.refreshes());
      const std::vector<RunningJob> runs = test::runs_of(running);
      Snapshot s;
      s.running = runs;
      s.params = params;
      ASSERT_TRUE(index.describes(s, now)) << "seed " << seed << " step " << step;
      ASSERT_EQ(index.key().size(), running.size());
      for (std::uint32_t i = 0; i < running.size(); ++i) {
        const ModelJob& j = running[i];
        const int n = j.run.accel_count;
        const TimeMs attained = j.attained_at_start + (now - j.run.started) * n;
        const int bin = ServiceDistribution::bin_of(attained);
        const std::int64_t key =
            j.run.started - j.run.waited_ms +
            wait_key::weighted(params, wait_key::gittins_rank(j.run.service_ranks, n, bin));
        ASSERT_EQ(index.key()[i], key) << "seed " << seed << " step " << step << " slot " << i;
        EXPECT_EQ(index.lease_end()[i], j.run.started + params.min_run_ms);
        EXPECT_EQ(index.accels()[i], n);
        EXPECT_EQ(index.types()[i], j.run.type);
        // The first ms at which its service is in a later bin.
        TimeMs next = kNever;
        if (bin + 1 < ServiceDistribution::kBins) {
          next = now + 1;
          while (ServiceDistribution::bin_of(j.attained_at_start + (next - j.run.started) * n) ==
                 bin)
            next += std::max<TimeMs>((ServiceDistribution::bin_start(bin + 1) -
                                      (j.attained_at_start + (next - j.run.started) * n) + n - 1) /
                                         n,
                                     1);
        }
        EXPECT_EQ(index.next_bin_at()[i], next) << "seed " << seed << " step " << step;
        const std::uint32_t version = j.run.service_ranks ? j.run.service_ranks->version : 0;
        if (const auto* memo = index.wake_memo(i, std::numeric_limits<std::int64_t>::max())) {
          const auto it = memos.find(j.id);
          ASSERT_NE(it, memos.end()) << "seed " << seed << " step " << step << " slot " << i;
          EXPECT_EQ(memo->q, it->second.q);
          EXPECT_EQ(memo->at, it->second.at);
          EXPECT_EQ(it->second.bin, bin) << "seed " << seed << " step " << step;
          EXPECT_EQ(it->second.version, version) << "seed " << seed << " step " << step;
          EXPECT_EQ(index.wake_memo(i, it->second.q - 1), nullptr);  // made for q, not below
          ++memos_kept;
        }
        if (rng.below(4) == 0) {  // a pass remembers a wake
          const Memo m{static_cast<std::int64_t>(rng.below(1000)),
                       now + 1 + static_cast<TimeMs>(rng.below(100'000)), bin, version};
          index.remember_wake(i, m.q, m.at, rng.below(2) == 0);
          memos[j.id] = m;
        }
      }
    }
    EXPECT_GT(memos_kept, 0) << "seed " << seed;
  }
}

TEST(GittinsRunning, DescribesOnlyItsOwnSnapshot) {
  SchedParams params;
  GittinsRunning index(params);
  RunningJob r;
  r.accel_count = 1;
  index.insert(0, 0, r, 0);
  index.advance(10, 0);
  std::vector<RunningJob> runs{r};
  Snapshot s;
  s.running = runs;
  s.params = params;
  EXPECT_TRUE(index.describes(s, 10));
  EXPECT_FALSE(index.describes(s, 11));
  s.params.spf_size_weight = 3;
  EXPECT_FALSE(index.describes(s, 10));
  s.params = params;
  index.erase(0);
  EXPECT_FALSE(index.describes(s, 10));
  index.advance(10, 0);
  s.running = {};
  EXPECT_TRUE(index.describes(s, 10));
}

}  // namespace
}  // namespace zs
