// Fair share: billed usage that decays with a half-life, and the factor that orders tenants.
//
// Usage is billed (accelerator-hours x the type's price) and decays continuously: with no new
// usage it halves every half-life. A job running at a constant rate contributes the exact
// integral of its decayed charge, so the result does not depend on how often it is sampled.
// The factor is Slurm's classic 2^(-usage_share / weight_share): 1 for a tenant that used
// nothing, 0.5 for one that used exactly its share, towards 0 for heavy users.
#pragma once
#include <cstddef>
#include <vector>

#include "core/time.h"

namespace zs {

// 2^(-elapsed / half_life); 1 when elapsed <= 0.
double decay(TimeMs elapsed, TimeMs half_life_ms);

// What a constant charge of `rate` cost units per ms over [from, to] amounts to at time `to`,
// decayed: rate * H / ln 2 * (1 - 2^(-(to - from) / H)). 0 when to <= from.
double decayed_accrual(double rate_per_ms, TimeMs from, TimeMs to, TimeMs half_life_ms);
// The same in two steps, for many charges over the same span (jobs started together):
// decayed_accrual(rate, from, to, H) == accrual_of(rate, H, accrued_fraction(from, to, H)),
// to the bit.
double accrued_fraction(TimeMs from, TimeMs to, TimeMs half_life_ms);
double accrual_of(double rate_per_ms, TimeMs half_life_ms, double fraction);

// Decayed usage per tenant (dense indices). Charges may arrive in any time order.
class FairShareLedger {
 public:
  explicit FairShareLedger(TimeMs half_life_ms) : half_life_(half_life_ms) {}
  TimeMs half_life() const { return half_life_; }
  // A charge of `rate` cost units per ms over [from, to] (a run, or the part of it so far).
  void charge(std::size_t tenant, double rate_per_ms, TimeMs from, TimeMs to);
  // Sets the tenant's usage to `value` as of `as_of` (a forecast starts from a known state).
  void seed(std::size_t tenant, double value, TimeMs as_of);
  // The tenant's settled usage, decayed to `now`.
  double usage(std::size_t tenant, TimeMs now) const;

 private:
  struct Entry {
    double value = 0;  // usage at as_of
    TimeMs as_of = 0;
  };
  TimeMs half_life_;
  std::vector<Entry> entries_;
};

// The fair-share factor in (0, 1]: 2^(-(usage / total_usage) / (weight / total_weight)).
// 1 when nobody has used anything yet.
double fair_share_factor(double usage, double total_usage, double weight, double total_weight);

}  // namespace zs
