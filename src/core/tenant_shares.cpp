#include "core/tenant_shares.h"

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

}  // namespace zs
