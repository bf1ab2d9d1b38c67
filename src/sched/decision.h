// The output of one scheduling pass. The caller applies preemptions first, then starts.
#pragma once
#include <string>
#include <vector>

#include "sched/snapshot.h"

namespace zs {

struct StartDecision {
  JobId job = 0;
  TypeId type = 0;
  Placement placement;
  bool backfilled = false;  // started ahead of a blocked higher-priority job
};

struct PreemptDecision {
  JobId job = 0;
  JobId for_job = 0;  // the job that needed the devices
};

struct RejectDecision {
  JobId job = 0;
  std::string reason;  // names what is missing: "needs 9999 x V100-SXM2-32GB, cluster has 16"
};

// The time and devices held for a blocked job (EASY's head job); informational.
struct Reservation {
  JobId job = 0;
  TypeId type = 0;
  TimeMs at = 0;
  Placement placement;
};

struct Decisions {
  std::vector<PreemptDecision> preemptions;
  std::vector<StartDecision> starts;
  std::vector<RejectDecision> rejections;
  std::vector<Reservation> reservations;
  // Call decide again at this time even if nothing else happens (e.g. a running job crosses a
  // LAS threshold). kNever when events alone suffice.
  TimeMs wake_at = kNever;
};

}  // namespace zs
