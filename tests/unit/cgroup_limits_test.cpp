// Cgroup limits: detection and control-file values on fake v1 and v2 trees (temp directories
// holding the control files), and, where this machine's cgroups are writable, a real cgroup
// holding a real `sleep` started by the launcher.
#include "agent/cgroup_limits.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "agent/launcher.h"
#include "scratch_dir.h"

namespace zs {
namespace {

using namespace std::chrono_literals;
using test::read_text;
using test::ScratchDir;
using test::write_text;
namespace fs = std::filesystem;

const char* const kFake = " (fake tree: not a cgroup filesystem)";

// The files a v1 hierarchy shows for cpu and memory.
void make_v1(const ScratchDir& root, const std::string& cpu_dir = "cpu") {
  fs::create_directories(root / cpu_dir);
  fs::create_directories(root / "memory");
  write_text(root / (cpu_dir + "/cpu.cfs_quota_us"), "-1\n");
  write_text(root / (cpu_dir + "/cpu.cfs_period_us"), "100000\n");
  write_text(root / "memory/memory.limit_in_bytes", "9223372036854771712\n");
}

CgroupConfig at(const ScratchDir& root) {
  CgroupConfig c;
  c.root = root.path();
  return c;
}

TEST(CgroupLimits, CpuQuotaFromCpus) {
  EXPECT_EQ(CgroupLimits::cpu_quota_us(2.5), 250000);
  EXPECT_EQ(CgroupLimits::cpu_quota_us(1), 100000);
  EXPECT_EQ(CgroupLimits::cpu_quota_us(64), 6400000);
  EXPECT_EQ(CgroupLimits::cpu_quota_us(0.001), 1000) << "the kernel's minimum quota";
}

TEST(CgroupLimits, FakeV1TreeWritesLimitsAndRemoves) {
  ScratchDir root;
  make_v1(root);
  CgroupLimits limits = CgroupLimits::detect(at(root));
  ASSERT_TRUE(limits.available()) << limits.status();
  EXPECT_EQ(limits.version(), CgroupLimits::Version::v1);
  EXPECT_TRUE(limits.fake_tree());
  EXPECT_EQ(limits.status(),
            "cgroups v1 (cpu, memory) at " + root.path() + ", tasks under zhisuan/" + kFake);
  EXPECT_TRUE(fs::is_directory(root / "cpu/zhisuan"));
  EXPECT_TRUE(fs::is_directory(root / "memory/zhisuan"));

  std::string error;
  auto cg = limits.create("job-42", {2.5, 1LL << 30}, error);
  ASSERT_TRUE(cg) << error;
  ASSERT_EQ(cg->dirs.size(), 2u);
  EXPECT_EQ(cg->dirs[0], root / "cpu/zhisuan/job-42");
  EXPECT_EQ(cg->dirs[1], root / "memory/zhisuan/job-42");
  EXPECT_EQ(cg->procs_files,
            (std::vector<std::string>{root / "cpu/zhisuan/job-42/cgroup.procs",
                                      root / "memory/zhisuan/job-42/cgroup.procs"}));
  EXPECT_EQ(read_text(root / "cpu/zhisuan/job-42/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(read_text(root / "cpu/zhisuan/job-42/cpu.cfs_quota_us"), "250000");
  EXPECT_EQ(read_text(root / "memory/zhisuan/job-42/memory.limit_in_bytes"), "1073741824");

  // The launcher's child joins both before it execs.
  LaunchSpec s;
  s.argv = {"sh", "-c", "echo $$"};
  s.env = {"PATH=/usr/bin:/bin"};
  s.cgroup_procs = cg->procs_files;
  LaunchResult r = launch(s);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(wait_child(r.pid, 10s).has_value());
  EXPECT_EQ(read_text(cg->procs_files[0]), std::to_string(r.pid) + "\n");
  EXPECT_EQ(read_text(cg->procs_files[1]), std::to_string(r.pid) + "\n");

  EXPECT_EQ(limits.remove(*cg), "");
  EXPECT_FALSE(fs::exists(cg->dirs[0]));
  EXPECT_FALSE(fs::exists(cg->dirs[1]));
  EXPECT_EQ(limits.remove(*cg), "") << "removing twice is harmless";
  EXPECT_EQ(limits.remove_parent(), "");
  EXPECT_FALSE(fs::exists(root / "cpu/zhisuan"));
  EXPECT_TRUE(fs::exists(root / "cpu/cpu.cfs_quota_us")) << "the hierarchy itself stays";
}

TEST(CgroupLimits, NoLimitsWritesUnlimitedAndNestedParents) {
  ScratchDir root;
  make_v1(root, "cpu,cpuacct");
  CgroupConfig config = at(root);
  config.parent = "zhisuan/node-a";
  CgroupLimits limits = CgroupLimits::detect(config);
  ASSERT_TRUE(limits.available()) << limits.status();
  std::string error;
  auto cg = limits.create("t1", {}, error);
  ASSERT_TRUE(cg) << error;
  EXPECT_EQ(cg->dirs[0], root / "cpu,cpuacct/zhisuan/node-a/t1");
  EXPECT_EQ(read_text(cg->dirs[0] + "/cpu.cfs_quota_us"), "-1");
  EXPECT_EQ(read_text(cg->dirs[1] + "/memory.limit_in_bytes"), "-1");
  EXPECT_EQ(limits.remove(*cg), "");
  EXPECT_EQ(limits.remove_parent(), "");
  EXPECT_FALSE(fs::exists(root / "memory/zhisuan"));
}

TEST(CgroupLimits, FakeV2Tree) {
  ScratchDir root;
  write_text(root / "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
  CgroupLimits limits = CgroupLimits::detect(at(root));
  ASSERT_TRUE(limits.available()) << limits.status();
  EXPECT_EQ(limits.version(), CgroupLimits::Version::v2);
  EXPECT_EQ(limits.status(),
            "cgroups v2 (cpu, memory) at " + root.path() + ", tasks under zhisuan/" + kFake);
  EXPECT_EQ(read_text(root / "cgroup.subtree_control"), "+cpu +memory");
  EXPECT_EQ(read_text(root / "zhisuan/cgroup.subtree_control"), "+cpu +memory");
  std::string error;
  auto cg = limits.create("job-7", {0.5, 512LL << 20}, error);
  ASSERT_TRUE(cg) << error;
  EXPECT_EQ(cg->procs_files, std::vector<std::string>{root / "zhisuan/job-7/cgroup.procs"});
  EXPECT_EQ(read_text(root / "zhisuan/job-7/cpu.max"), "50000 100000");
  EXPECT_EQ(read_text(root / "zhisuan/job-7/memory.max"), "536870912");
  auto unlimited = limits.create("job-8", {}, error);
  ASSERT_TRUE(unlimited) << error;
  EXPECT_EQ(read_text(root / "zhisuan/job-8/cpu.max"), "max 100000");
  EXPECT_EQ(read_text(root / "zhisuan/job-8/memory.max"), "max");
  EXPECT_EQ(limits.remove(*cg), "");
  EXPECT_EQ(limits.remove(*unlimited), "");
  EXPECT_EQ(limits.remove_parent(), "");
  EXPECT_FALSE(fs::exists(root / "zhisuan"));
}

TEST(CgroupLimits, UnavailableSaysWhy) {
  ScratchDir root;
  auto status = [&](const CgroupConfig& c) { return CgroupLimits::detect(c).status(); };
  EXPECT_EQ(status(at(root)), "no cgroup limits: neither cgroup v2 (" + root.path() +
                                  "/cgroup.controllers) nor v1 cpu and memory under " +
                                  root.path());
  fs::create_directories(root / "cpu");
  write_text(root / "cpu/cpu.cfs_quota_us", "-1\n");
  EXPECT_EQ(status(at(root)),
            "no cgroup limits: no cgroup v1 memory controller under " + root.path());
  make_v1(root);
  write_text(root / "cpu/zhisuan", "a file where the parent cgroup should be");
  EXPECT_EQ(status(at(root)),
            "no cgroup limits: cannot create " + root.path() + "/cpu/zhisuan: File exists");
  CgroupConfig bad = at(root);
  bad.parent = "../escape";
  EXPECT_EQ(status(bad),
            "no cgroup limits: parent '../escape' must be a relative path without '.' or '..'");

  ScratchDir v2;
  write_text(v2 / "cgroup.controllers", "cpu io pids\n");
  CgroupLimits none = CgroupLimits::detect(at(v2));
  EXPECT_FALSE(none.available());
  EXPECT_EQ(none.status(),
            "no cgroup limits: cgroup v2 at " + v2.path() + " has no memory controller");
  std::string error;
  EXPECT_FALSE(none.create("job", {1, 0}, error));
  EXPECT_EQ(error, none.status());
}

TEST(CgroupLimits, BadNamesAndLimitsAreRefused) {
  ScratchDir root;
  make_v1(root);
  CgroupLimits limits = CgroupLimits::detect(at(root));
  ASSERT_TRUE(limits.available()) << limits.status();
  std::string error;
  for (const char* name : {"", ".", "..", "a/b"}) {
    EXPECT_FALSE(limits.create(name, {}, error)) << name;
    EXPECT_EQ(error, "bad cgroup name '" + std::string(name) + "'");
  }
  EXPECT_FALSE(limits.create("job", {-1, 0}, error));
  EXPECT_EQ(error, "cgroup limits must not be negative");
  EXPECT_FALSE(limits.create("job", {0, -5}, error));
}

TEST(CgroupLimits, FailedWriteRemovesWhatWasCreated) {
  ScratchDir root;
  make_v1(root);
  CgroupLimits limits = CgroupLimits::detect(at(root));
  ASSERT_TRUE(limits.available()) << limits.status();
  // A directory where the memory limit file would go makes the write fail.
  fs::create_directories(root / "memory/zhisuan/job/memory.limit_in_bytes");
  std::string error;
  EXPECT_FALSE(limits.create("job", {1, 1 << 20}, error));
  EXPECT_EQ(error, "cannot open " + root.path() +
                       "/memory/zhisuan/job/memory.limit_in_bytes: Is a directory");
  EXPECT_FALSE(fs::exists(root / "cpu/zhisuan/job"));
}

// The machine's own cgroups, when the test may write them. The parent is unique to this test
// process and is removed at the end, whatever happens.
TEST(CgroupLimitsReal, SleepRunsInsideTheTaskCgroup) {
  CgroupConfig config;
  config.parent = "zhisuan-test-" + std::to_string(::getpid());
  CgroupLimits limits = CgroupLimits::detect(config);
  if (!limits.available()) GTEST_SKIP() << limits.status();
  if (limits.fake_tree()) GTEST_SKIP() << config.root << " is not a cgroup filesystem";
  std::string error;
  auto cg = limits.create("sleep", {0.5, 64LL << 20}, error);
  struct Cleanup {
    const CgroupLimits& limits;
    std::optional<TaskCgroup>& cg;
    pid_t pid = -1;
    ~Cleanup() {
      if (pid > 0) signal_group(pid, SIGKILL), wait_child(pid, 10s);
      if (cg) limits.remove(*cg);
      limits.remove_parent();
    }
  } cleanup{limits, cg};
  ASSERT_TRUE(cg) << error;
  if (limits.version() == CgroupLimits::Version::v1) {
    EXPECT_EQ(read_text(cg->dirs[0] + "/cpu.cfs_quota_us"), "50000\n");
    EXPECT_EQ(read_text(cg->dirs[0] + "/cpu.cfs_period_us"), "100000\n");
    EXPECT_EQ(read_text(cg->dirs[1] + "/memory.limit_in_bytes"), "67108864\n");
  } else {
    EXPECT_EQ(read_text(cg->dirs[0] + "/cpu.max"), "50000 100000\n");
    EXPECT_EQ(read_text(cg->dirs[0] + "/memory.max"), "67108864\n");
  }
  LaunchSpec s;
  s.argv = {"sleep", "30"};
  s.env = {"PATH=/usr/bin:/bin"};
  s.cgroup_procs = cg->procs_files;
  LaunchResult r = launch(s);
  ASSERT_TRUE(r.ok()) << r.error;
  cleanup.pid = r.pid;
  for (const std::string& procs : cg->procs_files)
    EXPECT_EQ(read_text(procs), std::to_string(r.pid) + "\n") << procs;
  const std::string own = read_text("/proc/" + std::to_string(r.pid) + "/cgroup");
  EXPECT_NE(own.find("/" + config.parent + "/sleep"), std::string::npos) << own;

  ASSERT_TRUE(signal_group(r.pid, SIGKILL));
  ASSERT_TRUE(wait_child(r.pid, 10s).has_value());
  cleanup.pid = -1;
  EXPECT_EQ(limits.remove(*cg), "");
  for (const std::string& dir : cg->dirs) EXPECT_FALSE(fs::exists(dir)) << dir;
  EXPECT_EQ(limits.remove_parent(), "");
}

}  // namespace
}  // namespace zs
