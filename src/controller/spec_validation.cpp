#include "controller/spec_validation.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/cluster.h"
#include "core/hostlist.h"
#include "core/identity_record.h"
#include "core/input_error.h"
#include "core/job_script.h"
#include "core/signal_name.h"
#include "core/slurm_values.h"

namespace zs {
namespace {

constexpr int kMaxAccelerators = 100'000;
constexpr int kMaxNodes = 10'000;
constexpr int kMaxTasksPerNode = 1'024;
constexpr int kMaxSpecRetries = 100;         // not job_script.h's kMaxRetries (the CLI's bound)
constexpr std::size_t kMaxPathBytes = 4096;  // PATH_MAX, with its NUL
constexpr std::size_t kMaxNameBytes = 256;

void require(bool ok, const char* field, const std::string& message) {
  if (!ok) throw InputError(field, message);
}

// Node names: well-formed, each once, not both wanted and excluded; several wanted nodes and no
// node count: the job spans them all (as the CLI does for -w node[1-2]).
void reconcile_node_lists(JobSpec& spec) {
  for (auto* list : {&spec.nodelist, &spec.exclude}) {
    const char* field = list == &spec.nodelist ? "nodelist" : "exclude";
    require(list->size() <= static_cast<std::size_t>(kMaxNodes), field,
            "at most " + std::to_string(kMaxNodes) + " nodes");
    std::set<std::string> seen;
    std::vector<std::string> unique;
    for (const auto& name : *list) {
      require(valid_node_name(name), field, quote_value(name) + " is not a node name");
      if (seen.insert(name).second) unique.push_back(name);
    }
    *list = std::move(unique);
  }
  for (const auto& name : spec.nodelist)
    require(std::find(spec.exclude.begin(), spec.exclude.end(), name) == spec.exclude.end(),
            "exclude", "node " + quote_value(name) + " is both in nodelist and exclude");
  const int listed = static_cast<int>(spec.nodelist.size());
  if (spec.nodes == 0 && listed > 1) spec.nodes = listed;
  require(spec.nodes == 0 || listed <= spec.nodes, "nodelist",
          std::to_string(listed) + " nodes listed but the job has " + std::to_string(spec.nodes));
}

// -n with the other task options, as sbatch reconciles them (the CLI does this already; API
// clients may send any combination).
void reconcile_tasks(JobSpec& spec) {
  if (spec.ntasks <= 0) return;
  if (spec.nodes == 0 && spec.tasks_per_node > 1)  // -n 8 --ntasks-per-node 4: two nodes
    spec.nodes = (spec.ntasks + spec.tasks_per_node - 1) / spec.tasks_per_node;
  if (spec.nodes > 0 && spec.ntasks > spec.nodes * spec.tasks_per_node) {
    require(spec.tasks_per_node == 1, "ntasks",
            std::to_string(spec.ntasks) + " tasks do not fit " + std::to_string(spec.nodes) +
                " nodes x " + std::to_string(spec.tasks_per_node) + " tasks per node");
    spec.tasks_per_node = (spec.ntasks + spec.nodes - 1) / spec.nodes;  // -N 2 -n 5: 3 and 2
    require(spec.tasks_per_node <= kMaxTasksPerNode, "ntasks",
            std::to_string(spec.ntasks) + " tasks on " + std::to_string(spec.nodes) +
                " nodes is more than " + std::to_string(kMaxTasksPerNode) + " per node");
  }
}

}  // namespace

void validate_spec(JobSpec& spec, const Catalog& catalog) {
  require(!spec.argv.empty() || !spec.script.empty(), "argv", "a job needs a command or a script");
  if (!spec.script.empty()) {
    const std::string problem = script_problem(spec.script);
    require(problem.empty(), "script", problem);
  }
  for (std::size_t i = 0; i < spec.argv.size(); ++i)
    if (i == 0 && spec.script.empty() && spec.argv[0].empty())
      throw InputError("argv[0]", "the command is empty");
  for (std::size_t i = 0; i < spec.env.size(); ++i) {
    const auto& e = spec.env[i];
    auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError("env[" + std::to_string(i) + "]", "expected KEY=VALUE, got '" + e + "'");
  }
  require(spec.accel_count >= 0 && spec.accel_count <= kMaxAccelerators, "accel_count",
          "must be between 0 and " + std::to_string(kMaxAccelerators));
  require(spec.nodes >= 0 && spec.nodes <= kMaxNodes, "nodes",
          "must be between 0 and " + std::to_string(kMaxNodes));
  require(spec.accel_per_node >= 0 && spec.accel_per_node <= kMaxDevicesPerNode, "accel_per_node",
          "must be between 0 and " + std::to_string(kMaxDevicesPerNode));
  require(spec.tasks_per_node >= 1 && spec.tasks_per_node <= kMaxTasksPerNode, "tasks_per_node",
          "must be between 1 and " + std::to_string(kMaxTasksPerNode));
  require(spec.ntasks >= 0 && spec.ntasks <= kMaxNodes * kMaxTasksPerNode, "ntasks",
          "out of range");
  require(
      std::isfinite(spec.cpus_per_task) && spec.cpus_per_task >= 0 && spec.cpus_per_task <= 4096,
      "cpus_per_task", "must be between 0 and 4096");
  require(spec.mem_mib >= 0 && spec.mem_mib <= (std::int64_t{1} << 32), "mem_mib", "out of range");
  require(spec.walltime >= 0, "walltime", "must not be negative");
  require(spec.max_retries >= 0 && spec.max_retries <= kMaxSpecRetries, "max_retries",
          "must be between 0 and " + std::to_string(kMaxSpecRetries));
  // The checkpoint signal (--signal): one the job can catch, else it could not checkpoint.
  require(spec.signal >= 0 && spec.signal <= kMaxSignalNumber, "signal",
          "must be 0 (none) or a signal number from 1 to " + std::to_string(kMaxSignalNumber));
  require(spec.signal == 0 || catchable_signal(spec.signal), "signal",
          signal_name(spec.signal) + " cannot be caught; use one the job traps, such as SIGUSR1");
  require(spec.signal_time_s >= 0 && spec.signal_time_s <= kMaxSignalTimeS, "signal_time",
          "must be between 0 and " + std::to_string(kMaxSignalTimeS) + " seconds");
  require(spec.signal != 0 || (spec.signal_time_s == 0 && !spec.signal_batch), "signal",
          "signal_time and signal_batch need a signal");
  if (!spec.unix_user.empty()) {
    const std::string problem = unix_user_problem(spec.unix_user);
    require(problem.empty(), "unix_user", problem);
  }
  if (spec.work_dir.empty()) spec.work_dir = "/tmp";  // the CLI sends its current directory
  require(spec.work_dir.front() == '/', "work_dir",
          "must be an absolute path, got '" + spec.work_dir + "'");

  // Paths reach the agents' file system calls and names every listing: bounded like the
  // kernel bounds them (PATH_MAX) and like Slurm bounds names, far below what a record holds.
  for (auto [field, path] :
       {std::pair{"work_dir", &spec.work_dir}, std::pair{"stdout_path", &spec.stdout_path},
        std::pair{"stderr_path", &spec.stderr_path}})
    require(path->size() < kMaxPathBytes, field,
            "a path has at most " + std::to_string(kMaxPathBytes - 1) + " bytes, got " +
                std::to_string(path->size()));
  for (auto [field, text] :
       {std::pair{"name", &spec.name}, std::pair{"user", &spec.user},
        std::pair{"tenant", &spec.tenant}, std::pair{"partition", &spec.partition}}) {
    require(text->size() <= kMaxNameBytes, field,
            "at most " + std::to_string(kMaxNameBytes) + " bytes");
    require(std::none_of(text->begin(), text->end(),
                         [](unsigned char c) { return c < 0x20 || c == 0x7f; }),
            field, "control characters are not allowed");
  }

  reconcile_node_lists(spec);
  reconcile_tasks(spec);

  if (!spec.accel_type.empty()) {
    require(spec.accel_count > 0, "accel_type", "an accelerator type needs a count > 0");
    spec.accel_type = catalog.name(catalog.resolve(spec.accel_type, "accel_type"));
  }
  if (spec.accel_per_node > 0 && spec.accel_count == 0)
    spec.accel_count = spec.accel_per_node * std::max(1, spec.nodes);
  if (spec.accel_per_node > 0 && spec.nodes > 0)
    require(spec.accel_count == spec.accel_per_node * spec.nodes, "accel_count",
            std::to_string(spec.accel_count) + " accelerators is not " +
                std::to_string(spec.nodes) + " nodes x " + std::to_string(spec.accel_per_node));
  if (spec.accel_per_node > 0)
    require(spec.accel_count % spec.accel_per_node == 0, "accel_count",
            std::to_string(spec.accel_count) + " accelerators do not fill whole nodes of " +
                std::to_string(spec.accel_per_node));
  if (spec.nodes > 0 && spec.accel_count > 0)
    require(spec.accel_count % spec.nodes == 0 && spec.accel_count >= spec.nodes, "accel_count",
            std::to_string(spec.accel_count) + " accelerators do not split evenly over " +
                std::to_string(spec.nodes) + " nodes");
  if (spec.ntasks > 0 && spec.nodes > 0)
    require(spec.ntasks >= spec.nodes, "ntasks",
            std::to_string(spec.ntasks) + " tasks cannot cover " + std::to_string(spec.nodes) +
                " nodes");
  if (spec.name.empty()) {
    std::string cmd = spec.argv.empty() ? "script" : spec.argv.front();
    auto slash = cmd.rfind('/');
    spec.name = slash == std::string::npos ? cmd : cmd.substr(slash + 1);
    // A derived name obeys the rules a given one must (the command may be anything).
    if (spec.name.size() > kMaxNameBytes) {  // cut at a character boundary (valid UTF-8)
      std::size_t cut = kMaxNameBytes;
      while (cut > 0 && (static_cast<unsigned char>(spec.name[cut]) & 0xC0) == 0x80) --cut;
      spec.name.resize(cut);
    }
    for (char& c : spec.name)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
}

const char* start_blocker(const JobSpec& spec, TimeMs now) {
  if (spec.hold) return kReasonHeld;
  if (spec.begin_ms > now) return kReasonBeginTime;
  return nullptr;
}

int total_tasks(const JobSpec& spec, int nodes) {
  // -n without a node count: every task runs, on however many nodes the job got (Slurm).
  if (spec.nodes == 0 && spec.ntasks > 0) return std::max(spec.ntasks, std::max(1, nodes));
  int total = std::max(1, spec.tasks_per_node) * std::max(1, nodes);
  return spec.ntasks > 0 ? std::min(spec.ntasks, total) : total;
}

Job scheduler_job(JobId id, const JobSpec& spec, TimeMs submit_ms, const Catalog& catalog) {
  Job j;
  j.id = id;
  j.name = spec.name;
  j.tenant = spec.tenant;
  j.user = spec.user;
  j.priority = spec.priority;
  j.submit = submit_ms;
  j.accel_count = spec.accel_count;
  j.nodes = spec.nodes;
  j.per_node = spec.accel_per_node;
  if (spec.nodes > 0 && spec.accel_per_node == 0 && spec.accel_count > 0)
    j.per_node = spec.accel_count / spec.nodes;
  if (!spec.accel_type.empty()) {
    if (auto t = catalog.find(spec.accel_type))
      j.accepted = TypeSet::of(*t);
    else
      j.unknown_type = spec.accel_type;
  }
  if (spec.accel_count > 0) {
    int nodes_guess = std::max(1, spec.nodes);
    j.cpu_per_accel = spec.cpus_per_task * total_tasks(spec, nodes_guess) / spec.accel_count;
    j.mem_gib_per_accel =
        static_cast<double>(spec.mem_mib) * nodes_guess / 1024.0 / spec.accel_count;
  }
  j.walltime = spec.walltime;
  // A job that names a signal (sbatch --signal) gets it at preemption and checkpoints.
  j.checkpoint = spec.signal > 0 ? 1 : 0;
  return j;
}

}  // namespace zs
