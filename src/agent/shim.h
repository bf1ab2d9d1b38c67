// The shim: the process that is the parent of an agent's tasks, and what lets tasks outlive
// their agent.
//
// The agent forks one shim when it starts (while it is small and has a single thread). The
// agent sends it launches and signals over a socket; the shim starts each task with vfork +
// exec (the task gets its own process group, an empty signal mask, default signal handling,
// joins its cgroups and takes its job's Unix user (run_as.h) before the exec), waits for the
// tasks, and appends how each started and ended to its attempt's record (attempt_record.h),
// then tells the agent. It never needs the agent: when the agent dies or restarts, the shim
// goes on supervising the tasks it has and exits when the last one has ended. It also stops
// them (SIGTERM to each task's group, SIGKILL to the group and its cgroups after the grace
// period) when the node lease runs out, so a frozen or dead agent's tasks do not run on after
// the controller gave them up. The next agent forks a shim of its own for new tasks, and
// re-adopts the old ones from their records: by the task's pid and start time (a pidfd tells
// when it ends), with the exit the old shim records.
//
// One shim per agent generation rather than one per task: a process per task doubled the CPU
// cost of a short job (docs/benchmarks.md). The shim adds two record lines per task, written
// with one write(2) each to the record's O_APPEND descriptor (passed with the launch):
//   S <job> <attempt> <rank> <task pid> <task start> <shim pid> <shim start>  (after the exec)
//   E <job> <attempt> <rank> <code> <signal> <end ms> <step> <errno>
// code is the exit status, or 128 + N for a task killed by signal N; end ms is the wall clock
// when it ended; step and errno say which step of starting the task failed (code 127), or 0 0.
// The attempt's key is in every line: record files are reused, and a line of another attempt
// (however late it comes) must never count for this one.
#pragma once
#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "agent/launcher.h"
#include "api/agent_protocol.h"

namespace zs {

inline constexpr int kKillGroup = 0;  // Shim::signal: SIGKILL the task's whole process group
// Shim::signal with -N: signal N for the task's own process only, not its process group (a
// job's --signal=B:: its script's shell, which decides what to tell the programs it started).

// The steps of starting a task that can fail in the shim (the E line's step).
enum ShimStep : int {
  kShimStarted = 0,
  kShimSetpgid = 1,
  kShimChdir = 2,
  kShimJoinCgroup = 3,  // errno + 4096 * (index of the cgroup.procs file)
  kShimExec = 4,
  kShimFork = 5,
  kShimRecord = 6,  // the task's descriptors did not reach the shim, or could not be set up
  // Not a failed start: the task ran, and the shim stopped it because the node lease ran out
  // (node_lease.h). Its code is how it ended.
  kShimLeaseStop = 7,
  kShimSetUser = 8,  // taking the job's Unix user (groups, gid, uid) failed
};
inline constexpr const char* kLeaseStopMessage =
    "stopped on its node: no answer from the controller within the node lease";

class Shim {
 public:
  // Forks the shim process. On failure ok() is false and error() says why. `lease_file`: the
  // node lease (node_lease.h) it stops its tasks by, read at each launch and whenever the
  // deadline it knows has passed ("" = none).
  explicit Shim(std::string lease_file = "");
  ~Shim();  // closes the socket; the shim exits once its last task has ended
  Shim(const Shim&) = delete;
  Shim& operator=(const Shim&) = delete;

  bool ok() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }
  pid_t pid() const { return pid_; }
  int event_fd() const { return fd_; }  // readable when the shim has something to say

  // Asks the shim to start one task. The descriptors (the task's stdin, stdout, stderr and the
  // attempt record, O_APPEND) are passed along; the caller keeps its own. False, with `error`,
  // when the shim is gone.
  bool launch(const AttemptKey& key, int rank, const PreparedLaunch& task,
              const std::vector<std::string>& cgroup_procs, int record_fd, std::string& error);
  // A signal for a task's process group (kKillGroup: SIGKILL), delivered while the shim has
  // not yet collected the task, so it cannot reach a process that took a reused pid.
  bool signal(const AttemptKey& key, int rank, int sig);

  struct Event {
    enum Kind : std::int32_t { started = 1, ended = 2 } kind = started;
    AttemptKey key;
    int rank = 0;
    pid_t pid = 0;  // started: the task
    int exit_code = 0, signal = 0;
    std::int64_t end_ms = 0;
    int step = 0, detail = 0;
  };
  // What the shim has said since the last call (never blocks). False when it is gone: the
  // socket is then closed and ok() turns false.
  bool read_events(std::vector<Event>& out);

 private:
  bool send_locked(const void* data, std::size_t size, const int* fds, int nfds);
  void lost(const std::string& why);

  std::mutex mu_;
  int fd_ = -1;
  pid_t pid_ = -1;
  std::string error_;
};

// A failed step as a message, e.g. "cannot exec '/bin/x': No such file or directory (a missing
// #! interpreter?)". `detail` is the E line's errno field.
std::string shim_step_message(int step, int detail, const std::string& program,
                              const std::string& cwd, const std::vector<std::string>& cgroup_procs);

// The start time of a process (field 22 of /proc/PID/stat, clock ticks since boot), as text;
// "" when there is no such process. A pid and its start time name one process for good.
std::string proc_start_time(pid_t pid);

// Is the process that had `pid` and `start` (proc_start_time) still running (not a zombie)?
// Sets `alive`, and returns a pidfd to it (-1 on kernels without pidfd_open: `alive` still
// says). The pidfd is taken before the start times are compared, so a pid reused after the
// check cannot be mistaken for the process.
int open_pidfd_if_alive(pid_t pid, const std::string& start, bool& alive);

}  // namespace zs
