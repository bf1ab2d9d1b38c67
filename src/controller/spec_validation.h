// The controller's check of a submitted JobSpec, whatever produced it (CLI, script, API).
#pragma once
#include "core/accelerator.h"
#include "core/job.h"
#include "core/job_spec.h"

namespace zs {

// Throws InputError(where = field name) on a spec that can never be valid; resolves accel_type
// to its catalog name.
void validate_spec(JobSpec& spec, const Catalog& catalog);

// The scheduler's view of a live job (accelerator request and walltime).
Job scheduler_job(JobId id, const JobSpec& spec, TimeMs submit_ms, const Catalog& catalog);

// Total tasks the job runs on `nodes` nodes.
int total_tasks(const JobSpec& spec, int nodes);

}  // namespace zs
