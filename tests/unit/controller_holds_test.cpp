// Reclaims in progress in the live controller: the devices a reclaim frees are held for the
// reclaiming job, every start is checked against those holds, and they survive a restart.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "controller/controller.h"
#include "fake_agent.h"
#include "sched/policy.h"
#include "scratch_dir.h"
#include "sim/tenants_file.h"

namespace zs {
namespace {

using namespace std::chrono_literals;

// Starts every waiting job, in the snapshot's order, on node 0's first devices: a policy bug
// that the controller's check must stop (it knows nothing of holds).
class GreedyFirstDevicesPolicy : public Policy {
 public:
  std::string_view name() const override { return "greedy"; }
  Decisions decide(const Snapshot& snapshot, TimeMs) const override {
    Decisions d;
    for (const auto& p : snapshot.pending) {
      StartDecision s;
      s.job = p.job->id;
      s.placement.push_back({NodeId{0}, (std::uint64_t{1} << p.job->accel_count) - 1});
      d.starts.push_back(s);
    }
    return d;
  }
};

// Starts the first waiting job on node 0 when nothing runs; else reclaims every running job for
// the first waiting one and starts it on node 0: a policy bug when the victims are within their
// tenant's guarantee, which the controller's check must stop before it acts.
class ReclaimEverythingPolicy : public Policy {
 public:
  std::string_view name() const override { return "reclaim-everything"; }
  bool preemptive() const override { return true; }
  Decisions decide(const Snapshot& snapshot, TimeMs) const override {
    Decisions d;
    if (snapshot.pending.empty()) return d;
    const Job& first = *snapshot.pending.front().job;
    for (const auto& r : snapshot.running) d.preemptions.push_back({r.job->id, first.id, true});
    StartDecision s;
    s.job = first.id;
    s.type = snapshot.cluster->nodes[0].type;
    s.placement.push_back({NodeId{0}, (std::uint64_t{1} << first.accel_count) - 1});
    d.starts.push_back(s);
    return d;
  }
};

class ControllerHolds : public ::testing::Test {
 protected:
  void open() {
    options.heartbeat_ms = 1000;
    options.kill_grace_ms = 100;
    options.min_pass_interval_ms = 0;
    options.shares = std::make_shared<TenantShares>(
        parse_tenants_yaml("tenants:\n"
                           "  - name: owner\n"
                           "    quota: {A100-SXM4-80GB: {guaranteed: 8}}\n"
                           "  - name: guest\n"
                           "    quota: {A100-SXM4-80GB: {borrow: unlimited}}\n"
                           "preemption: {grace: 0s, min_runtime: 0s}\n",
                           "test.yaml", Catalog::builtin()));
    controller = std::make_unique<Controller>(options, open_sqlite_store(dir / "state.db"));
    controller->start();
  }
  JobId submit(const std::string& tenant) {
    JobSpec s;
    s.argv = {"true"};
    s.accel_type = "A100-SXM4-80GB";
    s.accel_count = 8;
    s.work_dir = "/tmp";
    s.tenant = tenant;
    s.user = "u";
    return controller->submit({s}).front();
  }
  // Syncs until `pred(orders)` (or 5 s).
  template <class Pred>
  AgentOrders sync_until(Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    AgentOrders o;
    while (std::chrono::steady_clock::now() < deadline) {
      o = controller->agent_sync(agent.name, agent.report);
      if (pred(o)) break;
      std::this_thread::sleep_for(5ms);
    }
    return o;
  }

  ControllerOptions options;
  test::ScratchDir dir;
  std::unique_ptr<Controller> controller;
  test::FakeAgent agent{"a", 8};
};

TEST_F(ControllerHolds, AReclaimHoldSurvivesARestartAndEveryStartIsCheckedAgainstIt) {
  open();
  controller->agent_sync(agent.name, agent.report);
  const JobId guest = submit("guest");
  AgentOrders o = sync_until([](const AgentOrders& o) { return !o.launches.empty(); });
  ASSERT_EQ(o.launches.size(), 1u);
  agent.report.running.push_back({o.launches.front().key, {0, 1, 2, 3, 4, 5, 6, 7}});
  // The owner's job, within its guarantee, reclaims the node: the guest is told to stop.
  const JobId owner = submit("owner");
  o = sync_until([](const AgentOrders& o) { return !o.kills.empty(); });
  ASSERT_EQ(o.kills.size(), 1u);
  EXPECT_EQ(controller->get_job(guest).state, JobState::pending);

  // The controller restarts before the agent confirms, now with a policy that would give the
  // freed devices to whoever waits first (the guest: the lower id).
  controller.reset();
  options.policy_override = std::make_shared<GreedyFirstDevicesPolicy>();
  open();
  agent.report.running.clear();  // the guest's tasks are gone
  o = sync_until([](const AgentOrders& o) { return !o.launches.empty(); });
  ASSERT_EQ(o.launches.size(), 1u);
  EXPECT_EQ(o.launches.front().key.job, owner) << "the held devices went to another job";
  EXPECT_EQ(controller->get_job(guest).state, JobState::pending);
  EXPECT_NE(controller->get_job(guest).reason.find("held for job " + std::to_string(owner)),
            std::string::npos)
      << controller->get_job(guest).reason;
  EXPECT_GE(controller->stats().refused_starts, 1u);
}

// The controller checks a pass's preemptions before it acts: a reclaim of the owner's job, which
// is within its guarantee, is refused - no kill, the job keeps running - and so is the start
// that relied on it; both are logged and counted.
TEST_F(ControllerHolds, AReclaimOfAJobWithinItsGuaranteeIsRefused) {
  options.policy_override = std::make_shared<ReclaimEverythingPolicy>();
  open();
  controller->agent_sync(agent.name, agent.report);
  const JobId owner = submit("owner");
  AgentOrders o = sync_until([](const AgentOrders& o) { return !o.launches.empty(); });
  ASSERT_EQ(o.launches.size(), 1u);
  agent.report.running.push_back({o.launches.front().key, {0, 1, 2, 3, 4, 5, 6, 7}});
  const JobId guest = submit("guest");
  const auto deadline = std::chrono::steady_clock::now() + 300ms;
  while (std::chrono::steady_clock::now() < deadline) {
    o = controller->agent_sync(agent.name, agent.report);
    EXPECT_TRUE(o.kills.empty()) << "the owner's job was told to stop";
    EXPECT_TRUE(o.launches.empty()) << "the guest started on the owner's devices";
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(controller->get_job(owner).state, JobState::running);
  EXPECT_EQ(controller->get_job(guest).state, JobState::pending);
  EXPECT_NE(controller->get_job(guest).reason.find("refused"), std::string::npos)
      << controller->get_job(guest).reason;
  EXPECT_GE(controller->stats().refused_preemptions, 1u);
}

}  // namespace
}  // namespace zs
