// The golden scenario files (tests/scenarios/*.scn, format in tests/scenarios/README.md): their
// parser, and the comparison of what a runner saw happen with the `expect:` block. Two runners
// use them: the simulator (scenario_test.cpp) and the live controller (live_scenario_test.cpp).
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/job.h"
#include "core/time.h"

namespace zs::test {

// One line of the `expect:` block.
struct Expectation {
  int line = 0;
  JobId id = 0;
  bool rejected = false;
  std::string reason;  // a substring of the rejection reason
  TimeMs start = 0, end = 0;
  std::optional<std::string> type;
  std::optional<std::vector<std::string>> nodes;
  std::optional<int> preemptions;
  std::optional<TimeMs> run, last_start;  // run_s: time holding devices, all runs (grace included)
  std::optional<bool> backfilled, killed;
};

struct Scenario {
  std::string source;         // file name, for messages
  std::filesystem::path dir;  // where sibling files (cluster YAML) are looked up
  std::string description;
  std::string cluster;       // inline spec or a YAML file next to the scenario
  std::string cluster_yaml;  // or an inline YAML block (padded: YAML line numbers are the file's)
  std::string tenants_yaml;  // a tenants file (docs/tenants.md), padded the same way
  std::string policy;
  std::vector<std::pair<std::string, std::string>> options;
  std::string jobs_csv;  // padded with blank lines: CSV line numbers are the file's
  std::vector<Expectation> expect;
  std::string known_bug;
  // The live run (live_scenario_test.cpp): not run, for a reason the live path cannot model
  // (`live: skip REASON`), or a divergence of the live controller (`live-known-bug: TEXT`).
  std::string live_skip;
  std::string live_known_bug;
};

// What happened to one job, as a runner saw it.
struct Outcome {
  JobId id = 0;
  bool rejected = false;
  std::string reject_reason;
  TimeMs first_start = -1, last_start = -1, end = -1;
  TimeMs run_ms = 0;               // time holding devices, all runs
  std::string type;                // catalog name of the last run's type ("" unknown)
  std::vector<std::string> nodes;  // of the last run, in node order
  int preemptions = 0;
  std::optional<bool> backfilled;  // nullopt: the runner cannot tell (not checked)
  bool killed = false;             // stopped at its walltime limit
};

struct Verdict {
  bool match = false;
  std::string report;  // a readable diff when !match
};

std::filesystem::path scenario_dir();
std::vector<std::string> scenario_files();  // *.scn names in scenario_dir(), sorted
std::string read_scenario_text(const std::filesystem::path& p);
Scenario parse_scenario(std::string_view text, const std::string& source,
                        const std::filesystem::path& dir);
// A job of the scenario's expectations that is not among `outcomes` (or listed twice) is an
// InputError naming the line. `runner` names the run in the report ("policy easy").
Verdict compare_outcomes(const Scenario& sc, const std::vector<Outcome>& outcomes,
                         const std::string& runner);

// The test name of a scenario file: its stem with anything but letters and digits as '_'.
std::string scenario_test_name(const std::string& file);

}  // namespace zs::test
