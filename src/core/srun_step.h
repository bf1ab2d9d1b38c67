// `srun` inside a job script. Zhisuan runs a job's script once per task (the torchrun pattern:
// every task already has its RANK and devices), where Slurm runs it once and srun fans out. So
// `srun CMD` in a task runs CMD in that task, and a step smaller than the job (`srun -n 1`,
// `srun -N 1`, `srun --ntasks-per-node=1`) runs in the first tasks that fit it, renumbered.
#pragma once
#include <string_view>
#include <vector>

namespace zs {

// Where this task sits in its job (from the environment the agent gives it).
struct JobTaskPlace {
  int nodes = 1;       // SLURM_NNODES
  int tasks = 1;       // SLURM_NTASKS: tasks in all
  int per_node = 1;    // ZS_TASKS_PER_NODE: tasks on every node but maybe the last
  int node_rank = 0;   // NODE_RANK
  int local_rank = 0;  // LOCAL_RANK
  // SLURM_TASKS_PER_NODE expanded (a job whose nodes run different numbers of tasks, e.g.
  // -n 4 --gpus-per-task=1 placed on 3 + 1 devices); used when it has `nodes` entries.
  std::vector<int> node_tasks;
};

// What the step asks for; 0 = as many as the job has.
struct StepShape {
  int ntasks = 0;          // -n
  int nodes = 0;           // -N
  int tasks_per_node = 0;  // --ntasks-per-node
};

// SLURM_TASKS_PER_NODE ("2(x3),1") expanded to one count per node; empty when malformed or
// longer than max_nodes entries.
std::vector<int> parse_slurm_tasks_per_node(std::string_view text, int max_nodes);

struct StepPlace {
  bool runs = false;       // false: this task is not part of the step (it exits 0 at once)
  int rank = 0, size = 0;  // in the step
  int local_rank = 0, local_size = 0;  // on this node, in the step
  int nodes = 0;                       // nodes the step spans
};

// Throws InputError (where "-n", "-N" or "--ntasks-per-node") when the step asks for more than
// the job has: steps run inside the job's tasks.
StepPlace place_in_step(const JobTaskPlace& job, const StepShape& step);

}  // namespace zs
