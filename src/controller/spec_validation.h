// The controller's check of a submitted JobSpec, whatever produced it (CLI, script, API).
#pragma once
#include "core/accelerator.h"
#include "core/job.h"
#include "core/job_spec.h"

namespace zs {

// Throws InputError(where = field name) on a spec that can never be valid; resolves accel_type
// to its catalog name. Also: a script must be executable (core/job_script.h's script_problem),
// node names well-formed (deduplicated; a nodelist of several nodes without a node count sets
// it, as the CLI does). Whether the named nodes exist is the controller's check.
void validate_spec(JobSpec& spec, const Catalog& catalog);

// Slurm's reasons for a pending job that may not start yet because it asked so.
inline constexpr const char* kReasonHeld = "JobHeldUser";
inline constexpr const char* kReasonBeginTime = "BeginTime";

// Why a pending job must not start at `now` by its own spec (held; begin time still ahead), or
// nullptr when it may. The scheduler skips such jobs and wakes at the begin time.
const char* start_blocker(const JobSpec& spec, TimeMs now);

// The scheduler's view of a live job (accelerator request and walltime).
Job scheduler_job(JobId id, const JobSpec& spec, TimeMs submit_ms, const Catalog& catalog);

// Total tasks the job runs on `nodes` nodes: all of -n when the scheduler chose the node count
// (spec.nodes == 0), else tasks_per_node on each node capped by -n. launch_plan.h's
// tasks_per_node() says how they spread.
int total_tasks(const JobSpec& spec, int nodes);

}  // namespace zs
