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

}  // namespace zs
