// Helpers for the tests that decide a pass twice - with what a driver keeps from pass to pass and
// without it - and require the same decisions.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "sched/decision.h"
#include "sched/share_index.h"
#include "sched/snapshot.h"

namespace zs::test {

// Every decision of a pass as text, waits by job with their reasons' text (a pass with the share
// index may tell a group at once, and number its reasons differently; `index` names the groups).
std::string describe_decisions(const Decisions& d, const ShareIndex* index);

// The waiting jobs in (submit, id) order: what Snapshot::pending holds without a driver's index.
std::vector<PendingJob> in_submit_order(std::span<const PendingJob> pending);

}  // namespace zs::test
