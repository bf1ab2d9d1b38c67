#include "core/runtime_predictor.h"

#include <algorithm>
#include <functional>

namespace zs {

namespace {

// splitmix64's finalizer: spreads a combined key over 64 bits.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

std::uint64_t combine(std::uint64_t seed, std::uint64_t v) {
  return mix(seed ^ (v + 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2)));
}

std::uint64_t text_hash(std::string_view s) {
  return std::hash<std::string_view>{}(s);
}

}  // namespace

std::string_view RuntimePredictor::level_name(Level l) {
  switch (l) {
    case Level::kUserNameCount:
      return "user+name+count";
    case Level::kUserName:
      return "user+name";
    case Level::kUserWalltimeCount:
      return "user+walltime+count";
    case Level::kUserWalltime:
      return "user+walltime";
    case Level::kUserCount:
      return "user+count";
    case Level::kUser:
      return "user";
    case Level::kTenantNameCount:
      return "tenant+name+count";
    case Level::kTenantName:
      return "tenant+name";
    case Level::kNameCount:
      return "name+count";
    case Level::kName:
      return "name";
    case Level::kTenantCount:
      return "tenant+count";
    case Level::kTenant:
      return "tenant";
    case Level::kCount:
      return "count";
    case Level::kAll:
      return "all";
    case Level::kNone:
      break;
  }
  return "none";
}

RuntimePredictor::Keys RuntimePredictor::keys_of(const Job& job) {
  Keys k{};
  const bool user = !job.user.empty(), name = !job.name.empty();
  // The tenant is always a feature: an empty tenant is one group (jobs of no tenant).
  const std::uint64_t u = text_hash(job.user), n = text_hash(job.name), t = text_hash(job.tenant);
  const auto c = static_cast<std::uint64_t>(job.accel_count);
  auto key = [](Level l, std::initializer_list<std::uint64_t> parts) {
    std::uint64_t h = mix(static_cast<std::uint64_t>(l) + 1);
    for (std::uint64_t p : parts) h = combine(h, p);
    return h | 1;  // never 0 (0 marks a level that does not apply)
  };
  auto at = [&](Level l) -> std::uint64_t& { return k[static_cast<std::size_t>(l)]; };
  if (user && name) at(Level::kUserNameCount) = key(Level::kUserNameCount, {u, n, c});
  if (user && name) at(Level::kUserName) = key(Level::kUserName, {u, n});
  const auto w = static_cast<std::uint64_t>(job.walltime);
  if (user && job.walltime > 0)
    at(Level::kUserWalltimeCount) = key(Level::kUserWalltimeCount, {u, w, c});
  if (user && job.walltime > 0) at(Level::kUserWalltime) = key(Level::kUserWalltime, {u, w});
  if (user) at(Level::kUserCount) = key(Level::kUserCount, {u, c});
  if (user) at(Level::kUser) = key(Level::kUser, {u});
  if (name) at(Level::kTenantNameCount) = key(Level::kTenantNameCount, {t, n, c});
  if (name) at(Level::kTenantName) = key(Level::kTenantName, {t, n});
  if (name) at(Level::kNameCount) = key(Level::kNameCount, {n, c});
  if (name) at(Level::kName) = key(Level::kName, {n});
  at(Level::kTenantCount) = key(Level::kTenantCount, {t, c});
  at(Level::kTenant) = key(Level::kTenant, {t});
  at(Level::kCount) = key(Level::kCount, {c});
  at(Level::kAll) = key(Level::kAll, {});
  return k;
}

RuntimePredictor::Prediction RuntimePredictor::predict(const Job& job) const {
  const Keys keys = keys_of(job);
  Prediction p;
  for (std::size_t l = 0; l < kLevels; ++l) {
    if (keys[l] == 0) continue;
    auto it = groups_.find(keys[l]);
    if (it == groups_.end() || it->second.n < static_cast<std::uint32_t>(opt_.min_history))
      continue;
    const Group& g = it->second;
    // The mean of the last two (Tsafrir et al.); one run when only one is known.
    p.ms = g.n >= 2 ? (g.last + g.previous + 1) / 2 : g.last;
    p.level = static_cast<Level>(l);
    break;
  }
  if (p.level == Level::kNone) p.ms = job.walltime > 0 ? job.walltime : opt_.no_history_ms;
  if (job.walltime > 0) p.ms = std::min(p.ms, job.walltime);
  p.ms = std::max<TimeMs>(p.ms, 1);
  return p;
}

void RuntimePredictor::observe(const Job& job, TimeMs ran_ms) {
  ran_ms = std::max<TimeMs>(ran_ms, 0);
  const Keys keys = keys_of(job);
  for (std::size_t l = 0; l < kLevels; ++l) {
    const std::uint64_t k = keys[l];
    if (k == 0) continue;
    auto it = groups_.find(k);
    if (it == groups_.end()) {
      const bool broad = static_cast<Level>(l) >= Level::kTenantCount;
      if (groups_.size() >= opt_.max_groups && !broad) continue;
      it = groups_.emplace(k, Group{}).first;
    }
    Group& g = it->second;
    g.previous = g.last;
    g.last = ran_ms;
    if (g.n < ~std::uint32_t{0}) ++g.n;
  }
  ++observed_;
}

TimeMs RuntimePredictor::extended(TimeMs predicted, TimeMs elapsed, TimeMs walltime) {
  TimeMs p = std::max<TimeMs>(predicted, 1);
  if (walltime > 0) p = std::min(p, walltime);
  // At most ~60 doublings from 1 ms to the end of time.
  while (p <= elapsed && (walltime <= 0 || p < walltime) && p < kNever / 4)
    p = std::max(2 * p, p + 60'000);
  return walltime > 0 ? std::min(p, walltime) : p;
}

void PredictionErrors::add(TimeMs predicted, TimeMs actual) {
  const double off =
      static_cast<double>(predicted > actual ? predicted - actual : actual - predicted);
  abs_sum_ms_ += off;
  if (predicted < actual) ++under_;
  // Relative to at least one second: a job that ran 0 s is not infinitely mispredicted.
  relative_.push_back(off / static_cast<double>(std::max<TimeMs>(actual, 1000)));
}

double PredictionErrors::mean_absolute_s() const {
  return relative_.empty() ? 0 : abs_sum_ms_ / 1000.0 / static_cast<double>(relative_.size());
}

double PredictionErrors::median_relative() const {
  if (relative_.empty()) return 0;
  std::vector<double> v = relative_;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>((v.size() - 1) / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

double PredictionErrors::under_share() const {
  return relative_.empty() ? 0
                           : static_cast<double>(under_) / static_cast<double>(relative_.size());
}

}  // namespace zs
