#include "core/tenant_shares.h"

#include <algorithm>

namespace zs {

int TenantShares::find(std::string_view tenant) const {
  if (by_name_.size() != tenants.size()) {
    for (std::size_t i = 0; i < tenants.size(); ++i)
      if (tenants[i].name == tenant) return static_cast<int>(i);
    return -1;
  }
  auto it = by_name_.find(std::string(tenant));
  return it == by_name_.end() ? -1 : it->second;
}

const TenantShare& TenantShares::share_of(std::string_view tenant) const {
  static const TenantShare kNothing;
  const int i = find(tenant);
  if (i >= 0) return tenants[static_cast<std::size_t>(i)];
  return default_share ? *default_share : kNothing;
}

void TenantShares::index() {
  by_name_.clear();
  for (std::size_t i = 0; i < tenants.size(); ++i)
    by_name_.emplace(tenants[i].name, static_cast<int>(i));
}

std::vector<TenantShares::GuaranteeTotal> TenantShares::guarantee_totals(
    const Cluster& cluster, const Catalog& catalog) const {
  std::vector<GuaranteeTotal> out;
  for (TypeId t = 0; t < catalog.size(); ++t) {
    GuaranteeTotal g{t, 0, t < cluster.accels_of_type.size() ? cluster.accels_of_type[t] : 0};
    for (const TenantShare& s : tenants) g.guaranteed += s.of(t).guaranteed;
    if (g.guaranteed > 0) out.push_back(g);
  }
  return out;
}

std::vector<std::string> TenantShares::shortfalls(const Cluster& cluster,
                                                  const Catalog& catalog) const {
  std::vector<std::string> out;
  for (const GuaranteeTotal& g : guarantee_totals(cluster, catalog))
    if (g.short_by() > 0)
      out.push_back(catalog.name(g.type) + ": guarantees add up to " +
                    std::to_string(g.guaranteed) + ", the cluster has " +
                    std::to_string(g.available) + " (" + std::to_string(g.short_by()) + " short)");
  return out;
}

std::vector<std::string> TenantShares::unpriced_types(const Cluster& cluster,
                                                      const Catalog& catalog) const {
  std::vector<std::string> out;
  if (price_per_hour.empty()) return out;
  for (TypeId t = 0; t < cluster.accels_of_type.size() && t < catalog.size(); ++t)
    if (cluster.accels_of_type[t] > 0 && (t >= price_per_hour.size() || price_per_hour[t] < 0))
      out.push_back(catalog.name(t));
  return out;
}

TenantShares::Applied TenantShares::apply(const TenantShares& file) const {
  Applied out;
  out.shares = *this;
  TenantShares& to = out.shares;
  std::unordered_map<std::string, std::size_t> at;  // 100,000 tenants: no linear search
  for (std::size_t i = 0; i < to.tenants.size(); ++i) at.emplace(to.tenants[i].name, i);
  for (const TenantShare& t : file.tenants) {
    auto [it, added] = at.emplace(t.name, to.tenants.size());
    if (added) {
      to.tenants.push_back(t);
      out.added.push_back(t.name);
    } else if (to.tenants[it->second] == t) {
      out.unchanged.push_back(t.name);
    } else {
      to.tenants[it->second] = t;
      out.changed.push_back(t.name);
    }
  }
  if (file.default_share) to.default_share = file.default_share;
  if (!file.price_per_hour.empty()) to.price_per_hour = file.price_per_hour;
  if (file.half_life_set) {
    to.half_life_ms = file.half_life_ms;
    to.half_life_set = true;
  }
  PreemptionSettings& p = to.preemption;
  const PreemptionSettings& f = file.preemption;
  if (f.signal_set) {
    p.signal = f.signal;
    p.signal_name = f.signal_name;
    p.signal_set = true;
  }
  if (f.grace_set) {
    p.grace_ms = f.grace_ms;
    p.grace_set = true;
  }
  if (f.min_runtime_set) {
    p.min_runtime_ms = f.min_runtime_ms;
    p.min_runtime_set = true;
  }
  if (f.checkpoint_set) {
    p.checkpoint_all = f.checkpoint_all;
    p.checkpoint_set = true;
  }
  out.settings_changed = to.default_share != default_share || to.price_per_hour != price_per_hour ||
                         to.half_life_ms != half_life_ms || to.preemption != preemption;
  to.index();
  return out;
}

}  // namespace zs
