#include "sched/share_gate.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "core/fair_share.h"
#include "sched/placement_search.h"
#include "sched/share_index.h"

namespace zs {

ShareGate::ShareGate(const Snapshot& s) : s_(s), active_(s.shares != nullptr) {
  if (!active_) return;
  const auto& have = s.cluster->accels_of_type;
  slot_of_type_.assign(have.size(), -1);
  for (TypeId t = 0; t < have.size(); ++t)
    if (have[t] > 0) {
      slot_of_type_[t] = static_cast<int>(type_of_slot_.size());
      type_of_slot_.push_back(t);
    }
  types_ = type_of_slot_.size();
  tenants_ = s.tenants.size() + 1;
  used_.assign(tenants_ * types_, 0);
  guaranteed_.assign(tenants_ * types_, -1);
  limit_.assign(tenants_ * types_, -1);
  for (std::size_t t = 0; t < s.tenants.size(); ++t)
    if (const TenantShare* share = s.tenants[t].share)
      for (std::size_t k = 0; k < types_; ++k) {
        const TypeQuota& q = share->of(type_of_slot_[k]);
        guaranteed_[t * types_ + k] = q.guaranteed;
        limit_[t * types_ + k] = q.limit();
      }
  unmet_.assign(tenants_ * types_, 0);
  held_.assign(types_, 0);

  // Fair share: each tenant's billed usage against its weight.
  factor_.assign(tenants_, 1.0);
  double total_usage = 0, total_weight = 0;
  for (const TenantView& v : s.tenants) {
    total_usage += v.usage;
    total_weight += v.share ? v.share->weight : 1.0;
  }
  for (std::size_t i = 0; i < s.tenants.size(); ++i) {
    const TenantView& v = s.tenants[i];
    factor_[i] =
        fair_share_factor(v.usage, total_usage, v.share ? v.share->weight : 1.0, total_weight);
  }

  // Devices held per tenant and type; a running job is borrowing when what its tenant started
  // on that type before it, plus its own devices, exceed the guarantee.
  // The driver may keep them in (started, id) order (Snapshot::running_by_start); else they are
  // sorted by value, not through pointers.
  if (s.running_by_start.size() != s.running.size()) {
    struct ByStart {
      TimeMs started;
      JobId id;
      std::uint32_t index;
      bool operator<(const ByStart& o) const {
        return started != o.started ? started < o.started : id < o.id;
      }
    };
    std::vector<ByStart> keyed(s.running.size());
    for (std::uint32_t i = 0; i < s.running.size(); ++i)
      keyed[i] = {s.running[i].started, s.running[i].job->id, i};
    std::sort(keyed.begin(), keyed.end());
    by_start_.resize(keyed.size());
    for (std::size_t k = 0; k < keyed.size(); ++k) {
      const RunningJob& r = s.running[keyed[k].index];
      by_start_[k] = {keyed[k].index, r.job->tenant_index, r.job->accel_count, r.type, r.started};
    }
    in_start_order_ = by_start_;
  } else {
    in_start_order_ = s.running_by_start;
  }
  running_borrowing_.assign(s.running.size(), 0);
  // (no share: guaranteed_ -1, nothing guaranteed)
  if (!s.running_by_start.empty() && count_from_held()) return;
  for (const StartRow& r : in_start_order_) {
    const int slot = type_slot(r.type);
    if (slot < 0) continue;
    const std::size_t at = tenant_at(r.tenant) * types_ + static_cast<std::size_t>(slot);
    used_[at] += r.accel_count;
    running_borrowing_[r.index] = used_[at] > std::max(guaranteed_[at], 0);
  }
}

bool ShareGate::count_from_held() {
  // The driver's rows say what each tenant held up to each job (StartRow::held): each job's
  // standing at once, and the last row of each tenant and type its total, without a running
  // sum through the rows (a chain of dependent additions on every pass). Tenants outside the
  // table would share its last entry with other such tenants: counted the long way then.
  int* used = used_.data();
  const int* guaranteed = guaranteed_.data();
  std::uint8_t* borrowing = running_borrowing_.data();
  const std::size_t known = s_.tenants.size(), types = types_;
  for (const StartRow& r : in_start_order_) {
    const int slot = type_slot(r.type);
    if (slot < 0) continue;
    if (r.tenant < 0 || static_cast<std::size_t>(r.tenant) >= known) {
      std::fill(used_.begin(), used_.end(), 0);
      std::fill(running_borrowing_.begin(), running_borrowing_.end(), 0);
      return false;
    }
    const std::size_t at =
        static_cast<std::size_t>(r.tenant) * types + static_cast<std::size_t>(slot);
    used[at] = r.held;
    borrowing[r.index] = r.held > std::max(guaranteed[at], 0);
  }
  return true;
}

std::size_t ShareGate::tenant_at(std::int32_t i) const {
  return i >= 0 && static_cast<std::size_t>(i) < s_.tenants.size() ? static_cast<std::size_t>(i)
                                                                   : tenants_ - 1;
}

ShareGate::Standing ShareGate::standing(const Job& job, TypeId t) const {
  if (!active_) return Standing::kWithin;
  const int slot = type_slot(t);
  if (slot < 0) return Standing::kOver;
  const std::size_t at = tenant(job) * types_ + static_cast<std::size_t>(slot);
  if (limit_[at] < 0) return Standing::kOver;  // no share
  const std::int64_t after = std::int64_t{used_[at]} + job.accel_count;
  if (after <= guaranteed_[at]) return Standing::kWithin;
  if (after <= limit_[at]) return Standing::kBorrowing;
  return Standing::kOver;
}

ShareGate::Standing ShareGate::best_accepted(const Job& job, int& first_slot) const {
  Standing b = Standing::kOver;
  first_slot = -1;
  for (std::size_t k = 0; k < types_ && b != Standing::kWithin; ++k) {
    if (!job.accepted.contains(type_of_slot_[k])) continue;
    if (first_slot < 0) first_slot = static_cast<int>(k);
    b = std::min(b, standing(job, type_of_slot_[k]));
  }
  return b;
}

std::optional<ShareGate::Standing> ShareGate::sole_standing(const Job& job) const {
  std::optional<Standing> out;
  for (std::size_t k = 0; k < types_; ++k) {
    if (!job.accepted.contains(type_of_slot_[k])) continue;
    if (out) return std::nullopt;
    out = standing(job, type_of_slot_[k]);
  }
  return out;
}

ShareGate::Standing ShareGate::best(const Job& job, const std::vector<TypeId>& types) const {
  Standing b = Standing::kOver;
  for (TypeId t : types) b = std::min(b, standing(job, t));
  return b;
}

void ShareGate::filter(const Job& job, const std::vector<TypeId>& types, Standing want,
                       std::vector<TypeId>& out) const {
  out.clear();
  for (TypeId t : types)
    if (standing(job, t) == want) out.push_back(t);
}

namespace {

using Keyed = ShareGate::OrderKey;

// Distinct values in ascending order, or nothing when there are more than `cap`.
template <class Get>
std::vector<std::int64_t> few_distinct(const std::vector<Keyed>& v, Get get, std::size_t cap) {
  std::vector<std::int64_t> out;
  for (const Keyed& k : v) {
    const std::int64_t x = get(k);
    // Mostly the same value as the last new one (often a single value): skip the search.
    if (!out.empty() && x == out.back()) continue;
    if (std::find(out.begin(), out.end(), x) != out.end()) continue;
    if (out.size() == cap) return {};
    out.push_back(x);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The keys' indices in key order; `keys` come in (submit, id) order. A pass runs on every event of
// a simulation, and the queue is long: priorities and policy ranks take few values, so a counting
// sort over (priority, tenant, rank) buckets - stable, the keys come in index order - does in O(n +
// buckets) what a comparison sort does in O(n log n).
void sort_keyed(std::vector<Keyed>& keys, std::vector<std::uint32_t>& out, std::uint32_t tenants) {
  out.clear();
  out.reserve(keys.size());
  constexpr std::size_t kCap = 16;
  const auto prios = few_distinct(
      keys, [](const Keyed& k) { return k.neg_priority; }, kCap);
  const auto ranks = few_distinct(
      keys, [](const Keyed& k) { return k.rank; }, kCap);
  const std::size_t buckets = prios.size() * tenants * ranks.size();
  const bool by_tenant_only = prios.size() == 1 && ranks.size() == 1;  // the usual case
  if (keys.empty() || prios.empty() || ranks.empty() || buckets > 4 * keys.size() + 4096) {
    std::sort(keys.begin(), keys.end());
    for (const Keyed& k : keys) out.push_back(k.index);
    return;
  }
  auto pos = [](const std::vector<std::int64_t>& v, std::int64_t x) {
    if (v.size() == 1) return std::size_t{0};
    return static_cast<std::size_t>(std::lower_bound(v.begin(), v.end(), x) - v.begin());
  };
  std::vector<std::uint32_t> bucket(keys.size());
  std::vector<std::uint32_t> start(buckets + 1, 0);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const Keyed& k = keys[i];
    bucket[i] = by_tenant_only
                    ? k.tenant_rank
                    : static_cast<std::uint32_t>(
                          (pos(prios, k.neg_priority) * tenants + k.tenant_rank) * ranks.size() +
                          pos(ranks, k.rank));
    ++start[bucket[i] + 1];
  }
  for (std::size_t b = 1; b <= buckets; ++b) start[b] += start[b - 1];
  out.resize(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) out[start[bucket[i]]++] = keys[i].index;
}

}  // namespace

ShareGate::Order ShareGate::order(const std::vector<std::int64_t>& rank, Decisions& d,
                                  bool within_only) {
  Order o;
  const auto& pending = s_.pending;
  if (!active_) {
    o.within = s_.pending_in_priority_order ? IndexList::identity(pending.size())
                                            : IndexList(priority_order(pending));
    return o;
  }
  // Tenants by fair-share factor, best first: an integer rank per tenant keeps the sort cheap.
  const std::vector<std::uint32_t> tenant_rank = tenant_ranks();

  std::vector<Keyed> within, borrowing;
  int min_count = std::numeric_limits<int>::max();
  std::unordered_map<std::uint64_t, std::uint32_t> reason_of;  // tenant x slot -> wait reason
  // Pending jobs are in (submit, id) order, except with a driver's LAS index (any order).
  auto submit_less = [&](std::uint32_t a, std::uint32_t b) {
    const Job& x = *pending[a].job;
    const Job& y = *pending[b].job;
    return x.submit != y.submit ? x.submit < y.submit : x.id < y.id;
  };
  std::vector<std::uint32_t> by_submit;
  for (std::uint32_t i = 1;
       i < pending.size() && by_submit.empty() && !s_.pending_in_priority_order; ++i)
    if (submit_less(i, i - 1)) {
      by_submit.resize(pending.size());
      std::iota(by_submit.begin(), by_submit.end(), 0u);
      std::sort(by_submit.begin(), by_submit.end(), submit_less);
    }
  for (std::uint32_t seq = 0; seq < pending.size(); ++seq) {
    const std::uint32_t i = by_submit.empty() ? seq : by_submit[seq];
    const Job& job = *pending[i].job;
    int first_slot = -1;
    const Standing b = best_accepted(job, first_slot);
    const Keyed key{-std::int64_t{job.priority}, tenant_rank[tenant(job)],
                    rank.empty() ? 0 : rank[i], i, seq};
    if (b != Standing::kOver) min_count = std::min(min_count, job.accel_count);
    if (b == Standing::kWithin) {
      within.push_back(key);
    } else if (b == Standing::kBorrowing) {
      if (!within_only) borrowing.push_back(key);
    } else if (first_slot >= 0 && !within_only) {
      // Over the limit everywhere: say so once per tenant and type (100,000 jobs may wait).
      const std::uint64_t k = tenant(job) * types_ + static_cast<std::uint64_t>(first_slot);
      auto [it, added] = reason_of.emplace(k, static_cast<std::uint32_t>(d.wait_reasons.size()));
      if (added) {
        std::vector<TypeId> types;
        for (std::size_t s = 0; s < types_; ++s)
          if (job.accepted.contains(type_of_slot_[s])) types.push_back(type_of_slot_[s]);
        d.wait_reasons.push_back(over_reason(job, types));
      }
      d.waits.push_back({job.id, it->second});
    }
  }
  o.min_count = min_count;
  std::vector<std::uint32_t> out;
  sort_keyed(within, out, static_cast<std::uint32_t>(tenants_));
  o.within = IndexList(std::move(out));
  o.borrowing_keys_ = std::move(borrowing);
  o.tenants_ = static_cast<std::uint32_t>(tenants_);
  o.sorted_ = false;
  return o;
}

std::vector<std::uint32_t> ShareGate::tenant_ranks() const {
  std::vector<std::uint32_t> tenants(tenants_);
  std::iota(tenants.begin(), tenants.end(), 0u);
  std::stable_sort(tenants.begin(), tenants.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return factor_[a] > factor_[b]; });
  std::vector<std::uint32_t> tenant_rank(tenants_);
  for (std::uint32_t r = 0; r < tenants_; ++r) tenant_rank[tenants[r]] = r;
  return tenant_rank;
}

ShareGate::GroupOrder ShareGate::group_order(const ShareIndex& index, Decisions& d,
                                             bool within_only) const {
  GroupOrder o;
  const std::vector<std::uint32_t> tenant_rank = tenant_ranks();
  std::vector<std::uint32_t> at_rank(tenants_, ~std::uint32_t{0});  // tenant rank -> position
  auto slot_of = [&](std::size_t t) {
    const std::uint32_t r = tenant_rank[t];
    if (at_rank[r] == ~std::uint32_t{0}) at_rank[r] = 1;  // marked; positions assigned below
    return r;
  };
  // Over everywhere: one reason per (tenant, first accepted slot), worded for the first such job
  // in (submit, id) order, as order() does.
  struct Over {
    std::uint64_t key;
    std::uint32_t group, first;
  };
  std::vector<Over> over;
  // Per group: its tenant's rank * 2 + 0 within / 1 borrowing, kNone if it is offered neither
  // way (read once: a group's first job is a cache miss).
  constexpr std::uint32_t kNone = ~std::uint32_t{0};
  std::vector<std::uint32_t> placed(index.group_count(), kNone);
  for (std::uint32_t g = 0; g < index.group_count(); ++g) {
    const ShareIndex::Group& grp = index.group(g);
    if (grp.size == 0) continue;
    const Job& job = *grp.like;
    int first_slot = -1;
    const Standing b = best_accepted(job, first_slot);
    if (b != Standing::kOver) o.min_count = std::min(o.min_count, job.accel_count);
    if (b == Standing::kWithin) {
      placed[g] = slot_of(tenant(job)) * 2;
      o.any_within = true;
    } else if (b == Standing::kBorrowing) {
      if (!within_only) placed[g] = slot_of(tenant(job)) * 2 + 1;
    } else if (first_slot >= 0 && !within_only) {
      over.push_back(
          {tenant(job) * types_ + static_cast<std::uint64_t>(first_slot), g, index.first(g, 0)});
    }
  }
  // Positions of the tenants that have groups, in rank order.
  for (std::uint32_t r = 0; r < tenants_; ++r)
    if (at_rank[r] != kNone) {
      at_rank[r] = static_cast<std::uint32_t>(o.tenants.size());
      o.tenants.push_back(r);  // the rank for now; the tenant below
    }
  std::vector<std::uint32_t> tenant_at_rank(tenants_);
  for (std::uint32_t t = 0; t < tenants_; ++t) tenant_at_rank[tenant_rank[t]] = t;
  for (std::uint32_t& t : o.tenants) t = tenant_at_rank[t];
  // Each tenant's groups in group order: counted, then filled.
  o.within.from.assign(o.tenants.size() + 1, 0);
  o.borrowing.from.assign(o.tenants.size() + 1, 0);
  for (std::uint32_t p : placed)
    if (p != kNone) ++(p % 2 == 0 ? o.within : o.borrowing).from[at_rank[p / 2] + 1];
  for (GroupLists* lists : {&o.within, &o.borrowing}) {
    for (std::size_t k = 1; k < lists->from.size(); ++k) lists->from[k] += lists->from[k - 1];
    lists->groups.resize(lists->from.back());
  }
  std::vector<std::uint32_t> next_within(o.within.from.begin(), o.within.from.end() - 1),
      next_borrowing(o.borrowing.from.begin(), o.borrowing.from.end() - 1);
  for (std::uint32_t g = 0; g < placed.size(); ++g) {
    const std::uint32_t p = placed[g];
    if (p == kNone) continue;
    if (p % 2 == 0)
      o.within.groups[next_within[at_rank[p / 2]]++] = g;
    else
      o.borrowing.groups[next_borrowing[at_rank[p / 2]]++] = g;
  }
  if (!over.empty()) {
    std::sort(over.begin(), over.end(), [](const Over& a, const Over& b) {
      return a.key != b.key ? a.key < b.key : a.first < b.first;
    });
    std::uint32_t reason = 0;
    for (std::size_t i = 0; i < over.size(); ++i) {
      if (i == 0 || over[i].key != over[i - 1].key) {
        const Job& job = index.job(over[i].first);
        std::vector<TypeId> types;
        for (std::size_t s = 0; s < types_; ++s)
          if (job.accepted.contains(type_of_slot_[s])) types.push_back(type_of_slot_[s]);
        reason = static_cast<std::uint32_t>(d.wait_reasons.size());
        d.wait_reasons.push_back(over_reason(job, types));
      }
      d.group_waits.push_back({over[i].group, 0, ShareIndex::kEnd, reason});
    }
  }
  return o;
}

std::optional<TypeId> ShareGate::sole_type(const Job& job) const {
  std::optional<TypeId> out;
  for (std::size_t k = 0; k < types_; ++k) {
    if (!job.accepted.contains(type_of_slot_[k])) continue;
    if (out) return std::nullopt;
    out = type_of_slot_[k];
  }
  return out;
}

bool ShareGate::unlimited(const Job& job, TypeId t) const {
  const int slot = type_slot(t);
  return active_ && slot >= 0 &&
         limit_[tenant(job) * types_ + static_cast<std::size_t>(slot)] == TypeQuota::kUnlimited;
}

const IndexList& ShareGate::Order::borrowing() {
  if (!sorted_) {
    std::vector<std::uint32_t> out;
    sort_keyed(borrowing_keys_, out, tenants_);
    borrowing_ = IndexList(std::move(out));
    borrowing_keys_ = {};
    sorted_ = true;
  }
  return borrowing_;
}

int ShareGate::held_back(std::size_t t, int slot) const {
  const TenantShare* share = t < s_.tenants.size() ? s_.tenants[t].share : nullptr;
  if (!share) return 0;
  const int headroom =
      share->of(type_of_slot_[static_cast<std::size_t>(slot)]).guaranteed - used(t, slot);
  return std::max(0, std::min(headroom, unmet_[t * types_ + static_cast<std::size_t>(slot)]));
}

void ShareGate::started(const Job& job, TypeId type) {
  if (!active_) return;
  const int slot = type_slot(type);
  if (slot < 0) return;
  const std::size_t t = tenant(job);
  const int before = held_back(t, slot);
  used(t, slot) += job.accel_count;
  held_[static_cast<std::size_t>(slot)] += held_back(t, slot) - before;
}

void ShareGate::released(const RunningJob& r) {
  if (!active_) return;
  const int slot = type_slot(r.type);
  if (slot < 0) return;
  const std::size_t t = tenant(*r.job);
  released_ = true;
  const int before = held_back(t, slot);
  used(t, slot) -= r.job->accel_count;
  held_[static_cast<std::size_t>(slot)] += held_back(t, slot) - before;
  // What the tenant started on the type before its later jobs shrank: recount which of them
  // still borrow (a reclaimed gang may take the tenant below its guarantee; the jobs it started
  // after that gang are then within it, and neither reclaim nor the tenant's own jobs may take
  // them). Rare: once per victim.
  if (gone_.empty()) gone_.assign(s_.running.size(), false);
  gone_[static_cast<std::size_t>(&r - s_.running.data())] = true;
  const int guaranteed = std::max(guaranteed_[t * types_ + static_cast<std::size_t>(slot)], 0);
  int held = 0;
  for (const StartRow& x : in_start_order_) {
    if (gone_[x.index] || x.type != r.type || tenant_at(x.tenant) != t) continue;
    held += x.accel_count;
    running_borrowing_[x.index] = held > guaranteed;
  }
}

void ShareGate::needs(const Job& job, const std::vector<TypeId>& types) {
  if (!active_) return;
  const std::size_t t = tenant(job);
  for (TypeId type : types) {
    const int slot = type_slot(type);
    if (slot < 0) continue;
    const int before = held_back(t, slot);
    unmet_[t * types_ + static_cast<std::size_t>(slot)] += job.accel_count;
    held_[static_cast<std::size_t>(slot)] += held_back(t, slot) - before;
  }
}

bool ShareGate::may_borrow(const FreePool& pool, TypeId t, int n) {
  if (!active_) return true;
  const int slot = type_slot(t);
  if (slot < 0) return false;
  return pool.free_of_type(t) - n >= held_[static_cast<std::size_t>(slot)];
}

bool ShareGate::some_may_borrow(const FreePool& pool, int min_count) const {
  if (!active_ || released_) return true;
  for (std::size_t k = 0; k < types_; ++k)
    if (pool.free_of_type(type_of_slot_[k]) - min_count >= held_[k]) return true;
  return false;
}

ShareGate::ReclaimOutlook ShareGate::reclaim_outlook(TimeMs now, TimeMs min_run) const {
  ReclaimOutlook o;
  if (!active_) return o;
  // In start order: once one borrowing job is too young, so are all that started after it.
  for (const StartRow& r : in_start_order_) {
    if (!running_borrowing_[r.index]) continue;
    if (r.started + min_run > now) {
      o.next = r.started + min_run;
      break;
    }
    o.devices += r.accel_count;
  }
  return o;
}

ShareGate::PassStart ShareGate::pass_start(TimeMs now, Decisions& d) const {
  const auto outlook = reclaim_outlook(now, s_.params.min_run_ms);
  PassStart p{true, outlook.devices, outlook.next};
  if (usable_free_total(s_) > 0) return p;
  p.can_start = false;
  if (!may_have_within()) return p;
  if (p.reclaimable > 0) {
    p.can_start = true;
    return p;
  }
  // Nothing to take back yet: a borrowing job coming of age is the next chance.
  if (p.next_of_age < kNever && any_within()) d.wake_at = std::min(d.wake_at, p.next_of_age);
  return p;
}

bool ShareGate::may_have_within() const {
  if (!active_) return true;
  for (std::size_t t = 0; t + 1 < tenants_; ++t) {
    const TenantView& v = s_.tenants[t];
    if (v.waiting == 0 || !v.share) continue;
    for (std::size_t k = 0; k < types_; ++k)
      if (used(t, static_cast<int>(k)) < v.share->of(type_of_slot_[k]).guaranteed) return true;
  }
  // Jobs whose tenant index is unknown stand with no share at all: never within a guarantee.
  return false;
}

bool ShareGate::any_within() const {
  for (const PendingJob& p : s_.pending)
    for (std::size_t k = 0; k < types_; ++k)
      if (p.job->accepted.contains(type_of_slot_[k]) &&
          standing(*p.job, type_of_slot_[k]) == Standing::kWithin)
        return true;
  return false;
}

double ShareGate::factor(const Job& job) const {
  return active_ ? factor_[tenant(job)] : 1.0;
}

std::string ShareGate::over_reason(const Job& job, const std::vector<TypeId>& types) const {
  const std::size_t ti = tenant(job);
  const TenantShare* share = ti < s_.tenants.size() ? s_.tenants[ti].share : nullptr;
  const std::string who = "tenant " + (job.tenant.empty() ? std::string("(none)") : job.tenant);
  std::string out;
  for (TypeId t : types) {
    const int slot = type_slot(t);
    if (slot < 0) continue;
    const std::string name = s_.catalog ? s_.catalog->name(t) : "type " + std::to_string(t);
    const TypeQuota q = share ? share->of(t) : TypeQuota{};
    if (!out.empty()) out += "; ";
    if (q.limit() == 0) {
      out += who + " has no quota of " + name;
      continue;
    }
    out +=
        who + " may hold at most " + std::to_string(q.limit()) + " x " + name + " (" +
        std::to_string(q.guaranteed) + " guaranteed + " +
        (q.borrow == TypeQuota::kUnlimited ? std::string("unlimited") : std::to_string(q.borrow)) +
        " borrowed), holds " + std::to_string(used(ti, slot)) + ", job asks " +
        std::to_string(job.accel_count);
  }
  return out.empty() ? who + ": no quota for the types this job accepts" : out;
}

}  // namespace zs
