// The per-task shim (agent/shim.h), with real processes: it records its start and its task's
// exit in the attempt record, passes signals on, kills what is left of the task's process
// group, reports failed starts, and runs on when the process that started it is gone (the
// next agent finds it by pid and start time and watches it through a pidfd).
#include "agent/shim.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "agent/attempt_record.h"
#include "agent/cgroup_tracker.h"
#include "agent/launcher.h"
#include "scratch_dir.h"

namespace zs {
namespace {

using namespace std::chrono_literals;
using test::read_text;
using test::ScratchDir;
using test::write_text;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// True while the process exists and is not a zombie.
bool alive(pid_t pid) {
  std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  const auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

bool eventually(const std::function<bool()>& ok, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!ok()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

pid_t pid_in(const std::string& path) {
  const std::string text = read_text(path);
  return text.empty() ? 0 : static_cast<pid_t>(std::stol(text));
}

class Shim : public ::testing::Test {
 protected:
  void SetUp() override {
    AttemptHeader h;
    h.key = {7, 1};
    h.ranks = {0};
    h.program = "sh";
    record = dir / "7.1";
    write_text(record, record_header_line(h));
    record_fd = ::open(record.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    ASSERT_GE(record_fd, 3);
  }
  void TearDown() override { ::close(record_fd); }

  LaunchSpec sh(const std::string& script) {
    LaunchSpec s;
    s.argv = {"sh", "-c", script};
    s.env = {"PATH=/usr/bin:/bin"};
    s.cwd = dir.path();
    s.stdout_path = dir / "out.log";
    s.stderr_path = dir / "out.log";
    return s;
  }

  pid_t start(const LaunchSpec& spec, std::vector<std::string> cgroups = {}) {
    std::string error;
    auto prepared = prepare_launch(spec, error);
    EXPECT_TRUE(prepared) << error;
    if (!prepared) return -1;
    ShimLaunch launch{&*prepared, std::move(cgroups), record_fd, 0};
    pid_t pid = start_shim(launch, error);
    EXPECT_GT(pid, 0) << error;
    return pid;
  }

  // Waits for the shim (our child) and returns rank 0 of the record.
  RankRecord finish(pid_t shim) {
    auto e = wait_child(shim, 20s);
    EXPECT_TRUE(e) << "the shim did not end";
    if (e) {
      EXPECT_EQ(e->code, 0) << "the shim itself exits 0";
    }
    AttemptRecord rec = parse_attempt_record(read_text(record));
    EXPECT_TRUE(rec.header);
    return rec.header ? rec.ranks.at(0) : RankRecord{};
  }

  ScratchDir dir;
  std::string record;
  int record_fd = -1;
};

TEST_F(Shim, RecordsItsStartAndTheTasksExit) {
  const std::int64_t before = wall_ms();
  pid_t shim = start(sh("echo hello; exit 3"));
  RankRecord r = finish(shim);
  EXPECT_TRUE(r.started);
  EXPECT_EQ(r.shim_pid, shim);
  EXPECT_FALSE(r.shim_start.empty());
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.step, kShimStarted);
  EXPECT_GE(r.end_ms, before);
  EXPECT_LE(r.end_ms, wall_ms());
  EXPECT_EQ(read_text(dir / "out.log"), "hello\n");
}

TEST_F(Shim, TheTaskRunsInItsOwnGroupWithDefaultSignalsAndNoAgentDescriptors) {
  int leaked = ::open("/dev/null", O_RDONLY);  // not close-on-exec
  const std::string fds = std::to_string(leaked) + " " + std::to_string(record_fd);
  // The masks are read by the task itself (exec): the shell blocks signals while it waits.
  pid_t shim =
      start(sh("cut -d' ' -f5 /proc/$$/stat > pgid; echo $$ > pid; "
               "for fd in " +
               fds +
               "; do [ -e /proc/$$/fd/$fd ] && echo open $fd; done; "
               "echo checked; exec grep -E '^(SigBlk|SigIgn)' /proc/self/status > sig"));
  finish(shim);
  ::close(leaked);
  EXPECT_EQ(read_text(dir / "pgid"), read_text(dir / "pid")) << "the task leads its own group";
  EXPECT_EQ(read_text(dir / "sig"), "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
  EXPECT_EQ(read_text(dir / "out.log"), "checked\n")
      << "a descriptor of the agent or the record reached the task";
}

TEST_F(Shim, PassesSigtermOn) {
  pid_t shim = start(sh("echo $$ > pid; exec sleep 30"));
  ASSERT_TRUE(eventually([&] { return pid_in(dir / "pid") > 0; }));
  ASSERT_EQ(::kill(shim, SIGTERM), 0);
  RankRecord r = finish(shim);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM);
  EXPECT_EQ(r.signal, SIGTERM);
}

TEST_F(Shim, KShimKillEndsATaskThatIgnoresSigterm) {
  pid_t shim = start(sh("trap '' TERM; echo $$ > pid; while :; do sleep 1; done"));
  ASSERT_TRUE(eventually([&] { return pid_in(dir / "pid") > 0; }));
  ::kill(shim, SIGTERM);
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(alive(pid_in(dir / "pid"))) << "the task ignores SIGTERM";
  EXPECT_TRUE(alive(shim));
  ASSERT_EQ(::kill(shim, kShimKill), 0);
  RankRecord r = finish(shim);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
}

TEST_F(Shim, WhatIsLeftOfTheTasksGroupGoesWithIt) {
  pid_t shim = start(sh("sleep 30 & echo $! > child; exit 0"));
  RankRecord r = finish(shim);
  EXPECT_EQ(r.exit_code, 0);
  const pid_t child = pid_in(dir / "child");
  ASSERT_GT(child, 0);
  EXPECT_TRUE(eventually([&] { return !alive(child); })) << "the background sleep survived";
}

TEST_F(Shim, AFailedExecIsRecordedAsAFailedStart) {
  write_text(dir / "bad.sh", "#!/nonexistent/interpreter\n");
  ::chmod((dir / "bad.sh").c_str(), 0755);
  LaunchSpec s = sh("");
  s.argv = {dir / "bad.sh"};
  RankRecord r = finish(start(s));
  EXPECT_TRUE(r.started);
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_EQ(r.step, kShimExec);
  AttemptHeader h;
  h.program = dir / "bad.sh";
  auto o = outcome_of(r, h);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->kind, RankOutcome::launch_failed);
  EXPECT_NE(o->reason.find("a missing #! interpreter?"), std::string::npos) << o->reason;
}

TEST_F(Shim, AMissingCgroupIsAFailedStartAndNothingRuns) {
  LaunchSpec s = sh("touch ran");
  RankRecord r = finish(start(s, {dir / "no-such-cgroup/cgroup.procs"}));
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_EQ(r.step, kShimJoinCgroup);
  EXPECT_FALSE(std::filesystem::exists(dir / "ran"));
}

// The shim's starter (the agent) goes away; the shim runs on, and a newcomer finds it by pid
// and start time, watches it through a pidfd, and reads the exit from the record.
TEST_F(Shim, OutlivesItsStarterAndCanBeWatchedByAnother) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t starter = ::fork();
  if (starter == 0) {
    std::string error;
    LaunchSpec spec = sh("echo $$ > pid; while [ ! -e go ]; do sleep 0.02; done; exit 5");
    auto prepared = prepare_launch(spec, error);
    ShimLaunch launch{&*prepared, {}, record_fd, 0};
    pid_t shim = start_shim(launch, error);
    ssize_t n = ::write(pipe_fds[1], &shim, sizeof shim);
    ::_exit(n == sizeof shim ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  pid_t shim = 0;
  ASSERT_EQ(::read(pipe_fds[0], &shim, sizeof shim), static_cast<ssize_t>(sizeof shim));
  ::close(pipe_fds[0]);
  ASSERT_TRUE(wait_child(starter, 10s));  // the "agent" is gone
  ASSERT_TRUE(eventually([&] { return pid_in(dir / "pid") > 0; }));
  EXPECT_TRUE(alive(shim));

  AttemptRecord rec = parse_attempt_record(read_text(record));
  ASSERT_TRUE(rec.header);
  const RankRecord r = rec.ranks.at(0);
  ASSERT_TRUE(r.started);
  EXPECT_EQ(r.shim_pid, shim);
  bool is_alive = false;
  int fd = open_pidfd_if_alive(r.shim_pid, r.shim_start, is_alive);
  EXPECT_TRUE(is_alive);
  ASSERT_GE(fd, 0);
  bool not_it = true;
  EXPECT_EQ(open_pidfd_if_alive(r.shim_pid, r.shim_start + "1", not_it), -1);
  EXPECT_FALSE(not_it) << "another start time is another process";

  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0) << "still running";
  write_text(dir / "go", "");
  EXPECT_EQ(::poll(&p, 1, 20'000), 1) << "the pidfd says when it ends";
  ::close(fd);
  rec = parse_attempt_record(read_text(record));
  EXPECT_TRUE(rec.ranks.at(0).ended);
  EXPECT_EQ(rec.ranks.at(0).exit_code, 5);
  bool after = true;
  EXPECT_EQ(open_pidfd_if_alive(r.shim_pid, r.shim_start, after), -1);
  EXPECT_FALSE(after);
}

TEST(ShimStartTime, OfThisProcessAndOfNone) {
  const std::string mine = proc_start_time(::getpid());
  EXPECT_FALSE(mine.empty());
  EXPECT_EQ(mine.find_first_not_of("0123456789"), std::string::npos);
  EXPECT_EQ(proc_start_time(::getpid()), mine);
  EXPECT_EQ(proc_start_time(0x3fffffff), "");
}

// With a real tracking cgroup (skipped where none is writable): the task and what it starts
// with setsid are in the cgroup, the shim is not, and killing the cgroup ends them all while
// the shim records the task's SIGKILL.
class ShimInCgroup : public Shim, public ::testing::WithParamInterface<bool> {};

TEST_P(ShimInCgroup, SetsidEscapesDieWithTheCgroup) {
  TrackerConfig config;
  config.parent = "zhisuan-test-" + std::to_string(::getpid());
  config.allow_v2 = GetParam();
  CgroupTracker tracker = CgroupTracker::detect(config);
  if (!tracker.available() || tracker.fake_tree()) GTEST_SKIP() << tracker.status();
  if (!GetParam() && tracker.kind() != CgroupTracker::Kind::freezer)
    GTEST_SKIP() << "no v1 freezer: " << tracker.status();
  std::string error;
  const std::string cg = tracker.create("shim", error);
  ASSERT_FALSE(cg.empty()) << error;
  struct Cleanup {
    const CgroupTracker& t;
    std::string dir;
    ~Cleanup() {
      t.kill(dir);
      for (int i = 0; i < 100 && !t.remove(dir); ++i) std::this_thread::sleep_for(10ms);
      t.remove_parent();
    }
  } cleanup{tracker, cg};

  pid_t shim = start(sh("setsid sleep 300 & echo $! > escaped; echo $$ > pid; exec sleep 300"),
                     {CgroupTracker::procs_file(cg)});
  ASSERT_TRUE(eventually([&] { return pid_in(dir / "escaped") > 0 && pid_in(dir / "pid") > 0; }));
  const pid_t escaped = pid_in(dir / "escaped"), task = pid_in(dir / "pid");
  ASSERT_TRUE(eventually([&] { return tracker.procs(cg).size() == 2; }));
  auto procs = tracker.procs(cg);
  EXPECT_NE(std::find(procs.begin(), procs.end(), task), procs.end());
  EXPECT_NE(std::find(procs.begin(), procs.end(), escaped), procs.end());
  EXPECT_EQ(std::find(procs.begin(), procs.end(), shim), procs.end()) << "the shim stays out";
  EXPECT_NE(::getsid(escaped), ::getsid(task)) << "setsid left the task's session";

  EXPECT_EQ(tracker.kill(cg), "");
  RankRecord r = finish(shim);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  EXPECT_TRUE(eventually([&] { return !alive(escaped); })) << "the setsid sleep escaped";
  EXPECT_TRUE(eventually([&] { return tracker.empty(cg); }));
  EXPECT_TRUE(eventually([&] { return tracker.remove(cg); }));
}

INSTANTIATE_TEST_SUITE_P(V2OrFreezer, ShimInCgroup, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "v2" : "freezer"; });

}  // namespace
}  // namespace zs
