// The controller's check of a submitted JobSpec: the parts the API must enforce itself because
// a client need not be the CLI (scripts, tasks, node lists, hold and begin).
#include "controller/spec_validation.h"

#include <gtest/gtest.h>

#include "core/input_error.h"
#include "test_util.h"

namespace zs {
namespace {

JobSpec command() {
  JobSpec s;
  s.argv = {"true"};
  s.work_dir = "/tmp";
  return s;
}

std::string field_of(JobSpec s) {
  try {
    validate_spec(s, Catalog::builtin());
  } catch (const InputError& e) {
    return e.where() + ": " + e.message();
  }
  return "";
}

TEST(SpecValidation, ScriptsMustBeExecutable) {
  JobSpec s = command();
  s.script = "#!/bin/sh\necho ok\n";
  EXPECT_EQ(field_of(s), "");
  s.script = "echo ok\n";
  EXPECT_NE(field_of(s).find("script: the script does not start with #!"), std::string::npos);
  s.script = "#!/bin/sh\r\necho ok\r\n";
  EXPECT_NE(field_of(s).find("script: the script has DOS line breaks"), std::string::npos);
}

TEST(SpecValidation, TasksAreReconciledAsSbatchDoes) {
  JobSpec s = command();
  s.ntasks = 8;
  s.tasks_per_node = 4;
  validate_spec(s, Catalog::builtin());
  EXPECT_EQ(s.nodes, 2);  // -n 8 --ntasks-per-node 4
  s = command();
  s.nodes = 2;
  s.ntasks = 5;
  validate_spec(s, Catalog::builtin());
  EXPECT_EQ(s.tasks_per_node, 3);  // -N 2 -n 5: 3 and 2
  s = command();
  s.nodes = 2;
  s.ntasks = 9;
  s.tasks_per_node = 4;
  EXPECT_NE(field_of(s).find("ntasks: 9 tasks do not fit 2 nodes x 4"), std::string::npos);
  s = command();
  s.ntasks = 3;  // -n 3 alone: every task runs on what the scheduler picks
  validate_spec(s, Catalog::builtin());
  EXPECT_EQ(s.nodes, 0);
  EXPECT_EQ(total_tasks(s, 1), 3);
  EXPECT_EQ(total_tasks(s, 2), 3);
}

TEST(SpecValidation, NodeLists) {
  JobSpec s = command();
  s.nodelist = {"n1", "n2", "n1"};
  validate_spec(s, Catalog::builtin());
  EXPECT_EQ(s.nodelist, (std::vector<std::string>{"n1", "n2"}));  // once each
  EXPECT_EQ(s.nodes, 2);                                          // spans both
  s = command();
  s.nodes = 1;
  s.nodelist = {"n1", "n2"};
  EXPECT_NE(field_of(s).find("nodelist: 2 nodes listed but the job has 1"), std::string::npos);
  s = command();
  s.nodelist = {"n1"};
  s.exclude = {"n1"};
  EXPECT_NE(field_of(s).find("both in nodelist and exclude"), std::string::npos);
  s = command();
  s.exclude = {"bad name"};
  EXPECT_NE(field_of(s).find("exclude: 'bad name' is not a node name"), std::string::npos);
  s.exclude = {""};
  EXPECT_NE(field_of(s).find("exclude:"), std::string::npos);
}

TEST(SpecValidation, CheckpointSignal) {
  JobSpec s = command();
  s.signal = 10;
  s.signal_time_s = 60;
  EXPECT_EQ(field_of(s), "");
  s.signal_batch = true;
  s.signal_time_s = 65535;
  EXPECT_EQ(field_of(s), "");
  s.signal = 9;
  EXPECT_EQ(field_of(s),
            "signal: SIGKILL cannot be caught; use one the job traps, such as SIGUSR1");
  s.signal = 19;
  EXPECT_NE(field_of(s).find("SIGSTOP cannot be caught"), std::string::npos);
  s.signal = 65;
  EXPECT_NE(field_of(s).find("signal: must be 0 (none)"), std::string::npos);
  s.signal = 10;
  s.signal_time_s = 65536;
  EXPECT_NE(field_of(s).find("signal_time: must be between 0 and 65535"), std::string::npos);
  s.signal_time_s = -1;
  EXPECT_NE(field_of(s).find("signal_time:"), std::string::npos);
  s = command();
  s.signal_time_s = 30;  // a time without a signal: an API client's mistake, said so
  EXPECT_EQ(field_of(s), "signal: signal_time and signal_batch need a signal");
}

TEST(SpecValidation, HoldAndBeginBlockTheStart) {
  JobSpec s = command();
  EXPECT_EQ(start_blocker(s, 1000), nullptr);
  s.begin_ms = 2000;
  EXPECT_STREQ(start_blocker(s, 1000), "BeginTime");
  EXPECT_EQ(start_blocker(s, 2000), nullptr);
  s.hold = true;
  EXPECT_STREQ(start_blocker(s, 5000), "JobHeldUser");
}

}  // namespace
}  // namespace zs
