// Turns a started job into one launch order per node: task ranks, device slices and the
// distributed-training environment (torchrun's and Slurm's variables). Pure.
#pragma once
#include <string>
#include <vector>

#include "api/agent_protocol.h"
#include "core/accelerator.h"
#include "core/job_record.h"

namespace zs {

struct LaunchContext {
  std::vector<std::string> node_addresses;  // per job.assignment entry
  int master_port = 0;
  std::string visible_devices_env;  // of the job's accelerator type; "" without accelerators
};

// Tasks per node: spec.tasks_per_node, except that -n (ntasks) caps the total; devices are split
// evenly among a node's tasks in order (earlier tasks get one more when uneven).
std::vector<NodeLaunch> plan_launch(const JobRecord& job, const LaunchContext& context);

}  // namespace zs
