// zs admin apply's two pure parts: TenantShares::apply (declarative, like kubectl apply without
// --prune) and tenants_yaml, the stored form that reads back equal.
#include <gtest/gtest.h>

#include <random>

#include "core/accelerator.h"
#include "core/tenant_shares.h"
#include "sim/tenants_file.h"

namespace zs {
namespace {

const Catalog& cat() {
  return Catalog::builtin();
}

TenantShares parse(const std::string& text) {
  return parse_tenants_yaml(text, "test.yaml", cat());
}

TEST(TenantsApply, ListedTenantsBecomeExactlyWhatTheFileSaysOthersStay) {
  const TenantShares now = parse(
      "tenants:\n"
      "  - name: vision\n"
      "    weight: 2\n"
      "    quota: {MLU590: {guaranteed: 64, borrow: 32}}\n"
      "  - name: speech\n"
      "    quota: {MLU590: {guaranteed: 64}}\n"
      "prices: {MLU590: 8.5}\n"
      "preemption: {grace: 30s}\n");
  const TenantShares file = parse(
      "tenants:\n"
      "  - name: vision\n"
      "    quota: {A100-SXM4-80GB: {borrow: 16}}\n"
      "  - name: speech\n"
      "    quota: {MLU590: {guaranteed: 64}}\n"
      "  - name: robotics\n"
      "    quota: {MLU590: {guaranteed: 8}}\n"
      "preemption: {min_runtime: 5m}\n");
  const auto applied = now.apply(file);
  EXPECT_EQ(applied.added, std::vector<std::string>{"robotics"});
  EXPECT_EQ(applied.changed, std::vector<std::string>{"vision"});
  EXPECT_EQ(applied.unchanged, std::vector<std::string>{"speech"});
  EXPECT_TRUE(applied.settings_changed);
  const TenantShares& s = applied.shares;
  const TypeId mlu = *cat().find("MLU590"), a100 = *cat().find("A100-SXM4-80GB");
  // vision: exactly the file's entry: weight back to 1, no MLU590 quota any more.
  const TenantShare& vision = s.share_of("vision");
  EXPECT_EQ(vision.weight, 1.0);
  EXPECT_EQ(vision.of(mlu), TypeQuota{});
  EXPECT_EQ(vision.of(a100).borrow, 16);
  EXPECT_EQ(s.share_of("robotics").of(mlu).guaranteed, 8);
  // What the file leaves out stays: prices and the grace; what it gives replaces.
  EXPECT_EQ(s.price(mlu), 8.5);
  EXPECT_EQ(s.preemption.grace_ms, 30'000);
  EXPECT_EQ(s.preemption.min_runtime_ms, 300'000);
  // Applying the same file again changes nothing.
  const auto again = s.apply(file);
  EXPECT_TRUE(again.added.empty());
  EXPECT_TRUE(again.changed.empty());
  EXPECT_FALSE(again.settings_changed);
  EXPECT_EQ(again.shares, s);
}

TEST(TenantsApply, TheStoredFormReadsBackEqual) {
  const std::string text =
      "tenants:\n"
      "  - name: vision\n"
      "    weight: 2.5\n"
      "    quota: {MLU590: {guaranteed: 64, borrow: 32}, V100: {borrow: unlimited}}\n"
      "  - name: \"odd.name-1\"\n"
      "    weight: 0.1\n"
      "    quota: {}\n"
      "default: {weight: 0.3333, quota: {MLU590: {borrow: 8}}}\n"
      "prices: {MLU590: 8.55, V100: 0.1}\n"
      "fair_share: {half_life: 36h}\n"
      "preemption: {signal: SIGUSR2, grace: 90s, min_runtime: 0s, checkpoint: all}\n";
  const TenantShares first = parse(text);
  const std::string stored = tenants_yaml(first, cat());
  const TenantShares back = parse(stored);
  EXPECT_EQ(back, first) << stored;
  EXPECT_EQ(tenants_yaml(back, cat()), stored);
  EXPECT_TRUE(back.half_life_set && back.preemption.checkpoint_set);
  // Nothing given, nothing written: a file of tenants only stays one.
  const TenantShares bare = parse("tenants:\n  - name: a\n    quota: {V100: {guaranteed: 1}}\n");
  const std::string bare_text = tenants_yaml(bare, cat());
  EXPECT_EQ(bare_text.find("prices"), std::string::npos) << bare_text;
  EXPECT_EQ(bare_text.find("preemption"), std::string::npos) << bare_text;
  EXPECT_EQ(parse(bare_text), bare);
  EXPECT_EQ(parse(tenants_yaml(TenantShares{}, cat())), TenantShares{});
}

// Random shares (every type, odd weights and prices, unlimited borrows) read back equal.
TEST(TenantsApply, RandomSharesReadBackEqual) {
  std::mt19937_64 rng(16);
  for (int round = 0; round < 200; ++round) {
    TenantShares s;
    const int n = static_cast<int>(rng() % 6);
    auto share = [&](const std::string& name) {
      TenantShare t;
      t.name = name;
      t.weight = std::uniform_real_distribution<double>(0.001, 1000)(rng);
      t.quota.assign(cat().size(), TypeQuota{});
      for (TypeId ty = 0; ty < cat().size(); ++ty) {
        if (rng() % 3) continue;
        t.quota[ty].guaranteed = static_cast<int>(rng() % 100);
        t.quota[ty].borrow = rng() % 4 == 0 ? TypeQuota::kUnlimited : static_cast<int>(rng() % 50);
      }
      return t;
    };
    for (int i = 0; i < n; ++i) s.tenants.push_back(share("t" + std::to_string(i)));
    if (rng() % 2) {
      TenantShare d = share("");
      for (auto& q : d.quota) q.guaranteed = 0;  // a default entry never guarantees
      s.default_share = d;
    }
    if (rng() % 2) {
      s.price_per_hour.assign(cat().size(), -1.0);
      for (auto& p : s.price_per_hour)
        if (rng() % 2) p = std::uniform_real_distribution<double>(0, 100)(rng);
    }
    if (rng() % 2) {
      s.half_life_ms = 1 + static_cast<TimeMs>(rng() % (30LL * 86'400'000));
      s.half_life_set = true;
    }
    s.index();
    TenantShares back;
    const std::string text = tenants_yaml(s, cat());
    ASSERT_NO_THROW(back = parse(text)) << text;
    ASSERT_EQ(back, s) << text;
  }
}

}  // namespace
}  // namespace zs
