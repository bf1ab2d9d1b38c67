#include "controller/launch_plan.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "controller/spec_validation.h"
#include "core/output_pattern.h"
#include "sched/cpu_placement.h"

namespace zs {
namespace {

std::string joined(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// Every node gets at least one task, taken from the node with the most (largest first).
void at_least_one_each(std::vector<int>& counts) {
  for (int& c : counts) {
    if (c > 0) continue;
    auto most = std::max_element(counts.begin(), counts.end());
    if (*most > 1) --*most;  // else: fewer tasks than nodes, the job grows by one task
    c = 1;
  }
}

// `total` tasks over nodes in proportion to `weights` (largest remainder; ties to the earlier
// node), at least one each.
std::vector<int> proportional(int total, const std::vector<int>& weights) {
  std::int64_t sum = 0;
  for (int w : weights) sum += w;
  std::vector<int> counts(weights.size(), 0);
  std::vector<std::pair<std::int64_t, std::size_t>> remainders;  // (-remainder, node)
  int given = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const std::int64_t share = std::int64_t{total} * weights[i];
    counts[i] = static_cast<int>(share / sum);
    given += counts[i];
    remainders.push_back({-(share % sum), i});
  }
  std::sort(remainders.begin(), remainders.end());
  for (std::size_t k = 0; given < total; ++k, ++given) ++counts[remainders[k].second];
  at_least_one_each(counts);
  return counts;
}

// Block distribution: `per_node` on each node until `total` are placed, at least one each.
std::vector<int> block(int total, int per_node, std::size_t nodes) {
  std::vector<int> counts(nodes, 0);
  int left = total;
  for (int& c : counts) {
    c = std::clamp(left, 0, per_node);
    left -= c;
  }
  at_least_one_each(counts);
  return counts;
}

}  // namespace

std::vector<int> tasks_per_node(const JobSpec& spec,
                                const std::vector<NodeAssignment>& assignment) {
  const std::size_t n = assignment.size();
  if (n == 0) return {};
  const int nodes = static_cast<int>(n);
  if (spec.nodes > 0 || spec.ntasks <= 0) {
    const int per_node = std::max(1, spec.tasks_per_node);
    return block(total_tasks(spec, nodes), per_node, n);
  }
  std::vector<int> devices;
  bool any_devices = false;
  for (const auto& a : assignment) {
    devices.push_back(static_cast<int>(a.devices.size()));
    any_devices = any_devices || !a.devices.empty();
  }
  if (any_devices) return proportional(spec.ntasks, devices);
  return even_split(spec.ntasks, nodes);
}

std::string slurm_tasks_per_node(const std::vector<int>& counts) {
  std::string out;
  for (std::size_t i = 0; i < counts.size();) {
    std::size_t j = i;
    while (j < counts.size() && counts[j] == counts[i]) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(counts[i]);
    if (j - i > 1) out += "(x" + std::to_string(j - i) + ")";
    i = j;
  }
  return out;
}

std::vector<NodeLaunch> plan_launch(const JobRecord& job, const LaunchContext& context) {
  const JobSpec& spec = job.spec;
  const int nodes = static_cast<int>(job.assignment.size());
  const std::vector<int> counts = tasks_per_node(spec, job.assignment);
  int world = 0;
  for (int c : counts) world += c;
  const int per_node = counts.empty() ? 1 : *std::max_element(counts.begin(), counts.end());

  std::vector<std::string> node_names;
  for (const auto& a : job.assignment) node_names.push_back(a.node);
  const std::string master =
      context.node_addresses.empty() ? "127.0.0.1" : context.node_addresses.front();
  const std::string id = std::to_string(job.id);

  std::vector<std::string> common = spec.env;
  auto set = [&](const std::string& k, const std::string& v) { common.push_back(k + "=" + v); };
  set("ZS_JOB_ID", id);
  set("ZS_JOB_NAME", spec.name);
  set("ZS_ATTEMPT", std::to_string(job.attempt));
  set("ZS_NNODES", std::to_string(nodes));
  set("ZS_NODELIST", joined(node_names, ','));
  set("ZS_NTASKS", std::to_string(world));
  set("SLURM_JOB_ID", id);
  set("SLURM_JOBID", id);
  set("SLURM_JOB_NAME", spec.name);
  set("SLURM_NNODES", std::to_string(nodes));
  set("SLURM_JOB_NUM_NODES", std::to_string(nodes));
  set("SLURM_JOB_NODELIST", joined(node_names, ','));
  set("SLURM_NTASKS", std::to_string(world));
  set("SLURM_NPROCS", std::to_string(world));
  set("ZS_TASKS_PER_NODE", std::to_string(per_node));  // the most on any node
  set("SLURM_NTASKS_PER_NODE", std::to_string(per_node));
  set("SLURM_TASKS_PER_NODE", slurm_tasks_per_node(counts));  // each node's, "2(x3),1"
  set("SLURM_RESTART_COUNT", std::to_string(std::max(0, job.attempt - 1)));
  if (!spec.work_dir.empty()) set("SLURM_SUBMIT_DIR", spec.work_dir);
  if (spec.cpus_per_task > 0)
    set("SLURM_CPUS_PER_TASK", std::to_string(static_cast<int>(spec.cpus_per_task)));
  if (job.array_task_id >= 0) {
    const std::string array_id = std::to_string(job.array_job_id);
    const std::string task = std::to_string(job.array_task_id);
    set("ZS_ARRAY_JOB_ID", array_id);
    set("ZS_ARRAY_TASK_ID", task);
    set("SLURM_ARRAY_JOB_ID", array_id);
    set("SLURM_ARRAY_TASK_ID", task);
  }
  set("MASTER_ADDR", master);
  set("MASTER_PORT", std::to_string(context.master_port));
  set("WORLD_SIZE", std::to_string(world));

  std::vector<NodeLaunch> out;
  int rank = 0;
  for (int n = 0; n < nodes; ++n) {
    const NodeAssignment& a = job.assignment[n];
    NodeLaunch l;
    l.key = {job.id, job.attempt};
    l.node_rank = n;
    const int tasks_here = counts[n];
    const int devices = static_cast<int>(a.devices.size());
    int next_device = 0;
    for (int t = 0; t < tasks_here; ++t) {
      TaskLaunch task;
      task.rank = rank++;
      task.local_rank = t;
      int share = devices / tasks_here + (t < devices % tasks_here ? 1 : 0);
      for (int d = 0; d < share; ++d) task.devices.push_back(a.devices[next_device++]);
      l.tasks.push_back(std::move(task));
    }
    l.argv = spec.argv;
    l.script = spec.script;
    l.work_dir = spec.work_dir;
    l.unix_user = spec.unix_user;
    l.env = common;
    l.env.push_back("NODE_RANK=" + std::to_string(n));
    l.env.push_back("GROUP_RANK=" + std::to_string(n));
    l.env.push_back("SLURM_NODEID=" + std::to_string(n));
    l.env.push_back("LOCAL_WORLD_SIZE=" + std::to_string(tasks_here));
    l.visible_devices_env = context.visible_devices_env;
    l.stdout_path = expand_job_pattern(spec.stdout_path, job);
    l.stderr_path =
        spec.stderr_path.empty() ? l.stdout_path : expand_job_pattern(spec.stderr_path, job);
    l.walltime_ms = spec.walltime;
    l.signal = spec.signal;
    l.signal_time_s = spec.signal_time_s;
    l.signal_batch = spec.signal_batch;
    l.cpus = spec.cpus_per_task * tasks_here;
    l.mem_mib = spec.mem_mib;
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace zs
