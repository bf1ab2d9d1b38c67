// Runs a golden scenario (scenario_file.h) through the real Controller instead of the simulator:
// a SQLite store in `state_dir`, the scenario's policy and tenants file, one FakeAgent per node of
// its cluster, the jobs submitted through Controller::submit, everything on a fake clock
// (ControllerOptions::clock) with no thread and no sleep. What each job went through is read
// back from the controller's records and the agents' side.
#pragma once
#include <string>
#include <vector>

#include "scenario_file.h"
#include "scenario_inputs.h"

namespace zs::test {

// Throws InputError when the scenario says something the live controller has no way to be told
// (a job accepting some but not all of the cluster's types; a scheduler parameter).
std::vector<Outcome> run_live(const Scenario& sc, const ScenarioInputs& in,
                              const std::string& state_dir);

}  // namespace zs::test
