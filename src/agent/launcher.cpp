#include "agent/launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>
#include <thread>
#include <utility>

namespace zs {
namespace {

std::string errno_text(int err) {
  return std::system_category().message(err);  // thread-safe, unlike strerror
}

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// Moves fd to a number >= 3 (close-on-exec) so the child's dup2 onto 0..2 cannot clobber it:
// an agent started with stdin closed gets fd 0 from its next open().
int above_stdio(int fd) {
  if (fd < 0 || fd >= 3) return fd;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  return moved;
}

// Opens an output file for appending. Only a regular file or /dev/null: a FIFO would block
// the agent until someone reads it (the open is non-blocking and checked before any write),
// and a device or terminal is no place for a job's output. -1 with errno set otherwise.
int open_output(const std::string& path, FileIdentity& id) {
  const char* p = path.empty() ? "/dev/null" : path.c_str();
  int fd = ::open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
  if (fd < 0) return -1;
  struct stat st {};
  const bool usable =
      ::fstat(fd, &st) == 0 &&
      (S_ISREG(st.st_mode) || (S_ISCHR(st.st_mode) && std::strcmp(p, "/dev/null") == 0));
  if (!usable || ::fcntl(fd, F_SETFL, O_WRONLY | O_APPEND) != 0) {
    const int why = usable ? errno : EINVAL;
    ::close(fd);
    errno = why;
    return -1;
  }
  id = FileIdentity{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
  return above_stdio(fd);
}

// Checked with the effective (for a switched thread: file system) identity, as the exec will be.
bool can_execute(const std::string& path) {
  return ::faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) == 0;
}

// A path for a message: bounded (paths may be 4 KiB) and printable.
std::string shown_path(const std::string& path) {
  std::string s = path.size() > 200 ? path.substr(0, 200) + "..." : path;
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return s;
}

std::string in_dir(const std::string& cwd, const std::string& path) {
  if (path.empty() || path[0] == '/' || cwd.empty()) return path;
  return cwd + "/" + path;
}

std::string_view env_value(const std::vector<std::string>& env, std::string_view key) {
  for (const auto& kv : env)
    if (kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=')
      return std::string_view(kv).substr(key.size() + 1);
  return {};
}

std::string check_cwd(const std::string& cwd) {
  if (cwd.empty()) return "";
  struct stat st {};
  if (::stat(cwd.c_str(), &st) != 0) return "working directory '" + cwd + "': " + errno_text(errno);
  if (!S_ISDIR(st.st_mode)) return "working directory '" + cwd + "' is not a directory";
  if (!can_execute(cwd))
    return "working directory '" + cwd + "' is not accessible: " + errno_text(errno);
  return "";
}

Exit exit_of(pid_t pid, int status) {
  Exit e;
  e.pid = pid;
  if (WIFSIGNALED(status)) {
    e.signal = WTERMSIG(status);
    e.code = 128 + e.signal;
  } else {
    e.code = WEXITSTATUS(status);
  }
  return e;
}

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

using Prepared = PreparedLaunch;

LaunchResult spawn_plain(const LaunchSpec& spec, Prepared& p) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_adddup2(&fa, p.in, 0);
  posix_spawn_file_actions_adddup2(&fa, p.out, 1);
  posix_spawn_file_actions_adddup2(&fa, p.err_fd(), 2);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, spec.cwd.c_str());
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  // Pgroup 0 = the child's own pid. An agent that blocks or ignores signals must not pass
  // that on to tasks, so the mask is emptied and every signal set back to its default.
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, p.program.c_str(), &fa, &attr, p.argv.data(), p.envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  LaunchResult r;
  if (rc != 0) {
    r.error = "cannot start '" + p.program + "': " + errno_text(rc);
    if (rc == ENOENT) r.error += " (a missing #! interpreter?)";
    return r;
  }
  r.pid = pid;
  return r;
}

// Steps the forked child reports back through the error pipe.
enum ChildStep : int { kSetpgid, kDup, kChdir, kJoinCgroup, kExec, kSetUser };
struct ChildError {
  int step, index, err;
};

// Forked child: async-signal-safe calls only (the agent may be multi-threaded).
[[noreturn]] void child_fail(int fd, int step, int index, int err) {
  ChildError e{step, index, err};
  ssize_t n = ::write(fd, &e, sizeof e);
  (void)n;
  ::_exit(127);
}

void close_all_but(int keep, long max_fd) {
  bool ok = true;
  if (keep > 3) ok = ::syscall(SYS_close_range, 3u, static_cast<unsigned>(keep - 1), 0u) == 0;
  if (ok) ok = ::syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u) == 0;
  if (!ok)  // kernels before 5.9
    for (long fd = 3; fd < max_fd; ++fd)
      if (fd != keep) ::close(static_cast<int>(fd));
}

[[noreturn]] void run_child(const Prepared& p, const char* cwd, const std::vector<const char*>& cg,
                            int report_fd, long max_fd) {
  if (::setpgid(0, 0) != 0) child_fail(report_fd, kSetpgid, 0, errno);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s)
    if (s != SIGKILL && s != SIGSTOP) ::sigaction(s, &dfl, nullptr);
  if (::dup2(p.in, 0) < 0 || ::dup2(p.out, 1) < 0 || ::dup2(p.err_fd(), 2) < 0)
    child_fail(report_fd, kDup, 0, errno);
  char digits[24];
  int len = 0;
  for (unsigned long v = static_cast<unsigned long>(::getpid()); v; v /= 10)
    digits[len++] = static_cast<char>('0' + v % 10);
  char pid_text[24];
  for (int i = 0; i < len; ++i) pid_text[i] = digits[len - 1 - i];
  pid_text[len++] = '\n';
  for (std::size_t i = 0; i < cg.size(); ++i) {
    int fd = ::open(cg[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0) child_fail(report_fd, kJoinCgroup, static_cast<int>(i), errno);
    if (::write(fd, pid_text, static_cast<std::size_t>(len)) != len)
      child_fail(report_fd, kJoinCgroup, static_cast<int>(i), errno);
    ::close(fd);
  }
  // Groups, gid, uid (initgroups' list computed by the parent), in that order: after the
  // cgroups (their files are root's), before the chdir (the directory is checked as the user).
  // Raw system calls: glibc's wrappers would signal other threads.
  if (p.switch_user && (::syscall(SYS_setgroups, p.groups.size(), p.groups.data()) != 0 ||
                        ::syscall(SYS_setresgid, p.gid, p.gid, p.gid) != 0 ||
                        ::syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0))
    child_fail(report_fd, kSetUser, 0, errno);
  if (cwd && ::chdir(cwd) != 0) child_fail(report_fd, kChdir, 0, errno);
  close_all_but(report_fd, max_fd);
  ::execve(p.program.c_str(), p.argv.data(), p.envp.data());
  child_fail(report_fd, kExec, 0, errno);
}

LaunchResult spawn_forked(const LaunchSpec& spec, Prepared& p) {
  LaunchResult r;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    r.error = "cannot create a pipe: " + errno_text(errno);
    return r;
  }
  Fd report_read(above_stdio(fds[0]));
  auto report_write = std::make_unique<Fd>(above_stdio(fds[1]));
  std::vector<const char*> cg;
  for (const auto& f : spec.cgroup_procs) cg.push_back(f.c_str());
  const char* cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();
  const long max_fd = ::sysconf(_SC_OPEN_MAX) > 0 ? ::sysconf(_SC_OPEN_MAX) : 65536;
  pid_t pid = ::fork();
  if (pid < 0) {
    r.error = "cannot fork: " + errno_text(errno);
    return r;
  }
  if (pid == 0) run_child(p, cwd, cg, report_write->get(), max_fd);
  report_write.reset();  // the pipe reaches EOF when the child's exec closes its end
  ChildError e{};
  ssize_t n;
  do {
    n = ::read(report_read.get(), &e, sizeof e);
  } while (n < 0 && errno == EINTR);
  if (n == 0) {
    r.pid = pid;
    return r;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n != sizeof e) {
    r.error = "cannot start '" + p.program + "': the child failed before exec";
    return r;
  }
  const std::string why = errno_text(e.err);
  switch (e.step) {
    case kSetpgid:
      r.error = "cannot start a new process group: " + why;
      break;
    case kDup:
      r.error = "cannot set up stdin/stdout/stderr: " + why;
      break;
    case kChdir:
      r.error = "cannot change to working directory '" + spec.cwd + "': " + why;
      break;
    case kJoinCgroup:
      r.error = "cannot join cgroup via '" + spec.cgroup_procs.at(e.index) + "': " + why;
      break;
    case kSetUser:
      r.error = "cannot run as uid " + std::to_string(p.uid) + ": " + why;
      break;
    default:
      r.error = "cannot exec '" + p.program + "': " + why;
      if (e.err == ENOENT) r.error += " (a missing #! interpreter?)";
  }
  return r;
}

}  // namespace

std::optional<std::string> find_program(const std::string& program, std::string_view path_value,
                                        const std::string& cwd, std::string& error) {
  if (program.empty()) {
    error = "empty program name";
    return std::nullopt;
  }
  struct stat st {};
  if (program.find('/') != std::string::npos) {
    // Checked where it will be resolved: after the child's chdir to cwd.
    const std::string full = in_dir(cwd, program);
    const std::string where = full == program ? "" : " (in " + cwd + ")";
    if (::stat(full.c_str(), &st) != 0) {
      error = "program '" + program + "'" + where + ": " + errno_text(errno);
      return std::nullopt;
    }
    if (S_ISDIR(st.st_mode)) {
      error = "program '" + program + "'" + where + " is a directory";
      return std::nullopt;
    }
    if (!can_execute(full)) {
      error = "program '" + program + "'" + where + " is not executable";
      return std::nullopt;
    }
    return program;
  }
  const std::string path(path_value.empty() ? "/usr/local/bin:/usr/bin:/bin" : path_value);
  bool seen_not_executable = false;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    start = end + 1;
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + program;
    const std::string full = in_dir(cwd, candidate);
    if (::stat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (can_execute(full)) return candidate;
    seen_not_executable = true;
  }
  error = "program '" + program + "' " +
          (seen_not_executable ? "is in PATH but not executable" : "not found") + " (PATH=" + path +
          ")";
  return std::nullopt;
}

PreparedLaunch::PreparedLaunch(PreparedLaunch&& o) noexcept {
  *this = std::move(o);
}

PreparedLaunch& PreparedLaunch::operator=(PreparedLaunch&& o) noexcept {
  if (this == &o) return *this;
  close_all();
  program = std::move(o.program);
  cwd = o.cwd;
  argv = std::move(o.argv);
  envp = std::move(o.envp);
  switch_user = o.switch_user;
  uid = o.uid;
  gid = o.gid;
  groups = std::move(o.groups);
  out_id = o.out_id;
  err_id = o.err_id;
  in = std::exchange(o.in, -1);
  out = std::exchange(o.out, -1);
  err_separate = std::exchange(o.err_separate, -1);
  return *this;
}

PreparedLaunch::~PreparedLaunch() {
  close_all();
}

void PreparedLaunch::close_all() {
  for (int* fd : {&in, &out, &err_separate})
    if (*fd >= 0) ::close(std::exchange(*fd, -1));
}

std::optional<PreparedLaunch> prepare_launch(const LaunchSpec& spec, std::string& error) {
  if (spec.argv.empty()) {
    error = "nothing to run: empty argv";
    return std::nullopt;
  }
  for (const auto& kv : spec.env)
    if (kv.find('=') == std::string::npos || kv.front() == '=') {
      error = "environment entry '" + kv + "' is not KEY=VALUE";
      return std::nullopt;
    }
  // Everything below is looked up and opened as the task's user: a user cannot make the agent
  // write where they may not (their -o /etc/cron.d/x fails here, and creates nothing).
  const FsIdentity as_user(spec.run_as ? *spec.run_as : RunAs{});
  if (!as_user.ok()) {
    error = as_user.error();
    return std::nullopt;
  }
  if (error = check_cwd(spec.cwd); !error.empty()) return std::nullopt;
  PreparedLaunch p;
  if (spec.run_as && spec.run_as->switch_user) {
    p.switch_user = true;
    p.uid = spec.run_as->account.uid;
    p.gid = spec.run_as->account.gid;
    p.groups = spec.run_as->account.groups;
  }
  auto program = find_program(spec.argv[0], env_value(spec.env, "PATH"), spec.cwd, error);
  if (!program) return std::nullopt;
  p.program = *program;
  p.cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();
  p.in = above_stdio(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (p.in < 0) {
    error = "cannot open /dev/null: " + errno_text(errno);
    return std::nullopt;
  }
  p.out = open_output(spec.stdout_path, p.out_id);
  if (p.out < 0) {
    error = "cannot open stdout file '" + shown_path(spec.stdout_path) +
            "': " + (errno == EINVAL ? "not a regular file" : errno_text(errno));
    return std::nullopt;
  }
  if (spec.stderr_path != spec.stdout_path) {
    p.err_separate = open_output(spec.stderr_path, p.err_id);
    if (p.err_separate < 0) {
      error = "cannot open stderr file '" + shown_path(spec.stderr_path) +
              "': " + (errno == EINVAL ? "not a regular file" : errno_text(errno));
      return std::nullopt;
    }
  }
  if (p.err_separate < 0) p.err_id = p.out_id;
  p.argv = c_strings(spec.argv);
  p.envp = c_strings(spec.env);
  return p;
}

LaunchResult launch(const LaunchSpec& spec) {
  LaunchResult r;
  auto p = prepare_launch(spec, r.error);
  if (!p) return r;
  return spec.cgroup_procs.empty() && !p->switch_user ? spawn_plain(spec, *p)
                                                      : spawn_forked(spec, *p);
}

bool signal_group(pid_t pgid, int sig, std::string* error) {
  if (pgid <= 1) {
    if (error) *error = "refusing to signal process group " + std::to_string(pgid);
    return false;
  }
  if (::kill(-pgid, sig) == 0) return true;
  if (error)
    *error = errno == ESRCH
                 ? "no process group " + std::to_string(pgid) + " (all its processes exited)"
                 : "cannot signal process group " + std::to_string(pgid) + ": " + errno_text(errno);
  return false;
}

std::vector<Exit> reap_children() {
  std::vector<Exit> exits;
  while (true) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) break;
    exits.push_back(exit_of(pid, status));
  }
  return exits;
}

std::optional<Exit> wait_child(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  while (true) {
    int status = 0;
    pid_t got = ::waitpid(pid, &status, WNOHANG);
    if (got == pid) return exit_of(pid, status);
    if (got < 0 && errno != EINTR) return std::nullopt;  // not our child, or reaped elsewhere
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
}

}  // namespace zs
