#include "sim/running_accrual.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace zs {

namespace {
// 2^x stays far from overflow below this many half-lives past the origin.
constexpr double kMaxHalfLives = 512;
}  // namespace

double RunningAccrual::weight(TimeMs started) const {
  return std::exp2(static_cast<double>(started - origin_) / static_cast<double>(half_life_));
}

bool RunningAccrual::needs_rebase(TimeMs started) const {
  if (half_life_ <= 0) return false;
  if (!has_origin_) return true;
  return static_cast<double>(started - origin_) / static_cast<double>(half_life_) > kMaxHalfLives;
}

void RunningAccrual::rebase(TimeMs origin) {
  origin_ = origin;
  has_origin_ = true;
  sums_.assign(sums_.size(), Sums{});
}

void RunningAccrual::add(std::size_t tenant, double rate_per_ms, TimeMs started) {
  if (half_life_ <= 0) return;
  if (tenant >= sums_.size()) sums_.resize(tenant + 1);
  Sums& s = sums_[tenant];
  s.rate += rate_per_ms;
  s.weighted += rate_per_ms * weight(started);
  ++s.jobs;
}

void RunningAccrual::remove(std::size_t tenant, double rate_per_ms, TimeMs started) {
  if (half_life_ <= 0 || tenant >= sums_.size()) return;
  Sums& s = sums_[tenant];
  if (s.jobs <= 1) {
    s = Sums{};  // exactly nothing left, whatever the rounding of the sums
    return;
  }
  s.rate -= rate_per_ms;
  s.weighted -= rate_per_ms * weight(started);
  --s.jobs;
}

double RunningAccrual::of(std::size_t tenant, TimeMs t) const {
  if (half_life_ <= 0 || tenant >= sums_.size() || sums_[tenant].jobs == 0) return 0;
  const Sums& s = sums_[tenant];
  const double h = static_cast<double>(half_life_);
  const double decayed = std::exp2(-static_cast<double>(t - origin_) / h) * s.weighted;
  return std::max(0.0, h / std::numbers::ln2 * (s.rate - decayed));
}

}  // namespace zs
