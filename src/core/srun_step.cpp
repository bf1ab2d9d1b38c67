#include "core/srun_step.h"

#include <algorithm>
#include <string>

#include "core/input_error.h"

namespace zs {

std::vector<int> parse_slurm_tasks_per_node(std::string_view text, int max_nodes) {
  std::vector<int> out;
  auto number = [](std::string_view t, int& v) {
    if (t.empty() || t.size() > 7) return false;
    v = 0;
    for (char c : t) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    return v > 0;
  };
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view part = text.substr(pos, comma - pos);
    int count = 0, times = 1;
    if (const auto open = part.find("(x"); open != std::string_view::npos) {
      if (part.back() != ')' || !number(part.substr(open + 2, part.size() - open - 3), times))
        return {};
      part = part.substr(0, open);
    }
    if (!number(part, count) || times > max_nodes ||
        out.size() + static_cast<std::size_t>(times) > static_cast<std::size_t>(max_nodes))
      return {};
    out.insert(out.end(), times, count);
    pos = comma + 1;
  }
  return out;
}

StepPlace place_in_step(const JobTaskPlace& job, const StepShape& step) {
  const int last_node_tasks = job.tasks - job.per_node * (job.nodes - 1);
  const bool listed = static_cast<int>(job.node_tasks.size()) == job.nodes;
  auto tasks_on = [&](int node) {
    if (listed) return job.node_tasks[node];
    return node == job.nodes - 1 ? last_node_tasks : job.per_node;
  };
  if (step.nodes > job.nodes)
    throw InputError("-N", "the step asks for " + std::to_string(step.nodes) +
                               " nodes; the job has " + std::to_string(job.nodes));
  if (step.tasks_per_node > job.per_node)
    throw InputError("--ntasks-per-node",
                     "the step asks for " + std::to_string(step.tasks_per_node) +
                         " tasks per node; the job has " + std::to_string(job.per_node));
  const int nodes = step.nodes > 0 ? step.nodes : job.nodes;
  const int per_node = step.tasks_per_node > 0 ? step.tasks_per_node : job.per_node;
  int available = 0;
  for (int n = 0; n < nodes; ++n) available += std::min(tasks_on(n), per_node);
  if (step.ntasks > available)
    throw InputError("-n",
                     "the step asks for " + std::to_string(step.ntasks) + " tasks; the job has " +
                         std::to_string(available) +
                         (nodes < job.nodes || per_node < job.per_node ? " in that shape" : ""));
  StepPlace p;
  p.size = step.ntasks > 0 ? step.ntasks : available;
  if (job.node_rank >= nodes || job.local_rank >= per_node) return p;
  int rank = job.local_rank;
  for (int n = 0; n < job.node_rank; ++n) rank += std::min(tasks_on(n), per_node);
  if (rank >= p.size) return p;
  p.runs = true;
  p.rank = rank;
  p.local_rank = job.local_rank;
  const int here_start = rank - job.local_rank;
  p.local_size = std::min(std::min(tasks_on(job.node_rank), per_node), p.size - here_start);
  // Nodes the step reaches: those whose first selected task has a rank below its size.
  p.nodes = 0;
  for (int n = 0, first = 0; n < nodes && first < p.size; ++n) {
    ++p.nodes;
    first += std::min(tasks_on(n), per_node);
  }
  return p;
}

}  // namespace zs
