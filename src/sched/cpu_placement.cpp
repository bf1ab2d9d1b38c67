#include "sched/cpu_placement.h"

#include <algorithm>
#include <cmath>

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

std::vector<int> even_split(int tasks, int nodes) {
  std::vector<int> counts(static_cast<std::size_t>(std::max(0, nodes)));
  for (int i = 0; i < nodes; ++i) counts[i] = std::max(1, tasks / nodes + (i < tasks % nodes));
  return counts;
}

std::optional<std::vector<int>> place_cpu_tasks(std::span<const CpuCandidate> nodes, int ntasks,
                                                double cpus_per_task, double mem_mib_per_node) {
  if (ntasks <= 0) return std::nullopt;
  // Candidates with the memory, most free cores first (then lowest index).
  std::vector<const CpuCandidate*> fits;
  for (const auto& n : nodes)
    if (n.free_mem_mib >= mem_mib_per_node) fits.push_back(&n);
  std::sort(fits.begin(), fits.end(), [](const CpuCandidate* a, const CpuCandidate* b) {
    if (a->free_cpus != b->free_cpus) return a->free_cpus > b->free_cpus;
    return a->index < b->index;
  });
  const int most = std::min<int>(ntasks, static_cast<int>(fits.size()));
  if (most == 0) return std::nullopt;
  // No node takes more tasks than the roomiest one: fewer nodes than this cannot do.
  int first = 1;
  if (cpus_per_task > 0) {
    const double per_node = std::floor(fits[0]->free_cpus / cpus_per_task);
    if (per_node < 1) return std::nullopt;
    first = static_cast<int>(std::min<double>(most, std::ceil(ntasks / per_node)));
  }
  for (int k = first; k <= most; ++k) {
    // Both sorted by size: the i-th largest share goes to the i-th roomiest node.
    const std::vector<int> counts = even_split(ntasks, k);
    bool ok = true;
    for (int i = 0; i < k && ok; ++i) ok = fits[i]->free_cpus >= counts[i] * cpus_per_task;
    if (!ok) continue;
    std::vector<int> chosen;
    for (int i = 0; i < k; ++i) chosen.push_back(fits[i]->index);
    return chosen;
  }
  return std::nullopt;
}

}  // namespace zs
