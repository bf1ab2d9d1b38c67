// What each tenant is promised: guaranteed and borrowable accelerators per type, a fair-share
// weight, the prices that bill usage, and how preemption treats a reclaimed job.
//
// One description serves `zs sim --tenants FILE`, `zs controller --tenants FILE` and
// `zs admin apply FILE` (the YAML form is read by sim/tenants_file.h). Quotas count devices of
// one catalog type; a tenant may use up to guaranteed + borrow of a type, and only the
// guaranteed part can never be taken back (docs/tenants.md).
#pragma once
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/accelerator.h"
#include "core/cluster.h"
#include "core/time.h"

namespace zs {

struct TypeQuota {
  static constexpr int kUnlimited = std::numeric_limits<int>::max();
  int guaranteed = 0;
  int borrow = 0;  // kUnlimited: no borrowing limit
  // The most devices of the type the tenant may hold at once (saturating).
  int limit() const {
    return borrow == kUnlimited ? kUnlimited
                                : static_cast<int>(std::min<std::int64_t>(
                                      std::int64_t{guaranteed} + borrow, kUnlimited));
  }
  bool operator==(const TypeQuota&) const = default;
};

struct TenantShare {
  std::string name;
  double weight = 1.0;           // fair-share weight, > 0
  std::vector<TypeQuota> quota;  // by TypeId (catalog size); a type not listed: {0, 0}
  const TypeQuota& of(TypeId t) const {
    static const TypeQuota kNone;
    return t < quota.size() ? quota[t] : kNone;
  }
  bool operator==(const TenantShare&) const = default;
};

// Cluster defaults for preemption (reclaim, and las's own preemptions). A job may name its own
// checkpoint signal (sbatch --signal); the grace and the minimum run are the cluster's.
struct PreemptionSettings {
  int signal = 10;  // SIGUSR1 on Linux
  std::string signal_name = "SIGUSR1";
  TimeMs grace_ms = 120'000;
  TimeMs min_runtime_ms = 600'000;
  // Simulation: whether jobs whose trace does not say (Job::checkpoint -1) checkpoint on the
  // signal (`checkpoint: all`) or not (`none`, the default: a reclaimed job restarts from zero).
  bool checkpoint_all = false;
  // Whether the file said so: a controller flag given explicitly still wins over a default, and
  // `zs admin apply` changes only what the file names.
  bool grace_set = false, min_runtime_set = false, signal_set = false, checkpoint_set = false;
  bool operator==(const PreemptionSettings&) const = default;
};

struct TenantShares {
  std::vector<TenantShare> tenants;          // file order; names unique
  std::optional<TenantShare> default_share;  // for tenants not listed (never a guarantee)
  // Price of one accelerator-hour by TypeId. Empty: no `prices` section, every type costs 1
  // (bills are then in accelerator-hours). In a priced file a type without a price is -1 and
  // costs 0 (the checks against a cluster name such types).
  std::vector<double> price_per_hour;
  TimeMs half_life_ms = 7LL * 24 * 3600 * 1000;  // fair_share.half_life
  bool half_life_set = false;                    // the file gave it
  PreemptionSettings preemption;

  // Index in `tenants`, -1 when not listed. O(1) once index() was called (the parser does).
  int find(std::string_view tenant) const;
  // The share that applies to a tenant: its own, the default entry, or nothing at all.
  const TenantShare& share_of(std::string_view tenant) const;
  double price(TypeId t) const {
    if (price_per_hour.empty()) return 1.0;
    return t < price_per_hour.size() && price_per_hour[t] > 0 ? price_per_hour[t] : 0.0;
  }
  // Builds the name index; call after changing `tenants`.
  void index();

  // Per type that some tenant is guaranteed: what the guarantees add up to, and what the
  // cluster has (its accelerators of that type; 0 when it has none), in TypeId order.
  struct GuaranteeTotal {
    TypeId type = 0;
    std::int64_t guaranteed = 0, available = 0;
    std::int64_t short_by() const { return guaranteed > available ? guaranteed - available : 0; }
  };
  std::vector<GuaranteeTotal> guarantee_totals(const Cluster& cluster,
                                               const Catalog& catalog) const;
  // Per type: what the guarantees add up to, and what the cluster has. Empty when every
  // type's guarantees fit; otherwise one message per type, "MLU590: guarantees add up to 160,
  // the cluster has 128 (32 short)". Types in `cluster` only are counted.
  std::vector<std::string> shortfalls(const Cluster& cluster, const Catalog& catalog) const;
  // Types the cluster has that a priced file gives no price (bills would say 0).
  std::vector<std::string> unpriced_types(const Cluster& cluster, const Catalog& catalog) const;

  // `zs admin apply FILE` (declarative, like kubectl apply without --prune): the tenants the
  // file lists get exactly its weight and quotas (a tenant not yet here is added); the others
  // keep theirs. The sections the file gives (default, prices, fair_share, each preemption
  // key) replace those here; those it leaves out stay. Returns the result, indexed.
  struct Applied;
  Applied apply(const TenantShares& file) const;

  bool operator==(const TenantShares& o) const {
    return tenants == o.tenants && default_share == o.default_share &&
           price_per_hour == o.price_per_hour && half_life_ms == o.half_life_ms &&
           preemption == o.preemption;
  }

 private:
  std::unordered_map<std::string, int> by_name_;
};

struct TenantShares::Applied {
  TenantShares shares;
  std::vector<std::string> added, changed, unchanged;  // the file's tenants, by what happened
  bool settings_changed = false;                       // default, prices, fair share or preemption
};

}  // namespace zs
