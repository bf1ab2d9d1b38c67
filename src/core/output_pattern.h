// Slurm-style output file patterns (-o/-e): %j job id, %A array job id, %a array index,
// %x job name, %u user, %N node name, %n node rank, %t task rank, %% a percent sign.
// The controller knows the job, the agent knows the node and task; each expands its part.
#pragma once
#include <string>

#include "core/job_record.h"

namespace zs {

// Expands the job's part; keeps %N %n %t (and %% as %%) for expand_task_pattern. An empty
// pattern means zs-%j.out (zs-%A_%a.out for an array task).
std::string expand_job_pattern(const std::string& pattern, const JobRecord& job);

// Expands what expand_job_pattern left: %N, %n, %t and %%.
std::string expand_task_pattern(const std::string& pattern, const std::string& node, int node_rank,
                                int task_rank);

}  // namespace zs
