// srun steps inside a job's tasks: which tasks run a step and how they are renumbered.
#include <gtest/gtest.h>

#include <vector>

#include "core/input_error.h"
#include "core/srun_step.h"

namespace zs {
namespace {

// Every task of a job of `nodes` nodes, `tasks` tasks, `per_node` per node, placed in `step`.
std::vector<StepPlace> all_places(int nodes, int tasks, int per_node, StepShape step) {
  std::vector<StepPlace> out;
  for (int n = 0; n < nodes; ++n) {
    const int here = n == nodes - 1 ? tasks - per_node * (nodes - 1) : per_node;
    for (int l = 0; l < here; ++l)
      out.push_back(place_in_step({nodes, tasks, per_node, n, l}, step));
  }
  return out;
}

std::vector<int> ranks_that_run(const std::vector<StepPlace>& places) {
  std::vector<int> r;
  for (const auto& p : places) r.push_back(p.runs ? p.rank : -1);
  return r;
}

TEST(SrunStep, AWholeJobStepKeepsEveryRank) {
  auto places = all_places(2, 8, 4, {});
  EXPECT_EQ(ranks_that_run(places), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(places[5].size, 8);
  EXPECT_EQ(places[5].local_rank, 1);
  EXPECT_EQ(places[5].local_size, 4);
  EXPECT_EQ(places[5].nodes, 2);
}

TEST(SrunStep, SmallerStepsRunInTheFirstTasksThatFit) {
  // srun -n 1: rank 0 only
  EXPECT_EQ(ranks_that_run(all_places(2, 8, 4, {1, 0, 0})),
            (std::vector<int>{0, -1, -1, -1, -1, -1, -1, -1}));
  // srun --ntasks-per-node=1: one per node, renumbered by node
  auto one_per_node = all_places(2, 8, 4, {0, 0, 1});
  EXPECT_EQ(ranks_that_run(one_per_node), (std::vector<int>{0, -1, -1, -1, 1, -1, -1, -1}));
  EXPECT_EQ(one_per_node[4].size, 2);
  EXPECT_EQ(one_per_node[4].local_size, 1);
  // srun -N 1: the first node's tasks
  auto first_node = all_places(2, 8, 4, {0, 1, 0});
  EXPECT_EQ(ranks_that_run(first_node), (std::vector<int>{0, 1, 2, 3, -1, -1, -1, -1}));
  EXPECT_EQ(first_node[0].nodes, 1);
  // srun -n 3 --ntasks-per-node=2 on 2 nodes: 0,1 on node 0 and 2 on node 1
  auto shaped = all_places(2, 8, 4, {3, 0, 2});
  EXPECT_EQ(ranks_that_run(shaped), (std::vector<int>{0, 1, -1, -1, 2, -1, -1, -1}));
  EXPECT_EQ(shaped[4].local_size, 1);
  EXPECT_EQ(shaped[4].nodes, 2);
}

TEST(SrunStep, AShortLastNodeCounts) {
  // 3 nodes x 4 tasks but 10 tasks in all: the last node has 2.
  auto places = all_places(3, 10, 4, {0, 0, 3});
  EXPECT_EQ(ranks_that_run(places), (std::vector<int>{0, 1, 2, -1, 3, 4, 5, -1, 6, 7}));
  EXPECT_EQ(places[8].size, 8);
  EXPECT_EQ(places[9].local_size, 2);
}

TEST(SrunStep, UnevenNodesFromSlurmTasksPerNode) {
  // -n 4 --gpus-per-task=1 placed as 1 + 3 devices: node 0 runs 1 task, node 1 runs 3.
  const std::vector<int> counts = parse_slurm_tasks_per_node("1,3", 2);
  ASSERT_EQ(counts, (std::vector<int>{1, 3}));
  std::vector<int> ranks;
  for (int n = 0; n < 2; ++n)
    for (int l = 0; l < counts[n]; ++l) {
      JobTaskPlace job{2, 4, 3, n, l, counts};
      StepPlace p = place_in_step(job, {});
      ranks.push_back(p.runs ? p.rank : -1);
      if (n == 1) EXPECT_EQ(p.local_size, 3);
    }
  EXPECT_EQ(ranks, (std::vector<int>{0, 1, 2, 3}));
}

TEST(SrunStep, ParsesSlurmTasksPerNode) {
  EXPECT_EQ(parse_slurm_tasks_per_node("2(x3),1", 10), (std::vector<int>{2, 2, 2, 1}));
  EXPECT_EQ(parse_slurm_tasks_per_node("4", 1), (std::vector<int>{4}));
  for (const char* bad : {"", "x", "2(x3", "2(x0)", "0", "1,,2", "-1", "2(x99999999)", "1,2,3"})
    EXPECT_TRUE(parse_slurm_tasks_per_node(bad, 2).empty()) << bad;
}

TEST(SrunStep, AStepLargerThanTheJobIsAnError) {
  const JobTaskPlace job{2, 8, 4, 0, 0};
  auto where = [&](StepShape s) {
    try {
      place_in_step(job, s);
      return std::string("accepted");
    } catch (const InputError& e) {
      return e.where();
    }
  };
  EXPECT_EQ(where({9, 0, 0}), "-n");
  EXPECT_EQ(where({0, 3, 0}), "-N");
  EXPECT_EQ(where({0, 0, 5}), "--ntasks-per-node");
  EXPECT_EQ(where({5, 1, 0}), "-n");  // one node holds only 4
  EXPECT_EQ(where({8, 2, 4}), "accepted");
}

}  // namespace
}  // namespace zs
