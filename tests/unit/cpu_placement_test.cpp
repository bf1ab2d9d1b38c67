// CPU jobs: -n without -N goes on as few nodes as hold its tasks, and the launch agrees.
#include <gtest/gtest.h>

#include <random>

#include "controller/launch_plan.h"
#include "sched/cpu_placement.h"

namespace zs {
namespace {

TEST(CpuPlacement, EvenSplit) {
  EXPECT_EQ(even_split(3, 1), (std::vector<int>{3}));
  EXPECT_EQ(even_split(3, 2), (std::vector<int>{2, 1}));
  EXPECT_EQ(even_split(5, 4), (std::vector<int>{2, 1, 1, 1}));
  EXPECT_EQ(even_split(8, 4), (std::vector<int>{2, 2, 2, 2}));
  EXPECT_EQ(even_split(1, 2), (std::vector<int>{1, 1}));  // at least one each
  EXPECT_TRUE(even_split(3, 0).empty());
}

TEST(CpuPlacement, FewestNodesThatHoldTheTasks) {
  const std::vector<CpuCandidate> nodes{{0, 2, 1000}, {1, 8, 1000}, {2, 4, 1000}};
  // -n 3: one node with 8 free cores holds them all.
  EXPECT_EQ(place_cpu_tasks(nodes, 3, 1, 0), (std::vector<int>{1}));
  // -n 10 -c 1: 8 + 4 free: two nodes (5 and 5).
  EXPECT_EQ(place_cpu_tasks(nodes, 10, 1, 0), (std::vector<int>{1, 2}));
  // -n 12: 4 + 4 + 4 does not fit (2 free on one); 6 + 6 neither; nothing fits 14.
  EXPECT_EQ(place_cpu_tasks(nodes, 12, 1, 0), std::nullopt);
  EXPECT_EQ(place_cpu_tasks(nodes, 14, 1, 0), std::nullopt);
  // -n 3 -c 4: 12 cores, two tasks on the 8-core node and one on the 4-core node.
  EXPECT_EQ(place_cpu_tasks(nodes, 3, 4, 0), (std::vector<int>{1, 2}));
  // Memory per node rules out node 1.
  const std::vector<CpuCandidate> low_mem{{0, 2, 1000}, {1, 8, 10}, {2, 4, 1000}};
  EXPECT_EQ(place_cpu_tasks(low_mem, 3, 1, 100), (std::vector<int>{2}));
  EXPECT_EQ(place_cpu_tasks(nodes, 0, 1, 0), std::nullopt);
  EXPECT_EQ(place_cpu_tasks({}, 1, 1, 0), std::nullopt);
}

TEST(CpuPlacement, TheLaunchStartsOnEachNodeWhatThePlacementCounted) {
  std::mt19937 rng(11);
  for (int round = 0; round < 500; ++round) {
    std::vector<CpuCandidate> nodes;
    const int count = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < count; ++i) nodes.push_back({i, static_cast<double>(rng() % 9), 1000});
    const int ntasks = 1 + static_cast<int>(rng() % 20);
    const double cpt = 1 + rng() % 2;
    auto chosen = place_cpu_tasks(nodes, ntasks, cpt, 0);
    if (!chosen) continue;
    JobSpec spec;
    spec.ntasks = ntasks;  // nodes 0: the scheduler chose
    std::vector<NodeAssignment> assignment;
    for (int c : *chosen) assignment.push_back({"n" + std::to_string(c), {}});
    const auto counts = tasks_per_node(spec, assignment);
    int sum = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
      EXPECT_LE(counts[i] * cpt, nodes[(*chosen)[i]].free_cpus);
      sum += counts[i];
    }
    EXPECT_EQ(sum, ntasks);
    // Fewest nodes: one node fewer would not hold the tasks on the roomiest nodes.
    if (chosen->size() > 1) {
      std::vector<double> free;
      for (const auto& n : nodes) free.push_back(n.free_cpus);
      std::sort(free.rbegin(), free.rend());
      const auto fewer = even_split(ntasks, static_cast<int>(chosen->size()) - 1);
      bool fits = true;
      for (std::size_t i = 0; i < fewer.size(); ++i) fits = fits && free[i] >= fewer[i] * cpt;
      EXPECT_FALSE(fits);
    }
  }
}

}  // namespace
}  // namespace zs
