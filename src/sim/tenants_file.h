// Reading a tenants file (docs/tenants.md): the YAML form of TenantShares that
// `zs sim --tenants FILE`, `zs controller --tenants FILE` and `zs admin apply FILE` take.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include "core/accelerator.h"
#include "core/cluster.h"
#include "core/tenant_shares.h"

namespace zs {

inline constexpr std::size_t kMaxTenantsFileBytes = std::size_t{16} << 20;
inline constexpr std::size_t kMaxTenants = 100'000;

// YAML text -> shares. Quota and price types resolve through the catalog (names and aliases).
// Errors are InputError naming source:line:column and what is wrong; malformed YAML is an
// InputError too, never a crash. The result is indexed (TenantShares::find is O(1)).
TenantShares parse_tenants_yaml(std::string_view text, const std::string& source,
                                const Catalog& catalog);

// The YAML form of `shares` that parse_tenants_yaml reads back equal (weights and prices
// exactly): what `zs admin apply` stores and `zs admin shares` prints. Sections the file did not
// give (the *_set flags, no prices, no default) are left out, so that applying it again changes
// nothing else.
std::string tenants_yaml(const TenantShares& shares, const Catalog& catalog);

// Reads and parses the file at `path` (at most kMaxTenantsFileBytes). A missing or unreadable
// file is an InputError naming the path.
TenantShares load_tenants_file(const std::string& path, const Catalog& catalog);

// The checks against a known cluster: the guarantees of each type fit what the cluster has
// (TenantShares::shortfalls), and a priced file prices every type the cluster has
// (TenantShares::unpriced_types). Throws InputError(source, ...) naming every problem.
void check_tenants_against(const TenantShares& shares, const Cluster& cluster,
                           const Catalog& catalog, const std::string& source);

}  // namespace zs
