// The golden scenarios, live: every tests/scenarios/*.scn file runs through the real Controller
// with fake agents on a fake clock (live_scenario.h) and must match the same `expect:` block
// as in the simulator (scenario_test.cpp), except what the live controller cannot observe
// (backfilled=). A file says `live: skip REASON` when the live path cannot model what it
// shows, and `live-known-bug: TEXT` when the controller diverges (tests/scenarios/README.md).
#include <gtest/gtest.h>

#include <filesystem>

#include "live_scenario.h"
#include "scenario_file.h"
#include "scenario_inputs.h"
#include "scratch_dir.h"
#include "test_util.h"

namespace zs::test {
namespace {

namespace fs = std::filesystem;

Verdict run_live_verdict(const Scenario& sc) {
  ScratchDir dir;
  const ScenarioInputs in = load_scenario_inputs(sc);
  return compare_outcomes(sc, run_live(sc, in, dir.path()), "live controller, policy " + sc.policy);
}

class LiveScenarioTest : public testing::TestWithParam<std::string> {};

TEST_P(LiveScenarioTest, ControllerMatchesExpect) {
  const fs::path path = scenario_dir() / GetParam();
  const std::string source = "tests/scenarios/" + GetParam();
  Scenario sc;
  try {
    sc = parse_scenario(read_scenario_text(path), source, path.parent_path());
  } catch (const std::exception& e) {
    FAIL() << source << ": " << e.what();
  }
  if (!sc.live_skip.empty()) GTEST_SKIP() << "not run live: " << sc.live_skip;
  Verdict v;
  try {
    v = run_live_verdict(sc);
  } catch (const std::exception& e) {
    FAIL() << source << ": " << e.what();
  }
  // A bug both runners show is the scenario's known bug; one only the controller shows is its
  // live-known-bug. Either fails once the schedule matches, so that the marker goes.
  const std::string& bug = !sc.live_known_bug.empty() ? sc.live_known_bug : sc.known_bug;
  if (!bug.empty()) {
    if (v.match)
      FAIL() << source << " is marked '"
             << (sc.live_known_bug.empty() ? "known-bug" : "live-known-bug")
             << ":' but the live controller now matches its expectation: remove the marker.";
    GTEST_SKIP() << "KNOWN BUG (live) in " << source << ": " << bug << "\n" << v.report;
  }
  EXPECT_TRUE(v.match) << v.report;
}

INSTANTIATE_TEST_SUITE_P(LiveScenario, LiveScenarioTest, testing::ValuesIn(scenario_files()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return scenario_test_name(info.param);
                         });

// --- The live runner itself: it must be able to fail, and refuse what it cannot submit. ---

const char* kTwoJobs = R"(cluster: 1x8xV100
policy: fifo
jobs:
id,submit_s,duration_s,accel_count
1,0,100,8
2,0,50,8
expect:
)";

Verdict live_verdict(const std::string& text) {
  return run_live_verdict(parse_scenario(text, "inline.scn", "."));
}

TEST(LiveScenarioRunner, MatchingScheduleIsAccepted) {
  auto v = live_verdict(std::string(kTwoJobs) +
                        "1 0 100 type=V100 nodes=v100-0 preempted=0 run_s=100 killed=no\n"
                        "2 100 150 last_start=100\n");
  EXPECT_TRUE(v.match) << v.report;
}

TEST(LiveScenarioRunner, MismatchesAreReported) {
  auto v = live_verdict(std::string(kTwoJobs) + "1 0 100\n2 100 151\n");
  EXPECT_FALSE(v.match);
  EXPECT_NE(v.report.find("(live controller, policy fifo)"), std::string::npos) << v.report;
  EXPECT_NE(v.report.find("  ! 2 100 151 | 2 100 150"), std::string::npos) << v.report;
  for (const char* bad : {"1 0 100 preempted=1\n2 100 150\n", "1 0 100 nodes=v100-1\n2 100 150\n",
                          "1 0 100 killed=yes\n2 100 150\n", "1 0 100\n2 rejected:\n",
                          "1 0 100 run_s=99\n2 100 150\n"})
    EXPECT_FALSE(live_verdict(std::string(kTwoJobs) + bad).match) << bad;
}

TEST(LiveScenarioRunner, WhatTheControllerCannotBeToldIsAnError) {
  const std::string some_types = R"(cluster: 1x8xV100+1x8xK80+1x8xT4
policy: fifo
jobs:
id,submit_s,duration_s,accel_count,accel_types
1,0,100,8,V100|K80
expect:
1 0 100
)";
  EXPECT_NE(error_of([&] { live_verdict(some_types); }).find("a live job names one type or any"),
            std::string::npos);
}

}  // namespace
}  // namespace zs::test
