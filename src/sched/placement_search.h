// Helpers shared by the policies: trying a job on its accepted types, remembering which gang
// shapes already failed in this pass, and finding when a blocked job could start.
#pragma once
#include <array>
#include <optional>
#include <span>
#include <vector>

#include "sched/decision.h"
#include "sched/free_pool.h"
#include "sched/snapshot.h"

namespace zs {

struct Choice {
  TypeId type = 0;
  Placement placement;
};

// Within one pass the pool only shrinks (until something is given back), so if a shape failed,
// any larger shape of the same type fails too (and so does the same shape with node
// constraints; failures of constrained jobs are not recorded). Remembering that turns "the cluster
// is full and 100,000 jobs wait" into O(1) per job.
class FailMemo {
 public:
  bool known_to_fail(const Job& job, TypeId type, const Shape& shape) const;
  void record(const Job& job, TypeId type, const Shape& shape);
  void clear() { fails_.clear(); }
  // True once it forgets failures (it keeps a bounded number).
  bool full() const { return fails_.size() >= kMaxFails; }

 private:
  struct Fail {
    TypeId type;
    Shape shape;
    double cpu, mem;
  };
  static constexpr std::size_t kMaxFails = 64;
  std::vector<Fail> fails_;
};

// Accepted types present in the cluster, in the order to try them: by catalog id, or (when
// `by_speed`) fastest first for this job according to the throughput table / catalog peaks.
std::vector<TypeId> candidate_types(const Snapshot& s, const Job& job, bool by_speed);

// Memo of what depends only on a job's request, not on the job: its candidate types
// and whether it can ever fit. Most jobs share a handful of request shapes, and a pass over
// 100,000 jobs must not allocate or re-derive per job. Made for a pass, or kept from pass to
// pass in a driver's PassMemory (sched/pass_memory.h).
class RequestCache {
 public:
  RequestCache(const Snapshot& s, bool by_speed)
      : s_(&s),
        cluster_(s.cluster),
        catalog_(s.catalog),
        throughput_(s.throughput),
        shares_(s.shares != nullptr),
        by_speed_(by_speed) {}
  // True if what this memo holds is right for `s` too: the same cluster, catalog, throughput
  // table and shares (a driver's promise that what they point to did not change either).
  bool made_for(const Snapshot& s, bool by_speed) const {
    return s.cluster == cluster_ && s.catalog == catalog_ && s.throughput == throughput_ &&
           (s.shares != nullptr) == shares_ && by_speed == by_speed_;
  }
  // Another pass, on `s` (made_for(s)): the entries stay; the share groups are the new pass's.
  void begin_pass(const Snapshot& s) {
    s_ = &s;
    by_group_.clear();
  }
  struct Info {
    std::vector<TypeId> types;  // candidate_types()
    std::optional<std::string> never_fits;
    // With tenants' shares: `types` less those the job can never fit on (an idle cluster's
    // nodes of the type are too few or too small for its shape), so that standing within a
    // guarantee on such a type does not make it wait (and hold devices back) forever. Without
    // shares: the same as `types`.
    std::vector<TypeId> fit_types;
  };
  const Info& of(const Job& job) { return cache_[entry_of(job)].info; }
  // The same for a job of ShareIndex group `group`: every job of a group has the same request
  // (sched/share_index.h), so the group's entry is found once per pass.
  const Info& of(const Job& job, std::uint32_t group) {
    if (group < by_group_.size() && by_group_[group] != 0) return cache_[by_group_[group] - 1].info;
    const std::size_t e = entry_of(job);
    if (group >= by_group_.size()) by_group_.resize(static_cast<std::size_t>(group) + 1, 0);
    by_group_[group] = static_cast<std::uint32_t>(e + 1);
    return cache_[e].info;
  }

 private:
  std::size_t entry_of(const Job& job);
  struct Entry {
    TypeSet accepted;
    int model, accel_count, nodes, per_node;
    double cpu, mem;
    std::vector<NodeId> required, excluded;  // node constraints change feasibility too
    Info info;
  };
  // Cheap fingerprint of the fields `of` compares first; slots_ maps it to the entry last found
  // for it (+1, 0: none), so that a queue of mixed requests does not scan the cache per job.
  static std::size_t slot_of(const Job& job, int model);
  const Snapshot* s_;
  const Cluster* cluster_;
  const Catalog* catalog_;
  const ThroughputTable* throughput_;
  bool shares_;
  bool by_speed_;
  std::vector<Entry> cache_;
  std::array<std::uint16_t, 64> slots_{};
  std::vector<std::uint32_t> by_group_;  // by share group: its entry + 1 (0: not yet looked up)
};

// Usable free devices in the whole cluster (cheap: no index is built).
int usable_free_total(const Snapshot& s);

// First accepted type (in `types` order) where the job fits now.
std::optional<Choice> place_now(const FreePool& pool, const Job& job, std::span<const TypeId> types,
                                FailMemo* memo);

// Earliest time (>= now) and devices at which `job` could start if running jobs end at their
// expected_end, given the devices free in `pool` now. `started` are jobs this pass already
// started (they hold devices in `pool` and end at their expected_end too). nullopt if it cannot
// be bounded (jobs without a walltime hold what it needs). `by_prediction`: running jobs end at
// their predicted_end instead, where they have one (easy-pred).
std::optional<Reservation> earliest_start(const Snapshot& s, const FreePool& pool, const Job& job,
                                          std::span<const TypeId> types, TimeMs now,
                                          std::span<const RunningJob> started = {},
                                          bool by_prediction = false);

// A job's walltime limit when it runs on `type`. Limits are stated for the type the job was
// measured on (its recorded_type) and scale with its speed elsewhere (factor 1 when unknown, as
// for every live job). 0 when the job has no limit.
TimeMs walltime_on(const Snapshot& s, const Job& job, TypeId type);
// What a planner expects the job to run on `type`: with `by_prediction` its predicted run time
// (scaled by speed like a walltime, never above the walltime), else - or without a prediction -
// its walltime (0: none).
TimeMs planned_run_on(const Snapshot& s, const PendingJob& p, TypeId type, bool by_prediction);

// Pending indices in (priority desc, submit asc, id asc) order.
std::vector<std::uint32_t> priority_order(std::span<const PendingJob> pending);

// Estimated run time of `job` on `type` relative to its walltime or duration (for hetero);
// returns a factor: < 1 means faster than on the type it was measured on.
double speed_factor(const Snapshot& s, const Job& job, TypeId type);

}  // namespace zs
