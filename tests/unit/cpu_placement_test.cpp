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
  // -n 8 -c 1: 8 free on node 1 holds them.
  EXPECT_EQ(place_cpu_tasks(nodes, 8, 1, 0), (std::vector<int>{1}));
  // -n 9: two nodes, 5 and 4.
  EXPECT_EQ(place_cpu_tasks(nodes, 9, 1, 0), (std::vector<int>{1, 2}));
  // -n 10: 5 + 5 does not fit 8 + 4, nor 4 + 3 + 3 the 2 free on node 0. The tasks are split
  // evenly (that is how the launch starts them), so the job waits.
  EXPECT_EQ(place_cpu_tasks(nodes, 10, 1, 0), std::nullopt);
  EXPECT_EQ(place_cpu_tasks(nodes, 6, 1, 0), (std::vector<int>{1}));
  const std::vector<CpuCandidate> even{{0, 4, 1000}, {1, 4, 1000}, {2, 4, 1000}};
  EXPECT_EQ(place_cpu_tasks(even, 12, 1, 0), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(place_cpu_tasks(even, 13, 1, 0), std::nullopt);
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
