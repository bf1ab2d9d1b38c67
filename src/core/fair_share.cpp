#include "core/fair_share.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace zs {

double decay(TimeMs elapsed, TimeMs half_life_ms) {
  if (elapsed <= 0 || half_life_ms <= 0) return elapsed <= 0 ? 1.0 : 0.0;
  return std::exp2(-static_cast<double>(elapsed) / static_cast<double>(half_life_ms));
}

double accrued_fraction(TimeMs from, TimeMs to, TimeMs half_life_ms) {
  if (to <= from || half_life_ms <= 0) return 0;
  // -expm1(-x ln2) = 1 - 2^-x, exact for small x too.
  const double x = static_cast<double>(to - from) / static_cast<double>(half_life_ms);
  return -std::expm1(-x * std::numbers::ln2);
}

double accrual_of(double rate_per_ms, TimeMs half_life_ms, double fraction) {
  if (fraction == 0 || rate_per_ms == 0) return 0;
  return rate_per_ms * static_cast<double>(half_life_ms) / std::numbers::ln2 * fraction;
}

double decayed_accrual(double rate_per_ms, TimeMs from, TimeMs to, TimeMs half_life_ms) {
  return accrual_of(rate_per_ms, half_life_ms, accrued_fraction(from, to, half_life_ms));
}

void FairShareLedger::charge(std::size_t tenant, double rate_per_ms, TimeMs from, TimeMs to) {
  if (to <= from) return;
  if (tenant >= entries_.size()) entries_.resize(tenant + 1);
  Entry& e = entries_[tenant];
  const double amount = decayed_accrual(rate_per_ms, from, to, half_life_);
  if (e.value == 0) {
    e.value = amount;
    e.as_of = to;
  } else if (to >= e.as_of) {
    e.value = e.value * decay(to - e.as_of, half_life_) + amount;
    e.as_of = to;
  } else {
    e.value += amount * decay(e.as_of - to, half_life_);
  }
}

void FairShareLedger::seed(std::size_t tenant, double value, TimeMs as_of) {
  if (tenant >= entries_.size()) entries_.resize(tenant + 1);
  entries_[tenant] = {value, as_of};
}

double FairShareLedger::usage(std::size_t tenant, TimeMs now) const {
  if (tenant >= entries_.size()) return 0;
  const Entry& e = entries_[tenant];
  if (now <= e.as_of) return e.value;  // never grows backwards
  return e.value * decay(now - e.as_of, half_life_);
}

double fair_share_factor(double usage, double total_usage, double weight, double total_weight) {
  if (total_usage <= 0 || usage <= 0) return 1.0;
  if (weight <= 0 || total_weight <= 0) return 0.0;
  const double usage_share = usage / total_usage;
  const double weight_share = weight / total_weight;
  return std::exp2(-usage_share / weight_share);
}

}  // namespace zs
