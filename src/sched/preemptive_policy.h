// Preemptive policies: every job (running or waiting) gets a key; a waiting job may take the
// devices of running jobs whose key is in a strictly worse class.
//  - las:  Tiresias-style discretized two-dimensional least-attained-service. Attained service
//          = accelerators x time run. Queue k holds jobs whose service is between threshold k-1
//          and k; lower queues first, FIFO inside a queue; a job waiting longer than
//          promote_factor x its last run goes back to queue 0; a job waiting longer than the
//          starvation limit outranks every queue.
//  - srtf: shortest remaining time first using the real remaining time (an oracle: for
//          comparison in simulation only).
#pragma once
#include "sched/policy.h"

namespace zs {

class PreemptivePolicy : public Policy {
 public:
  enum class Mode { kLas, kSrtf };
  explicit PreemptivePolicy(Mode mode) : mode_(mode) {}
  std::string_view name() const override { return mode_ == Mode::kLas ? "las" : "srtf"; }
  bool needs_oracle() const override { return mode_ == Mode::kSrtf; }
  bool preemptive() const override { return true; }
  Decisions decide(const Snapshot& snapshot, TimeMs now) const override;

  // Lexicographic priority key; smaller runs first. Preemption needs a strictly smaller cls.
  struct Key {
    std::int64_t cls = 0;
    std::int64_t a = 0;
    std::int64_t b = 0;
    JobId id = 0;
    auto operator<=>(const Key&) const = default;
  };
  std::int64_t pending_class(const Snapshot& s, const PendingJob& p, TimeMs now) const;
  Key pending_key(const Snapshot& s, const PendingJob& p, TimeMs now) const;
  Key running_key(const Snapshot& s, const RunningJob& r, TimeMs now) const;

 private:
  // Times at which a preemption could newly become possible (a pass is needed then).
  TimeMs running_wake(const Snapshot& s, TimeMs now, std::int64_t min_pending_cls,
                      const std::vector<Key>& running_keys) const;
  Mode mode_;
};

// LAS queue of an attained service (accelerator-ms) under the given thresholds.
int las_queue(TimeMs attained_accel_ms, const std::vector<double>& thresholds_accel_s);

}  // namespace zs
