// Tracking cgroups (agent/cgroup_tracker.h) on fake trees: which hierarchy is picked, what a kill
// writes, removal and the leftovers a new agent sweeps. Real processes in real cgroups are in
// shim_test.cpp (ShimInCgroup).
#include "agent/cgroup_tracker.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "agent/work_dir.h"
#include "core/input_error.h"
#include "scratch_dir.h"

namespace zs {
namespace {

using test::read_text;
using test::ScratchDir;
using test::write_text;
namespace fs = std::filesystem;

TrackerConfig at(const ScratchDir& root, std::string parent = "zhisuan/n1-0a1b2c3d") {
  TrackerConfig c;
  c.root = root.path();
  c.parent = std::move(parent);
  return c;
}

TEST(CgroupTracker, PureV2) {
  ScratchDir root;
  write_text(root / "cgroup.controllers", "cpu memory\n");
  CgroupTracker t = CgroupTracker::detect(at(root));
  ASSERT_TRUE(t.available()) << t.status();
  EXPECT_EQ(t.kind(), CgroupTracker::Kind::v2);
  EXPECT_TRUE(t.fake_tree());
  EXPECT_EQ(t.parent_dir(), root / "zhisuan/n1-0a1b2c3d");
  EXPECT_EQ(t.status(), "tracking cgroups v2 at " + (root / "zhisuan/n1-0a1b2c3d") +
                            " (fake tree: not a cgroup filesystem)");
  std::string error;
  const std::string dir = t.create("job-42.1", error);
  ASSERT_EQ(dir, root / "zhisuan/n1-0a1b2c3d/job-42.1") << error;
  EXPECT_EQ(t.create("job-42.1", error), dir) << "an existing cgroup is reused";
  EXPECT_TRUE(t.empty(dir));
  write_text(CgroupTracker::procs_file(dir), "123\n456\n");
  EXPECT_EQ(t.procs(dir), (std::vector<pid_t>{123, 456}));
  EXPECT_FALSE(t.remove(dir, &error)) << "processes are still in it";
  EXPECT_NE(error.find("processes still in it"), std::string::npos) << error;
  write_text(dir + "/cgroup.kill", "");
  EXPECT_EQ(t.kill(dir), "");
  EXPECT_EQ(read_text(dir + "/cgroup.kill"), "1") << "the whole cgroup is killed at once";
  EXPECT_EQ(t.children(), (std::vector<std::string>{"job-42.1"}));
  write_text(CgroupTracker::procs_file(dir), "");
  EXPECT_TRUE(t.remove(dir));
  EXPECT_TRUE(t.remove(dir)) << "removing twice is harmless";
  EXPECT_TRUE(t.children().empty());
  t.remove_parent();
  EXPECT_FALSE(fs::exists(root / "zhisuan"));
  EXPECT_EQ(t.create("job-43.1", error), root / "zhisuan/n1-0a1b2c3d/job-43.1")
      << "a parent removed behind the agent's back is made again: " << error;
  EXPECT_TRUE(t.remove(root / "zhisuan/n1-0a1b2c3d/job-43.1"));
  t.remove_parent();
}

TEST(CgroupTracker, HybridUsesTheUnifiedHierarchy) {
  ScratchDir root;
  fs::create_directories(root / "unified");
  fs::create_directories(root / "freezer");
  write_text(root / "unified/cgroup.controllers", "");  // no controllers: tracking needs none
  write_text(root / "freezer/cgroup.procs", "");
  CgroupTracker t = CgroupTracker::detect(at(root));
  ASSERT_TRUE(t.available()) << t.status();
  EXPECT_EQ(t.kind(), CgroupTracker::Kind::v2);
  EXPECT_EQ(t.parent_dir(), root / "unified/zhisuan/n1-0a1b2c3d");
  // Without cgroup.kill (Linux < 5.14): freeze, kill, thaw.
  std::string error;
  const std::string dir = t.create("job-1.0", error);
  write_text(dir + "/cgroup.freeze", "0");
  EXPECT_EQ(t.kill(dir), "");
  EXPECT_EQ(read_text(dir + "/cgroup.freeze"), "0") << "thawed again";
  EXPECT_TRUE(t.remove(dir));
  t.remove_parent();
}

TEST(CgroupTracker, V1Freezer) {
  ScratchDir root;
  fs::create_directories(root / "unified");
  fs::create_directories(root / "freezer");
  write_text(root / "unified/cgroup.controllers", "");
  write_text(root / "freezer/cgroup.procs", "");
  TrackerConfig config = at(root);
  config.allow_v2 = false;
  CgroupTracker t = CgroupTracker::detect(config);
  ASSERT_TRUE(t.available()) << t.status();
  EXPECT_EQ(t.kind(), CgroupTracker::Kind::freezer);
  EXPECT_EQ(t.status(), "tracking cgroups v1 freezer at " + (root / "freezer/zhisuan/n1-0a1b2c3d") +
                            " (fake tree: not a cgroup filesystem)");
  std::string error;
  const std::string dir = t.create("job-1.0", error);
  ASSERT_FALSE(dir.empty()) << error;
  EXPECT_TRUE(fs::exists(CgroupTracker::procs_file(dir)));
  EXPECT_EQ(t.kill(dir), "");
  EXPECT_EQ(read_text(dir + "/freezer.state"), "THAWED") << "frozen, killed, thawed";
  EXPECT_TRUE(t.remove(dir));
  t.remove_parent();
  EXPECT_FALSE(fs::exists(root / "freezer/zhisuan"));
  EXPECT_TRUE(fs::exists(root / "freezer")) << "the hierarchy itself stays";
}

TEST(CgroupTracker, UnavailableSaysWhyAndCreatesNothing) {
  ScratchDir root;
  CgroupTracker t = CgroupTracker::detect(at(root));
  EXPECT_FALSE(t.available());
  EXPECT_EQ(t.status().rfind("no tracking cgroups (tasks are tracked by process group only): ", 0),
            0u)
      << t.status();
  std::string error;
  EXPECT_EQ(t.create("job-1.0", error), "");
  EXPECT_EQ(error, t.status());
  EXPECT_EQ(t.kill(root / "x"), "");
  EXPECT_TRUE(t.children().empty());

  // A hierarchy that cannot be written to.
  write_text(root / "cgroup.controllers", "");
  write_text(root / "zhisuan", "a file where the parent should be");
  t = CgroupTracker::detect(at(root));
  EXPECT_FALSE(t.available());
  EXPECT_NE(t.status().find("cannot create " + (root / "zhisuan")), std::string::npos)
      << t.status();

  for (const char* parent : {"", "/abs", "a/../b", "."}) {
    EXPECT_FALSE(CgroupTracker::detect(at(root, parent)).available()) << parent;
  }
}

TEST(CgroupTracker, BadNamesAreRefused) {
  ScratchDir root;
  write_text(root / "cgroup.controllers", "");
  CgroupTracker t = CgroupTracker::detect(at(root));
  ASSERT_TRUE(t.available());
  std::string error;
  for (const std::string& name :
       std::vector<std::string>{"", ".", "..", "a/b", std::string(201, 'x')}) {
    EXPECT_EQ(t.create(name, error), "") << name;
    EXPECT_NE(error.find("bad cgroup name"), std::string::npos);
  }
}

// Two agents with the same node name on one host: their cgroups and work directories are kept
// apart by the work directory, and a second agent on one directory is refused.
TEST(WorkDir, LockTagAndInstanceId) {
  ScratchDir base;
  const std::string a = base / "a", b = base / "b";
  {
    WorkDirLock lock(a);
    struct stat st {};
    ASSERT_EQ(::stat(a.c_str(), &st), 0);
    // Root's agent runs tasks as other users, who pass through to their scripts (never list).
    EXPECT_EQ(st.st_mode & 0777, ::geteuid() == 0 ? 0711u : 0700u)
        << "scripts and environments are private";
    try {
      WorkDirLock second(a);
      ADD_FAILURE() << "a second lock on one work directory was granted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("is in use by another zs agent (pid " +
                                           std::to_string(::getpid()) + ")"),
                std::string::npos)
          << e.what();
    }
    WorkDirLock other(b);  // another directory is another agent's
  }
  WorkDirLock again(a);  // released with its holder
  ::chmod(b.c_str(), 0755);
  WorkDirLock reopened(b);
  struct stat st {};
  ASSERT_EQ(::stat(b.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, ::geteuid() == 0 ? 0711u : 0700u)
      << "an existing directory is made private";

  const std::string id = work_dir_instance_id(a);
  EXPECT_EQ(id.size(), 24u);
  EXPECT_EQ(work_dir_instance_id(a), id) << "stable across restarts";
  EXPECT_NE(work_dir_instance_id(b), id);
  EXPECT_EQ(work_dir_tag(a), work_dir_tag(a));
  EXPECT_NE(work_dir_tag(a), work_dir_tag(b));
  EXPECT_EQ(work_dir_tag(a).size(), 8u);
  EXPECT_FALSE(kernel_boot_id().empty());
}

}  // namespace
}  // namespace zs
