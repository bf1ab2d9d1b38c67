// PreemptionPass: the placement half of a pass of a preemptive policy (las, srtf). Waiting jobs
// are offered in class order; each starts on free devices, or else by preempting running jobs
// of a strictly worse class, worst first, keeping only the victims whose devices it uses.
#pragma once
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "sched/pass_memory.h"
#include "sched/placement_search.h"
#include "sched/preemptive_policy.h"
#include "sched/releasable.h"
#include "sched/release_index.h"
#include "sched/victim_queue.h"

namespace zs {

class PreemptionPass {
 public:
  enum class Result { kStop, kStarted, kRejected, kWaits };

  PreemptionPass(const PreemptivePolicy& policy, const Snapshot& s,
                 const PreemptivePolicy::RunningView& running, Decisions& d)
      : policy_(policy),
        s_(s),
        running_(running),
        d_(d),
        pool_memory_(lent_pool(s)),
        pool_(working_pool(s, pool_memory_)),
        request_memory_(lent_requests(s, false)),
        requests_(request_cache(s, false, request_memory_)),
        live_(take_vector<int>(s.memory)),
        preempted_(take_vector<std::uint32_t>(s.memory)),
        is_preempted_(take_vector<bool>(s.memory)),
        released_(take_vector<std::uint32_t>(s.memory)),
        skipped_(take_vector<std::uint32_t>(s.memory)) {
    live_.assign(running.victim_accels.begin(), running.victim_accels.end());
  }
  ~PreemptionPass() {
    give_vectors(s_.memory, live_, preempted_, is_preempted_, released_, skipped_);
  }
  PreemptionPass(const PreemptionPass&) = delete;
  PreemptionPass& operator=(const PreemptionPass&) = delete;

  // kStop: neither this job nor any job of a worse class can start in this pass.
  Result offer(const PendingJob& p, std::int64_t cls);
  const std::vector<std::uint32_t>& preempted() const { return preempted_; }
  // True if a job preempted in this pass fits on the devices the pass leaves free: it waits
  // again from the next pass on and could start then, so a pass is due at once.
  bool a_preempted_job_fits();
  // Devices come back to the pool only when a job is preempted; that starts a new epoch.
  // Within an epoch the pool only shrinks and the victims only get fewer, so a job that had to
  // wait would have to wait again - if the failure memos forgot nothing.
  std::size_t epoch() const { return preempted_.size(); }
  bool remembers_failures() const { return !memo_.full() && !preempt_memo_.full(); }
  // The worst class among the victims not preempted (minimum of int64 when there are none).
  std::int64_t worst_victim_cls() {
    if (release_ && release_->usable()) return release_->worst_cls();
    if (!victims_) return running_.max_victim_cls;
    return victims_->empty() ? std::numeric_limits<std::int64_t>::min() : victims_->worst_cls();
  }
  // A pass uses a ReleaseIndex when it has at least this many victims (default 1024), else
  // releases them one by one. Tests set 0 (always) or SIZE_MAX (never: the reference).
  static void release_index_from(std::size_t min_victims);
  static constexpr std::size_t kDefaultReleaseIndexFrom = 1024;

 private:
  std::int64_t cls(std::uint32_t victim) const { return running_.cls[victim]; }
  bool worth_preempting(const Job& job, const std::vector<TypeId>& types, std::int64_t cls);
  bool may_fit_after_preempting(const Job& job, const std::vector<TypeId>& types, std::int64_t cls);
  // The devices of the victims of a class worse than `worse_than`.
  std::vector<Releasable::VictimSlot> victim_slots(std::int64_t worse_than) const;
  // The placement by preempting victims of a class worse than `cls`, worst first, and the
  // victims it needs (in preempted_ from the call's start), or nullopt.
  std::optional<Choice> preempt_for(const Job& job, const std::vector<TypeId>& types,
                                    std::int64_t cls);
  // preempt_for() by releasing victims one by one, and by the ReleaseIndex: the same choice.
  // The index knows one victim order per pass and a job's victims as a prefix of it (those of
  // a worse class, of types it accepts); a rule that takes victims away per job in another way
  // (e.g. tenants' shares) must filter in both, or use preempt_by_releasing() for such jobs.
  std::optional<Choice> preempt_by_releasing(const Job& job, const std::vector<TypeId>& types,
                                             std::int64_t cls);
  std::optional<Choice> preempt_by_index(const Job& job, const std::vector<TypeId>& types,
                                         std::int64_t cls);
  // Keeps of `released` (worst first) the victims the placement needs; the others go back.
  void keep_needed(const Job& job, const Choice& c, const std::vector<std::uint32_t>& released);
  void record_preempt_failure(const Job& job, const std::vector<TypeId>& types);
  // `first_victim`: the victims preempted for it are preempted_[first_victim...].
  void start(const Job& job, Choice c, std::size_t first_victim);

  const PreemptivePolicy& policy_;
  const Snapshot& s_;
  const PreemptivePolicy::RunningView& running_;
  Decisions& d_;
  Borrowed<FreePool> pool_memory_;  // (sched/pass_memory.h)
  FreePool& pool_;
  Borrowed<RequestCache> request_memory_;
  RequestCache& requests_;
  // Victims, worst first, and what releasing each prefix of them would free (ReleaseIndex);
  // made on the first preemption attempt: most passes never need it. Where the index is not
  // usable, a VictimQueue: a job pops victims while they rank strictly below it; those it
  // does not end up using are pushed back for the next job. `live_` counts, per type, the
  // devices of victims not yet preempted, for a quick "could preempting every victim make room
  // at all?" check.
  std::optional<ReleaseIndex> release_;
  std::optional<VictimQueue> victims_;
  std::vector<int> live_;
  std::vector<std::uint32_t> preempted_;           // running indices preempted this pass
  std::vector<bool> is_preempted_;                 // by running index, made on the first one
  std::vector<std::uint32_t> released_, skipped_;  // preempt_for()'s, kept to reuse their space
  FailMemo memo_;
  // Jobs come in ascending class, so the victims of a later job are a subset of an earlier
  // one's: a shape that could not be placed by preempting stays impossible for later jobs.
  FailMemo preempt_memo_;
  std::optional<Releasable> releasable_;  // made on the first preemption check
};

}  // namespace zs
