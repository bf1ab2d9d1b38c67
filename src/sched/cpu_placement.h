// Placement of jobs that ask for no accelerators (`sbatch --wrap=true`): only CPU cores and
// memory count. Pure: candidate nodes in, chosen nodes out.
#pragma once
#include <optional>
#include <span>
#include <vector>

namespace zs {

struct CpuCandidate {
  int index = 0;  // caller's node index
  double free_cpus = 0;
  double free_mem_mib = 0;
};

struct CpuRequest {
  int nodes = 1;
  double cpus_per_node = 1;
  double mem_mib_per_node = 0;
};

// Chooses `request.nodes` distinct nodes that fit, preferring the least loaded (most free
// cores, then lowest index) so that short jobs spread over agents. nullopt if they do not fit.
std::optional<std::vector<int>> place_cpu_job(std::span<const CpuCandidate> nodes,
                                              const CpuRequest& request);

// `tasks` over `nodes` nodes as evenly as possible, the first ones one more: 5 over 4 is
// 2,1,1,1. Every node gets at least one task (one each when tasks < nodes).
std::vector<int> even_split(int tasks, int nodes);

// A CPU job of `ntasks` tasks whose node count the scheduler chooses (sbatch -n without -N):
// the fewest nodes that hold its tasks, as Slurm does. On k nodes the tasks are even_split
// (which is how launch_plan's tasks_per_node starts them); a node holding t tasks needs
// t x cpus_per_task free cores and mem_mib_per_node free memory. Returns the chosen candidates'
// indices in task order (the node with the most tasks first), or nullopt when no number of
// nodes fits. Among fitting nodes it prefers the least loaded, as place_cpu_job.
std::optional<std::vector<int>> place_cpu_tasks(std::span<const CpuCandidate> nodes, int ntasks,
                                                double cpus_per_task, double mem_mib_per_node);

}  // namespace zs
