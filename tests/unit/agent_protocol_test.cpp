#include <gtest/gtest.h>

#include "api/agent_protocol.h"
#include "core/input_error.h"

namespace zs {
namespace {

using nlohmann::json;

std::string field_of_error(const json& j) {
  try {
    agent_report_from_json(j);
  } catch (const InputError& e) {
    return e.where();
  }
  return "(accepted)";
}

TEST(AgentProtocol, ReportRoundTrips) {
  AgentReport r;
  r.boot_id = "b1";
  r.address = "10.0.0.7";
  r.leaf = "leaf-3";
  r.spine = "pod.1";
  r.logs_url = "http://[::1]:4100";
  r.accel_type = "MLU590";
  r.accel_count = 8;
  r.unhealthy = 0b101;
  r.device_problems = {"0: ecc", "2: hot"};
  r.cpus = 128;
  r.mem_mib = 1 << 20;
  r.running = {{{7, 1}, {0, 1}}, {{9, 2}, {}}};
  r.exits = {{{5, 1}, 137, "timeout", 123}};
  r.wait_ms = 500;
  AgentReport back = agent_report_from_json(to_json(r));
  EXPECT_EQ(back.boot_id, "b1");
  EXPECT_EQ(back.leaf, "leaf-3");
  EXPECT_EQ(back.spine, "pod.1");
  EXPECT_EQ(back.logs_url, "http://[::1]:4100");
  r.logs_url = "https://10.0.0.7:4100";  // a log server with --tls-cert
  EXPECT_EQ(agent_report_from_json(to_json(r)).logs_url, r.logs_url);
  EXPECT_EQ(back.unhealthy, 0b101u);
  EXPECT_EQ(back.running, r.running);
  ASSERT_EQ(back.exits.size(), 1u);
  EXPECT_EQ(back.exits[0].key, (AttemptKey{5, 1}));
  EXPECT_EQ(back.exits[0].exit_code, 137);
  EXPECT_EQ(back.exits[0].reason, "timeout");
}

TEST(AgentProtocol, OrdersRoundTrip) {
  AgentOrders o;
  NodeLaunch l;
  l.key = {3, 2};
  l.node_rank = 1;
  l.tasks = {{2, 0, {0, 1}}, {3, 1, {2, 3}}};
  l.argv = {"python3", "train.py"};
  l.env = {"A=1"};
  l.unix_user = "alice";
  l.visible_devices_env = "CUDA_VISIBLE_DEVICES";
  l.walltime_ms = 60'000;
  o.launches.push_back(l);
  o.kills.push_back({{4, 1}, "cancelled", false});
  o.acked.push_back({5, 1});
  o.lease_ms = 90'000;
  AgentOrders back = agent_orders_from_json(to_json(o));
  EXPECT_EQ(back.lease_ms, 90'000);
  ASSERT_EQ(back.launches.size(), 1u);
  EXPECT_EQ(back.launches[0], l);
  EXPECT_EQ(back.kills[0].reason, "cancelled");
  EXPECT_EQ(back.acked[0], (AttemptKey{5, 1}));
  EXPECT_FALSE(back.kills[0].checkpoint);
  EXPECT_EQ(back.launches[0].signal, 0);
  // Without a signal, the launch says nothing of one (as it was before --signal).
  EXPECT_FALSE(to_json(o)["launches"][0].contains("signal"));
  EXPECT_FALSE(to_json(o)["kills"][0].contains("checkpoint"));
}

TEST(AgentProtocol, CheckpointSignalTravelsInLaunchesAndKills) {
  AgentOrders o;
  NodeLaunch l;
  l.key = {3, 1};
  l.tasks = {{0, 0, {}}};
  l.argv = {"sleep", "9"};
  l.walltime_ms = 60'000;
  l.signal = 10;
  l.signal_time_s = 55;
  l.signal_batch = true;
  o.launches.push_back(l);
  o.kills.push_back({{4, 1}, "preempted for job 9", true});
  const json j = to_json(o);
  EXPECT_EQ(j["launches"][0]["signal"], 10);
  EXPECT_EQ(j["launches"][0]["signal_time"], 55);
  EXPECT_EQ(j["kills"][0]["checkpoint"], true);
  AgentOrders back = agent_orders_from_json(j);
  EXPECT_EQ(back.launches[0], l);
  EXPECT_TRUE(back.kills[0].checkpoint);
  // Orders from a controller older than --signal: no signal, a plain kill.
  json old = j;
  old["launches"][0].erase("signal");
  old["launches"][0].erase("signal_time");
  old["launches"][0].erase("signal_batch");
  old["kills"][0].erase("checkpoint");
  back = agent_orders_from_json(old);
  EXPECT_EQ(back.launches[0].signal, 0);
  EXPECT_FALSE(back.kills[0].checkpoint);
  // SIGKILL or SIGSTOP would skip the grace period: refused like any bad order.
  for (int bad : {9, 19, 65, -1}) {
    json b = j;
    b["launches"][0]["signal"] = bad;
    EXPECT_THROW(agent_orders_from_json(b), InputError) << bad;
  }
  json b = j;
  b["kills"][0]["checkpoint"] = 1;
  EXPECT_THROW(agent_orders_from_json(b), InputError);
}

TEST(AgentProtocol, BadReportsNameTheField) {
  EXPECT_EQ(field_of_error(json::array()), "");
  EXPECT_EQ(field_of_error(json{{"accel_count", 65}}), "accel_count");
  EXPECT_EQ(field_of_error(json{{"accel_count", "8"}}), "accel_count");
  EXPECT_EQ(field_of_error(json{{"boot_id", std::string("a\0b", 3)}}), "boot_id");
  EXPECT_EQ(field_of_error(json{{"address", std::string(2 << 20, 'x')}}), "address");
  EXPECT_EQ(field_of_error(json{{"running", json::array({json{{"job", -1}}})}}), "running[0].job");
  EXPECT_EQ(field_of_error(json{{"exits", 5}}), "exits");
  EXPECT_EQ(field_of_error(json{{"cpus", -1.0}}), "cpus");
  EXPECT_EQ(field_of_error(json{{"surprise", 1}}), "surprise");
  EXPECT_EQ(field_of_error(json{{"leaf", "a b"}}), "leaf");
  EXPECT_EQ(field_of_error(json{{"spine", std::string(65, 's')}}), "spine");
  EXPECT_EQ(field_of_error(json{{"leaf", 3}}), "leaf");
  for (const char* url : {"ftp://x:1", "http://x", "http://x:1/path", "http://a b:1", "http://",
                          "https://", "https://x", "https://x:1/p", "httpss://x:1", "https//x:1"})
    EXPECT_EQ(field_of_error(json{{"logs_url", url}}), "logs_url") << url;
  EXPECT_EQ(field_of_error(json{{"device_problems", json::array({1})}}), "device_problems[0]");
}

}  // namespace
}  // namespace zs
