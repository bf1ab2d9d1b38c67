#include "sched/request_ids.h"

namespace zs {

std::size_t RequestIds::Hash::operator()(const Request& r) const {
  std::size_t h = std::hash<std::uint64_t>()(r.types) ^ (r.any ? 0x9e3779b97f4a7c15ULL : 0);
  for (std::int64_t v :
       {std::int64_t{r.accel_count}, std::int64_t{r.nodes}, std::int64_t{r.per_node}})
    h = h * 1000003 ^ std::hash<std::int64_t>()(v);
  return h * 1000003 ^ std::hash<double>()(r.cpu) ^ (std::hash<double>()(r.mem) << 1);
}

std::uint32_t RequestIds::of(const Job& job) {
  if (!job.unknown_type.empty() || job.has_node_constraints()) return kNoRequest;
  const Request r{job.accepted.bits(), job.accepted.is_any(), job.accel_count,      job.nodes,
                  job.per_node,        job.cpu_per_accel,     job.mem_gib_per_accel};
  if (auto it = ids_.find(r); it != ids_.end()) return it->second;
  return ids_.emplace(r, static_cast<std::uint32_t>(ids_.size()) + 1).first->second;
}

}  // namespace zs
