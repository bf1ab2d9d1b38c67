// Accounting in the live controller (controller_usage.cpp): one record per attempt, billed until
// its devices are released (a kill's grace period included), kept after the job is purged; fair
// share rebuilt from the records after a restart. Agents are simulated in-process.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "api/api_error.h"
#include "api/http_server.h"
#include "controller/clock.h"
#include "controller/controller.h"
#include "core/accelerator.h"
#include "core/input_error.h"
#include "fake_agent.h"
#include "scratch_dir.h"
#include "sim/tenants_file.h"

namespace zs {
namespace {

using namespace std::chrono_literals;

class ControllerUsage : public ::testing::Test {
 protected:
  void open() {
    options.heartbeat_ms = 1000;
    options.kill_grace_ms = 100;
    options.min_pass_interval_ms = 0;
    controller = std::make_unique<Controller>(options, open_sqlite_store(dir / "state.db"));
    controller->start();
  }
  void reopen() {
    controller.reset();
    open();
  }
  // Syncs until the node gets a launch; the attempt then runs there.
  AttemptKey launched() {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      AgentOrders o = controller->agent_sync("a", report);
      if (!o.launches.empty()) {
        RunningAttempt r{o.launches.front().key, {}};
        for (const auto& t : o.launches.front().tasks)
          r.devices.insert(r.devices.end(), t.devices.begin(), t.devices.end());
        report.running.push_back(r);
        return r.key;
      }
      std::this_thread::sleep_for(5ms);
    }
    ADD_FAILURE() << "no launch";
    return {};
  }
  void exited(AttemptKey key, int code, TimeMs end_ms, std::string reason = "") {
    std::erase_if(report.running, [&](const RunningAttempt& r) { return r.key == key; });
    controller->agent_exits("a", {NodeExit{key, code, std::move(reason), end_ms}});
  }
  JobSpec job(const std::string& tenant, const std::string& user, int gpus = 2) {
    JobSpec s;
    s.argv = {"true"};
    s.accel_type = "A100-SXM4-80GB";
    s.accel_count = gpus;
    s.work_dir = "/tmp";
    s.tenant = tenant;
    s.user = user;
    return s;
  }
  std::vector<UsageRecord> records(std::vector<std::string> tenants = {}) {
    return controller->usage(UsageWindow{0, kNever}, tenants).records;
  }

  ControllerOptions options;
  test::ScratchDir dir;
  std::unique_ptr<Controller> controller;
  AgentReport report = test::FakeAgent("a", 8).report;
};

TEST_F(ControllerUsage, ACompletedAttemptIsBilledUntilItsEnd) {
  open();
  controller->agent_sync("a", report);
  const JobId id = controller->submit({job("vision", "alice", 2)}).front();
  const AttemptKey key = launched();
  const TimeMs start = controller->get_job(id).start_ms;
  exited(key, 0, 0);
  auto recs = records();
  ASSERT_EQ(recs.size(), 1u);
  const UsageRecord& r = recs.front();
  EXPECT_EQ(r.tenant, "vision");
  EXPECT_EQ(r.user, "alice");
  EXPECT_EQ(r.job, id);
  EXPECT_EQ(r.attempt, 1);
  EXPECT_EQ(r.accel_type, "A100-SXM4-80GB");
  EXPECT_EQ(r.accel_count, 2);
  EXPECT_EQ(r.start_ms, start);
  EXPECT_EQ(r.end_ms, controller->get_job(id).end_ms);
  EXPECT_EQ(r.state, "completed");
  EXPECT_EQ(r.price_per_hour, 1.0);  // no tenants file: bills are in accelerator-hours
  // Durable: a restarted controller reads the same record from the store.
  reopen();
  EXPECT_EQ(records(), recs);
  EXPECT_TRUE(records({"speech"}).empty());
}

TEST_F(ControllerUsage, AKilledAttemptIsBilledUntilItsDevicesAreReleased) {
  open();
  controller->agent_sync("a", report);
  const JobId id = controller->submit({job("vision", "alice", 4)}).front();
  const AttemptKey key = launched();
  controller->cancel(id);
  const TimeMs cancelled = controller->get_job(id).end_ms;
  // The agent has the kill order; the tasks are not gone yet: the report bills them until now.
  std::this_thread::sleep_for(80ms);
  auto during = records();
  ASSERT_EQ(during.size(), 1u);
  EXPECT_EQ(during.front().state, "cancelled");
  EXPECT_GE(during.front().end_ms, cancelled + 80);
  // The agent confirms the processes gone, 50 ms after the cancel by its clock.
  exited(key, 143, cancelled + 50, "killed");
  auto after = records();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after.front().end_ms, cancelled + 50);
  EXPECT_EQ(after.front().exit_code, 0);  // the job's own end: cancelled, exit 0 as in sacct
  reopen();
  EXPECT_EQ(records(), after);  // the second record replaced the first in the store
}

TEST_F(ControllerUsage, ARequeuedJobHasOneRecordPerAttempt) {
  open();
  controller->agent_sync("a", report);
  JobSpec spec = job("vision", "alice", 1);
  spec.max_retries = 1;
  const JobId id = controller->submit({spec}).front();
  const AttemptKey first = launched();
  exited(first, 7, 0);
  const AttemptKey second = launched();
  EXPECT_EQ(second.attempt, 2);
  auto running = records();
  ASSERT_EQ(running.size(), 2u);
  EXPECT_EQ(running[0].state, "failed");
  EXPECT_EQ(running[0].exit_code, 7);
  EXPECT_EQ(running[1].state, "running");  // the current attempt, up to now
  exited(second, 0, 0);
  auto done = records();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[1].state, "completed");
  EXPECT_EQ(done[1].job, id);
  // Totals by tenant, user and job are the same integer.
  const UsageWindow all{0, kNever};
  const std::int64_t total = usage_total(done, all).cost_milli;
  for (UsageGroup by : {UsageGroup::tenant, UsageGroup::user, UsageGroup::job, UsageGroup::day}) {
    std::int64_t sum = 0;
    for (const auto& row : summarize(done, all, by)) sum += row.cost_milli;
    EXPECT_EQ(sum, total) << to_string(by);
  }
}

TEST_F(ControllerUsage, RecordsOutliveThePurgeOfTheirJobs) {
  options.keep_finished_ms = 1;
  open();
  controller->agent_sync("a", report);
  const JobId id = controller->submit({job("vision", "alice", 1)}).front();
  exited(launched(), 0, 0);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      controller->get_job(id);
    } catch (const ApiError&) {
      break;  // purged
    }
    controller->agent_sync("a", report);
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_THROW(controller->get_job(id), ApiError);
  reopen();
  auto recs = records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs.front().job, id);
}

// After a restart, a tenant that used the cluster yields to one that did not, as before.
TEST_F(ControllerUsage, FairShareIsRebuiltFromTheRecordsAfterARestart) {
  options.shares = std::make_shared<TenantShares>(
      parse_tenants_yaml("tenants:\n"
                         "  - name: heavy\n"
                         "    quota: {A100-SXM4-80GB: {borrow: unlimited}}\n"
                         "  - name: light\n"
                         "    quota: {A100-SXM4-80GB: {borrow: unlimited}}\n",
                         "test", Catalog::builtin()));
  open();
  controller->agent_sync("a", report);
  controller->submit({job("heavy", "h", 8)});
  const AttemptKey used = launched();
  std::this_thread::sleep_for(50ms);
  exited(used, 0, 0);
  reopen();
  // Both wait while the node has not synced since the restart; heavy's job was submitted first.
  const JobId heavy = controller->submit({job("heavy", "h", 8)}).front();
  const JobId light = controller->submit({job("light", "l", 8)}).front();
  report.running.clear();
  const AttemptKey next = launched();
  EXPECT_EQ(next.job, light) << "heavy's job " << heavy << " started first: its usage was lost";
}

// GET /api/v1/usage with tokens: members see their own tenants only, whatever they ask for;
// operators see every tenant; totals by tenant, user and job are the same integer.
TEST_F(ControllerUsage, TheRouteShowsEachCallerItsOwnTenants) {
  open();
  IdentityRegistry& ids = controller->identities();
  ids.create_tenant("A");
  ids.create_tenant("B");
  auto token_of = [&](const std::string& name, Role role, std::vector<std::string> tenants) {
    ids.create_user(UserRecord{name, role, std::move(tenants), "nobody", 0});
    return ids.create_token(TokenKind::user, name, 0).text;
  };
  const std::string alice = token_of("alice", Role::member, {"A"});
  const std::string olga = token_of("olga", Role::operator_, {});
  controller->agent_sync("a", report);
  controller->submit({job("A", "alice", 2)});
  exited(launched(), 0, 0);
  controller->submit({job("B", "bob", 4)});
  exited(launched(), 0, 0);

  HttpServerOptions http;
  http.port = 0;
  http.require_auth = true;
  HttpServer server(*controller, &ids, http);
  auto get = [&](const std::string& token, std::vector<std::pair<std::string, std::string>> q) {
    http::Request req;
    req.method = "GET";
    req.path = "/api/v1/usage";
    req.query = std::move(q);
    req.peer = "test";
    req.headers.emplace_back("Authorization", "Bearer " + token);
    http::Response res;
    server.handle(req, res);
    EXPECT_EQ(res.status, 200) << res.body;
    return nlohmann::json::parse(res.body);
  };
  auto keys = [](const nlohmann::json& answer, const char* by) {
    std::vector<std::string> k;
    for (const auto& r : answer.at("rows")) k.push_back(r.at(by).get<std::string>());
    return k;
  };
  EXPECT_EQ(keys(get(alice, {}), "tenant"), std::vector<std::string>{"A"});
  EXPECT_EQ(keys(get(alice, {{"account", "B"}}), "tenant"), std::vector<std::string>{});
  EXPECT_EQ(keys(get(alice, {{"account", "A,B"}, {"by", "user"}}), "user"),
            std::vector<std::string>{"alice"});
  const auto all = get(olga, {{"start", "today"}, {"end", "now+1hour"}});
  EXPECT_EQ(keys(all, "tenant"), (std::vector<std::string>{"A", "B"}));
  // Jobs of a few ms cost 0 milli-units at 1 per hour: accelerator-ms show the sums too.
  for (const char* what : {"accel_ms", "cost_milli"}) {
    const std::int64_t total = all.at("total").at(what).get<std::int64_t>();
    if (std::string(what) == "accel_ms") {
      EXPECT_GT(total, 0);
    }
    for (const char* by : {"tenant", "user", "job", "type", "day"}) {
      const auto answer = get(olga, {{"start", "today"}, {"end", "now+1hour"}, {"by", by}});
      std::int64_t sum = 0;
      for (const auto& r : answer.at("rows")) sum += r.at(what).get<std::int64_t>();
      EXPECT_EQ(sum, total) << what << " by " << by;
    }
  }
  // Bad input is a 400 naming the parameter.
  http::Request req;
  req.method = "GET";
  req.path = "/api/v1/usage";
  req.query = {{"start", "12/25"}};
  req.peer = "test";
  req.headers.emplace_back("Authorization", "Bearer " + olga);
  http::Response res;
  server.handle(req, res);
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find("\"field\":\"start\""), std::string::npos) << res.body;
}

TEST_F(ControllerUsage, AWindowThatEndsBeforeItStartsIsRefused) {
  open();
  EXPECT_THROW(controller->usage(UsageWindow{10, 10}, {}), InputError);
}

}  // namespace
}  // namespace zs
