// Refusing at submit a job that can never fit the cluster as the controller knows it, with the
// reason, as the simulator does (and as sbatch refuses "Requested node configuration is not
// available"): CPU-only `-N 5` on 4 nodes, `-c 500`, `--mem 2T`, `--accel MLU590:65` on 64
// MLU590 would otherwise wait forever. Every node that ever registered counts, whatever its
// state now: a down or drained node may come back. An operator who expects nodes to join
// starts the controller with --keep-unfit-jobs.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/accelerator.h"
#include "core/cluster.h"
#include "core/job.h"
#include "core/job_spec.h"

namespace zs {

// What the known nodes could hold if they were all free: an immutable snapshot, rebuilt when a
// node joins or changes, read by submits without the controller's state lock.
struct Capacity {
  Cluster accelerators;  // every known node with accelerators, in any state
  struct Host {
    double cpus = 0;
    double mem_mib = 0;
  };
  std::vector<Host> hosts;  // every known node, with or without accelerators
};

// Why the job (its spec, and the scheduler's view of it) can never run on `capacity`, or
// nullopt when it can. No known node at all is not a reason: nodes are still to come.
std::optional<std::string> never_fits(const JobSpec& spec, const Job& job, const Capacity& capacity,
                                      const Catalog& catalog);

}  // namespace zs
