// Holds: devices a reclaim took back for a job, kept for it across passes until its victims
// have stopped (Snapshot::holds). Every policy applies them first in a pass: a holder whose
// devices are all free starts on them; the free devices of the other holds leave the pool, so
// no other job takes what was reclaimed (without that, the reclaiming job could find its
// devices gone once the victims stop, and reclaim again: an eviction cycle).
#pragma once
#include <cstdint>
#include <vector>

#include "sched/decision.h"
#include "sched/free_pool.h"
#include "sched/share_gate.h"

namespace zs {

// Applies s.holds to `pool` and `gate`, adding the starts of holders that can start to `d`.
// Returns, by index in s.pending, the holders (the rest of the pass skips them); empty when
// there are no holds. A hold on a device that is down or unhealthy, or whose devices are free
// but whose nodes' CPU or memory went to other jobs, is void: its job competes like any other.
std::vector<bool> apply_holds(const Snapshot& s, FreePool& pool, ShareGate& gate, Decisions& d);

// With a driver's share index: the index ranks of the holders that apply_holds returned
// (`holder`, by index in s.pending), ascending and without repeats, for binary search.
std::vector<std::uint32_t> holder_ranks(const Snapshot& s, const std::vector<bool>& holder);

}  // namespace zs
