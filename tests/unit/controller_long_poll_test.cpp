// The agents' long poll at the controller (issue 10, defect 5): a sync with nothing to answer is
// parked on its node without a thread, woken when orders for the node exist, and collected with
// agent_orders(); a newer sync of the node replaces a parked one.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "controller/controller.h"
#include "scratch_dir.h"

namespace zs {
namespace {

using namespace std::chrono_literals;

AgentReport report_of(int devices, TimeMs wait_ms) {
  AgentReport r;
  r.boot_id = "boot-1";
  r.address = "127.0.0.1";
  r.accel_type = "A100-SXM4-80GB";
  r.accel_count = devices;
  r.cpus = 64;
  r.mem_mib = 512 * 1024;
  r.wait_ms = wait_ms;
  return r;
}

JobSpec gpu_job(int count) {
  JobSpec s;
  s.argv = {"true"};
  s.accel_type = "A100-SXM4-80GB";
  s.accel_count = count;
  s.work_dir = "/tmp";
  return s;
}

template <class F>
bool eventually(F done, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

class ControllerLongPoll : public ::testing::Test {
 protected:
  void SetUp() override {
    ControllerOptions options;
    options.heartbeat_ms = 60'000;  // no timeout interferes: only orders end a wait
    options.node_lost_ms = 600'000;
    options.min_pass_interval_ms = 0;
    controller = std::make_unique<Controller>(options, open_sqlite_store(dir / "state.db"));
    controller->start();
    controller->agent_sync("a", report_of(8, 0));  // registers the node
  }
  // Parks a sync of node "a"; `woken` counts its wake-ups.
  SyncAnswer park(std::shared_ptr<std::atomic<int>> woken, TimeMs wait_ms = 20'000) {
    return controller->begin_agent_sync("a", report_of(8, wait_ms), [woken] { ++*woken; });
  }

  test::ScratchDir dir;
  std::unique_ptr<Controller> controller;
};

TEST_F(ControllerLongPoll, AParkedSyncIsWokenWhenALaunchIsReady) {
  auto woken = std::make_shared<std::atomic<int>>(0);
  SyncAnswer answer = park(woken, 45'000);
  ASSERT_FALSE(answer.orders);        // nothing to say: parked, no thread waits
  EXPECT_EQ(answer.wait_ms, 30'000);  // at most half a heartbeat
  const JobId id = controller->submit({gpu_job(2)}).front();
  EXPECT_TRUE(eventually([&] { return woken->load() == 1; }));
  AgentOrders orders = controller->agent_orders("a", answer.wait);
  ASSERT_EQ(orders.launches.size(), 1u);
  EXPECT_EQ(orders.launches[0].key.job, id);
  // Collected once: the same wait takes nothing more.
  EXPECT_TRUE(controller->agent_orders("a", answer.wait).launches.empty());
  EXPECT_EQ(woken->load(), 1);
}

TEST_F(ControllerLongPoll, ANewerSyncReplacesTheParkedOne) {
  auto first = std::make_shared<std::atomic<int>>(0);
  auto second = std::make_shared<std::atomic<int>>(0);
  SyncAnswer a = park(first);
  SyncAnswer b = park(second);
  ASSERT_FALSE(a.orders);
  ASSERT_FALSE(b.orders);
  EXPECT_EQ(first->load(), 1);  // told to finish at once
  controller->submit({gpu_job(1)});
  EXPECT_TRUE(eventually([&] { return second->load() == 1; }));
  EXPECT_TRUE(controller->agent_orders("a", a.wait).launches.empty());  // stale: nothing
  EXPECT_EQ(controller->agent_orders("a", b.wait).launches.size(), 1u);
}

// A sync that finds orders waiting is answered at once (and the older parked one gets nothing).
TEST_F(ControllerLongPoll, OrdersWaitingAlreadyAreAnsweredAtOnce) {
  auto first = std::make_shared<std::atomic<int>>(0);
  SyncAnswer parked = park(first);
  ASSERT_FALSE(parked.orders);
  controller->submit({gpu_job(1)});
  EXPECT_TRUE(eventually([&] { return first->load() == 1; }));  // the launch waits on the node
  auto second = std::make_shared<std::atomic<int>>(0);
  SyncAnswer now = park(second);
  ASSERT_TRUE(now.orders);
  EXPECT_EQ(now.orders->launches.size(), 1u);
  EXPECT_EQ(second->load(), 0);
  EXPECT_TRUE(controller->agent_orders("a", parked.wait).launches.empty());
}

TEST_F(ControllerLongPoll, StoppingWakesParkedSyncs) {
  auto woken = std::make_shared<std::atomic<int>>(0);
  SyncAnswer answer = park(woken);
  ASSERT_FALSE(answer.orders);
  controller->stop();
  EXPECT_EQ(woken->load(), 1);
  EXPECT_TRUE(controller->agent_orders("a", answer.wait).launches.empty());
}

TEST_F(ControllerLongPoll, TheBlockingSyncStillReturnsWithinItsWait) {
  const auto t0 = std::chrono::steady_clock::now();
  AgentOrders o = controller->agent_sync("a", report_of(8, 100));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(o.launches.empty());
  EXPECT_GE(took, 90ms);
  EXPECT_LT(took, 5s);
}

}  // namespace
}  // namespace zs
