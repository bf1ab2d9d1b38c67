// The shim (agent/shim.h), with real processes: it records each task's start and exit in the
// attempt record and tells the agent, signals task groups, kills what is left of a task's group,
// reports failed starts, and runs on when its agent is gone (the next agent finds the task by
// pid and start time and watches it through a pidfd).
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
#include <memory>
#include <string>
#include <thread>

#include "agent/attempt_record.h"
#include "agent/cgroup_tracker.h"
#include "agent/launcher.h"
#include "agent/node_lease.h"
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

class ShimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AttemptHeader h;
    h.key = key;
    h.ranks = {0, 1};
    h.program = "sh";
    record = dir / "record";
    write_text(record, record_header_line(h));
    record_fd = ::open(record.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    ASSERT_GE(record_fd, 3);
  }
  void TearDown() override { ::close(record_fd); }

  Shim& shim() {
    if (!shim_) shim_ = std::make_unique<Shim>(lease_file);
    EXPECT_TRUE(shim_->ok()) << shim_->error();
    return *shim_;
  }

  LaunchSpec sh(const std::string& script) {
    LaunchSpec s;
    s.argv = {"sh", "-c", script};
    s.env = {"PATH=/usr/bin:/bin"};
    s.cwd = dir.path();
    s.stdout_path = dir / "out.log";
    s.stderr_path = dir / "out.log";
    return s;
  }

  void launch(const LaunchSpec& spec, int rank = 0, std::vector<std::string> cgroups = {}) {
    std::string error;
    auto prepared = prepare_launch(spec, error);
    ASSERT_TRUE(prepared) << error;
    ASSERT_TRUE(shim().launch(key, rank, *prepared, cgroups, record_fd, error)) << error;
  }

  // The next event of `kind` for `rank`, within 20 s.
  Shim::Event next(Shim::Event::Kind kind, int rank = 0) {
    const auto end = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < end) {
      for (std::size_t i = 0; i < pending.size(); ++i)
        if (pending[i].kind == kind && pending[i].rank == rank) {
          Shim::Event e = pending[i];
          pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
          return e;
        }
      pollfd p{shim().event_fd(), POLLIN, 0};
      ::poll(&p, 1, 100);
      shim().read_events(pending);
    }
    ADD_FAILURE() << "no " << (kind == Shim::Event::started ? "started" : "ended")
                  << " event for rank " << rank;
    return {};
  }

  RankRecord rank_record(int rank = 0) {
    AttemptRecord rec = parse_attempt_record(read_text(record));
    EXPECT_TRUE(rec.header);
    return rec.header ? rec.ranks.at(rank) : RankRecord{};
  }

  // The node lease (node_lease.h): until `ms` from now, SIGKILL `grace_ms` after SIGTERM.
  void lease_for(std::int64_t ms, std::int64_t grace_ms = 200) {
    lease_file = dir / "lease";
    ASSERT_EQ(write_node_lease(lease_file, NodeLease{"boot", boot_clock_ms() + ms, grace_ms}), "");
  }

  ScratchDir dir;
  std::string lease_file;  // "" = none
  const AttemptKey key{7, 1};
  std::string record;
  int record_fd = -1;
  std::unique_ptr<Shim> shim_;
  std::vector<Shim::Event> pending;
};

TEST_F(ShimTest, RecordsTheTasksStartAndExit) {
  const std::int64_t before = wall_ms();
  launch(sh("echo hello; exit 3"));
  const Shim::Event started = next(Shim::Event::started);
  EXPECT_EQ(started.key, key);
  EXPECT_GT(started.pid, 1);
  const Shim::Event ended = next(Shim::Event::ended);
  EXPECT_EQ(ended.exit_code, 3);
  EXPECT_EQ(ended.step, kShimStarted);
  RankRecord r = rank_record();
  EXPECT_TRUE(r.started);
  EXPECT_EQ(r.task_pid, started.pid);
  EXPECT_FALSE(r.task_start.empty());
  EXPECT_EQ(r.shim_pid, shim().pid());
  EXPECT_EQ(r.shim_start, proc_start_time(shim().pid()));
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.end_ms, ended.end_ms);
  EXPECT_GE(r.end_ms, before);
  EXPECT_LE(r.end_ms, wall_ms());
  EXPECT_EQ(read_text(dir / "out.log"), "hello\n");
}

TEST_F(ShimTest, LargeEnvironmentsArePassedWhole) {
  LaunchSpec s = sh("printf %s \"$BIG\" | wc -c; printf %s \"$LAST\"");
  s.env.push_back("BIG=" + std::string(100'000, 'x'));  // more than one message holds
  for (int i = 0; i < 2'000; ++i) s.env.push_back("V" + std::to_string(i) + "=value");
  s.env.push_back("LAST=end");
  launch(s);
  EXPECT_EQ(next(Shim::Event::ended).exit_code, 0);
  EXPECT_EQ(read_text(dir / "out.log"), "100000\nend");
}

TEST_F(ShimTest, TasksRunSideBySide) {
  launch(sh("while [ ! -e go ]; do sleep 0.02; done; exit 0"), 0);
  launch(sh("while [ ! -e go ]; do sleep 0.02; done; exit 4"), 1);
  const pid_t a = next(Shim::Event::started, 0).pid, b = next(Shim::Event::started, 1).pid;
  EXPECT_NE(a, b);
  EXPECT_TRUE(alive(a) && alive(b));
  write_text(dir / "go", "");
  EXPECT_EQ(next(Shim::Event::ended, 0).exit_code, 0);
  EXPECT_EQ(next(Shim::Event::ended, 1).exit_code, 4);
}

TEST_F(ShimTest, TheTaskRunsInItsOwnGroupWithDefaultSignalsAndNoAgentDescriptors) {
  // The daemons ignore SIGPIPE (cli/signals.cpp): a task must not inherit that.
  struct sigaction ignore {
  }, old{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGPIPE, &ignore, &old), 0);
  shim();
  ::sigaction(SIGPIPE, &old, nullptr);
  int leaked = ::open("/dev/null", O_RDONLY);  // not close-on-exec
  const std::string fds = std::to_string(leaked) + " " + std::to_string(record_fd);
  // The masks are read by the task itself (exec): the shell blocks signals while it waits.
  launch(
      sh("cut -d' ' -f5 /proc/$$/stat > pgid; echo $$ > pid; "
         "for fd in " +
         fds +
         "; do [ -e /proc/$$/fd/$fd ] && echo open $fd; done; "
         "echo checked; exec grep -E '^(SigBlk|SigIgn)' /proc/self/status > sig"));
  next(Shim::Event::ended);
  ::close(leaked);
  EXPECT_EQ(read_text(dir / "pgid"), read_text(dir / "pid")) << "the task leads its own group";
  EXPECT_EQ(read_text(dir / "sig"), "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
  EXPECT_EQ(read_text(dir / "out.log"), "checked\n")
      << "a descriptor of the agent or the record reached the task";
}

TEST_F(ShimTest, SignalsGoToTheTasksGroup) {
  launch(sh("echo $$ > pid; exec sleep 30"));
  next(Shim::Event::started);
  ASSERT_TRUE(shim().signal(key, 0, SIGTERM));
  Shim::Event e = next(Shim::Event::ended);
  EXPECT_EQ(e.exit_code, 128 + SIGTERM);
  EXPECT_EQ(e.signal, SIGTERM);
  EXPECT_EQ(rank_record().exit_code, 128 + SIGTERM);
  EXPECT_TRUE(shim().signal(key, 0, SIGTERM)) << "a signal for an ended task is harmless";
  EXPECT_TRUE(shim().signal(AttemptKey{99, 9}, 0, SIGKILL));
}

TEST_F(ShimTest, ANegativeSignalIsForTheTaskAloneNotItsGroup) {
  // A job's --signal=B:USR1: the script's shell gets it, the programs it started do not.
  launch(
      sh("sleep 30 & c=$!; trap 'if kill -0 $c; then echo alive; else echo gone; fi > got; "
         "kill $c; exit 0' USR1; echo $$ > pid; wait"));
  next(Shim::Event::started);
  ASSERT_TRUE(eventually([&] { return pid_in(dir / "pid") > 0; }));
  ASSERT_TRUE(shim().signal(key, 0, -SIGUSR1));
  EXPECT_EQ(next(Shim::Event::ended).exit_code, 0) << "the shell's trap ran and exited 0";
  EXPECT_EQ(read_text(dir / "got"), "alive\n") << "the shell's child got the signal too";
}

TEST_F(ShimTest, KillGroupEndsATaskThatIgnoresSigterm) {
  launch(sh("trap '' TERM; echo $$ > pid; while :; do sleep 1; done"));
  next(Shim::Event::started);
  ASSERT_TRUE(eventually([&] { return pid_in(dir / "pid") > 0; }));
  shim().signal(key, 0, SIGTERM);
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(alive(pid_in(dir / "pid"))) << "the task ignores SIGTERM";
  shim().signal(key, 0, kKillGroup);
  EXPECT_EQ(next(Shim::Event::ended).exit_code, 128 + SIGKILL);
}

TEST_F(ShimTest, WhatIsLeftOfTheTasksGroupGoesWithIt) {
  launch(sh("sleep 30 & echo $! > child; exit 0"));
  EXPECT_EQ(next(Shim::Event::ended).exit_code, 0);
  const pid_t child = pid_in(dir / "child");
  ASSERT_GT(child, 0);
  EXPECT_TRUE(eventually([&] { return !alive(child); })) << "the background sleep survived";
}

TEST_F(ShimTest, AFailedExecIsRecordedAsAFailedStart) {
  write_text(dir / "bad.sh", "#!/nonexistent/interpreter\n");
  ::chmod((dir / "bad.sh").c_str(), 0755);
  LaunchSpec s = sh("");
  s.argv = {dir / "bad.sh"};
  launch(s);
  Shim::Event e = next(Shim::Event::ended);
  EXPECT_EQ(e.exit_code, 127);
  EXPECT_EQ(e.step, kShimExec);
  RankRecord r = rank_record();
  EXPECT_FALSE(r.started);
  EXPECT_TRUE(r.ended);
  EXPECT_EQ(r.step, kShimExec);
  AttemptHeader h;
  h.program = dir / "bad.sh";
  auto o = outcome_of(r, h);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->kind, RankOutcome::launch_failed);
  EXPECT_NE(o->reason.find("a missing #! interpreter?"), std::string::npos) << o->reason;
}

TEST_F(ShimTest, AMissingCgroupIsAFailedStartAndNothingRuns) {
  launch(sh("touch ran"), 0, {dir / "no-such-cgroup/cgroup.procs"});
  Shim::Event e = next(Shim::Event::ended);
  EXPECT_EQ(e.exit_code, 127);
  EXPECT_EQ(e.step, kShimJoinCgroup);
  EXPECT_EQ(shim_step_message(e.step, e.detail, "sh", "", {dir / "no-such-cgroup/cgroup.procs"}),
            "cannot join cgroup via '" + (dir / "no-such-cgroup/cgroup.procs") +
                "': No such file or directory");
  EXPECT_FALSE(std::filesystem::exists(dir / "ran"));
}

// As root, the task takes the job's Unix user (groups, gid, uid) before its exec, after joining
// its cgroups; its directory is entered as that user.
TEST_F(ShimTest, TheTaskRunsAsItsUnixUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  auto nobody = lookup_account("nobody");
  if (!nobody || nobody->uid == 0) GTEST_SKIP() << "needs the account 'nobody'";
  RunAs who;
  who.switch_user = true;
  who.account = *nobody;
  ::chmod(dir.path().c_str(), 0777);
  LaunchSpec s = sh("id -u; id -g; id -G; pwd");
  s.run_as = &who;
  launch(s);
  Shim::Event e = next(Shim::Event::ended);
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_EQ(e.step, kShimStarted);
  std::string groups;
  for (gid_t g : nobody->groups) groups += (groups.empty() ? "" : " ") + std::to_string(g);
  EXPECT_EQ(read_text(dir / "out.log"), std::to_string(nobody->uid) + "\n" +
                                            std::to_string(nobody->gid) + "\n" + groups + "\n" +
                                            dir.path() + "\n");

  // A directory the user may not enter: the start fails after the switch, and nothing runs.
  ::mkdir((dir / "private").c_str(), 0700);
  s = sh("touch ran");
  s.run_as = &who;
  std::string error;
  auto prepared = prepare_launch(s, error);
  ASSERT_TRUE(prepared) << error;
  const std::string private_dir = dir / "private";
  prepared->cwd = private_dir.c_str();  // as if it changed after the agent's check
  ASSERT_TRUE(shim().launch(key, 1, *prepared, {}, record_fd, error)) << error;
  e = next(Shim::Event::ended, 1);
  EXPECT_EQ(e.exit_code, 127);
  EXPECT_EQ(e.step, kShimChdir);
  EXPECT_EQ(e.detail, EACCES);
  EXPECT_FALSE(std::filesystem::exists(dir / "private/ran"));
}

// The agent goes away; the shim runs on with its task, records its end, and exits after it. A
// newcomer finds the task by pid and start time and watches it through a pidfd.
TEST_F(ShimTest, OutlivesItsAgent) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t agent = ::fork();
  if (agent == 0) {
    Shim s;
    std::string error;
    LaunchSpec spec = sh("while [ ! -e go ]; do sleep 0.02; done; exit 5");
    auto prepared = prepare_launch(spec, error);
    bool ok = prepared && s.launch(key, 0, *prepared, {}, record_fd, error);
    std::vector<Shim::Event> events;
    while (ok && events.empty()) {  // until it runs
      pollfd p{s.event_fd(), POLLIN, 0};
      ::poll(&p, 1, 100);
      ok = s.read_events(events);
    }
    const pid_t shim_pid = s.pid();
    ssize_t n = ::write(pipe_fds[1], &shim_pid, sizeof shim_pid);
    ::_exit(ok && n == sizeof shim_pid ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  pid_t shim_pid = 0;
  ASSERT_EQ(::read(pipe_fds[0], &shim_pid, sizeof shim_pid), static_cast<ssize_t>(sizeof shim_pid));
  ::close(pipe_fds[0]);
  auto gone = wait_child(agent, 10s);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->code, 0);

  RankRecord r = rank_record();
  ASSERT_TRUE(r.started);
  EXPECT_EQ(r.shim_pid, shim_pid);
  EXPECT_TRUE(alive(shim_pid)) << "the shim outlives its agent";
  bool is_alive = false;
  int fd = open_pidfd_if_alive(r.task_pid, r.task_start, is_alive);
  EXPECT_TRUE(is_alive);
  ASSERT_GE(fd, 0);
  bool not_it = true;
  EXPECT_EQ(open_pidfd_if_alive(r.task_pid, r.task_start + "1", not_it), -1);
  EXPECT_FALSE(not_it) << "another start time is another process";

  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0) << "still running";
  write_text(dir / "go", "");
  EXPECT_EQ(::poll(&p, 1, 20'000), 1) << "the pidfd says when it ends";
  ::close(fd);
  EXPECT_TRUE(eventually([&] { return rank_record().ended; })) << "the shim records the end";
  EXPECT_EQ(rank_record().exit_code, 5);
  EXPECT_TRUE(eventually([&] { return !alive(shim_pid); }))
      << "the shim leaves after its last task";
  bool after = true;
  EXPECT_EQ(open_pidfd_if_alive(r.task_pid, r.task_start, after), -1);
  EXPECT_FALSE(after);
}

// Issue 10: a node cut off from its controller must not run on what the controller gave up.
// The shim stops its tasks when the lease runs out: SIGTERM, then SIGKILL after the grace
// period (here to a task that ignores SIGTERM), and says why in the event and the record.
TEST_F(ShimTest, TheLeaseRunningOutStopsTheTasks) {
  lease_for(400, 200);
  const auto start = std::chrono::steady_clock::now();
  launch(sh("trap '' TERM; echo started; sleep 30"));
  const pid_t pid = next(Shim::Event::started).pid;
  const Shim::Event ended = next(Shim::Event::ended);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 400ms + 200ms);
  EXPECT_EQ(ended.step, kShimLeaseStop);
  EXPECT_EQ(ended.signal, SIGKILL);
  EXPECT_FALSE(alive(pid));
  RankRecord r = rank_record();
  ASSERT_TRUE(r.ended);
  auto outcome = outcome_of(r, AttemptHeader{});
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->kind, RankOutcome::lost);  // a node failure, not the job's
}

TEST_F(ShimTest, ARenewedLeaseKeepsTheTasksRunning) {
  lease_for(300);
  launch(sh("sleep 1; exit 5"));
  next(Shim::Event::started);
  const auto end = std::chrono::steady_clock::now() + 2s;
  std::vector<Shim::Event> events;
  while (events.empty() && std::chrono::steady_clock::now() < end) {
    lease_for(300);  // as an agent does after each answer
    std::this_thread::sleep_for(50ms);
    shim().read_events(events);
  }
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].exit_code, 5);
  EXPECT_EQ(events[0].step, kShimStarted);
}

// The agent is gone (killed, frozen, being upgraded): its shim still stops the tasks on time.
TEST_F(ShimTest, TheLeaseHoldsWithoutTheAgent) {
  lease_for(300, 100);
  launch(sh("echo $$ > pid; exec sleep 30"));
  const pid_t pid = next(Shim::Event::started).pid;
  shim_.reset();  // the agent's end of the socket closes
  EXPECT_TRUE(eventually([&] { return !alive(pid); }, 5s));
  EXPECT_TRUE(eventually([&] { return rank_record().ended; }, 5s));
  EXPECT_EQ(rank_record().step, kShimLeaseStop);
}

TEST(NodeLease, WrittenAndReadBackAndNothingElseIsALease) {
  test::ScratchDir dir;
  const std::string path = dir / "lease";
  EXPECT_FALSE(read_node_lease(path));
  ASSERT_EQ(write_node_lease(path, NodeLease{"b00t", 123456, 789}), "");
  auto lease = read_node_lease(path);
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->kernel_boot, "b00t");
  EXPECT_EQ(lease->deadline_ms, 123456);
  EXPECT_EQ(lease->grace_ms, 789);
  for (const char* bad : {"", "zs-lease 2 b 1 2\n", "zs-lease 1 b -1 2\n", "zs-lease 1 b x 2\n",
                          "zs-lease 1 b 5\n", "junk\n"}) {
    write_text(path, bad);
    EXPECT_FALSE(read_node_lease(path)) << bad;
  }
  write_text(path, std::string(4096, '9'));
  EXPECT_FALSE(read_node_lease(path));
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
class ShimInCgroup : public ShimTest, public ::testing::WithParamInterface<bool> {};

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

  launch(sh("setsid sleep 300 & echo $! > escaped; echo $$ > pid; exec sleep 300"), 0,
         {CgroupTracker::procs_file(cg)});
  ASSERT_TRUE(eventually([&] { return pid_in(dir / "escaped") > 0 && pid_in(dir / "pid") > 0; }));
  const pid_t escaped = pid_in(dir / "escaped"), task = pid_in(dir / "pid");
  ASSERT_TRUE(eventually([&] { return tracker.procs(cg).size() == 2; }));
  auto procs = tracker.procs(cg);
  EXPECT_NE(std::find(procs.begin(), procs.end(), task), procs.end());
  EXPECT_NE(std::find(procs.begin(), procs.end(), escaped), procs.end());
  EXPECT_EQ(std::find(procs.begin(), procs.end(), shim().pid()), procs.end())
      << "the shim stays out";
  EXPECT_TRUE(eventually([&] { return ::getsid(escaped) != ::getsid(task); }))
      << "setsid left the task's session";

  EXPECT_EQ(tracker.kill(cg), "");
  EXPECT_EQ(next(Shim::Event::ended).exit_code, 128 + SIGKILL);
  EXPECT_TRUE(eventually([&] { return !alive(escaped); })) << "the setsid sleep escaped";
  EXPECT_TRUE(eventually([&] { return tracker.empty(cg); }));
  EXPECT_TRUE(eventually([&] { return tracker.remove(cg); }));
}

INSTANTIATE_TEST_SUITE_P(V2OrFreezer, ShimInCgroup, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "v2" : "freezer"; });

}  // namespace
}  // namespace zs
