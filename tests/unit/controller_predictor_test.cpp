// The live controller's run-time predictor (easy-pred, spf, gittins): it learns from the jobs that
// ended and, after a restart, from the finished jobs the store still has. Driven on a fake clock.
#include <gtest/gtest.h>

#include "controller/controller.h"
#include "core/input_error.h"
#include "fake_agent.h"
#include "scratch_dir.h"

namespace zs {
namespace {

constexpr TimeMs kStart = 1'800'000'000'000;

class ControllerPredictor : public ::testing::Test {
 protected:
  std::unique_ptr<Controller> open(const std::string& policy = "easy-pred") {
    ControllerOptions o;
    o.policy = policy;
    o.sched.min_run_ms = 0;                    // spf may preempt at once
    o.heartbeat_ms = 30LL * 24 * 3600 * 1000;  // no node is lost while the clock jumps
    o.min_pass_interval_ms = 0;
    o.clock = [this] { return now; };
    return std::make_unique<Controller>(o, open_sqlite_store(dir / "state.db"));
  }
  JobId submit(Controller& c, const std::string& user, int count, TimeMs walltime, TimeMs runs) {
    JobSpec s;
    s.argv = {"true"};
    s.accel_type = "A100-SXM4-80GB";
    s.accel_count = count;
    s.work_dir = "/tmp";
    s.user = user;
    s.walltime = walltime;
    const JobId id = c.submit({s}).front();
    work.add(id, {runs, 0});
    return id;
  }
  // Passes and syncs at `now` until nothing more happens.
  void settle(Controller& c) {
    for (int i = 0; i < 20; ++i) {
      c.run_pass_for_test();
      if (!agent.sync(c, now, work)) return;
    }
  }
  // Runs until the agent has nothing left to run.
  void drain(Controller& c) {
    settle(c);
    while (agent.next_event() < kNever) {
      now = agent.next_event();
      settle(c);
    }
  }

  void expect_short_user_preempts_long(const std::string& policy, int history);

  TimeMs now = kStart;
  test::ScratchDir dir;
  test::FakeAgent agent{"a", 8};
  test::FakeJobs work;
};

TEST_F(ControllerPredictor, ARestartedControllerStillPredictsFromTheFinishedJobs) {
  {
    auto c = open();
    settle(*c);
    // History: user a's 4-GPU jobs run 20 s, user d's 2-GPU jobs 2 s (all ask for much more).
    for (int i = 0; i < 2; ++i) submit(*c, "a", 4, 1'000'000, 20'000);
    for (int i = 0; i < 2; ++i) submit(*c, "d", 2, 1'000'000, 2'000);
    drain(*c);
  }
  now += 1'000;
  auto c = open();
  settle(*c);
  // Job 3 (user b, nothing known of b) is predicted from the 4-GPU jobs: 20 s, not its 100 s.
  const JobId j3 = submit(*c, "b", 4, 100'000, 60'000);
  settle(*c);
  ASSERT_EQ(work.history(j3).first_start, now);
  const TimeMs t3 = now;
  // Job 4 needs the whole node: the blocked head, reserved at job 3's predicted end (t3 + 20 s).
  now += 1'000;
  const JobId j4 = submit(*c, "c", 8, 50'000, 50'000);
  settle(*c);
  // Job 5 (user d, 2 GPUs, asks for 1,000 s) is predicted at 2 s: it ends before the
  // reservation and is backfilled at once. Without the restored history it would be predicted
  // at its 1,000 s, job 3 at its 100 s, and job 5 would wait for job 4.
  now += 1'000;
  const JobId j5 = submit(*c, "d", 2, 1'000'000, 2'000);
  settle(*c);
  EXPECT_EQ(work.history(j5).first_start, t3 + 2'000);
  drain(*c);
  EXPECT_EQ(c->get_job(j4).state, JobState::completed);
  EXPECT_EQ(work.history(j4).first_start, t3 + 60'000);  // when job 3 really ended
}

// A job of a user whose jobs ran 10 s takes the devices of a job of a user whose jobs ran 100 s
// that started first: the victim is signalled, stops after the kill grace, is requeued, and
// finishes after the short one. `history`: ended jobs per user the policy needs to tell them
// apart.
void ControllerPredictor::expect_short_user_preempts_long(const std::string& policy, int history) {
  auto c = open(policy);
  settle(*c);
  for (int i = 0; i < history; ++i) submit(*c, "a", 8, 1'000'000, 10'000);
  for (int i = 0; i < history; ++i) submit(*c, "b", 8, 1'000'000, 100'000);
  drain(*c);
  const JobId longer = submit(*c, "b", 8, 2'000'000, 300'000);
  settle(*c);
  ASSERT_EQ(work.history(longer).first_start, now);
  now += 10'000;
  const JobId shorter = submit(*c, "a", 8, 1'000'000, 10'000);
  settle(*c);
  drain(*c);
  EXPECT_EQ(work.history(longer).preemptions, 1);
  EXPECT_LT(work.history(shorter).first_start, work.history(longer).last_start);
  EXPECT_EQ(c->get_job(shorter).state, JobState::completed);
  EXPECT_EQ(c->get_job(longer).state, JobState::completed);
  EXPECT_GT(c->get_job(longer).end_ms, c->get_job(shorter).end_ms);
}

// Live spf: the job predicted short (the mean of its user's last two) goes first.
TEST_F(ControllerPredictor, SpfPreemptsForAShorterPredictedJob) {
  expect_short_user_preempts_long("spf", 2);
}

// Live gittins: the controller learns the service of the jobs that ended, per user; 16 ended
// jobs a user are the least history a group needs (core/service_distribution.h).
TEST_F(ControllerPredictor, GittinsPreemptsForAJobOfAShortUser) {
  expect_short_user_preempts_long("gittins", 16);
}

// srtf reads real run times, which a live controller never has: refused, not run without them.
TEST_F(ControllerPredictor, TheOracleIsRefusedLive) {
  ControllerOptions o;
  o.policy = "srtf";
  try {
    Controller c(o, open_sqlite_store(dir / "oracle.db"));
    ADD_FAILURE() << "srtf accepted live";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("zs sim only"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace zs
