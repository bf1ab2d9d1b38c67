// RunningAccrual: the fair-share usage that running jobs have accrued so far, per tenant, kept
// from pass to pass so that a pass costs O(tenants) instead of an expm1 per running job.
//
// A job billed `rate` per ms since `s` has accrued, decayed to t (core/fair_share.h):
//   rate * H/ln2 * (1 - 2^(-(t - s)/H))  =  H/ln2 * (rate - 2^(-(t - t0)/H) * rate * 2^((s -
//   t0)/H))
// so per tenant it suffices to keep the sums of rate and of rate * 2^((s - t0)/H). The result
// equals the per-job sum up to rounding (relative error ~1e-16 x H / (t - s)); a tenant with no
// running job accrues exactly 0. t0 moves forward when the exponent would grow too large.
#pragma once
#include <cstddef>
#include <vector>

#include "core/time.h"

namespace zs {

class RunningAccrual {
 public:
  explicit RunningAccrual(TimeMs half_life_ms) : half_life_(half_life_ms) {}

  void add(std::size_t tenant, double rate_per_ms, TimeMs started);
  void remove(std::size_t tenant, double rate_per_ms, TimeMs started);
  // What the tenant's running jobs have accrued by t (>= each job's start), decayed to t.
  double of(std::size_t tenant, TimeMs t) const;

  // Whether a job started at `started` needs a later origin first (see rebase()).
  bool needs_rebase(TimeMs started) const;
  // Moves the origin to `origin` and sums again: the caller gives every running job anew
  // through add() after this call.
  void rebase(TimeMs origin);

 private:
  struct Sums {
    double rate = 0, weighted = 0;  // sum of rate, of rate * 2^((s - t0)/H)
    std::size_t jobs = 0;
  };
  double weight(TimeMs started) const;
  TimeMs half_life_;
  TimeMs origin_ = 0;
  bool has_origin_ = false;
  std::vector<Sums> sums_;
};

}  // namespace zs
