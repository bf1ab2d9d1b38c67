// PassMemory (sched/pass_memory.h): what a driver lends its passes must never change a decision.
// The simulator lends one on every pass, and driver_cache_test decides each of its passes again
// without it. Here: the lending itself, and one memory used by passes on different clusters,
// with and without shares, by every policy - what a memory keeps (the request memo) must start
// again, and what it lends must be overwritten, whatever the pass before left in it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "decision_text.h"
#include "sched/free_pool.h"
#include "sched/pass_memory.h"
#include "sched/policy.h"
#include "sim/synthetic.h"

namespace zs {
namespace {

TEST(PassMemory, TakesBackWhatItGaveWithItsCapacityAndEmpty) {
  PassMemory m;
  std::vector<int> v = m.take<int>();
  EXPECT_TRUE(v.empty());
  v.assign(1000, 7);
  const int* data = v.data();
  m.give(std::move(v));
  std::vector<int> again = m.take<int>();
  EXPECT_TRUE(again.empty());
  EXPECT_GE(again.capacity(), 1000u);
  EXPECT_EQ(again.data(), data);
  // Other element types have spares of their own.
  EXPECT_EQ(m.take<long>().capacity(), 0u);
  EXPECT_EQ(m.take<int>().capacity(), 0u);  // the one spare is out
}

TEST(PassMemory, KeepsABoundedNumberOfSpares) {
  PassMemory m;
  for (int k = 0; k < 100; ++k) m.give(std::vector<double>(10));
  int spares = 0;
  while (m.take<double>().capacity() > 0) ++spares;
  EXPECT_GT(spares, 0);
  EXPECT_LT(spares, 100);
}

TEST(PassMemory, WithoutOneEveryVectorIsNew) {
  std::vector<int> v = take_vector<int>(nullptr);
  v.push_back(1);
  give_vectors(nullptr, v);  // nothing to give to: it stays
  EXPECT_EQ(v.size(), 1u);
}

TEST(PassMemory, ABufferIsNotLentTwice) {
  Lendable<std::vector<int>> buffer;
  {
    Borrowed<std::vector<int>> outer(&buffer);
    outer.slot().emplace(3, 1);
    Borrowed<std::vector<int>> inner(&buffer);  // e.g. a pass that runs another pass's code
    EXPECT_NE(&inner.slot(), &outer.slot());
    EXPECT_FALSE(inner.slot().has_value());
  }
  EXPECT_FALSE(buffer.lent);
  Borrowed<std::vector<int>> next(&buffer);  // the next pass gets it, as the last left it
  ASSERT_TRUE(next.slot().has_value());
  EXPECT_EQ(next.slot()->size(), 3u);
}

// Passes on snapshots of different clusters and shares, in turn, through one memory: each must
// decide as it would without one. A request memo kept across clusters, or a pool not made
// again, shows up as a difference.
class PassMemoryProperty : public testing::TestWithParam<std::string> {};

TEST_P(PassMemoryProperty, PassesThroughOneMemoryDecideAsWithout) {
  const auto policy = make_policy(GetParam());
  std::vector<SyntheticSnapshot> worlds;
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    SyntheticSpec spec;
    spec.nodes = 8 + static_cast<int>(seed) * 5;
    spec.per_node = seed % 2 ? 8 : 4;
    spec.type = seed % 3 == 0 ? "A100-SXM4-80GB" : "MLU590";
    spec.pending_jobs = 40 + static_cast<int>(seed) * 10;
    spec.busy_fraction = 0.3 + 0.1 * static_cast<double>(seed);
    spec.tenants = seed % 2 ? 0 : 3;
    spec.seed = seed;
    worlds.push_back(make_synthetic_snapshot(spec, Catalog::builtin()));
  }
  PassMemory memory;
  long decided = 0;
  for (int round = 0; round < 3; ++round)
    for (std::size_t k = 0; k < worlds.size(); ++k) {
      const SyntheticSnapshot& w =
          worlds[(k * 5 + static_cast<std::size_t>(round)) % worlds.size()];
      Snapshot lent = w.snapshot();
      lent.memory = &memory;
      Snapshot plain = w.snapshot();
      // Half the passes copy a driver's pool into the lent one, half build it.
      const FreePool pool(*w.cluster, w.nodes);
      if (round % 2 == 1) lent.free_pool = plain.free_pool = &pool;
      Decisions with = policy->decide(lent, w.now);
      const Decisions without = policy->decide(plain, w.now);
      EXPECT_EQ(test::describe_decisions(with, nullptr), test::describe_decisions(without, nullptr))
          << GetParam() << ", round " << round << ", world " << k;
      decided += !with.starts.empty() || !with.preemptions.empty();
      give_decisions(&memory, with);
    }
  EXPECT_GT(decided, 0);  // the passes did decide something
}

INSTANTIATE_TEST_SUITE_P(EveryPolicy, PassMemoryProperty, testing::ValuesIn(policy_names()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

}  // namespace
}  // namespace zs
