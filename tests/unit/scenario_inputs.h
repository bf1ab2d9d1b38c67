// What a scenario's sections mean to a runner: its cluster, its jobs (read and adjusted exactly
// as `zs sim` does), its tenants file, and the simulator options its `options:` line sets.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/cluster.h"
#include "core/job.h"
#include "core/tenant_shares.h"
#include "scenario_file.h"
#include "sim/simulator.h"

namespace zs::test {

struct ScenarioInputs {
  Cluster cluster;
  std::vector<Job> jobs;                       // in the order of the scenario's rows
  std::shared_ptr<const TenantShares> shares;  // null without a `tenants:` block
  SimOptions sim;                              // tenants' shares applied (points into `shares`)
};

ScenarioInputs load_scenario_inputs(const Scenario& sc);

}  // namespace zs::test
