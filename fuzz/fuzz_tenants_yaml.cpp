// libFuzzer target: tenants files (parse_tenants_yaml), and what it accepts checked against a
// small cluster (check_tenants_against).
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "core/identity_record.h"
#include "core/input_error.h"
#include "core/signal_name.h"
#include "fuzz_common.h"
#include "sim/cluster_file.h"
#include "sim/tenants_file.h"

namespace {

void check_share(const zs::TenantShare& t, const zs::Catalog& cat, bool is_default) {
  ZS_FUZZ_CHECK(std::isfinite(t.weight) && t.weight > 0 && t.weight <= 1e6);
  ZS_FUZZ_CHECK(t.quota.size() == cat.size());
  for (const zs::TypeQuota& q : t.quota) {
    ZS_FUZZ_CHECK(q.guaranteed >= 0 && q.guaranteed <= (is_default ? 0 : 1'000'000));
    ZS_FUZZ_CHECK(q.borrow == zs::TypeQuota::kUnlimited ||
                  (q.borrow >= 0 && q.borrow <= 1'000'000));
    ZS_FUZZ_CHECK(q.limit() >= q.guaranteed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const zs::Catalog& cat = zs::Catalog::builtin();
  static const zs::Cluster cluster = zs::load_cluster("2x8xMLU590+1x4xT4", cat);
  try {
    const zs::TenantShares s = zs::parse_tenants_yaml(zs::fuzz::as_text(data, size), "t.yaml", cat);
    ZS_FUZZ_CHECK(s.tenants.size() <= zs::kMaxTenants);
    for (std::size_t i = 0; i < s.tenants.size(); ++i) {
      ZS_FUZZ_CHECK(zs::identity_name_problem(s.tenants[i].name).empty());
      ZS_FUZZ_CHECK(s.find(s.tenants[i].name) == static_cast<int>(i));
      check_share(s.tenants[i], cat, false);
    }
    if (s.default_share) check_share(*s.default_share, cat, true);
    ZS_FUZZ_CHECK(s.price_per_hour.empty() || s.price_per_hour.size() == cat.size());
    for (double p : s.price_per_hour) ZS_FUZZ_CHECK(p == -1.0 || (p >= 0 && p <= 1e9));
    ZS_FUZZ_CHECK(s.half_life_ms > 0);
    ZS_FUZZ_CHECK(s.preemption.grace_ms >= 0 && s.preemption.grace_ms <= 86'400'000);
    ZS_FUZZ_CHECK(s.preemption.min_runtime_ms >= 0);
    ZS_FUZZ_CHECK(zs::catchable_signal(s.preemption.signal));
    ZS_FUZZ_CHECK(s.preemption.signal_name == zs::signal_name(s.preemption.signal));
    try {
      zs::check_tenants_against(s, cluster, cat, "t.yaml");
    } catch (const zs::InputError& e) {
      ZS_FUZZ_CHECK(e.where() == "t.yaml");
    }
  } catch (const zs::InputError&) {
  }
  return 0;
}
