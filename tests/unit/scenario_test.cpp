// Golden scenario tests: every tests/scenarios/*.scn file is a small, commented schedule that is
// replayed through the same code path as `zs sim` (cluster loader, canonical trace reader,
// workload adjustments, make_policy, simulate) and must match its `expect:` block exactly.
// The file format is described in tests/scenarios/README.md.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "core/input_error.h"
#include "scenario_file.h"
#include "scenario_inputs.h"
#include "sim/simulator.h"

namespace zs {
namespace {

namespace fs = std::filesystem;
using namespace zs::test;

// Wraps the real policy and remembers where each job was last started (the simulator's
// outcome has no placement); the decisions pass through unchanged.
class RecordingPolicy : public Policy {
 public:
  explicit RecordingPolicy(std::unique_ptr<Policy> inner) : inner_(std::move(inner)) {}
  std::string_view name() const override { return inner_->name(); }
  bool needs_oracle() const override { return inner_->needs_oracle(); }
  bool preemptive() const override { return inner_->preemptive(); }
  Decisions decide(const Snapshot& s, TimeMs now) const override {
    Decisions d = inner_->decide(s, now);
    for (const auto& st : d.starts) last_placement_[st.job] = st.placement;
    return d;
  }
  const Placement* placement(JobId id) const {
    auto it = last_placement_.find(id);
    return it == last_placement_.end() ? nullptr : &it->second;
  }

 private:
  std::unique_ptr<Policy> inner_;
  mutable std::map<JobId, Placement> last_placement_;
};

Verdict run_scenario(const Scenario& sc) {
  const Catalog& catalog = Catalog::builtin();
  const ThroughputTable& speeds = ThroughputTable::builtin();

  const ScenarioInputs in = load_scenario_inputs(sc);
  const Cluster& cluster = in.cluster;
  RecordingPolicy policy(make_policy(sc.policy));
  const SimResult result = simulate(cluster, catalog, &speeds, in.jobs, policy, in.sim);

  std::vector<Outcome> outcomes;
  for (const JobOutcome& o : result.jobs) {
    Outcome out;
    out.id = o.id;
    out.rejected = o.rejected;
    out.reject_reason = o.reject_reason;
    out.first_start = o.first_start;
    out.last_start = o.last_start;
    out.end = o.end;
    out.run_ms = o.run_ms;
    if (o.type >= 0) out.type = catalog.name(static_cast<TypeId>(o.type));
    if (const Placement* p = policy.placement(o.id))
      for (const Slot& s : *p) out.nodes.push_back(cluster.nodes[s.node].name);
    out.preemptions = o.preemptions;
    out.backfilled = o.backfilled;
    out.killed = o.killed_at_walltime;
    outcomes.push_back(std::move(out));
  }
  return compare_outcomes(sc, outcomes, "policy " + sc.policy);
}

class ScenarioTest : public testing::TestWithParam<std::string> {};

TEST_P(ScenarioTest, ScheduleMatchesExpect) {
  const fs::path path = scenario_dir() / GetParam();
  const std::string source = "tests/scenarios/" + GetParam();
  Scenario sc;
  Verdict v;
  try {
    sc = parse_scenario(read_scenario_text(path), source, path.parent_path());
    v = run_scenario(sc);
  } catch (const std::exception& e) {
    FAIL() << source << ": " << e.what();
  }
  if (!sc.known_bug.empty()) {
    if (v.match)
      FAIL() << source << " is marked 'known-bug:' but now matches its expectation: the bug "
             << "looks fixed, remove the known-bug line.";
    GTEST_SKIP() << "KNOWN BUG in " << source << ": " << sc.known_bug << "\n" << v.report;
  }
  EXPECT_TRUE(v.match) << v.report;
}

INSTANTIATE_TEST_SUITE_P(Scenario, ScenarioTest, testing::ValuesIn(scenario_files()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return scenario_test_name(info.param);
                         });

// --- The runner itself: it must be able to fail, and say why. ---

const char* kTwoJobs = R"(# Two jobs on one node, one after the other.
cluster: 1x8xV100
policy: fifo
jobs:
id,submit_s,duration_s,accel_count
1,0,100,8
2,0,50,8
expect:
)";

TEST(ScenarioRunner, MatchingScheduleIsAccepted) {
  const std::string text = std::string(kTwoJobs) +
                           "1 0 100 type=V100 nodes=v100-0 preempted=0  # first\n"
                           "2 100 150 backfilled=no\n";
  auto v = run_scenario(parse_scenario(text, "inline.scn", "."));
  EXPECT_TRUE(v.match) << v.report;
}

TEST(ScenarioRunner, WrongTimeIsReportedAsReadableDiff) {
  const std::string text = std::string(kTwoJobs) + "1 0 100\n2 100 151\n";
  auto v = run_scenario(parse_scenario(text, "inline.scn", "."));
  EXPECT_FALSE(v.match);
  EXPECT_NE(v.report.find("inline.scn: the schedule differs"), std::string::npos) << v.report;
  EXPECT_NE(v.report.find("  ! 2 100 151 | 2 100 150"), std::string::npos) << v.report;
  EXPECT_NE(v.report.find("    1 0 100   | 1 0 100"), std::string::npos) << v.report;
  EXPECT_NE(v.report.find("# Two jobs on one node"), std::string::npos) << v.report;
}

TEST(ScenarioRunner, WrongTypeNodesOrRejectionAreMismatches) {
  for (const char* bad : {"1 0 100 type=K80\n2 100 150\n", "1 0 100 nodes=v100-1\n2 100 150\n",
                          "1 0 100 preempted=1\n2 100 150\n", "1 0 100\n2 rejected: needs\n",
                          "1 0 100 backfilled=yes\n2 100 150\n"}) {
    auto v = run_scenario(parse_scenario(std::string(kTwoJobs) + bad, "inline.scn", "."));
    EXPECT_FALSE(v.match) << bad;
  }
}

TEST(ScenarioRunner, EveryJobMustBeListed) {
  auto v = run_scenario(parse_scenario(std::string(kTwoJobs) + "1 0 100\n", "inline.scn", "."));
  EXPECT_FALSE(v.match);
  EXPECT_NE(v.report.find("(job 2 missing from expect:)"), std::string::npos) << v.report;
  EXPECT_NE(v.report.find("2 100 150 type=V100-SXM2-32GB nodes=v100-0 preempted=0"),
            std::string::npos)
      << v.report;
}

TEST(ScenarioRunner, RejectionMatchesBySubstring) {
  const std::string text = R"(cluster: 1x8xV100
policy: easy
jobs:
id,submit_s,duration_s,accel_count
1,0,10,9
expect:
1 rejected: needs 9 x V100-SXM2-32GB but the cluster has only 8
)";
  auto v = run_scenario(parse_scenario(text, "inline.scn", "."));
  EXPECT_TRUE(v.match) << v.report;
}

TEST(ScenarioRunner, InlineYamlClusterAndFileLineNumbers) {
  const std::string text = R"(cluster:
  groups:
    - name: gpu
      nodes: 2
      accelerators: 4xV100
policy: fifo
jobs:
id,submit_s,duration_s,accel_count
# a comment inside the CSV
1,0,10,4
2,0,ten,4
expect:
1 0 10
)";
  try {
    run_scenario(parse_scenario(text, "inline.scn", "."));
    FAIL() << "a bad trace row must be reported";
  } catch (const InputError& e) {
    // The trace reader's line number is the scenario file's line number.
    EXPECT_NE(std::string(e.what()).find("inline.scn:11"), std::string::npos) << e.what();
  }
  const std::string good = R"(cluster:
  groups:
    - name: gpu
      nodes: 2
      accelerators: 4xV100
policy: fifo
jobs:
id,submit_s,duration_s,accel_count
1,0,10,4
2,0,10,4
expect:
1 0 10 nodes=gpu-0
2 0 10 nodes=gpu-1
)";
  auto v = run_scenario(parse_scenario(good, "inline.scn", "."));
  EXPECT_TRUE(v.match) << v.report;
}

TEST(ScenarioRunner, MalformedScenariosNameTheLine) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"cluster: 1x8xV100\npolicy: fifo\nbogus: 1\n", "inline.scn:3: expected a section"},
      {"cluster: 1x8xV100\npolicy: fifo\noptions: speed=2\n", "inline.scn:3: option 'speed=2'"},
      {"cluster: 1x8xV100\npolicy: fifo\njobs:\nid,submit_s,duration_s,accel_count\n1,0,1,1\n"
       "expect:\n1 0\n",
       "inline.scn:7: expected"},
      {"cluster: 1x8xV100\npolicy: fifo\njobs:\nid,submit_s,duration_s,accel_count\n1,0,1,1\n"
       "expect:\n1 0 1 color=red\n",
       "inline.scn:7: unknown key 'color'"},
      {"cluster: 1x8xV100\npolicy: fifo\njobs:\nid,submit_s,duration_s,accel_count\n1,0,1,1\n",
       "missing 'expect:'"},
      {"cluster: 1x8xV100\njobs:\nid,submit_s,duration_s,accel_count\n1,0,1,1\nexpect:\n1 0 1\n",
       "missing 'policy:'"},
  };
  for (const auto& c : cases) {
    try {
      parse_scenario(c.text, "inline.scn", ".");
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos)
          << e.what() << " (wanted: " << c.message << ")";
    }
  }
}

TEST(ScenarioRunner, JobInExpectButNotInJobsIsAnError) {
  const std::string text = std::string(kTwoJobs) + "1 0 100\n2 100 150\n3 0 1\n";
  EXPECT_THROW(run_scenario(parse_scenario(text, "inline.scn", ".")), InputError);
}

TEST(ScenarioFiles, AtLeastTenScenariosAllParse) {
  const auto files = scenario_files();
  EXPECT_GE(files.size(), 10u) << "in " << scenario_dir();
  for (const auto& f : files) {
    const fs::path path = scenario_dir() / f;
    EXPECT_NO_THROW(parse_scenario(read_scenario_text(path), f, path.parent_path())) << f;
  }
}

}  // namespace
}  // namespace zs
