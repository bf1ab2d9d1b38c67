#include "core/service_distribution.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

namespace zs {

const std::array<TimeMs, ServiceDistribution::kBins + 2> ServiceDistribution::kBinStarts = [] {
  std::array<TimeMs, kBins + 2> s{};
  for (int k = 1; k < kBins; ++k)
    s[static_cast<std::size_t>(k)] =
        static_cast<TimeMs>(std::llround(10'000.0 * std::exp2((k - 1) / 2.0)));
  s[kBins] = s[kBins + 1] = kNever;
  return s;
}();

const std::array<std::uint8_t, 64> ServiceDistribution::kBinOfPower = [] {
  std::array<std::uint8_t, 64> b{};
  const auto& s = kBinStarts;
  for (std::size_t m = 0; m < 63; ++m) {
    const auto it = std::upper_bound(s.begin(), s.begin() + kBins, TimeMs{1} << m);
    b[m] = static_cast<std::uint8_t>(std::max(static_cast<int>(it - s.begin()) - 1, 0));
  }
  return b;
}();

const std::array<TimeMs, ServiceDistribution::kMaxStep + 1> ServiceDistribution::kRankOfStep = [] {
  std::array<TimeMs, kMaxStep + 1> r{};
  for (int st = 0; st <= kMaxStep; ++st)
    r[static_cast<std::size_t>(st)] =
        static_cast<TimeMs>(std::llround(1000.0 * std::exp2(st / 2.0)));
  return r;
}();

namespace {

constexpr int kMaxStep = ServiceDistribution::kMaxStep;

// The width of a bin; the open last bin counts as wide as its start (up to twice it).
double bin_width(int bin) {
  using SD = ServiceDistribution;
  return bin + 1 < SD::kBins ? static_cast<double>(SD::bin_start(bin + 1) - SD::bin_start(bin))
                             : static_cast<double>(SD::bin_start(bin));
}

// The rank class of an index (per accelerator-ms): 1 / index rounded up to 1 s x sqrt(2)^step.
std::uint8_t step_of(double index) {
  if (!(index > 0)) return ServiceDistribution::Ranks::kOutlived;
  const double steps = std::ceil(2.0 * std::log2(1.0 / index / 1000.0) - 1e-9);
  return static_cast<std::uint8_t>(std::clamp(steps, 0.0, static_cast<double>(kMaxStep)));
}

}  // namespace

namespace {

// tail[k]: jobs whose service reached bin k's start (proportional to the survival there);
// tail[bins] = 0.
template <class Count>
std::vector<double> tails(std::span<const Count> counts) {
  const std::size_t bins = std::min<std::size_t>(counts.size(), ServiceDistribution::kBins);
  std::vector<double> tail(bins + 1, 0.0);
  for (std::size_t k = bins; k-- > 0;) tail[k] = tail[k + 1] + counts[k];
  return tail;
}

// The best G(a, D) for a at the start of `bin` and D ending at the start of bin + q, q in
// [q_from, q_to]. E[min(S - a, D) | S > a] is the integral of the survival over [a, a + D]
// (linear inside a bin) over the survival at a, which cancels in the ratio.
double best_index(const std::vector<double>& tail, int bin, int q_from, int q_to) {
  const int bins = static_cast<int>(tail.size()) - 1;
  if (bin < 0 || bin >= bins || q_from < 1) return 0;
  const double alive = tail[static_cast<std::size_t>(bin)];
  double best = 0, spent = 0;
  for (int q = 1; alive > 0 && q <= q_to && bin + q <= bins; ++q) {
    const auto j = static_cast<std::size_t>(bin + q - 1);
    spent += bin_width(bin + q - 1) * (tail[j] + tail[j + 1]) / 2;
    if (q >= q_from) best = std::max(best, (alive - tail[j + 1]) / spent);
  }
  return best;
}

}  // namespace

double ServiceDistribution::gittins_index(std::span<const std::uint32_t> counts, int bin,
                                          int quantum_bins) {
  return best_index(tails(counts), bin, quantum_bins, quantum_bins);
}

double ServiceDistribution::gittins_index(std::span<const std::uint32_t> counts, int bin) {
  return best_index(tails(counts), bin, 1, kBins);
}

void ServiceDistribution::refresh(Group& g) const {
  // O(bins^2), done O(log n) times per group.
  const auto tail = tails(std::span<const std::uint16_t>(g.counts));
  for (int i = 0; i < kBins; ++i)
    g.ranks.step[static_cast<std::size_t>(i)] = step_of(best_index(tail, i, 1, kBins));
  // next_higher by a stack of the bins to the right whose rank is above all before them.
  std::array<std::uint8_t, kBins> stack{};
  std::size_t depth = 0;
  for (int b = kBins - 1; b >= 0; --b) {
    const TimeMs rank = g.ranks.rank_of_bin(b);
    while (depth > 0 && g.ranks.rank_of_bin(stack[depth - 1]) <= rank) --depth;
    g.ranks.next_higher[static_cast<std::size_t>(b)] =
        static_cast<std::uint8_t>(depth > 0 ? stack[depth - 1] : kBins);
    stack[depth++] = static_cast<std::uint8_t>(b);
  }
  ++g.ranks.version;
  ++refreshes_;
}

void ServiceDistribution::observe(const Job& job, TimeMs service_accel_ms) {
  const int bin = bin_of(std::max<TimeMs>(service_accel_ms, 0));
  const JobGroupKeys keys = job_group_keys(job);
  for (std::size_t l = 0; l < kJobGroupLevels; ++l) {
    if (keys[l] == 0) continue;
    auto it = groups_.find(keys[l]);
    if (it == groups_.end()) {
      if (groups_.size() >= opt_.max_groups && !is_broad_level(static_cast<JobGroupLevel>(l)))
        continue;
      it = groups_.emplace(keys[l], Group{}).first;
      it->second.refresh_at = static_cast<std::uint32_t>(std::max(opt_.min_samples, 1));
    }
    Group& g = it->second;
    ++g.counts[static_cast<std::size_t>(bin)];
    if (++g.n >= std::max<std::uint32_t>(opt_.window, 2)) {
      // Old jobs fade: every count halves (rounded up, so that no bin with jobs empties).
      g.n = 0;
      for (auto& c : g.counts) g.n += c = static_cast<std::uint16_t>((c + 1) / 2);
      g.refresh_at = std::min(g.refresh_at, g.n);
    }
    if (g.n >= g.refresh_at) {
      g.ready = g.n >= static_cast<std::uint32_t>(opt_.min_samples);
      if (g.ready) refresh(g);
      g.refresh_at = g.n + std::max<std::uint32_t>(1, g.n / 8);
    }
  }
}

const ServiceDistribution::Group* ServiceDistribution::ready_group(const JobGroupKeys& keys,
                                                                   std::size_t* level) const {
  for (std::size_t l = 0; l < kJobGroupLevels; ++l) {
    if (keys[l] == 0) continue;
    auto it = groups_.find(keys[l]);
    if (it == groups_.end() || !it->second.ready) continue;
    if (level) *level = l;
    return &it->second;
  }
  return nullptr;
}

const ServiceDistribution::Ranks* ServiceDistribution::ranks_for(const Job& job) const {
  if (groups_.empty()) return nullptr;
  const Group* g = ready_group(job_group_keys(job), nullptr);
  return g ? &g->ranks : nullptr;
}

JobGroupLevel ServiceDistribution::level_for(const Job& job) const {
  std::size_t level = kJobGroupLevels;
  ready_group(job_group_keys(job), &level);
  return static_cast<JobGroupLevel>(level);
}

}  // namespace zs
