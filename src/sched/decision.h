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
  // Taken back for a job within its tenant's guarantee (tenants' shares): the victim gets its
  // checkpoint signal and the grace period; one that asked for no signal loses its progress.
  bool reclaim = false;
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

// Why a job waits when it is not for lack of devices (tenants' shares): an index into
// Decisions::wait_reasons, which holds each distinct text once.
struct WaitDecision {
  JobId job = 0;
  std::uint32_t reason = 0;
};

// Every waiting job of a ShareIndex group with a rank in [from, to) waits for `reason` (only
// with Snapshot::share_index: a pass says so once instead of once per job).
struct GroupWait {
  std::uint32_t group = 0;
  std::uint32_t from = 0, to = 0;
  std::uint32_t reason = 0;  // index into Decisions::wait_reasons
};

struct Decisions {
  std::vector<PreemptDecision> preemptions;
  std::vector<StartDecision> starts;
  std::vector<RejectDecision> rejections;
  std::vector<Reservation> reservations;
  // Reclaims whose victims stop after a grace period: the reclaiming job starts in a later
  // pass, on these devices (the driver keeps them and passes them back as Snapshot::holds).
  std::vector<Hold> holds;
  std::vector<WaitDecision> waits;
  std::vector<GroupWait> group_waits;  // with Snapshot::share_index only
  std::vector<std::string> wait_reasons;
  // Call decide again at this time even if nothing else happens (e.g. a running job crosses a
  // LAS threshold). kNever when events alone suffice.
  TimeMs wake_at = kNever;
};

}  // namespace zs
