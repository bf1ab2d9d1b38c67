// The pass of a preemptive policy (las, srtf) under tenants' shares (docs/tenants.md).
//
// Jobs come in the share order (within guarantee first, then borrowing; by priority, fair
// share, then the policy's class as `rank`, then submit). Each starts where it fits, as las
// does (no head-of-line blocking); a job within guarantee that does not fit reclaims borrowed
// devices. The policy does not preempt for its own order: a job within its guarantee is never
// preempted, and the only preemption is reclaim.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "sched/decision.h"
#include "sched/snapshot.h"

namespace zs {

class KeyedIndex;
class LasIndex;

// `rank`: the policy's class of a waiting job (smaller first). Asked for every job of
// s.pending, or with the driver's share index (Snapshot::share_index) only for the jobs of the
// groups the pass gets to.
// `keys` / `classes`: the driver's keyed index (srtf, spf, gittins) or LAS index (las), when it
// describes `s` and `rank` gives its keys / classes; the pass then merges the share groups' jobs
// in its order instead of ranking them.
Decisions greedy_pass_with_shares(const Snapshot& s, TimeMs now,
                                  const std::function<std::int64_t(const PendingJob&)>& rank,
                                  const KeyedIndex* keys = nullptr,
                                  const LasIndex* classes = nullptr);

}  // namespace zs
