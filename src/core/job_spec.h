// What a user asks for when submitting a job to the live cluster. CLI flags, `#ZS`/`#SBATCH`
// script directives and the HTTP API all produce a JobSpec; the controller validates it
// (see validate_spec) before it is stored.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/job.h"
#include "core/time.h"

namespace zs {

struct JobSpec {
  std::string name;    // -J/--job-name; default: the command's basename
  std::string user;    // who submitted (the CLI fills it from $USER)
  std::string tenant;  // -A/--account: who pays
  // The Unix account its tasks run as on the nodes: set by the controller from the caller's
  // identity (never the submitter's word); "" = as the agent itself.
  std::string unix_user;
  std::string partition;  // -p/--partition: recorded, shown by `zs queue`

  // What runs. With a script, `script` holds its text and argv is empty or holds the script's
  // arguments; the agent writes the script to the job's directory and executes it.
  std::vector<std::string> argv;
  std::string script;
  std::string work_dir;          // -D/--chdir; the CLI defaults it to its current directory
  std::vector<std::string> env;  // "KEY=VALUE" exported into every task

  // Resources. accel_count is the whole job's total; accel_type "" means any type.
  std::string accel_type;
  int accel_count = 0;
  int nodes = 0;             // -N; 0 = the scheduler chooses (1 for a job without accelerators)
  int accel_per_node = 0;    // --gpus-per-node / --gres=gpu:N; 0 = not constrained
  int tasks_per_node = 1;    // --ntasks-per-node: tasks started on each node
  int ntasks = 0;            // -n: total tasks, 0 = nodes x tasks_per_node
  double cpus_per_task = 0;  // -c; 0 = no CPU request
  std::int64_t mem_mib = 0;  // --mem, per node; 0 = no memory request
  TimeMs walltime = 0;       // -t; 0 = no limit given

  // Output file patterns (%j job id, %A array job id, %a array index, %x name, %u user,
  // %N node name, %t task rank, %% a percent sign); "" = zs-<id>.out / .err in work_dir.
  std::string stdout_path;
  std::string stderr_path;

  std::string array;            // --array as given, e.g. "0-15:2,20%4"; expanded at submit
  std::vector<JobId> after_ok;  // --dependency=afterok:ID[:ID...]
  int max_retries = 0;          // requeues after a node loss or failed rank before failing
  std::int32_t priority = 0;    // higher runs first

  // When and where it may start (Slurm's --begin, --hold, --nodelist, --exclude).
  TimeMs begin_ms = 0;  // not before this wall-clock time (ms since the epoch); 0 = at once
  bool hold = false;    // not started while set: -H/--hold at submit, `zs hold`/`zs release`
  // Node names, expanded from Slurm hostlists (node[1-3]) by the CLI; the controller rejects
  // names it does not know. nodelist: the job's nodes include all of these; exclude: none of
  // these.
  std::vector<std::string> nodelist;
  std::vector<std::string> exclude;

  // The job's own checkpoint signal, sbatch's --signal=[B:]SIG[@TIME]: SIG is sent signal_time_s
  // seconds before the walltime limit, and instead of SIGTERM when the job is preempted, so it
  // can save its state before it is stopped. 0 = none (SIGTERM at the limit and at preemption).
  int signal = 0;
  int signal_time_s = 0;      // seconds before the limit (sbatch's default: 60)
  bool signal_batch = false;  // B: only the script's shell of each task, not what it started
  bool operator==(const JobSpec&) const = default;
};

// An expanded --array: the indices and how many may run at once (0 = no limit).
struct ArraySpec {
  std::vector<int> indices;
  int max_concurrent = 0;
  bool operator==(const ArraySpec&) const = default;
};

}  // namespace zs
