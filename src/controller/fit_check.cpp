#include "controller/fit_check.h"

#include <algorithm>
#include <cmath>

#include "controller/spec_validation.h"
#include "sched/shape.h"

namespace zs {
namespace {

std::string number(double x) {
  std::string s = std::to_string(x);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

std::optional<std::string> never_fits(const JobSpec& spec, const Job& job, const Capacity& capacity,
                                      const Catalog& catalog) {
  if (capacity.hosts.empty()) return std::nullopt;
  if (spec.accel_count > 0) return never_fits(job, capacity.accelerators, catalog);
  // -n without -N: the tasks may spread over any number of hosts (as they are placed).
  if (spec.nodes == 0 && spec.ntasks > 1) {
    const double per_task = std::max(1.0, spec.cpus_per_task);
    long room = 0;
    for (const auto& h : capacity.hosts)
      if (h.mem_mib + 1e-9 >= static_cast<double>(spec.mem_mib))
        room += static_cast<long>(std::floor(h.cpus / per_task + 1e-9));
    if (room >= spec.ntasks) return std::nullopt;
    return "needs room for " + std::to_string(spec.ntasks) + " tasks of " + number(per_task) +
           " CPUs; all the nodes together hold " + std::to_string(room);
  }
  // A job without accelerators: that many hosts, each with room for its share (at least one
  // core per task, as when it is placed).
  const int nodes = std::max(1, spec.nodes);
  const double cpus = std::max(1.0, spec.cpus_per_task) * total_tasks(spec, nodes) / nodes;
  const double mem = static_cast<double>(spec.mem_mib);
  const auto fits = [&](const Capacity::Host& h) {
    return h.cpus + 1e-9 >= cpus && h.mem_mib + 1e-9 >= mem;
  };
  const auto hosts = std::count_if(capacity.hosts.begin(), capacity.hosts.end(), fits);
  if (hosts >= nodes) return std::nullopt;
  double most_cpus = 0, most_mem = 0;
  for (const auto& h : capacity.hosts) {
    most_cpus = std::max(most_cpus, h.cpus);
    most_mem = std::max(most_mem, h.mem_mib);
  }
  std::string why = "needs " + std::to_string(nodes) + (nodes == 1 ? " node" : " nodes") +
                    " with " + number(cpus) + " CPUs" +
                    (mem > 0 ? " and " + number(mem) + " MiB of memory" : std::string()) +
                    " each; the cluster has " + std::to_string(hosts) + " such of " +
                    std::to_string(capacity.hosts.size()) + " nodes";
  if (most_cpus + 1e-9 < cpus)
    why += " (the largest has " + number(most_cpus) + " CPUs)";
  else if (most_mem + 1e-9 < mem)
    why += " (the largest has " + number(most_mem) + " MiB)";
  return why;
}

}  // namespace zs
