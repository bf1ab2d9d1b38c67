// The task launcher: environment, working directory, log files, exit codes and signals, errors
// reported before or instead of the exec, and process-group signalling. Each behaviour is
// checked on both start paths: posix_spawn (no cgroups) and fork (cgroup files to join), where
// a plain file stands in for cgroup.procs.
#include "agent/launcher.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "scratch_dir.h"

namespace zs {
namespace {

using namespace std::chrono_literals;
using test::read_text;
using test::ScratchDir;
using test::write_text;

const std::vector<std::string> kEnv = {"PATH=/usr/bin:/bin", "FOO=bar baz"};

class Launcher : public ::testing::TestWithParam<bool> {
 protected:
  bool forked() const { return GetParam(); }

  // A spec running `sh -c script` with stdout and stderr in out.log; the fork path also joins
  // a stand-in cgroup.procs file.
  LaunchSpec sh(const std::string& script) {
    LaunchSpec s;
    s.argv = {"sh", "-c", script};
    s.env = kEnv;
    s.cwd = dir.path();
    s.stdout_path = dir / "out.log";
    s.stderr_path = dir / "out.log";
    if (forked()) {
      write_text(dir / "cgroup.procs", "");
      s.cgroup_procs = {dir / "cgroup.procs"};
    }
    return s;
  }

  Exit run(const LaunchSpec& spec) {
    LaunchResult r = launch(spec);
    EXPECT_TRUE(r.ok()) << r.error;
    if (!r.ok()) return Exit{};
    auto e = wait_child(r.pid, 10s);
    EXPECT_TRUE(e.has_value()) << "child did not exit";
    return e.value_or(Exit{});
  }

  ScratchDir dir;
};

TEST_P(Launcher, ChildSeesExactlyTheGivenEnvironmentAndCwd) {
  Exit e = run(sh("echo \"$FOO\"; echo \"${HOME-unset}\"; pwd"));
  EXPECT_EQ(e.code, 0);
  EXPECT_EQ(read_text(dir / "out.log"), "bar baz\nunset\n" + dir.path() + "\n");
}

TEST_P(Launcher, StdoutAndStderrGoToTheirFilesAndAppend) {
  LaunchSpec s = sh("echo out; echo err >&2");
  s.stdout_path = dir / "o.log";
  s.stderr_path = dir / "e.log";
  write_text(dir / "o.log", "before\n");
  run(s);
  run(s);
  EXPECT_EQ(read_text(dir / "o.log"), "before\nout\nout\n");
  EXPECT_EQ(read_text(dir / "e.log"), "err\nerr\n");
  struct stat st {};
  ASSERT_EQ(::stat((dir / "e.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777 & ~0022u, 0644u & ~0022u) << "created 0644 (less the umask)";
}

TEST_P(Launcher, OneFileForBothStreams) {
  run(sh("echo one; echo two >&2; echo three"));
  EXPECT_EQ(read_text(dir / "out.log"), "one\ntwo\nthree\n");
}

TEST_P(Launcher, StdinIsDevNull) {
  run(sh("if read line; then echo got; else echo eof; fi"));
  EXPECT_EQ(read_text(dir / "out.log"), "eof\n");
}

TEST_P(Launcher, ExitCodes) {
  EXPECT_EQ(run(sh("exit 0")).code, 0);
  Exit e = run(sh("exit 3"));
  EXPECT_EQ(e.code, 3);
  EXPECT_EQ(e.signal, 0);
}

TEST_P(Launcher, KilledBySignalIs128PlusN) {
  Exit e = run(sh("kill -TERM $$; sleep 5"));
  EXPECT_EQ(e.signal, SIGTERM);
  EXPECT_EQ(e.code, 128 + SIGTERM);
}

TEST_P(Launcher, SignalsTheAgentIgnoresAreDefaultInTheTask) {
  struct sigaction ignore {
  }, old{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGUSR1, &ignore, &old), 0);
  Exit e = run(sh("kill -USR1 $$; exit 0"));
  ::sigaction(SIGUSR1, &old, nullptr);
  EXPECT_EQ(e.signal, SIGUSR1) << "an ignored disposition leaked into the task";
}

TEST_P(Launcher, InheritedDescriptorsAreClosed) {
  int fd = ::open("/dev/null", O_RDONLY);  // deliberately not close-on-exec
  ASSERT_GE(fd, 3);
  run(sh("if [ -e /proc/$$/fd/" + std::to_string(fd) + " ]; then echo open; else echo closed; fi"));
  ::close(fd);
  EXPECT_EQ(read_text(dir / "out.log"), "closed\n");
}

TEST_P(Launcher, NewProcessGroupLedByTheChild) {
  LaunchResult r = launch(sh("sleep 5"));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(::getpgid(r.pid), r.pid);
  EXPECT_NE(::getpgid(r.pid), ::getpgrp());
  ASSERT_TRUE(signal_group(r.pid, SIGKILL));
  ASSERT_TRUE(wait_child(r.pid, 10s).has_value());
}

// The state letter from /proc/<pid>/stat; 'X' when the process is gone.
char proc_state(pid_t pid) {
  std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  auto close_paren = stat.rfind(')');
  return close_paren == std::string::npos || close_paren + 2 >= stat.size() ? 'X'
                                                                            : stat[close_paren + 2];
}

TEST_P(Launcher, GroupKillReachesGrandchildren) {
  LaunchResult r = launch(sh("sleep 300 & echo $! > grandchild.pid; wait"));
  ASSERT_TRUE(r.ok()) << r.error;
  pid_t grandchild = 0;
  for (int i = 0; i < 500 && grandchild == 0; ++i) {
    std::string text = read_text(dir / "grandchild.pid");
    if (!text.empty() && text.back() == '\n')
      grandchild = std::stoi(text);
    else
      std::this_thread::sleep_for(10ms);
  }
  ASSERT_GT(grandchild, 0);
  EXPECT_EQ(::getpgid(grandchild), r.pid);
  ASSERT_TRUE(signal_group(r.pid, SIGKILL));
  auto e = wait_child(r.pid, 10s);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->signal, SIGKILL);
  // The orphaned grandchild is reparented; it must be dead (gone, or a zombie not yet reaped).
  char state = 'R';
  for (int i = 0; i < 500; ++i) {
    state = proc_state(grandchild);
    if (state == 'X' || state == 'Z') break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(state == 'X' || state == 'Z') << "grandchild state " << state;
}

TEST_P(Launcher, MissingProgramIsAnErrorNotAnExit127) {
  LaunchSpec s = sh("");
  s.argv = {"zs-no-such-program"};
  LaunchResult r = launch(s);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, "program 'zs-no-such-program' not found (PATH=/usr/bin:/bin)");
  s.argv = {"/no/such/dir/prog"};
  EXPECT_EQ(launch(s).error, "program '/no/such/dir/prog': No such file or directory");
  s.argv = {"./here"};
  write_text(dir / "here", "data");
  ::chmod((dir / "here").c_str(), 0644);
  EXPECT_EQ(launch(s).error, "program './here' (in " + dir.path() + ") is not executable");
}

TEST_P(Launcher, ProgramFoundThroughTheTasksPath) {
  ::mkdir((dir / "bin").c_str(), 0755);
  write_text(dir / "bin/hello", "#!/bin/sh\necho hello from bin\n");
  ::chmod((dir / "bin/hello").c_str(), 0755);
  LaunchSpec s = sh("");
  s.argv = {"hello"};
  s.env = {"PATH=" + dir.path() + "/bin:/usr/bin:/bin"};
  EXPECT_EQ(run(s).code, 0);
  EXPECT_EQ(read_text(dir / "out.log"), "hello from bin\n");
}

TEST_P(Launcher, ExecFailureIsReported) {
  write_text(dir / "bad-interpreter", "#!/no/such/interpreter\n");
  ::chmod((dir / "bad-interpreter").c_str(), 0755);
  LaunchSpec s = sh("");
  s.argv = {dir / "bad-interpreter"};
  LaunchResult r = launch(s);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("No such file or directory (a missing #! interpreter?)"),
            std::string::npos)
      << r.error;
  EXPECT_TRUE(reap_children().empty()) << "a failed start leaves no child behind";
}

TEST_P(Launcher, BadWorkingDirectoryOrLogPath) {
  LaunchSpec s = sh("true");
  s.cwd = dir / "missing";
  EXPECT_EQ(launch(s).error,
            "working directory '" + dir.path() + "/missing': No such file or directory");
  s = sh("true");
  s.stdout_path = dir / "missing/out.log";
  EXPECT_EQ(launch(s).error, "cannot open stdout file '" + dir.path() +
                                 "/missing/out.log': No such file or directory");
  s = sh("true");
  s.stderr_path = dir.path();  // a directory
  EXPECT_EQ(launch(s).error, "cannot open stderr file '" + dir.path() + "': Is a directory");
  s = sh("true");
  s.env.push_back("NOEQUALS");
  EXPECT_EQ(launch(s).error, "environment entry 'NOEQUALS' is not KEY=VALUE");
  EXPECT_EQ(launch(LaunchSpec{}).error, "nothing to run: empty argv");
}

TEST_P(Launcher, ReapChildrenReturnsEveryExit) {
  LaunchResult a = launch(sh("exit 4"));
  LaunchResult b = launch(sh("kill -KILL $$"));
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<Exit> seen;
  for (int i = 0; i < 1000 && seen.size() < 2; ++i) {
    for (const Exit& e : reap_children()) seen.push_back(e);
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(seen.size(), 2u);
  for (const Exit& e : seen) {
    if (e.pid == a.pid) {
      EXPECT_EQ(e.code, 4);
    } else {
      EXPECT_EQ(e.pid, b.pid);
      EXPECT_EQ(e.code, 128 + SIGKILL);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, Launcher, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Fork" : "Spawn"; });

TEST(LauncherFork, ChildJoinsEveryCgroupFileBeforeExec) {
  ScratchDir dir;
  write_text(dir / "cpu.procs", "");
  write_text(dir / "memory.procs", "");
  LaunchSpec s;
  s.argv = {"sh", "-c", "echo $$"};
  s.env = kEnv;
  s.stdout_path = dir / "out.log";
  s.cgroup_procs = {dir / "cpu.procs", dir / "memory.procs"};
  LaunchResult r = launch(s);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(wait_child(r.pid, 10s).has_value());
  const std::string pid = std::to_string(r.pid) + "\n";
  EXPECT_EQ(read_text(dir / "out.log"), pid) << "the exec'd shell is the launched pid";
  EXPECT_EQ(read_text(dir / "cpu.procs"), pid);
  EXPECT_EQ(read_text(dir / "memory.procs"), pid);
}

TEST(LauncherFork, UnjoinableCgroupIsAnError) {
  ScratchDir dir;
  LaunchSpec s;
  s.argv = {"true"};
  s.env = kEnv;
  s.cgroup_procs = {dir / "gone/cgroup.procs"};
  LaunchResult r = launch(s);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, "cannot join cgroup via '" + dir.path() +
                         "/gone/cgroup.procs': No such file or directory");
  EXPECT_TRUE(reap_children().empty());
}

TEST(SignalGroup, RefusesOwnAndAllGroupsAndReportsGoneGroups) {
  std::string error;
  EXPECT_FALSE(signal_group(0, SIGTERM, &error));
  EXPECT_EQ(error, "refusing to signal process group 0");
  EXPECT_FALSE(signal_group(1, SIGTERM, &error));
  EXPECT_FALSE(signal_group(-5, SIGTERM, &error));
  LaunchSpec s;
  s.argv = {"true"};
  s.env = kEnv;
  LaunchResult r = launch(s);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(wait_child(r.pid, 10s).has_value());
  EXPECT_FALSE(signal_group(r.pid, SIGTERM, &error));
  EXPECT_EQ(error, "no process group " + std::to_string(r.pid) + " (all its processes exited)");
}

TEST(FindProgram, SearchesPathInOrderAndSkipsNonExecutables) {
  ScratchDir dir;
  ::mkdir((dir / "a").c_str(), 0755);
  ::mkdir((dir / "b").c_str(), 0755);
  write_text(dir / "a/tool", "");
  ::chmod((dir / "a/tool").c_str(), 0644);
  write_text(dir / "b/tool", "");
  ::chmod((dir / "b/tool").c_str(), 0755);
  std::string error;
  EXPECT_EQ(find_program("tool", dir / "a:" + dir / "b", "", error), dir / "b/tool");
  EXPECT_EQ(find_program("tool", dir / "a", "", error), std::nullopt);
  EXPECT_EQ(error, "program 'tool' is in PATH but not executable (PATH=" + dir / "a" + ")");
  EXPECT_EQ(find_program("sh", "", "", error), "/usr/bin/sh");
}

}  // namespace
}  // namespace zs
