// las and srtf in the live controller see each job's attained service: accelerator time of its
// ended attempts, and when it last waited, kept across a controller restart (rebuilt from the
// usage records). Driven on a fake clock, one pass at a time.
#include <gtest/gtest.h>

#include "controller/controller.h"
#include "fake_agent.h"
#include "scratch_dir.h"

namespace zs {
namespace {

constexpr TimeMs kStart = 1'800'000'000'000;

class ControllerService : public ::testing::Test {
 protected:
  std::unique_ptr<Controller> open() {
    ControllerOptions o;
    o.policy = "las";
    o.sched.las_thresholds_accel_s = {100};
    o.heartbeat_ms = 30LL * 24 * 3600 * 1000;  // no node is lost while the clock jumps
    o.min_pass_interval_ms = 0;
    o.clock = [this] { return now; };
    return std::make_unique<Controller>(o, open_sqlite_store(dir / "state.db"));
  }
  JobSpec job(int max_retries = 0) {
    JobSpec s;
    s.argv = {"true"};
    s.accel_type = "A100-SXM4-80GB";
    s.accel_count = 8;
    s.work_dir = "/tmp";
    s.max_retries = max_retries;
    return s;
  }
  // A pass, then the agent's sync: the attempts it launched.
  std::vector<AttemptKey> pass_and_sync(Controller& c) {
    c.run_pass_for_test();
    std::vector<AttemptKey> launched;
    for (const auto& l : c.agent_sync(agent.name, agent.report).launches) {
      launched.push_back(l.key);
      agent.report.running.push_back({l.key, {0, 1, 2, 3, 4, 5, 6, 7}});
    }
    return launched;
  }

  TimeMs now = kStart;
  test::ScratchDir dir;
  test::FakeAgent agent{"a", 8};
};

TEST_F(ControllerService, AttainedServiceOrdersRequeuedJobsEvenAfterARestart) {
  AttemptKey first;
  JobId second = 0;
  {
    auto c = open();
    c->agent_sync(agent.name, agent.report);
    const JobId id = c->submit({job(1)}).front();
    auto launched = pass_and_sync(*c);
    ASSERT_EQ(launched.size(), 1u);
    first = launched.front();
    EXPECT_EQ(first.job, id);
    now += 200'000;  // 8 x 200 s = 1,600 accelerator-seconds: past the 100 s threshold
    second = c->submit({job()}).front();
    EXPECT_TRUE(pass_and_sync(*c).empty());  // min_run (5 min) protects the first job
    agent.report.running.clear();
    c->agent_exits(agent.name, {NodeExit{first, 1, "", now}});  // fails; one retry left
    EXPECT_EQ(c->get_job(id).state, JobState::pending);
  }
  // Restarted before any pass: the first job, submitted earlier, has had its service; the
  // second, none: las starts the second.
  now += 1'000;
  auto c = open();
  c->agent_sync(agent.name, agent.report);
  auto launched = pass_and_sync(*c);
  ASSERT_EQ(launched.size(), 1u);
  EXPECT_EQ(launched.front().job, second) << "las did not see the first job's 1,600 accel-s";
}

}  // namespace
}  // namespace zs
