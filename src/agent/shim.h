// The per-task shim: the parent of one task, and what lets tasks outlive their agent.
//
// The agent forks a shim for every task it starts (a fork without exec: a few hundred
// microseconds, where executing a helper program would cost milliseconds). The shim starts its
// own session, starts the task (vfork + exec; the task joins its cgroups before the exec), waits
// for it, and appends how it ended to the attempt's record file (attempt_record.h). It never
// needs the agent: when the agent dies or restarts, the shim goes on, and the next agent finds
// it by the pid and start time it wrote, watches it with a pidfd and reads its exit from the
// record. The shim passes SIGTERM, SIGINT, SIGHUP, SIGQUIT and SIGUSR2 on to the task's process
// group, and kShimKill makes it SIGKILL that group.
//
// The shim is a forked copy of a multi-threaded process, so it makes only async-signal-safe
// calls (no allocation, no locks, no stdio): everything it needs is prepared before the fork.
// It writes two kinds of lines to the record, each with one write(2) to an O_APPEND descriptor:
//   S <rank> <shim pid> <shim start time>      once started, before the task exists
//   E <rank> <code> <signal> <end ms> <step> <errno>
// code is the exit status, or 128 + N for a task killed by signal N; end ms is the wall clock
// when it ended; step and errno say which step of starting the task failed (code 127), or 0 0.
#pragma once
#include <signal.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "agent/launcher.h"

namespace zs {

inline constexpr int kShimKill = SIGUSR1;  // "SIGKILL the task's process group"

struct ShimLaunch {
  const PreparedLaunch* task = nullptr;
  std::vector<std::string> cgroup_procs;  // cgroup.procs files the task joins before its exec
  int record_fd = -1;                     // the attempt record, opened O_APPEND
  int rank = 0;
};

// Forks the shim; its pid, or -1 with the reason in `error`. Safe to call from any thread of a
// multi-threaded process.
pid_t start_shim(const ShimLaunch& launch, std::string& error);

// The steps of starting a task that can fail inside the shim (the E line's step).
enum ShimStep : int {
  kShimStarted = 0,
  kShimSetpgid = 1,
  kShimChdir = 2,
  kShimJoinCgroup = 3,  // errno, and the index of the file in the E line's errno field's high bits
  kShimExec = 4,
  kShimFork = 5,
  kShimPipe = 6,
};

// A failed step as a message, e.g. "cannot exec '/bin/x': No such file or directory (a missing
// #! interpreter?)". `detail` is the E line's errno field.
std::string shim_step_message(int step, int detail, const std::string& program,
                              const std::string& cwd, const std::vector<std::string>& cgroup_procs);

// The start time of a process (field 22 of /proc/PID/stat, clock ticks since boot), as text;
// "" when there is no such process. A pid and its start time name one process for good.
std::string proc_start_time(pid_t pid);

// Is the process that had `pid` and `start` (proc_start_time) still running? Sets `alive`, and
// returns a pidfd to it (-1 on kernels without pidfd_open: `alive` still says). The pidfd is
// taken before the start times are compared, so a pid reused after the check cannot be
// mistaken for the shim.
int open_pidfd_if_alive(pid_t pid, const std::string& start, bool& alive);

}  // namespace zs
