// The controller's state machine, driven in-process: agents are simulated by calling
// agent_sync/agent_exits directly (FakeAgent's report), so every step is explicit and no
// process is started.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <map>
#include <set>
#include <thread>

#include "api/api_error.h"
#include "controller/clock.h"
#include "controller/controller.h"
#include "core/input_error.h"
#include "fake_agent.h"
#include "scratch_dir.h"

namespace zs {
namespace {

using namespace std::chrono_literals;

using test::FakeAgent;

class ControllerTest : public ::testing::Test {
 protected:
  // On the fixture's SQLite database, or on `store` (a wrapper of it).
  void open(ControllerOptions options = {}, std::unique_ptr<Store> store = nullptr) {
    options.heartbeat_ms = heartbeat_ms;
    options.kill_grace_ms = 100;
    options.min_pass_interval_ms = 0;
    if (!store) store = open_sqlite_store(dir / "state.db");
    controller = std::make_unique<Controller>(options, std::move(store));
    controller->start();
  }
  void reopen() {
    controller.reset();
    open();
  }
  // Syncs until the agent gets launches (or the deadline passes).
  std::vector<NodeLaunch> launches_for(FakeAgent& a, int expected = 1) {
    std::vector<NodeLaunch> got;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (static_cast<int>(got.size()) < expected && std::chrono::steady_clock::now() < deadline) {
      AgentOrders o = controller->agent_sync(a.name, a.report);
      for (auto& l : o.launches) {
        RunningAttempt r{l.key, {}};
        for (const auto& t : l.tasks)
          r.devices.insert(r.devices.end(), t.devices.begin(), t.devices.end());
        a.report.running.push_back(std::move(r));
        got.push_back(std::move(l));
      }
      if (static_cast<int>(got.size()) < expected) std::this_thread::sleep_for(5ms);
    }
    return got;
  }
  std::vector<KillOrder> kills_for(FakeAgent& a) {
    std::vector<KillOrder> got;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (got.empty() && std::chrono::steady_clock::now() < deadline) {
      AgentOrders o = controller->agent_sync(a.name, a.report);
      got = o.kills;
      if (got.empty()) std::this_thread::sleep_for(5ms);
    }
    return got;
  }
  void finish(FakeAgent& a, AttemptKey key, int code, std::string reason = "") {
    std::erase_if(a.report.running, [&](const RunningAttempt& r) { return r.key == key; });
    controller->agent_exits(a.name, {NodeExit{key, code, std::move(reason), 0}});
  }
  JobState state_of(JobId id) { return controller->get_job(id).state; }
  JobState wait_state(JobId id, JobState want) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (state_of(id) != want && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(5ms);
    return state_of(id);
  }
  JobSpec gpu_job(int count, int nodes = 0) {
    JobSpec s;
    s.argv = {"true"};
    s.accel_type = "A100-SXM4-80GB";
    s.accel_count = count;
    s.nodes = nodes;
    s.work_dir = "/tmp";
    return s;
  }

  TimeMs heartbeat_ms = 1000;
  test::ScratchDir dir;
  std::unique_ptr<Controller> controller;
};

TEST_F(ControllerTest, SingleJobRunsAndCompletes) {
  open();
  FakeAgent a("a", 8);
  controller->agent_sync(a.name, a.report);
  JobId id = controller->submit({gpu_job(2)}).front();
  auto launches = launches_for(a);
  ASSERT_EQ(launches.size(), 1u);
  const NodeLaunch& l = launches.front();
  EXPECT_EQ(l.key.job, id);
  EXPECT_EQ(l.key.attempt, 1);
  ASSERT_EQ(l.tasks.size(), 1u);
  EXPECT_EQ(l.tasks[0].devices.size(), 2u);
  EXPECT_EQ(l.visible_devices_env, "CUDA_VISIBLE_DEVICES");
  EXPECT_EQ(state_of(id), JobState::running);
  finish(a, l.key, 0);
  EXPECT_EQ(state_of(id), JobState::completed);
  EXPECT_EQ(controller->get_job(id).exit_code, 0);
}

// Agents report their leaf switch; a gang goes under one leaf when one can hold it, although
// the lowest-named nodes are under two. The topology survives a restart.
TEST_F(ControllerTest, GangsArePackedUnderTheLeafSwitchAgentsReport) {
  open();
  std::vector<FakeAgent> agents{{"n1", 8}, {"n2", 8}, {"n3", 8}};
  agents[0].report.leaf = "A";
  agents[1].report.leaf = "B";
  agents[2].report.leaf = "A";
  agents[2].report.spine = "";
  for (auto& a : agents) controller->agent_sync(a.name, a.report);
  JobId id = controller->submit({gpu_job(16, 2)}).front();
  auto on_n1 = launches_for(agents[0]);
  auto on_n3 = launches_for(agents[2]);
  ASSERT_EQ(on_n1.size(), 1u);
  ASSERT_EQ(on_n3.size(), 1u);
  std::set<std::string> nodes;
  for (const auto& a : controller->get_job(id).assignment) nodes.insert(a.node);
  EXPECT_EQ(nodes, (std::set<std::string>{"n1", "n3"}));
  reopen();
  std::map<std::string, std::string> leaf_of;
  for (const auto& v : controller->nodes()) leaf_of[v.record.name] = v.record.leaf;
  EXPECT_EQ(leaf_of, (std::map<std::string, std::string>{{"n1", "A"}, {"n2", "B"}, {"n3", "A"}}));
}

// Finished jobs are forgotten keep_finished_ms after they end, in memory and in the store; a
// cancelled job whose kill its node has not confirmed is kept until it has. Ids never repeat.
TEST_F(ControllerTest, FinishedJobsAreForgottenAfterKeepFinished) {
  ControllerOptions o;
  o.keep_finished_ms = 100;
  open(o);
  FakeAgent a("a", 8);
  controller->agent_sync(a.name, a.report);
  const JobId done = controller->submit({gpu_job(1)}).front();
  const JobId cancelled = controller->submit({gpu_job(1)}).front();
  const JobId running = controller->submit({gpu_job(1)}).front();
  JobSpec later = gpu_job(1);
  later.after_ok = {running};
  const JobId pending = controller->submit({later}).front();
  auto launches = launches_for(a, 3);
  ASSERT_EQ(launches.size(), 3u);
  auto key_of = [&](JobId id) {
    for (const auto& l : launches)
      if (l.key.job == id) return l.key;
    return AttemptKey{};
  };
  finish(a, key_of(done), 0);
  controller->cancel(cancelled, true);
  ASSERT_EQ(kills_for(a).size(), 1u);  // not confirmed yet: the node still holds its devices
  auto gone = [&](JobId id) {
    try {
      controller->get_job(id);
      return false;
    } catch (const ApiError& e) {
      return e.status() == 404;
    }
  };
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!gone(done) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(gone(done));
  std::this_thread::sleep_for(250ms);  // well past keep_finished_ms
  EXPECT_FALSE(gone(cancelled));
  EXPECT_EQ(state_of(running), JobState::running);
  EXPECT_EQ(state_of(pending), JobState::pending);
  finish(a, key_of(cancelled), 143);  // the kill is confirmed
  while (!gone(cancelled) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(gone(cancelled));
  EXPECT_EQ(controller->stats().purged, 2u);
  reopen();
  EXPECT_TRUE(gone(done));
  EXPECT_TRUE(gone(cancelled));
  EXPECT_EQ(state_of(running), JobState::running);
  EXPECT_GT(controller->submit({gpu_job(1)}).front(), pending);
}

// Jobs sharing a host get distinct MASTER_PORTs, and a port just released is not handed out
// again at once (the last job's rank 0 may leave it in TIME_WAIT).
TEST_F(ControllerTest, MasterPortsAreDistinctPerHostAndGoRoundRobin) {
  open();
  FakeAgent a("a", 8);
  controller->agent_sync(a.name, a.report);
  const auto ids = controller->submit({gpu_job(1), gpu_job(1)});
  auto launches = launches_for(a, 2);
  ASSERT_EQ(launches.size(), 2u);
  const int p1 = controller->get_job(ids[0]).master_port;
  const int p2 = controller->get_job(ids[1]).master_port;
  EXPECT_NE(p1, p2);
  finish(a, launches[0].key, 0);
  finish(a, launches[1].key, 0);
  const JobId third = controller->submit({gpu_job(1)}).front();
  ASSERT_EQ(launches_for(a).size(), 1u);
  const int p3 = controller->get_job(third).master_port;
  EXPECT_NE(p3, p1);
  EXPECT_NE(p3, p2);
}

TEST_F(ControllerTest, GangGetsOneLaunchPerNodeWithRanks) {
  open();
  std::vector<FakeAgent> agents{{"a", 8}, {"b", 8}, {"c", 8}};
  for (auto& a : agents) controller->agent_sync(a.name, a.report);
  JobId id = controller->submit({gpu_job(24, 3)}).front();
  std::set<int> node_ranks;
  std::set<std::string> masters;
  for (auto& a : agents) {
    auto l = launches_for(a);
    ASSERT_EQ(l.size(), 1u) << a.name;
    node_ranks.insert(l[0].node_rank);
    EXPECT_EQ(l[0].tasks[0].rank, l[0].node_rank);
    EXPECT_EQ(l[0].tasks[0].devices.size(), 8u);
    for (const auto& e : l[0].env)
      if (e.rfind("MASTER_PORT=", 0) == 0 || e.rfind("MASTER_ADDR=", 0) == 0) masters.insert(e);
    EXPECT_NE(std::find(l[0].env.begin(), l[0].env.end(), "WORLD_SIZE=3"), l[0].env.end());
  }
  EXPECT_EQ(node_ranks, (std::set<int>{0, 1, 2}));
  EXPECT_EQ(masters.size(), 2u);  // one MASTER_ADDR and one MASTER_PORT for every rank
  // Two ranks finish, the job still runs; the third finishes it.
  finish(agents[0], {id, 1}, 0);
  finish(agents[1], {id, 1}, 0);
  EXPECT_EQ(state_of(id), JobState::running);
  finish(agents[2], {id, 1}, 0);
  EXPECT_EQ(state_of(id), JobState::completed);
}

TEST_F(ControllerTest, FailedRankKillsTheOthersAndRequeuesWhileRetriesRemain) {
  open();
  std::vector<FakeAgent> agents{{"a", 8}, {"b", 8}};
  for (auto& a : agents) controller->agent_sync(a.name, a.report);
  JobSpec spec = gpu_job(16, 2);
  spec.max_retries = 1;
  JobId id = controller->submit({spec}).front();
  for (auto& a : agents) ASSERT_EQ(launches_for(a).size(), 1u);
  finish(agents[0], {id, 1}, 3);
  auto kills = kills_for(agents[1]);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].key, (AttemptKey{id, 1}));
  // The devices of b stay held until b reports the killed attempt ended.
  EXPECT_EQ(controller->nodes()[1].allocated, 8);
  finish(agents[1], {id, 1}, 143, "killed");
  // Requeued, then started again as attempt 2.
  for (auto& a : agents) {
    auto l = launches_for(a);
    ASSERT_EQ(l.size(), 1u);
    EXPECT_EQ(l[0].key.attempt, 2);
  }
  finish(agents[0], {id, 2}, 1);
  finish(agents[1], {id, 2}, 0, "killed");
  EXPECT_EQ(wait_state(id, JobState::failed), JobState::failed);
  EXPECT_EQ(controller->get_job(id).exit_code, 1);
}

TEST_F(ControllerTest, LostNodeFailsItsJobsAndFreesTheOthers) {
  heartbeat_ms = 100;  // lost after 150 ms of silence, given up after the 300 ms lease + grace
  ControllerOptions options;
  options.node_lease_ms = 300;
  open(options);
  FakeAgent a("a", 8), b("b", 8);
  controller->agent_sync(a.name, a.report);
  controller->agent_sync(b.name, b.report);
  JobId id = controller->submit({gpu_job(16, 2)}).front();
  ASSERT_EQ(launches_for(a).size(), 1u);
  ASSERT_EQ(launches_for(b).size(), 1u);
  // b goes silent; a keeps syncing and is told to kill its rank.
  auto kills = kills_for(a);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(state_of(id), JobState::node_fail);
  auto nodes = controller->nodes();
  EXPECT_EQ(nodes[1].record.state, NodeStatus::down);
  // b comes back (same agent): up again, nothing held.
  b.report.running.clear();
  controller->agent_sync(b.name, b.report);
  EXPECT_EQ(controller->nodes()[1].record.state, NodeStatus::up);
  EXPECT_EQ(controller->nodes()[1].allocated, 0);
}

TEST_F(ControllerTest, RestartKeepsJobsAndResendsLaunchesTheAgentNeverGot) {
  open();
  FakeAgent a("a", 8);
  controller->agent_sync(a.name, a.report);
  JobId running = controller->submit({gpu_job(8)}).front();
  ASSERT_EQ(launches_for(a).size(), 1u);
  JobId waiting = controller->submit({gpu_job(8)}).front();
  reopen();
  EXPECT_EQ(state_of(running), JobState::running);
  EXPECT_EQ(state_of(waiting), JobState::pending);
  // The agent still runs the attempt: nothing is launched again.
  AgentOrders o = controller->agent_sync(a.name, a.report);
  EXPECT_TRUE(o.launches.empty());
  // An agent that does not know the attempt (the order was lost) gets it again, same attempt.
  a.report.running.clear();
  auto again = launches_for(a);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].key, (AttemptKey{running, 1}));
  finish(a, again[0].key, 0);
  EXPECT_EQ(state_of(running), JobState::completed);
  auto next = launches_for(a);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].key.job, waiting);
}

TEST_F(ControllerTest, RestartRebuildsTheSameHoldsAsTheStart) {
  open();
  FakeAgent a("a", 8);
  controller->agent_sync(a.name, a.report);
  JobSpec cpu_only;
  cpu_only.argv = {"true"};
  cpu_only.work_dir = "/tmp";
  cpu_only.tasks_per_node = 3;
  controller->submit({cpu_only, gpu_job(4)});
  ASSERT_EQ(launches_for(a, 2).size(), 2u);
  const NodeView before = controller->nodes()[0];
  EXPECT_EQ(before.cpus_used, 3.0);  // a job without accelerators takes a core per task
  reopen();
  const NodeView after = controller->nodes()[0];
  EXPECT_EQ(after.cpus_used, before.cpus_used);
  EXPECT_EQ(after.allocated, before.allocated);
}

TEST_F(ControllerTest, AgentRestartEndsWhatItRan) {
  open();
  FakeAgent a("a", 8);
  controller->agent_sync(a.name, a.report);
  JobId id = controller->submit({gpu_job(4)}).front();
  ASSERT_EQ(launches_for(a).size(), 1u);
  FakeAgent restarted("a", 8, "boot-2");
  controller->agent_sync(restarted.name, restarted.report);
  EXPECT_EQ(state_of(id), JobState::node_fail);
  EXPECT_NE(controller->get_job(id).reason.find("restarted"), std::string::npos);
}

TEST_F(ControllerTest, CancelPendingAndRunning) {
  open();
  FakeAgent a("a", 8);
  controller->agent_sync(a.name, a.report);
  JobId run = controller->submit({gpu_job(8)}).front();
  JobId wait = controller->submit({gpu_job(8)}).front();
  ASSERT_EQ(launches_for(a).size(), 1u);
  EXPECT_EQ(controller->cancel(wait).state, JobState::cancelled);
  EXPECT_EQ(controller->cancel(run).state, JobState::cancelled);
  auto kills = kills_for(a);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].key.job, run);
  EXPECT_FALSE(kills[0].checkpoint) << "a cancel is SIGTERM, as scancel's default";
  finish(a, {run, 1}, 143, "killed");
  EXPECT_EQ(state_of(run), JobState::cancelled);  // a kill's exit does not change the end
  EXPECT_EQ(controller->nodes()[0].allocated, 0);
  EXPECT_THROW(controller->cancel(999), ApiError);
}

TEST_F(ControllerTest, DependencyWaitsForSuccessAndIsCancelledByFailure) {
  open();
  FakeAgent a("a", 8);
  controller->agent_sync(a.name, a.report);
  JobId first = controller->submit({gpu_job(8)}).front();
  JobSpec after = gpu_job(8);
  after.after_ok = {first};
  JobId second = controller->submit({after}).front();
  JobSpec after_second = gpu_job(1);
  after_second.after_ok = {second};
  JobId third = controller->submit({after_second}).front();
  ASSERT_EQ(launches_for(a).size(), 1u);
  finish(a, {first, 1}, 2);
  EXPECT_EQ(wait_state(second, JobState::cancelled), JobState::cancelled);
  EXPECT_EQ(wait_state(third, JobState::cancelled), JobState::cancelled);
  JobSpec unknown = gpu_job(1);
  unknown.after_ok = {12345};
  EXPECT_THROW(controller->submit({unknown}), InputError);
}

TEST_F(ControllerTest, ArrayTasksHonourTheirConcurrencyLimit) {
  open();
  FakeAgent a("a", 8);
  controller->agent_sync(a.name, a.report);
  JobSpec spec = gpu_job(1);
  spec.array = "0-5%2";
  auto ids = controller->submit({spec});
  ASSERT_EQ(ids.size(), 6u);
  auto first = launches_for(a, 2);
  ASSERT_EQ(first.size(), 2u);
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(controller->agent_sync(a.name, a.report).launches.empty());
  finish(a, first[0].key, 0);
  EXPECT_EQ(launches_for(a).size(), 1u);
  const JobRecord r = controller->get_job(ids[3]);
  EXPECT_EQ(r.array_job_id, ids[0]);
  EXPECT_EQ(r.array_task_id, 3);
}

TEST_F(ControllerTest, UnhealthyAndDrainedDevicesGetNoWork) {
  open();
  FakeAgent a("a", 2), b("b", 8);
  a.report.unhealthy = 0b10;
  controller->agent_sync(a.name, a.report);
  controller->agent_sync(b.name, b.report);
  controller->set_drained("b", true, "maintenance");
  auto ids = controller->submit({gpu_job(1), gpu_job(1)});
  auto got = launches_for(a);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].tasks[0].devices, std::vector<int>{0});
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(controller->agent_sync(b.name, b.report).launches.empty());
  controller->set_drained("b", false, "");
  EXPECT_EQ(launches_for(b).size(), 1u);
  EXPECT_EQ(controller->nodes()[1].record.state, NodeStatus::up);
}

TEST_F(ControllerTest, BadSubmitsAreRejectedWithTheField) {
  open();
  JobSpec no_command;
  try {
    controller->submit({no_command});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "argv");
  }
  JobSpec bad_type = gpu_job(1);
  bad_type.accel_type = "NoSuchChip";
  try {
    controller->submit({gpu_job(1), bad_type});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "jobs[1].accel_type");
  }
  JobSpec uneven = gpu_job(5, 2);
  EXPECT_THROW(controller->submit({uneven}), InputError);
  EXPECT_TRUE(controller->list_jobs({}).jobs.empty());  // nothing was created
}

// --hold and --begin keep a job pending with Slurm's reasons, across a restart; release lets it
// start; a running job cannot be held.
TEST_F(ControllerTest, HeldAndNotYetBegunJobsWaitAcrossARestart) {
  open();
  FakeAgent a("a", 8);
  controller->agent_sync(a.name, a.report);
  JobSpec held = gpu_job(1);
  held.hold = true;
  JobSpec later = gpu_job(1);
  later.begin_ms = wall_clock_ms() + 3'600'000;
  const JobId h = controller->submit({held}).front();
  const JobId l = controller->submit({later}).front();
  const JobId now = controller->submit({gpu_job(1)}).front();
  auto launches = launches_for(a);
  ASSERT_EQ(launches.size(), 1u);
  EXPECT_EQ(launches[0].key.job, now);
  EXPECT_EQ(controller->get_job(h).reason, "JobHeldUser");
  EXPECT_EQ(controller->get_job(l).reason, "BeginTime");
  try {
    controller->set_held(now, true);
    FAIL() << "held a running job";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 409);
  }
  reopen();
  EXPECT_TRUE(controller->get_job(h).spec.hold);
  EXPECT_EQ(controller->get_job(l).spec.begin_ms, later.begin_ms);
  controller->agent_sync(a.name, a.report);
  EXPECT_EQ(controller->set_held(h, false).reason, "");
  launches = launches_for(a);
  ASSERT_EQ(launches.size(), 1u);
  EXPECT_EQ(launches[0].key.job, h);
  EXPECT_EQ(state_of(l), JobState::pending);
  EXPECT_THROW(controller->set_held(999, true), ApiError);
}

TEST_F(ControllerTest, NodeListsNameKnownNodes) {
  open();
  FakeAgent a("a", 8);
  controller->agent_sync(a.name, a.report);
  JobSpec s = gpu_job(1);
  s.nodelist = {"a"};
  EXPECT_NO_THROW(controller->submit({s}));
  s.exclude = {"zz"};
  s.nodelist.clear();
  try {
    controller->submit({gpu_job(1), s});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "jobs[1].exclude");
    EXPECT_NE(e.message().find("unknown node 'zz'"), std::string::npos);
  }
  s.exclude = {"a\x1b"};
  EXPECT_THROW(controller->submit({s}), InputError);  // not a node name at all
}

TEST_F(ControllerTest, ListingFiltersAndPages) {
  open();
  std::vector<JobSpec> specs;
  for (int i = 0; i < 25; ++i) {
    JobSpec s = gpu_job(1);
    s.user = i % 2 ? "ann" : "bob";
    specs.push_back(s);
  }
  controller->submit(specs);
  JobFilter f;
  f.user = "ann";
  f.limit = 5;
  std::size_t seen = 0;
  for (;;) {
    JobPage page = controller->list_jobs(f);
    for (const auto& j : page.jobs) EXPECT_EQ(j.spec.user, "ann");
    seen += page.jobs.size();
    if (!page.next_after) break;
    f.after = page.next_after;
  }
  EXPECT_EQ(seen, 12u);
}

// Issue 10, defect 2: a node that went silent keeps its devices held while its tasks may still
// run; when its agent comes back still running the lost attempt, it is ordered killed, and the
// devices are freed only once the agent reports it gone.
TEST_F(ControllerTest, SilentNodeKeepsDevicesHeldUntilItsAgentConfirms) {
  heartbeat_ms = 100;  // lost after 150 ms of silence, given up after the 300 ms lease + grace
  ControllerOptions options;
  options.node_lease_ms = 300;
  open(options);
  FakeAgent a("a", 8), b("b", 8);
  controller->agent_sync(a.name, a.report);
  controller->agent_sync(b.name, b.report);
  JobSpec spec = gpu_job(8);
  spec.max_retries = 1;
  JobId id = controller->submit({spec}).front();
  // The first launch goes to whichever node; call it "frozen".
  std::vector<NodeLaunch> got;
  FakeAgent* frozen = nullptr;
  FakeAgent* other = nullptr;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!frozen && std::chrono::steady_clock::now() < deadline) {
    for (auto* ag : {&a, &b}) {
      AgentOrders o = controller->agent_sync(ag->name, ag->report);
      if (!o.launches.empty()) {
        frozen = ag;
        other = ag == &a ? &b : &a;
        ag->report.running.push_back({o.launches[0].key, o.launches[0].tasks[0].devices});
        break;
      }
    }
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_NE(frozen, nullptr);
  // The frozen node is declared lost; the job is requeued and starts on the other node.
  auto second = launches_for(*other);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].key, (AttemptKey{id, 2}));
  const std::size_t frozen_index = frozen == &a ? 0 : 1;
  EXPECT_EQ(controller->nodes()[frozen_index].record.state, NodeStatus::down);
  EXPECT_EQ(controller->nodes()[frozen_index].allocated, 8);  // still held
  // It comes back, still running attempt 1: killed, devices still held, nothing new placed.
  JobId waiting = controller->submit({gpu_job(8)}).front();
  AgentOrders back = controller->agent_sync(frozen->name, frozen->report);
  ASSERT_EQ(back.kills.size(), 1u);
  EXPECT_EQ(back.kills[0].key, (AttemptKey{id, 1}));
  EXPECT_TRUE(back.launches.empty());
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(controller->agent_sync(frozen->name, frozen->report).launches.empty());
  EXPECT_EQ(controller->nodes()[frozen_index].allocated, 8);
  EXPECT_EQ(state_of(waiting), JobState::pending);
  // The kill's exit frees the devices; the waiting job gets them. Attempt 2 is untouched.
  finish(*frozen, {id, 1}, 137, "killed");
  auto next = launches_for(*frozen);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].key.job, waiting);
  EXPECT_EQ(state_of(id), JobState::running);
  EXPECT_EQ(controller->get_job(id).attempt, 2);
}

// Found by the fault-injection suite: after a controller restart a node takes work only once
// its agent has reported; that report changes nothing in the node's record, and must still
// bring a pass, or the queue waits for an unrelated event (none came: jobs pending forever).
TEST_F(ControllerTest, ANodeSyncingAfterARestartGetsTheWaitingJobs) {
  heartbeat_ms = 2000;  // not lost meanwhile: coming back up would bring a pass of its own
  open();
  FakeAgent a("a", 8);
  controller->agent_sync(a.name, a.report);
  controller.reset();
  open();
  JobId id = controller->submit({gpu_job(8)}).front();
  // Its pass (at the scheduler's next tick, a quarter heartbeat: nothing could start, so the
  // submit did not wake it) finds no node that has reported yet.
  std::this_thread::sleep_for(800ms);
  EXPECT_EQ(state_of(id), JobState::pending);
  auto got = launches_for(a);  // a sync with the same report as before the restart
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].key.job, id);
}

// The node lease: a node that falls silent is down at once (no new work), but its running
// attempts are given up, and their jobs run elsewhere, only after the lease and the kill grace
// period, when its agent (or shim) has stopped them. A node back within that costs nothing.
TEST_F(ControllerTest, SilentNodeKeepsItsJobsUntilTheLeaseRunsOut) {
  heartbeat_ms = 100;  // lost after 150 ms; lease 1.5 s + grace 0.1 s + margin 0.13 s
  ControllerOptions options;
  options.node_lease_ms = 1500;
  open(options);
  FakeAgent a("a", 8), b("b", 8);
  AgentOrders first = controller->agent_sync(a.name, a.report);
  EXPECT_EQ(first.lease_ms, 1500);
  JobSpec spec = gpu_job(8);
  spec.max_retries = 1;
  JobId id = controller->submit({spec}).front();
  ASSERT_EQ(launches_for(a).size(), 1u);
  controller->agent_sync(b.name, b.report);
  // a falls silent for 600 ms: down, the job still runs, b gets nothing.
  const auto silent_from = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - silent_from < 600ms) {
    EXPECT_TRUE(controller->agent_sync(b.name, b.report).launches.empty());
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(controller->nodes()[0].record.state, NodeStatus::down);
  EXPECT_EQ(state_of(id), JobState::running);
  // Back within the lease, still running it: up again, same attempt, no kill.
  AgentOrders back = controller->agent_sync(a.name, a.report);
  EXPECT_TRUE(back.kills.empty());
  EXPECT_EQ(controller->nodes()[0].record.state, NodeStatus::up);
  EXPECT_EQ(state_of(id), JobState::running);
  EXPECT_EQ(controller->get_job(id).attempt, 1);
  // Silent again, now past the lease: given up, requeued, and it starts on b, but not before.
  const auto gone_from = std::chrono::steady_clock::now();
  std::vector<NodeLaunch> second;
  while (second.empty() && std::chrono::steady_clock::now() - gone_from < 5s) {
    second = controller->agent_sync(b.name, b.report).launches;
    if (second.empty()) std::this_thread::sleep_for(10ms);
  }
  const auto waited = std::chrono::steady_clock::now() - gone_from;
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].key, (AttemptKey{id, 2}));
  EXPECT_GE(waited, 1500ms + 100ms);  // the lease and the kill grace period, at least
  EXPECT_EQ(controller->get_job(id).attempt, 2);
}

// An agent reporting an attempt the controller never gave it (a cancelled job, a forgotten
// restart) is told to kill it, and that attempt's devices are not given to anyone meanwhile.
TEST_F(ControllerTest, UnknownAttemptIsKilledAndItsDevicesStayHeld) {
  open();
  FakeAgent a("a", 8);
  a.report.running.push_back({AttemptKey{4242, 1}, {0, 1, 2, 3}});
  AgentOrders o = controller->agent_sync(a.name, a.report);
  ASSERT_EQ(o.kills.size(), 1u);
  EXPECT_EQ(o.kills[0].key, (AttemptKey{4242, 1}));
  EXPECT_EQ(controller->nodes()[0].allocated, 4);
  JobId big = controller->submit({gpu_job(8)}).front();
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(controller->agent_sync(a.name, a.report).launches.empty());
  EXPECT_EQ(state_of(big), JobState::pending);
  finish(a, {4242, 1}, 137, "killed");
  EXPECT_EQ(launches_for(a).size(), 1u);
}

// Defect 7: a drain survives the node going down and coming back; re-draining replaces the
// reason; resuming a down node that was drained clears the drain.
TEST_F(ControllerTest, DrainSurvivesAFlapAndRedrainReplacesTheReason) {
  heartbeat_ms = 100;
  open();
  FakeAgent a("a", 8);
  controller->agent_sync(a.name, a.report);
  controller->set_drained("a", true, "bad fan");
  EXPECT_EQ(controller->set_drained("a", true, "bad PSU").record.reason, "bad PSU");
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (controller->nodes()[0].record.state != NodeStatus::down &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  ASSERT_EQ(controller->nodes()[0].record.state, NodeStatus::down);
  controller->agent_sync(a.name, a.report);
  EXPECT_EQ(controller->nodes()[0].record.state, NodeStatus::drained);
  EXPECT_EQ(controller->nodes()[0].record.reason, "bad PSU");
  // Survives a controller restart too.
  reopen();
  controller->agent_sync(a.name, a.report);
  EXPECT_EQ(controller->nodes()[0].record.state, NodeStatus::drained);
  controller->set_drained("a", false, "");
  EXPECT_EQ(controller->nodes()[0].record.state, NodeStatus::up);
}

// Defect 6: afterok on an array id waits for every task of the array (Slurm).
TEST_F(ControllerTest, AfterOkOnAnArrayWaitsForEveryTask) {
  open();
  FakeAgent a("a", 8);
  controller->agent_sync(a.name, a.report);
  JobSpec array = gpu_job(1);
  array.array = "0-2";
  auto tasks = controller->submit({array});
  ASSERT_EQ(tasks.size(), 3u);
  JobSpec after = gpu_job(1);
  after.after_ok = {tasks[0]};
  JobId dependent = controller->submit({after}).front();
  auto started = launches_for(a, 3);
  ASSERT_EQ(started.size(), 3u);
  finish(a, started[0].key, 0);
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(controller->agent_sync(a.name, a.report).launches.empty());
  EXPECT_EQ(state_of(dependent), JobState::pending);
  finish(a, started[1].key, 0);
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(controller->agent_sync(a.name, a.report).launches.empty());
  finish(a, started[2].key, 0);
  auto last = launches_for(a);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].key.job, dependent);
}

// Defect 11: a job that can never fit the known nodes is refused at submit with the reason,
// unless the operator keeps such jobs (nodes expected to join).
TEST_F(ControllerTest, NeverFittingJobsAreRefusedUnlessKept) {
  open();
  FakeAgent a("a", 8), b("b", 8);
  controller->agent_sync(a.name, a.report);
  controller->agent_sync(b.name, b.report);
  auto expect_422 = [&](const JobSpec& spec) {
    try {
      controller->submit({spec});
      ADD_FAILURE() << "accepted a job that never fits";
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status(), 422);
    }
  };
  expect_422(gpu_job(24, 3));  // three nodes of 8 on a cluster of two
  expect_422(gpu_job(9, 1));   // 9 devices on one node of 8
  expect_422(gpu_job(17));     // 17 devices on a cluster of 16
  JobSpec cpus;
  cpus.argv = {"true"};
  cpus.work_dir = "/tmp";
  cpus.nodes = 3;
  expect_422(cpus);  // CPU-only, three nodes
  cpus.nodes = 1;
  cpus.cpus_per_task = 500;
  expect_422(cpus);
  cpus.cpus_per_task = 1;
  cpus.mem_mib = 2 * 1024 * 1024;  // 2 TiB
  expect_422(cpus);
  EXPECT_TRUE(controller->list_jobs({}).jobs.empty());
  EXPECT_NO_THROW(controller->submit({gpu_job(16, 2)}));
  controller.reset();
  ControllerOptions keep;
  keep.keep_unfit_jobs = true;
  open(keep);
  JobId kept = controller->submit({gpu_job(24, 3)}).front();
  EXPECT_EQ(state_of(kept), JobState::pending);
}

// Defect 12: an exit reported late (after a controller restart) keeps the agent's end time.
TEST_F(ControllerTest, LateExitKeepsTheAgentsEndTime) {
  open();
  FakeAgent a("a", 8);
  controller->agent_sync(a.name, a.report);
  JobId id = controller->submit({gpu_job(1)}).front();
  ASSERT_EQ(launches_for(a).size(), 1u);
  const TimeMs start = controller->get_job(id).start_ms;
  std::this_thread::sleep_for(30ms);
  reopen();
  std::erase_if(a.report.running, [&](const RunningAttempt& r) { return r.key.job == id; });
  controller->agent_exits(a.name, {NodeExit{{id, 1}, 0, "", start + 5}});
  EXPECT_EQ(state_of(id), JobState::completed);
  EXPECT_EQ(controller->get_job(id).end_ms, start + 5);
}

// Defect 3: when the store cannot persist, requests get 503 and the controller keeps going;
// nothing acknowledged is lost, and it catches up when the store works again.
class FlakyStore : public Store {
 public:
  explicit FlakyStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}
  void write(const WriteBatch& batch) override {
    if (failing) throw StoreError("injected: disk full");
    if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
    inner_->write(batch);
  }
  std::vector<JobRecord> load_jobs() override { return inner_->load_jobs(); }
  std::vector<NodeRecord> load_nodes() override { return inner_->load_nodes(); }
  std::vector<TenantRecord> load_tenants() override { return inner_->load_tenants(); }
  std::vector<UserRecord> load_users() override { return inner_->load_users(); }
  std::vector<TokenRecord> load_tokens() override { return inner_->load_tokens(); }
  JobId max_job_id() override { return inner_->max_job_id(); }
  std::vector<UsageRecord> load_usage(const UsageQuery& q) override {
    return inner_->load_usage(q);
  }
  UsagePage load_usage_page(const UsageQuery& q, std::optional<UsageKey> after,
                            std::size_t limit) override {
    return inner_->load_usage_page(q, after, limit);
  }
  std::optional<std::string> load_setting(const std::string& key) override {
    return inner_->load_setting(key);
  }
  std::size_t purge_jobs_ended_before(TimeMs before_ms) override {
    return inner_->purge_jobs_ended_before(before_ms);
  }
  std::string describe() const override { return "flaky " + inner_->describe(); }
  std::atomic<bool> failing{false};
  std::atomic<int> delay_ms{0};  // a slow disk

 private:
  std::unique_ptr<Store> inner_;
};

TEST_F(ControllerTest, StoreFailureAnswers503AndRecovers) {
  auto flaky = std::make_unique<FlakyStore>(open_sqlite_store(dir / "state.db"));
  FlakyStore* store = flaky.get();
  open({}, std::move(flaky));
  FakeAgent a("a", 8);
  controller->agent_sync(a.name, a.report);
  store->failing = true;
  try {
    controller->submit({gpu_job(1)});
    ADD_FAILURE() << "a submit that could not be persisted was acknowledged";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 503);
  }
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(controller->agent_sync(a.name, a.report).launches.empty());  // nothing acted on
  store->failing = false;
  JobId id = controller->submit({gpu_job(1)}).front();
  EXPECT_GE(launches_for(a, 1).size(), 1u);
  reopen();
  EXPECT_NO_THROW(controller->get_job(id));
}

// A node whose report waits for a slow store is not silent: it must not be declared lost
// (and its jobs given up) because the controller's own disk was slow to answer it.
TEST_F(ControllerTest, ANodeWaitingForASlowStoreIsNotLost) {
  heartbeat_ms = 100;  // lost after 150 ms of silence
  auto flaky = std::make_unique<FlakyStore>(open_sqlite_store(dir / "state.db"));
  FlakyStore* store = flaky.get();
  ControllerOptions options;
  options.node_lease_ms = 300;
  open(options, std::move(flaky));
  FakeAgent a("a", 8);
  controller->agent_sync(a.name, a.report);
  JobId id = controller->submit({gpu_job(8)}).front();
  auto got = launches_for(a);
  ASSERT_EQ(got.size(), 1u);
  store->delay_ms = 1000;  // longer than the lease, the grace period and the margin
  finish(a, got[0].key, 0);
  store->delay_ms = 0;
  EXPECT_EQ(controller->nodes()[0].record.state, NodeStatus::up);
  EXPECT_EQ(wait_state(id, JobState::completed), JobState::completed);
}

// A policy that places every job on devices 0..n-1 of the first node(s), whatever is held or
// unhealthy there, and across types: the controller must refuse what breaks its invariants.
class CarelessPolicy : public Policy {
 public:
  std::string_view name() const override { return "careless"; }
  Decisions decide(const Snapshot& snapshot, TimeMs) const override {
    Decisions d;
    for (const auto& p : snapshot.pending) {
      StartDecision s;
      s.job = p.job->id;
      const int nodes = std::max(1, p.job->nodes);
      const int per_node = p.job->accel_count / nodes;
      for (int n = 0; n < nodes && n < static_cast<int>(snapshot.cluster->nodes.size()); ++n)
        s.placement.push_back({static_cast<NodeId>(n), (std::uint64_t{1} << per_node) - 1});
      d.starts.push_back(s);
    }
    return d;
  }
};

// A policy that preempts every running job for the first waiting one, and starts a waiting job
// on node 0's first devices when nothing runs.
class EvictingPolicy : public Policy {
 public:
  std::string_view name() const override { return "evicting"; }
  bool preemptive() const override { return true; }
  Decisions decide(const Snapshot& snapshot, TimeMs) const override {
    Decisions d;
    if (snapshot.pending.empty()) return d;
    const JobId first = snapshot.pending.front().job->id;
    for (const auto& r : snapshot.running) d.preemptions.push_back({r.job->id, first});
    if (snapshot.running.empty()) {
      StartDecision s;
      s.job = first;
      s.placement.push_back(
          {0, (std::uint64_t{1} << snapshot.pending.front().job->accel_count) - 1});
      d.starts.push_back(s);
    }
    return d;
  }
};

TEST_F(ControllerTest, APreemptionAsksForTheJobsCheckpointSignal) {
  ControllerOptions options;
  options.policy_override = std::make_shared<EvictingPolicy>();
  open(options);
  FakeAgent a("a", 8);
  controller->agent_sync(a.name, a.report);
  JobSpec spec = gpu_job(8);
  spec.signal = SIGUSR1;
  spec.signal_time_s = 55;
  spec.signal_batch = true;
  const JobId victim = controller->submit({spec}).front();
  auto got = launches_for(a);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].signal, SIGUSR1);  // the agent sends it 55 s before the walltime ends
  EXPECT_EQ(got[0].signal_time_s, 55);
  EXPECT_TRUE(got[0].signal_batch);
  const JobId winner = controller->submit({gpu_job(8)}).front();
  auto kills = kills_for(a);
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].key, (AttemptKey{victim, 1}));
  EXPECT_TRUE(kills[0].checkpoint) << "a preempted job gets its own signal, not SIGTERM";
  EXPECT_EQ(kills[0].reason, "preempted for job " + std::to_string(winner));
  EXPECT_EQ(state_of(victim), JobState::pending);
}

TEST_F(ControllerTest, DecisionsThatBreakInvariantsAreRefused) {
  ControllerOptions options;
  options.policy_override = std::make_shared<CarelessPolicy>();
  options.keep_unfit_jobs = true;  // the two-type gang below must reach the policy
  open(options);
  FakeAgent a("a", 8), b("b", 8);
  b.report.accel_type = "MLU590";
  a.report.unhealthy = 0b100;  // device 2 of a
  controller->agent_sync(a.name, a.report);
  controller->agent_sync(b.name, b.report);
  JobId first = controller->submit({gpu_job(2)}).front();  // devices 0-1 of a: fine
  ASSERT_EQ(launches_for(a).size(), 1u);
  EXPECT_EQ(state_of(first), JobState::running);
  JobId twice = controller->submit({gpu_job(2)}).front();  // devices 0-1 again: held
  JobSpec unhealthy = gpu_job(4);                          // devices 0-3: 2 is unhealthy
  JobId sick = controller->submit({unhealthy}).front();
  JobSpec mixed;  // two nodes, any type: a gang over A100 and MLU590
  mixed.argv = {"true"};
  mixed.work_dir = "/tmp";
  mixed.accel_count = 2;
  mixed.nodes = 2;
  JobId across = controller->submit({mixed}).front();
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(controller->agent_sync(a.name, a.report).launches.empty());
  EXPECT_TRUE(controller->agent_sync(b.name, b.report).launches.empty());
  for (JobId id : {twice, sick, across}) {
    EXPECT_EQ(state_of(id), JobState::pending) << id;
    EXPECT_NE(controller->get_job(id).reason.find("refused"), std::string::npos)
        << controller->get_job(id).reason;
  }
  EXPECT_NE(controller->get_job(across).reason.find("across types"), std::string::npos);
  EXPECT_NE(controller->get_job(sick).reason.find("unhealthy"), std::string::npos);
  EXPECT_NE(controller->get_job(twice).reason.find("held"), std::string::npos);
  EXPECT_GE(controller->stats().refused_starts, 3u);
}

// An agent that cannot account for an attempt's tasks reports it "lost": a node failure,
// requeued while retries remain, not a failure of the job.
TEST_F(ControllerTest, LostExitIsANodeFailure) {
  open();
  FakeAgent a("a", 8);
  controller->agent_sync(a.name, a.report);
  JobSpec spec = gpu_job(8);
  spec.max_retries = 1;
  JobId id = controller->submit({spec}).front();
  ASSERT_EQ(launches_for(a).size(), 1u);
  finish(a, {id, 1}, -1, "lost: the node restarted");
  auto again = launches_for(a);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].key, (AttemptKey{id, 2}));
  finish(a, {id, 2}, -1, "lost: the node restarted");
  EXPECT_EQ(wait_state(id, JobState::node_fail), JobState::node_fail);
}

// An agent reporting an attempt whose key matches a job running elsewhere (its work directory
// outlived a wiped controller state) neither ends that job nor keeps its devices: it is killed.
TEST_F(ControllerTest, SameKeyFromAnotherNodeIsKilledNotTrusted) {
  open();
  FakeAgent a("a", 8), c("c", 8);
  controller->agent_sync(a.name, a.report);
  controller->agent_sync(c.name, c.report);
  JobSpec spec = gpu_job(8);
  spec.nodelist = {"a"};
  JobId id = controller->submit({spec}).front();
  ASSERT_EQ(launches_for(a).size(), 1u);
  c.report.running.push_back({AttemptKey{id, 1}, {0, 1}});
  AgentOrders o = controller->agent_sync(c.name, c.report);
  ASSERT_EQ(o.kills.size(), 1u);
  EXPECT_EQ(o.kills[0].key, (AttemptKey{id, 1}));
  finish(c, {id, 1}, 137, "killed");
  EXPECT_EQ(state_of(id), JobState::running);  // c's exit says nothing about a's part
  EXPECT_EQ(controller->nodes()[1].allocated, 0);
  finish(a, {id, 1}, 0);
  EXPECT_EQ(state_of(id), JobState::completed);
}
}  // namespace
}  // namespace zs
