#include "controller/launch_plan.h"

#include <gtest/gtest.h>

#include "core/output_pattern.h"

namespace zs {
namespace {

JobRecord gang(int nodes, int devices_per_node, int tasks_per_node = 1) {
  JobRecord r;
  r.id = 42;
  r.attempt = 1;
  r.spec.name = "train";
  r.spec.user = "ann";
  r.spec.argv = {"python3", "train.py"};
  r.spec.work_dir = "/w";
  r.spec.tasks_per_node = tasks_per_node;
  r.spec.env = {"A=1"};
  for (int n = 0; n < nodes; ++n) {
    NodeAssignment a;
    a.node = "n" + std::to_string(n);
    for (int d = 0; d < devices_per_node; ++d) a.devices.push_back(d);
    r.assignment.push_back(a);
  }
  return r;
}

bool has(const std::vector<std::string>& env, const std::string& kv) {
  return std::find(env.begin(), env.end(), kv) != env.end();
}

TEST(LaunchPlan, OneTaskPerNodeHoldsAllItsDevices) {
  LaunchContext c{{"10.0.0.1", "10.0.0.2"}, 29501, "CUDA_VISIBLE_DEVICES"};
  auto plan = plan_launch(gang(2, 8), c);
  ASSERT_EQ(plan.size(), 2u);
  for (int n = 0; n < 2; ++n) {
    EXPECT_EQ(plan[n].node_rank, n);
    ASSERT_EQ(plan[n].tasks.size(), 1u);
    EXPECT_EQ(plan[n].tasks[0].rank, n);
    EXPECT_EQ(plan[n].tasks[0].devices.size(), 8u);
    EXPECT_TRUE(has(plan[n].env, "MASTER_ADDR=10.0.0.1"));
    EXPECT_TRUE(has(plan[n].env, "MASTER_PORT=29501"));
    EXPECT_TRUE(has(plan[n].env, "WORLD_SIZE=2"));
    EXPECT_TRUE(has(plan[n].env, "NODE_RANK=" + std::to_string(n)));
    EXPECT_TRUE(has(plan[n].env, "SLURM_JOB_ID=42"));
    EXPECT_TRUE(has(plan[n].env, "ZS_JOB_ID=42"));
    EXPECT_EQ(plan[n].env.front(), "A=1");  // the user's first: ours are appended after
  }
  EXPECT_EQ(plan[0].stdout_path, "zs-42.out");
  EXPECT_EQ(plan[0].stderr_path, "zs-42.out");
}

TEST(LaunchPlan, TasksPerNodeSplitDevicesAndCountRanksAcrossNodes) {
  LaunchContext c{{"h", "h"}, 1, "MLU_VISIBLE_DEVICES"};
  auto plan = plan_launch(gang(2, 8, 4), c);
  ASSERT_EQ(plan[1].tasks.size(), 4u);
  EXPECT_EQ(plan[1].tasks[0].rank, 4);
  EXPECT_EQ(plan[1].tasks[3].local_rank, 3);
  EXPECT_EQ(plan[1].tasks[2].devices, (std::vector<int>{4, 5}));
  EXPECT_TRUE(has(plan[0].env, "WORLD_SIZE=8"));
  EXPECT_TRUE(has(plan[0].env, "LOCAL_WORLD_SIZE=4"));
}

TEST(LaunchPlan, NtasksCapsTheLastNode) {
  JobRecord r = gang(2, 3, 2);
  r.spec.ntasks = 3;
  auto plan = plan_launch(r, {{"h", "h"}, 1, "X"});
  EXPECT_EQ(plan[0].tasks.size(), 2u);
  EXPECT_EQ(plan[1].tasks.size(), 1u);
  EXPECT_EQ(plan[0].tasks[0].devices, (std::vector<int>{0, 1}));  // uneven: the first gets more
  EXPECT_EQ(plan[0].tasks[1].devices, (std::vector<int>{2}));
}

std::vector<NodeAssignment> nodes_with(std::vector<int> devices) {
  std::vector<NodeAssignment> out;
  for (std::size_t i = 0; i < devices.size(); ++i) {
    NodeAssignment a;
    a.node = "n" + std::to_string(i);
    for (int d = 0; d < devices[i]; ++d) a.devices.push_back(d);
    out.push_back(a);
  }
  return out;
}

JobSpec tasks_spec(int nodes, int ntasks, int per_node = 1) {
  JobSpec s;
  s.nodes = nodes;
  s.ntasks = ntasks;
  s.tasks_per_node = per_node;
  return s;
}

TEST(TasksPerNode, NtasksWithoutNodesRunsEveryTaskOnACpuNode) {
  // zs submit -n 3 -- cmd: the CPU job got one node; all three tasks run there (issue 10/6).
  EXPECT_EQ(tasks_per_node(tasks_spec(0, 3), nodes_with({0})), (std::vector<int>{3}));
  EXPECT_EQ(tasks_per_node(tasks_spec(0, 3), nodes_with({0, 0})), (std::vector<int>{2, 1}));
  EXPECT_EQ(tasks_per_node(tasks_spec(0, 5), nodes_with({0, 0, 0, 0})),
            (std::vector<int>{2, 1, 1, 1}));
}

TEST(TasksPerNode, GpusPerTaskFollowTheDevicesEachNodeGot) {
  // --gpus-per-task=1 --ntasks=4: four tasks, not one task with four devices.
  EXPECT_EQ(tasks_per_node(tasks_spec(0, 4), nodes_with({4})), (std::vector<int>{4}));
  EXPECT_EQ(tasks_per_node(tasks_spec(0, 4), nodes_with({3, 1})), (std::vector<int>{3, 1}));
  EXPECT_EQ(tasks_per_node(tasks_spec(0, 6), nodes_with({8, 4})), (std::vector<int>{4, 2}));
  EXPECT_EQ(tasks_per_node(tasks_spec(0, 3), nodes_with({1, 1, 1})), (std::vector<int>{1, 1, 1}));
  // Uneven: the largest remainders get the extra task, and no node is left without one.
  EXPECT_EQ(tasks_per_node(tasks_spec(0, 3), nodes_with({7, 1})), (std::vector<int>{2, 1}));
  EXPECT_EQ(tasks_per_node(tasks_spec(0, 1), nodes_with({8, 8})), (std::vector<int>{1, 1}));
}

TEST(TasksPerNode, FixedNodeCountsUseBlockDistribution) {
  EXPECT_EQ(tasks_per_node(tasks_spec(2, 0, 4), nodes_with({8, 8})), (std::vector<int>{4, 4}));
  EXPECT_EQ(tasks_per_node(tasks_spec(2, 3, 2), nodes_with({8, 8})), (std::vector<int>{2, 1}));
  EXPECT_EQ(tasks_per_node(tasks_spec(3, 0), nodes_with({0, 0, 0})), (std::vector<int>{1, 1, 1}));
  // An API spec whose -n is below the nodes x per-node count still starts one task per node.
  EXPECT_EQ(tasks_per_node(tasks_spec(3, 3, 2), nodes_with({0, 0, 0})),
            (std::vector<int>{1, 1, 1}));
  EXPECT_TRUE(tasks_per_node(tasks_spec(0, 3), {}).empty());
}

TEST(TasksPerNode, SumsToTheWorldSizeOfTheLaunch) {
  for (int ntasks = 1; ntasks <= 17; ++ntasks)
    for (const auto& devices : std::vector<std::vector<int>>{{8}, {8, 8}, {8, 3}, {2, 5, 1}}) {
      JobRecord r;
      r.id = 1;
      r.attempt = 1;
      r.spec = tasks_spec(0, ntasks);
      r.spec.argv = {"x"};
      r.assignment = nodes_with(devices);
      const auto counts = tasks_per_node(r.spec, r.assignment);
      int sum = 0;
      for (int c : counts) {
        EXPECT_GE(c, 1);
        sum += c;
      }
      EXPECT_EQ(sum, std::max<int>(ntasks, static_cast<int>(devices.size())));
      auto plan = plan_launch(r, {{}, 1, "CUDA_VISIBLE_DEVICES"});
      int ranks = 0;
      for (std::size_t n = 0; n < plan.size(); ++n) {
        EXPECT_EQ(static_cast<int>(plan[n].tasks.size()), counts[n]);
        for (const auto& t : plan[n].tasks) EXPECT_EQ(t.rank, ranks++);
        EXPECT_TRUE(has(plan[n].env, "WORLD_SIZE=" + std::to_string(sum)));
      }
    }
}

TEST(TasksPerNode, SlurmTasksPerNodeForm) {
  EXPECT_EQ(slurm_tasks_per_node({2, 2, 2, 1}), "2(x3),1");
  EXPECT_EQ(slurm_tasks_per_node({4}), "4");
  EXPECT_EQ(slurm_tasks_per_node({1, 3, 3}), "1,3(x2)");
  EXPECT_EQ(slurm_tasks_per_node({}), "");
}

TEST(LaunchPlan, GpusPerTaskGiveEachTaskItsOwnDevice) {
  JobRecord r = gang(1, 4);
  r.spec.ntasks = 4;  // --gpus-per-task=1 --ntasks=4, no -N
  auto plan = plan_launch(r, {{"h"}, 1, "CUDA_VISIBLE_DEVICES"});
  ASSERT_EQ(plan.size(), 1u);
  ASSERT_EQ(plan[0].tasks.size(), 4u);
  for (int t = 0; t < 4; ++t) EXPECT_EQ(plan[0].tasks[t].devices, (std::vector<int>{t}));
  EXPECT_TRUE(has(plan[0].env, "WORLD_SIZE=4"));
  EXPECT_TRUE(has(plan[0].env, "SLURM_TASKS_PER_NODE=4"));
}

TEST(OutputPattern, JobThenTaskParts) {
  JobRecord r = gang(1, 1);
  r.array_job_id = 40;
  r.array_task_id = 2;
  std::string p = expand_job_pattern("out/%x-%A_%a-%j-%u-%N-%t-%%.log", r);
  EXPECT_EQ(p, "out/train-40_2-42-ann-%N-%t-%%.log");
  EXPECT_EQ(expand_task_pattern(p, "node7", 1, 5), "out/train-40_2-42-ann-node7-5-%.log");
  EXPECT_EQ(expand_job_pattern("", r), "zs-40_2.out");
}

}  // namespace
}  // namespace zs
