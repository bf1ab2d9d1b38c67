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

// How many tasks each node of `assignment` runs, in its order (the controller sizes each node's
// CPU hold by it; plan_launch numbers the ranks by it). Every node runs at least one task.
//  - The job fixed its node count (spec.nodes > 0, from -N or derived at submit), or gave no
//    -n: Slurm's block distribution, spec.tasks_per_node on each node, the last nodes fewer
//    when -n caps the total (-N 2 -n 3: 2 and 1).
//  - The scheduler chose the nodes (spec.nodes == 0) and -n was given: all ntasks run.
//    With devices, a node runs tasks in proportion to the devices it got
//    (--gpus-per-task=1 -n 4 placed as 3 + 1 devices: 3 tasks and 1 task, each with one
//    device); without devices (a CPU job), as evenly as possible, the first nodes one more
//    (-n 3 on one node: 3; on two nodes: 2 and 1): sched/cpu_placement.h's even_split, which
//    place_cpu_tasks uses to choose the nodes.
std::vector<int> tasks_per_node(const JobSpec& spec, const std::vector<NodeAssignment>& assignment);

// Slurm's SLURM_TASKS_PER_NODE form of those counts: "2(x3),1" for 2,2,2,1.
std::string slurm_tasks_per_node(const std::vector<int>& counts);

// One launch per node: tasks and ranks from tasks_per_node(); a node's devices are split evenly
// among its tasks in order (earlier tasks get one more when uneven).
std::vector<NodeLaunch> plan_launch(const JobRecord& job, const LaunchContext& context);

}  // namespace zs
