#include "sched/cpu_placement.h"

#include <algorithm>

namespace zs {

std::optional<std::vector<int>> place_cpu_job(std::span<const CpuCandidate> nodes,
                                              const CpuRequest& request) {
  auto listed = [](const std::vector<int>& set, int index) {
    return std::find(set.begin(), set.end(), index) != set.end();
  };
  const int count = std::max(request.nodes, static_cast<int>(request.required.size()));
  if (request.nodes <= 0) return std::nullopt;
  std::vector<int> chosen;
  std::vector<const CpuCandidate*> fits;
  for (const auto& n : nodes) {
    if (listed(request.excluded, n.index)) continue;
    if (n.free_cpus < request.cpus_per_node || n.free_mem_mib < request.mem_mib_per_node) continue;
    if (listed(request.required, n.index)) {
      if (!listed(chosen, n.index)) chosen.push_back(n.index);
    } else {
      fits.push_back(&n);
    }
  }
  // Every required node must be a candidate with room (a repeated index counts once).
  for (int r : request.required)
    if (!listed(chosen, r)) return std::nullopt;
  const int more = count - static_cast<int>(chosen.size());
  if (static_cast<int>(fits.size()) < more) return std::nullopt;
  std::partial_sort(fits.begin(), fits.begin() + more, fits.end(),
                    [](const CpuCandidate* a, const CpuCandidate* b) {
                      if (a->free_cpus != b->free_cpus) return a->free_cpus > b->free_cpus;
                      return a->index < b->index;
                    });
  for (int i = 0; i < more; ++i) chosen.push_back(fits[static_cast<std::size_t>(i)]->index);
  return chosen;
}

}  // namespace zs
