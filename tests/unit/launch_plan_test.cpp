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
