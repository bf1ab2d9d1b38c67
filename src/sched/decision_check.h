// A pure check of one pass's decisions against the snapshot they were made for.
//
// A policy's decisions must respect the state: a gang runs on one accelerator type, on devices
// that exist, are healthy, up and free (or freed by a preemption of the same pass), each device
// goes to one job, a job gets exactly its count in its shape, its node constraints hold, and
// only waiting jobs start. With tenants' shares: no tenant goes past its limit of a type,
// reclaim takes only borrowed devices, and held devices go to their job only. A decision that
// breaks one of these is a bug in the policy; acting on it would run two jobs on one device or a
// gang across types. Drivers run this before they act: the simulator throws on any violation, the
// controller refuses (and logs) the decision. It reads only its arguments: no clock, no I/O, no
// global state.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sched/decision.h"
#include "sched/snapshot.h"

namespace zs {

enum class ViolationKind {
  kNotPending,       // a started or rejected job is not waiting in the snapshot
  kNotRunning,       // a preempted job is not running
  kDecidedTwice,     // started twice, preempted twice, rejected twice, or started and rejected
  kRefusedType,      // started on a type the job does not accept
  kMixedTypes,       // gang on more than one type, or on nodes not of the decision's type
  kUnknownNode,      // a node id that is not in the cluster
  kNoSuchDevice,     // a device beyond the node's accelerators, or a slot with no device
  kDuplicateNode,    // two slots of one gang on one node
  kNodeDown,         // a device of a node that is down
  kUnhealthy,        // an unhealthy device
  kBusy,             // a device not free in the snapshot (nor freed by this pass's preemptions)
  kGivenTwice,       // a device given to two jobs in this pass
  kWrongCount,       // not exactly the job's accel_count devices
  kWrongShape,       // per-node counts other than the job's shape (shape_for)
  kCpuMemory,        // a node's free CPU cores or memory overbooked
  kRequiredMissing,  // a required node (Job::required_nodes) is not in the gang
  kExcludedUsed,     // an excluded node (Job::excluded_nodes) is in the gang
  // Tenants' shares (Snapshot::shares):
  kOverQuota,        // a start (or hold) takes a tenant past guaranteed + borrow of a type
  kProtectedVictim,  // a reclaim victim within its tenant's guarantee, too young, of the same
                     // tenant, or taken for a job that does not stand within guarantee
  kHeld,             // a start on devices held for another waiting job (Snapshot::holds)
};

std::string_view to_string(ViolationKind kind);

struct Violation {
  ViolationKind kind = ViolationKind::kNotPending;
  JobId job = 0;
  std::string what;  // "job 7: device 3 of node a100-1 is unhealthy"
};

// How a driver that keeps an index finds jobs by id. Either may be empty: the snapshot's span
// is then scanned (once per call, linear in its jobs).
struct JobLookup {
  std::function<const Job*(JobId)> pending;         // the job if it is waiting, else nullptr
  std::function<const RunningJob*(JobId)> running;  // the job if it is running, else nullptr
};

// Every way `d` breaks the rules above for snapshot `s`, in decision order (preemptions,
// starts, rejections); empty when the decisions are sound. Starts are checked as applied in
// order after the preemptions, so a device given twice is reported at the second job.
// `now` (the pass's time) enables the reclaim victims' minimum-run check; -1 skips it.
std::vector<Violation> find_violations(const Snapshot& s, const Decisions& d,
                                       const JobLookup& lookup = {}, TimeMs now = -1);

// The violations' texts joined by "; ", for a log line or an exception.
std::string describe(const std::vector<Violation>& violations);

}  // namespace zs
