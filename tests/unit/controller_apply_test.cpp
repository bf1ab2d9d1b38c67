// zs admin apply in the controller (Controller::apply_shares): declarative, checked against the
// nodes the controller knows, enforced from the next pass, durable across a restart, and merged
// with --tenants FILE at start-up. Agents are simulated in-process.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "api/api_error.h"
#include "controller/controller.h"
#include "core/input_error.h"
#include "fake_agent.h"
#include "scratch_dir.h"
#include "sim/tenants_file.h"

namespace zs {
namespace {

using namespace std::chrono_literals;

class ControllerApply : public ::testing::Test {
 protected:
  void open() {
    options.heartbeat_ms = 1000;
    options.min_pass_interval_ms = 0;
    controller = std::make_unique<Controller>(options, open_sqlite_store(dir / "state.db"));
    controller->start();
  }
  void reopen() {
    controller.reset();
    open();
  }
  void join() { controller->agent_sync("a", test::FakeAgent("a", 8).report); }
  JobId submit(const std::string& tenant, int gpus) {
    JobSpec s;
    s.argv = {"true"};
    s.accel_type = "A100-SXM4-80GB";
    s.accel_count = gpus;
    s.work_dir = "/tmp";
    s.tenant = tenant;
    s.user = "u";
    return controller->submit({s}).front();
  }
  // The job's reason once a pass has given one.
  std::string reason_of(JobId id) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      JobRecord r = controller->get_job(id);
      if (!r.reason.empty() || r.state != JobState::pending) return r.reason;
      std::this_thread::sleep_for(5ms);
    }
    return "";
  }
  TenantShares enforced() {
    return parse_tenants_yaml(controller->shares().yaml, "enforced", Catalog::builtin());
  }

  ControllerOptions options;
  test::ScratchDir dir;
  std::unique_ptr<Controller> controller;
};

const char* kFile =
    "tenants:\n"
    "  - name: vision\n"
    "    weight: 2\n"
    "    quota: {A100-SXM4-80GB: {guaranteed: 6, borrow: 2}}\n"
    "  - name: speech\n"
    "    quota: {A100-SXM4-80GB: {guaranteed: 2}}\n"
    "prices: {A100-SXM4-80GB: 20}\n";

TEST_F(ControllerApply, CreatesTenantsEnforcesAtOnceAndSurvivesARestart) {
  open();
  join();
  EXPECT_FALSE(controller->shares().enabled);
  ApplyResult r = controller->apply_shares(kFile, "lab.yaml", false);
  EXPECT_EQ(r.added, (std::vector<std::string>{"vision", "speech"}));
  EXPECT_EQ(r.created_tenants, (std::vector<std::string>{"vision", "speech"}));
  EXPECT_TRUE(controller->identities().tenant_exists("vision"));
  // speech may hold 2: a job of 4 waits, with the limit as its reason, on an idle node.
  const JobId big = submit("speech", 4);
  EXPECT_NE(reason_of(big).find("speech"), std::string::npos) << reason_of(big);
  const std::string yaml = controller->shares().yaml;
  reopen();
  EXPECT_TRUE(controller->shares().enabled);
  EXPECT_EQ(controller->shares().yaml, yaml);
  // zs admin tenant create gives a tenant no guarantee: it gets the default share (none here).
  controller->identities().create_tenant("robotics");
  EXPECT_EQ(enforced().share_of("robotics").of(*Catalog::builtin().find("A100-SXM4-80GB")),
            TypeQuota{});
}

TEST_F(ControllerApply, IsDeclarativeAndADryRunChangesNothing) {
  open();
  join();
  controller->apply_shares(kFile, "lab.yaml", false);
  const std::string before = controller->shares().yaml;
  const char* next =
      "tenants:\n"
      "  - name: vision\n"
      "    quota: {A100-SXM4-80GB: {guaranteed: 4}}\n"
      "fair_share: {half_life: 1d}\n";
  ApplyResult dry = controller->apply_shares(next, "next.yaml", true);
  EXPECT_TRUE(dry.dry_run);
  EXPECT_EQ(dry.changed, std::vector<std::string>{"vision"});
  EXPECT_TRUE(dry.settings_changed);
  EXPECT_EQ(controller->shares().yaml, before);
  controller->apply_shares(next, "next.yaml", false);
  const TenantShares s = enforced();
  const TypeId a100 = *Catalog::builtin().find("A100-SXM4-80GB");
  EXPECT_EQ(s.share_of("vision").weight, 1.0);  // exactly the file's entry
  EXPECT_EQ(s.share_of("vision").of(a100), (TypeQuota{4, 0}));
  EXPECT_EQ(s.share_of("speech").of(a100), (TypeQuota{2, 0}));  // not listed: kept
  EXPECT_EQ(s.price(a100), 20.0);                               // no prices: kept
  EXPECT_EQ(s.half_life_ms, 86'400'000);
}

TEST_F(ControllerApply, GuaranteesBeyondTheKnownNodesAreRefused) {
  open();
  join();
  const char* greedy =
      "tenants:\n"
      "  - name: a\n"
      "    quota: {A100-SXM4-80GB: {guaranteed: 10}}\n";
  try {
    controller->apply_shares(greedy, "greedy.yaml", false);
    FAIL() << "accepted guarantees of 10 on 8 devices";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "greedy.yaml");
    EXPECT_NE(std::string(e.what()).find("2 short"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(controller->shares().enabled);
  EXPECT_FALSE(controller->identities().tenant_exists("a"));
  // A bad file names file:line:column.
  try {
    controller->apply_shares("tenants:\n  - name: a\n    wieght: 2\n", "typo.yaml", false);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("typo.yaml:3:"), std::string::npos) << e.what();
  }
}

TEST_F(ControllerApply, TheKillGraceFollowsTheFileUnlessGiven) {
  options.kill_grace_given = false;
  open();
  join();
  EXPECT_EQ(controller->options().kill_grace_ms, 10'000);
  controller->apply_shares("tenants: []\npreemption: {grace: 45s}\n", "g.yaml", false);
  EXPECT_EQ(controller->options().kill_grace_ms, 45'000);
  reopen();
  EXPECT_EQ(controller->options().kill_grace_ms, 45'000);
}

TEST_F(ControllerApply, TenantsFileAtStartIsAppliedOverTheStoredShares) {
  open();
  join();
  controller->apply_shares(kFile, "lab.yaml", false);
  options.shares = std::make_shared<TenantShares>(
      parse_tenants_yaml("tenants:\n  - name: robotics\n    quota: {A100-SXM4-80GB: {borrow: 8}}\n",
                         "start.yaml", Catalog::builtin()));
  reopen();
  const TenantShares s = enforced();
  EXPECT_GE(s.find("vision"), 0);
  EXPECT_GE(s.find("robotics"), 0);
  EXPECT_TRUE(controller->identities().tenant_exists("robotics"));
  EXPECT_EQ(s.price(*Catalog::builtin().find("A100-SXM4-80GB")), 20.0);
}

}  // namespace
}  // namespace zs
