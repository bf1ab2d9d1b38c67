// Starting and stopping task processes on the node.
//
// launch() starts argv with exactly the given environment, in the given working directory,
// stdin from /dev/null, stdout/stderr appended to files, in a new process group whose id is the
// child's pid, with no inherited file descriptors beyond 0-2 and default signal handling.
// Everything that can be checked before the exec is checked in the agent (program, cwd, log
// files), and a failed exec comes back as an error, not as a child exiting 127.
//
// Without cgroup files the child is started with posix_spawn: measured here, 0.57 ms against
// 1.2 ms for fork+exec from a 20 MB process, 0.54 ms against 7.8 ms from 200 MB. With cgroup
// files it is forked, and the child writes its own pid into each file before exec, so the task
// and all its descendants start inside the cgroups: no window where it runs outside them.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/run_as.h"
#include "api/file_slice.h"

namespace zs {

struct LaunchSpec {
  std::vector<std::string> argv;          // argv[0] without '/' is searched in the PATH of `env`
  std::vector<std::string> env;           // the complete environment, "K=V" each
  std::string cwd;                        // "" = the agent's working directory
  std::string stdout_path;                // opened O_APPEND|O_CREAT, 0644; "" = /dev/null
  std::string stderr_path;                // may equal stdout_path (one shared file); "" = /dev/null
  std::vector<std::string> cgroup_procs;  // cgroup.procs (or tasks) files to join before exec
  // Whom the task runs as (run_as.h): with switch_user, the program, working directory and log
  // files are checked and opened as that user, and the child takes its groups, gid and uid
  // after joining the cgroups and before changing directory. nullptr = as the caller.
  const RunAs* run_as = nullptr;
};

struct LaunchResult {
  pid_t pid = -1;     // also the process group id
  std::string error;  // "" on success: "program 'x' not found in PATH=...", ...
  bool ok() const { return pid > 0; }
};

LaunchResult launch(const LaunchSpec& spec);

// What the parent prepares before it starts a child: the checked program, the open stdin,
// stdout and stderr, and argv/envp as C strings. The C strings point into the LaunchSpec, which
// must outlive this. Move-only; closes its descriptors.
class PreparedLaunch {
 public:
  PreparedLaunch() = default;
  PreparedLaunch(PreparedLaunch&& other) noexcept;
  PreparedLaunch& operator=(PreparedLaunch&& other) noexcept;
  PreparedLaunch(const PreparedLaunch&) = delete;
  PreparedLaunch& operator=(const PreparedLaunch&) = delete;
  ~PreparedLaunch();

  std::string program;        // what execve gets: argv[0] resolved in PATH
  const char* cwd = nullptr;  // nullptr = stay where the parent is
  int in = -1, out = -1;
  int err_separate = -1;  // -1 when stderr shares stdout's file
  int err_fd() const { return err_separate >= 0 ? err_separate : out; }
  std::vector<char*> argv, envp;
  // The account the child switches to before the exec (LaunchSpec::run_as).
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  // The files stdout and stderr are (the log server serves only these; api/file_slice.h).
  FileIdentity out_id, err_id;

 private:
  void close_all();
};

// Checks and opens everything launch() needs (program, working directory, log files,
// environment entries). nullopt with the reason in `error` (the messages launch() gives).
std::optional<PreparedLaunch> prepare_launch(const LaunchSpec& spec, std::string& error);

// Sends sig to every process of the group. Returns false (with a reason in *error) when the
// group no longer exists or the signal is refused. Refuses pgid <= 1, which would reach the
// agent's own group or every process.
bool signal_group(pid_t pgid, int sig, std::string* error = nullptr);

struct Exit {
  pid_t pid = 0;
  int code = 0;    // exit status, or 128 + signal number when killed by a signal
  int signal = 0;  // the signal that killed it, 0 when it exited
};

// Reaps every child that has exited (waitpid(-1, WNOHANG)), without blocking. It reaps all of
// the agent's children: run it on the thread that owns the children, and ignore unknown pids.
std::vector<Exit> reap_children();

// Waits up to `timeout` for one child to exit; nullopt if it is still running.
std::optional<Exit> wait_child(pid_t pid, std::chrono::milliseconds timeout);

// The executable `program` names: a path containing '/' (relative to cwd), or the first
// executable file named `program` in the ':'-separated `path_value` ("" = /usr/local/bin:
// /usr/bin:/bin). nullopt and a message in `error` when there is none.
std::optional<std::string> find_program(const std::string& program, std::string_view path_value,
                                        const std::string& cwd, std::string& error);

}  // namespace zs
