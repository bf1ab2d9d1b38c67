#include "agent/shim.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <fstream>
#include <sstream>
#include <system_error>

namespace zs {
namespace {

// The signals the shim waits for with sigwaitinfo; blocked from before the fork on.
sigset_t shim_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaddset(&set, s);
  return set;
}

// Everything below runs in the forked shim or its vfork child: async-signal-safe calls only.

// The signal mask, set with the raw system call: no sanitizer interceptor runs in the vfork
// child, which shares the shim's memory.
void set_mask(const sigset_t& set) {
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, nullptr, _NSIG / 8);
}

// A line built on the stack.
struct Line {
  char buf[200];
  std::size_t n = 0;
  void ch(char c) {
    if (n < sizeof buf) buf[n++] = c;
  }
  void str(const char* s) {
    while (*s) ch(*s++);
  }
  void num(long long v) {
    if (v < 0) {
      ch('-');
      v = -v;
    }
    char digits[24];
    int len = 0;
    do {
      digits[len++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v && len < 24);
    while (len) ch(digits[--len]);
  }
};

void write_line(int fd, const Line& line) {
  ssize_t w;
  do {
    w = ::write(fd, line.buf, line.n);  // one write: appends never interleave
  } while (w < 0 && errno == EINTR);
}

long long wall_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// Appends this process's start time (field 22 of /proc/self/stat) to `line`.
void own_start_time(Line& line) {
  char stat[1024];
  int fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : ::read(fd, stat, sizeof stat - 1);
  if (fd >= 0) ::close(fd);
  if (n <= 0) return line.ch('0');
  std::size_t end = static_cast<std::size_t>(n), paren = 0;
  for (std::size_t i = 0; i < end; ++i)
    if (stat[i] == ')') paren = i;
  // Fields after "(comm) " start at 3 (state); field 22 is 19 spaces further.
  std::size_t i = paren + 2;
  for (int field = 3; field < 22 && i < end; ++i)
    if (stat[i] == ' ') ++field;
  bool any = false;
  for (; i < end && stat[i] >= '0' && stat[i] <= '9'; ++i, any = true) line.ch(stat[i]);
  if (!any) line.ch('0');
}

void exit_line(int fd, int rank, int code, int signal, long long end_ms, int step, int detail) {
  Line l;
  l.str("E ");
  l.num(rank);
  l.ch(' ');
  l.num(code);
  l.ch(' ');
  l.num(signal);
  l.ch(' ');
  l.num(end_ms);
  l.ch(' ');
  l.num(step);
  l.ch(' ');
  l.num(detail);
  l.ch('\n');
  write_line(fd, l);
}

struct ChildReport {
  int step, detail;
};

// What the shim's child needs, prepared before the fork.
struct ShimArgs {
  const PreparedLaunch* task;
  const char* const* cgroup_procs;
  std::size_t cgroups;
  int record_fd, rank;
  long max_fd;
};

[[noreturn]] void child_fail(int fd, int step, int detail) {
  ChildReport r{step, detail};
  ssize_t n = ::write(fd, &r, sizeof r);
  (void)n;
  ::_exit(127);
}

// The vfork child: its own process group, an empty signal mask, the task's directory and
// cgroups, then the exec. The cgroups are joined before the exec so that the task and all it
// starts are inside them from the first instruction.
[[noreturn]] __attribute__((noinline)) void task_child(const ShimArgs& a, int report_fd) {
  if (::setpgid(0, 0) != 0) child_fail(report_fd, kShimSetpgid, errno);
  sigset_t none;
  sigemptyset(&none);
  set_mask(none);
  if (a.task->cwd && ::chdir(a.task->cwd) != 0) child_fail(report_fd, kShimChdir, errno);
  if (a.cgroups > 0) {
    Line pid;
    pid.num(::getpid());
    pid.ch('\n');
    for (std::size_t i = 0; i < a.cgroups; ++i) {
      int fd = ::open(a.cgroup_procs[i], O_WRONLY | O_CLOEXEC);
      const int detail = static_cast<int>(i) * 4096;
      if (fd < 0) child_fail(report_fd, kShimJoinCgroup, detail + errno);
      if (::write(fd, pid.buf, pid.n) != static_cast<ssize_t>(pid.n))
        child_fail(report_fd, kShimJoinCgroup, detail + errno);
      ::close(fd);
    }
  }
  ::execve(a.task->program.c_str(), a.task->argv.data(), a.task->envp.data());
  child_fail(report_fd, kShimExec, errno);
}

void close_from(int first, int keep, long max_fd) {
  bool ok = true;
  if (keep > first)
    ok = ::syscall(SYS_close_range, static_cast<unsigned>(first), static_cast<unsigned>(keep - 1),
                   0u) == 0;
  if (ok) ok = ::syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u) == 0;
  if (!ok)  // kernels before 5.9
    for (long fd = first; fd < max_fd; ++fd)
      if (fd != keep) ::close(static_cast<int>(fd));
}

[[noreturn]] void run_shim(const ShimArgs& a) {
  const PreparedLaunch& t = *a.task;
  // The task's stdin, stdout and stderr become the shim's own (it never writes to them), and
  // nothing else of the agent stays open: not its sockets, and not its work-dir lock.
  if (::dup2(t.in, 0) < 0 || ::dup2(t.out, 1) < 0 || ::dup2(t.err_fd(), 2) < 0) ::_exit(126);
  close_from(3, a.record_fd, a.max_fd);
  ::setsid();  // away from the agent's session and process group: its signals are not ours
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s)
    if (s != SIGKILL && s != SIGSTOP) ::sigaction(s, &dfl, nullptr);
  const sigset_t waited = shim_signals();
  set_mask(waited);

  Line started;
  started.str("S ");
  started.num(a.rank);
  started.ch(' ');
  started.num(::getpid());
  started.ch(' ');
  own_start_time(started);
  started.ch('\n');
  write_line(a.record_fd, started);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    exit_line(a.record_fd, a.rank, 127, 0, wall_ms(), kShimPipe, errno);
    ::_exit(0);
  }
  // vfork: the shim is a copy of the whole agent, and a fork would copy its page tables again.
  const pid_t task = ::vfork();
  if (task == 0) task_child(a, pipe_fds[1]);
  const int fork_errno = errno;
  ::close(pipe_fds[1]);
  if (task < 0) {
    exit_line(a.record_fd, a.rank, 127, 0, wall_ms(), kShimFork, fork_errno);
    ::_exit(0);
  }
  ChildReport report{};
  ssize_t got;
  do {
    got = ::read(pipe_fds[0], &report, sizeof report);
  } while (got < 0 && errno == EINTR);
  ::close(pipe_fds[0]);
  if (got == static_cast<ssize_t>(sizeof report)) {
    int status;
    while (::waitpid(task, &status, 0) < 0 && errno == EINTR) {
    }
    exit_line(a.record_fd, a.rank, 127, 0, wall_ms(), report.step, report.detail);
    ::_exit(0);
  }

  while (true) {
    siginfo_t info{};
    const int sig = ::sigwaitinfo(&waited, &info);
    if (sig == SIGCHLD) {
      siginfo_t done{};
      // Peek first: while the task is a zombie its pid, which is its group's id, cannot be
      // reused, so the SIGKILL for what is left of its group reaches nothing else.
      if (::waitid(P_PID, static_cast<id_t>(task), &done, WEXITED | WNOHANG | WNOWAIT) != 0 ||
          done.si_pid != task)
        continue;
      ::kill(-task, SIGKILL);
      int status = 0;
      while (::waitpid(task, &status, 0) < 0 && errno == EINTR) {
      }
      const long long end = wall_ms();
      if (WIFSIGNALED(status))
        exit_line(a.record_fd, a.rank, 128 + WTERMSIG(status), WTERMSIG(status), end, 0, 0);
      else
        exit_line(a.record_fd, a.rank, WEXITSTATUS(status), 0, end, 0, 0);
      ::_exit(0);
    }
    if (sig == kShimKill)
      ::kill(-task, SIGKILL);
    else if (sig > 0)
      ::kill(-task, sig);
  }
}

}  // namespace

pid_t start_shim(const ShimLaunch& launch, std::string& error) {
  if (!launch.task || launch.record_fd < 3) {
    error = "internal error: a shim needs a prepared task and a record descriptor above 2";
    return -1;
  }
  std::vector<const char*> cgroups;
  for (const auto& f : launch.cgroup_procs) cgroups.push_back(f.c_str());
  const long open_max = ::sysconf(_SC_OPEN_MAX);
  ShimArgs args{launch.task,      cgroups.data(), cgroups.size(),
                launch.record_fd, launch.rank,    open_max > 0 ? open_max : 65536};
  // Blocked across the fork, so the shim cannot be stopped by one of them before it waits for
  // them (kShimKill's default action would end it).
  const sigset_t waited = shim_signals();
  sigset_t before;
  ::pthread_sigmask(SIG_BLOCK, &waited, &before);
  const pid_t pid = ::fork();
  if (pid == 0) run_shim(args);
  const int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
  if (pid < 0) {
    error = "cannot fork: " + std::system_category().message(fork_errno);
    return -1;
  }
  return pid;
}

std::string shim_step_message(int step, int detail, const std::string& program,
                              const std::string& cwd,
                              const std::vector<std::string>& cgroup_procs) {
  const int err = step == kShimJoinCgroup ? detail % 4096 : detail;
  const std::string why = std::system_category().message(err);
  switch (step) {
    case kShimSetpgid:
      return "cannot start a new process group: " + why;
    case kShimChdir:
      return "cannot change to working directory '" + cwd + "': " + why;
    case kShimJoinCgroup: {
      const std::size_t index = static_cast<std::size_t>(detail / 4096);
      const std::string file = index < cgroup_procs.size() ? cgroup_procs[index] : "?";
      return "cannot join cgroup via '" + file + "': " + why;
    }
    case kShimExec:
      return "cannot exec '" + program + "': " + why +
             (err == ENOENT ? " (a missing #! interpreter?)" : "");
    case kShimFork:
      return "cannot fork the task: " + why;
    case kShimPipe:
      return "cannot create a pipe: " + why;
    default:
      return "the task could not be started (step " + std::to_string(step) + "): " + why;
  }
}

namespace {

// Fields 3 (state) and 22 (start time) of /proc/PID/stat; false when there is no such process.
bool proc_state(pid_t pid, char& state, std::string& start) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return false;
  const auto paren = stat.rfind(')');
  if (paren == std::string::npos) return false;
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 3) state = field.empty() ? '?' : field[0];
    if (i == 22) {
      start = field;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string proc_start_time(pid_t pid) {
  char state = 0;
  std::string start;
  return proc_state(pid, state, start) ? start : "";
}

int open_pidfd_if_alive(pid_t pid, const std::string& start, bool& alive) {
  alive = false;
  if (pid <= 1 || start.empty()) return -1;
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0 && errno != ENOSYS) return -1;  // no such process
  char state = 0;
  std::string now;
  // A zombie has ended: only its parent has not collected it yet.
  alive = proc_state(pid, state, now) && now == start && state != 'Z' && state != 'X';
  if (!alive && fd >= 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace zs
