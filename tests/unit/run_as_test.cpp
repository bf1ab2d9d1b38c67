// Whom a job's tasks run as (run_as.h): the decision is pure (a fake passwd here); what the
// kernel does with it (file system identity, the launched task's ids) is checked as root.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>

#include "agent/launcher.h"
#include "agent/run_as.h"
#include "scratch_dir.h"

namespace zs {
namespace {

UnixAccount account(const std::string& name, uid_t uid, gid_t gid) {
  return UnixAccount{name, uid, gid, "/home/" + name, {gid, 100}};
}

const UnixAccount kRoot{"root", 0, 0, "/root", {0}};
const UnixAccount kAlice = account("alice", 1001, 1001);

std::optional<UnixAccount> fake_passwd(const std::string& name) {
  static const std::map<std::string, UnixAccount> db{
      {"root", kRoot}, {"toor", {"toor", 0, 0, "/root", {0}}}, {"alice", kAlice}};
  auto it = db.find(name);
  if (it == db.end()) return std::nullopt;
  return it->second;
}

std::optional<RunAs> decide(const std::string& user, const UnixAccount& self, bool single,
                            std::string& error) {
  return decide_run_as(user, self, true, single, "n1", fake_passwd, error);
}

TEST(RunAs, ARootAgentRunsEachJobAsItsUser) {
  std::string error;
  auto r = decide("alice", kRoot, false, error);
  ASSERT_TRUE(r) << error;
  EXPECT_TRUE(r->switch_user);
  EXPECT_TRUE(r->known);
  EXPECT_EQ(r->account.uid, 1001u);
  EXPECT_EQ(r->account.gid, 1001u);
  EXPECT_EQ(r->account.groups, (std::vector<gid_t>{1001, 100}));
  EXPECT_EQ(r->account.home, "/home/alice");
}

TEST(RunAs, Uid0OnlyForRootItself) {
  std::string error;
  auto r = decide("root", kRoot, false, error);
  ASSERT_TRUE(r) << error;
  EXPECT_FALSE(r->switch_user);  // the agent is root already
  EXPECT_TRUE(r->known);
  EXPECT_EQ(r->account.name, "root");
  EXPECT_FALSE(decide("toor", kRoot, false, error));
  EXPECT_EQ(error,
            "Unix user 'toor' has uid 0 on node n1: a job runs as uid 0 only when its user is "
            "bound to 'root' itself");
}

TEST(RunAs, AnUnknownOrInvalidUserRunsNothing) {
  std::string error;
  EXPECT_FALSE(decide("carol", kRoot, false, error));
  EXPECT_EQ(error, "no Unix user 'carol' on node n1");
  EXPECT_FALSE(decide("Bad\nName", kRoot, false, error));
  EXPECT_NE(error.find("the job's Unix user 'Bad?Name' is not valid"), std::string::npos) << error;
  EXPECT_FALSE(decide(std::string(200, 'a'), kRoot, false, error));
  EXPECT_LT(error.size(), 200u) << "the name is shortened in the message";
}

TEST(RunAs, NoUserRunsAsTheAgentAsBefore) {
  std::string error;
  auto r = decide("", kRoot, false, error);
  ASSERT_TRUE(r) << error;
  EXPECT_FALSE(r->switch_user);
  EXPECT_FALSE(r->known) << "the environment is left as it was";
  EXPECT_EQ(r->account.uid, 0u);
}

TEST(RunAs, AnAgentThatIsNotRootRunsOnlyItsOwnJobsUnlessSingleUser) {
  std::string error;
  auto own = decide("alice", kAlice, false, error);
  ASSERT_TRUE(own) << error;
  EXPECT_FALSE(own->switch_user);
  EXPECT_TRUE(own->known);
  EXPECT_FALSE(decide("bob", kAlice, false, error));
  EXPECT_EQ(error,
            "node n1: its agent runs as Unix user 'alice', not root, and does not run jobs of "
            "Unix user 'bob' (start it as root, or with --single-user to run every job as "
            "'alice')");
  EXPECT_FALSE(decide("root", kAlice, false, error));
  auto single = decide("bob", kAlice, true, error);
  ASSERT_TRUE(single) << error;
  EXPECT_FALSE(single->switch_user);
  EXPECT_EQ(single->account.name, "alice") << "every job runs as the agent";
  EXPECT_EQ(run_as_summary(kAlice, false),
            "not running as root: every job runs as 'alice' (uid 1001); jobs of other Unix "
            "users are refused (--single-user runs them too)");
  EXPECT_EQ(run_as_summary(kAlice, true),
            "not running as root: every job runs as 'alice' (uid 1001) (--single-user)");
}

TEST(RunAs, LooksUpRealAccounts) {
  auto root = lookup_account("root");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->uid, 0u);
  EXPECT_FALSE(root->groups.empty());
  EXPECT_FALSE(lookup_account("zs-no-such-user-here"));
  EXPECT_FALSE(lookup_account("../etc")) << "not a Unix name: not looked up";
  bool known = false;
  EXPECT_EQ(own_account(&known).uid, ::geteuid());
}

// The rest needs root (to switch) and an unprivileged account to switch to.
class RunAsRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto nobody = lookup_account("nobody");
    if (!nobody || nobody->uid == 0) GTEST_SKIP() << "needs the account 'nobody'";
    who.switch_user = true;
    who.known = true;
    who.account = *nobody;
    ::chmod(dir.path().c_str(), 0755);
    ::mkdir((dir / "open").c_str(), 0777);
    ::chmod((dir / "open").c_str(), 0777);
    ::mkdir((dir / "private").c_str(), 0700);
  }
  RunAs who;
  test::ScratchDir dir;
};

TEST_F(RunAsRoot, FileSystemCallsAreTheUsersWhileTheGuardLives) {
  {
    FsIdentity as(who);
    ASSERT_TRUE(as.ok()) << as.error();
    EXPECT_LT(::open((dir / "private/x").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644), 0);
    EXPECT_EQ(errno, EACCES);
    const int fd = ::open((dir / "open/mine").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ::close(fd);
  }
  struct stat st {};
  ASSERT_EQ(::stat((dir / "open/mine").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, who.account.uid);
  const int fd = ::open((dir / "private/x").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  EXPECT_GE(fd, 0) << "root again once the guard is gone";
  if (fd >= 0) ::close(fd);
}

TEST_F(RunAsRoot, TheTaskRunsAsTheUserAndOpensItsOutputAsTheUser) {
  LaunchSpec s;
  s.argv = {"sh", "-c", "id -u; id -g; pwd"};
  s.env = {"PATH=/usr/bin:/bin"};
  s.cwd = dir / "open";
  s.stdout_path = dir / "open/out";
  s.stderr_path = s.stdout_path;
  s.run_as = &who;
  LaunchResult r = launch(s);
  ASSERT_TRUE(r.ok()) << r.error;
  auto e = wait_child(r.pid, std::chrono::seconds(20));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 0);
  EXPECT_EQ(test::read_text(dir / "open/out"), std::to_string(who.account.uid) + "\n" +
                                                   std::to_string(who.account.gid) + "\n" +
                                                   dir / "open" + "\n");
  struct stat st {};
  ASSERT_EQ(::stat((dir / "open/out").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, who.account.uid);

  // Where the user may not write, nothing is opened, nothing created, nothing runs.
  s.stdout_path = dir / "private/out";
  s.stderr_path = s.stdout_path;
  r = launch(s);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, "cannot open stdout file '" + dir / "private/out" + "': Permission denied");
  EXPECT_NE(::access((dir / "private/out").c_str(), F_OK), 0);

  // A working directory the user cannot enter fails the start.
  s.stdout_path = dir / "open/out2";
  s.stderr_path = s.stdout_path;
  s.cwd = dir / "private";
  r = launch(s);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("is not accessible: Permission denied"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace zs
