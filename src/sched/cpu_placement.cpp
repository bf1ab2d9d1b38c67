#include "sched/cpu_placement.h"

#include <algorithm>

namespace zs {

std::optional<std::vector<int>> place_cpu_job(std::span<const CpuCandidate> nodes,
                                              const CpuRequest& request) {
  std::vector<const CpuCandidate*> fits;
  for (const auto& n : nodes)
    if (n.free_cpus >= request.cpus_per_node && n.free_mem_mib >= request.mem_mib_per_node)
      fits.push_back(&n);
  if (static_cast<int>(fits.size()) < request.nodes || request.nodes <= 0) return std::nullopt;
  std::partial_sort(fits.begin(), fits.begin() + request.nodes, fits.end(),
                    [](const CpuCandidate* a, const CpuCandidate* b) {
                      if (a->free_cpus != b->free_cpus) return a->free_cpus > b->free_cpus;
                      return a->index < b->index;
                    });
  std::vector<int> chosen;
  for (int i = 0; i < request.nodes; ++i) chosen.push_back(fits[i]->index);
  return chosen;
}

}  // namespace zs
