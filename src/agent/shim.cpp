#include "agent/shim.h"

#include "agent/cgroup_files.h"
#include "agent/node_lease.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>
#include <system_error>

namespace zs {
namespace {

constexpr std::uint32_t kMagic = 0x7a736873;  // "zshs"
constexpr std::uint32_t kLaunch = 1, kSignal = 2;
constexpr int kMaxFds = 5;  // stdin, stdout, stderr (when separate), the record, a memfd
// Arguments and environment up to this size travel in the message; larger ones in a memfd
// passed with it (a message must fit the socket buffer, which only root may raise).
constexpr std::size_t kInlinePayload = 64 << 10;
// More than execve accepts (ARG_MAX-sized arguments and environment).
constexpr std::size_t kMaxPayload = std::size_t{32} << 20;

struct Request {
  std::uint32_t magic, type;
  std::uint64_t job;
  std::int32_t attempt, rank, sig;
  std::uint32_t argc, envc, cgroups, has_cwd, separate_err;
  std::uint32_t payload_in_memfd;  // else it follows the request in the message
  std::uint64_t payload;           // bytes of NUL-terminated strings
  // The task runs as uid/gid with `groups` supplementary groups (their numbers follow the
  // cgroups in the payload, in decimal) when switch_user is set.
  std::uint32_t switch_user, uid, gid, groups;
};
constexpr std::uint32_t kMaxGroups = 65536;  // NGROUPS_MAX

struct WireEvent {
  std::int32_t kind, attempt;
  std::uint64_t job;
  std::int32_t rank, pid, exit_code, signal;
  std::int64_t end_ms;
  std::int32_t step, detail;
};

std::string errno_text(int err) {
  return std::system_category().message(err);
}

std::int64_t wall_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// The signal mask with the raw system call: no sanitizer interceptor runs in the vfork child,
// which shares the shim's memory.
void set_mask(const sigset_t& set) {
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, nullptr, _NSIG / 8);
}

bool write_line(int fd, const std::string& line) {
  ssize_t w;
  do {
    w = ::write(fd, line.data(), line.size());  // one write: appends never interleave
  } while (w < 0 && errno == EINTR);
  return w == static_cast<ssize_t>(line.size());
}

std::string key_fields(const AttemptKey& key, int rank) {
  return std::to_string(key.job) + " " + std::to_string(key.attempt) + " " + std::to_string(rank);
}

// ---- the shim process ------------------------------------------------------------------------

// Filled by the vfork child (which shares the shim's memory) when a step fails.
struct ChildFailure {
  volatile int step = 0, detail = 0;
};

struct TaskArgs {
  const char* program;
  const char* cwd;
  char* const* argv;
  char* const* envp;
  const std::vector<const char*>* cgroups;
  int in, out, err;
  bool switch_user;
  uid_t uid;
  gid_t gid;
  const std::vector<gid_t>* groups;
};

[[noreturn]] void child_fail(ChildFailure& f, int step, int detail) {
  f.detail = detail;
  f.step = step;
  ::_exit(127);
}

// The vfork child: its own process group, stdin/stdout/stderr, an empty signal mask, the task's
// cgroups, its Unix user, its directory, then the exec. The cgroups are joined before the exec
// so that the task and all it starts are inside them from the first instruction.
[[noreturn]] __attribute__((noinline)) void task_child(const TaskArgs& a, ChildFailure& f) {
  if (::setpgid(0, 0) != 0) child_fail(f, kShimSetpgid, errno);
  if (::dup2(a.in, 0) < 0 || ::dup2(a.out, 1) < 0 || ::dup2(a.err, 2) < 0)
    child_fail(f, kShimRecord, errno);
  sigset_t none;
  sigemptyset(&none);
  set_mask(none);
  if (!a.cgroups->empty()) {
    char pid[24];
    int len = 0;
    char digits[24];
    for (unsigned long v = static_cast<unsigned long>(::getpid()); v; v /= 10)
      digits[len++] = static_cast<char>('0' + v % 10);
    for (int i = 0; i < len; ++i) pid[i] = digits[len - 1 - i];
    pid[len++] = '\n';
    for (std::size_t i = 0; i < a.cgroups->size(); ++i) {
      const int detail = static_cast<int>(i) * 4096;
      int fd = ::open((*a.cgroups)[i], O_WRONLY | O_CLOEXEC);
      if (fd < 0) child_fail(f, kShimJoinCgroup, detail + errno);
      if (::write(fd, pid, static_cast<std::size_t>(len)) != len)
        child_fail(f, kShimJoinCgroup, detail + errno);
      ::close(fd);
    }
  }
  // initgroups (its list computed by the agent: NSS is no call for a vfork child), setgid,
  // setuid, in that order, after the cgroups (root's files) and before the chdir (checked as
  // the user). Raw system calls: this child shares the shim's memory, no wrapper may run.
  if (a.switch_user && (::syscall(SYS_setgroups, a.groups->size(), a.groups->data()) != 0 ||
                        ::syscall(SYS_setresgid, a.gid, a.gid, a.gid) != 0 ||
                        ::syscall(SYS_setresuid, a.uid, a.uid, a.uid) != 0))
    child_fail(f, kShimSetUser, errno);
  if (a.cwd && ::chdir(a.cwd) != 0) child_fail(f, kShimChdir, errno);
  // The shim's descriptors are all close-on-exec; the task keeps 0-2 only.
  ::execve(a.program, a.argv, a.envp);
  child_fail(f, kShimExec, errno);
}

class ShimProcess {
 public:
  ShimProcess(int sock, pid_t agent, std::string lease_file)
      : sock_(sock), agent_(agent), lease_file_(std::move(lease_file)) {}
  [[noreturn]] void run();

 private:
  struct Running {
    AttemptKey key;
    int rank;
    int record_fd;
    std::vector<std::string> cgroup_procs;  // its cgroups' cgroup.procs files
    std::int64_t lease_kill_at = 0;         // stopped for the lease: SIGKILL at (boot clock)
  };
  void read_lease();
  // Stops the tasks when the lease has run out; the poll timeout (ms) until it must look again,
  // -1 = nothing due.
  int enforce_lease();
  void kill_all_of(const Running& t, pid_t pid);
  void read_requests();
  void handle(const Request& r, std::string_view payload, std::vector<int>& fds, bool truncated);
  // False (and nothing started) when the request makes no sense.
  bool launch(const Request& r, std::string_view payload, std::vector<int>& fds);
  void reap();
  void emit(const WireEvent& e);
  void flush();
  void agent_gone();

  int sock_;
  pid_t agent_;
  std::string lease_file_;
  std::optional<NodeLease> lease_;  // as last read
  bool agent_alive_ = true;
  std::string own_start_;
  std::vector<char> buf_;      // one request
  std::deque<WireEvent> out_;  // events the agent has not taken yet
  std::map<pid_t, Running> tasks_;
};

void ShimProcess::agent_gone() {
  if (!agent_alive_) return;
  agent_alive_ = false;
  ::close(sock_);
  sock_ = -1;
  out_.clear();
}

void ShimProcess::emit(const WireEvent& e) {
  if (!agent_alive_) return;
  out_.push_back(e);
  flush();
}

void ShimProcess::flush() {
  while (agent_alive_ && !out_.empty()) {
    ssize_t n = ::send(sock_, &out_.front(), sizeof(WireEvent), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // poll says when
    if (n <= 0) return agent_gone();
    out_.pop_front();
  }
}

void ShimProcess::read_requests() {
  // One message per request (SOCK_SEQPACKET): its descriptors come with it, so a launch whose
  // descriptors did not arrive (EMFILE) fails alone and never shifts another's.
  if (buf_.empty()) buf_.resize(sizeof(Request) + kInlinePayload);
  while (agent_alive_) {
    iovec iov{buf_.data(), buf_.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(sock_, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    std::vector<int> fds;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        for (std::size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); ++i) {
          int fd;
          std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
          fds.push_back(fd);
        }
    if (n <= 0) {
      for (int fd : fds) ::close(fd);
      return agent_gone();
    }
    Request r;
    if (static_cast<std::size_t>(n) < sizeof r || (msg.msg_flags & MSG_TRUNC)) {
      for (int fd : fds) ::close(fd);
      continue;  // cannot happen between this agent and its own shim
    }
    std::memcpy(&r, buf_.data(), sizeof r);
    const std::uint64_t inline_bytes = static_cast<std::uint64_t>(n) - sizeof r;
    if (r.magic != kMagic || r.payload > kMaxPayload ||
        inline_bytes != (r.payload_in_memfd ? 0 : r.payload)) {
      for (int fd : fds) ::close(fd);
      continue;
    }
    std::string big;
    bool truncated = (msg.msg_flags & MSG_CTRUNC) != 0;
    if (r.payload_in_memfd) {
      // The last descriptor holds it.
      big.resize(r.payload);
      std::size_t got = 0;
      while (!truncated && !fds.empty() && got < big.size()) {
        ssize_t k =
            ::pread(fds.back(), big.data() + got, big.size() - got, static_cast<off_t>(got));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += static_cast<std::size_t>(k);
      }
      if (got != big.size()) truncated = true;
      if (!fds.empty()) {
        ::close(fds.back());
        fds.pop_back();
      }
    }
    handle(r,
           r.payload_in_memfd ? std::string_view(big)
                              : std::string_view(buf_.data() + sizeof r, r.payload),
           fds, truncated);
    if (!agent_alive_) return;
  }
}

void ShimProcess::handle(const Request& r, std::string_view payload, std::vector<int>& fds,
                         bool truncated) {
  const AttemptKey key{r.job, r.attempt};
  if (r.type == kSignal) {
    for (const auto& [pid, t] : tasks_)
      if (t.key == key && t.rank == r.rank) {
        if (r.sig < 0)
          ::kill(pid, -r.sig);  // the task's own process only
        else
          ::kill(-pid, r.sig == kKillGroup ? SIGKILL : r.sig);
      }
    return;
  }
  // A launch read after the agent died is dropped: the next agent accounts for it as lost.
  if (::getppid() != agent_) {
    for (int fd : fds) ::close(fd);
    return agent_gone();
  }
  const std::size_t want = 3 + (r.separate_err ? 1 : 0);
  if (r.type == kLaunch) read_lease();  // the agent renewed it before sending launches
  if (r.type == kLaunch && !(fds.size() == want && !truncated && launch(r, payload, fds))) {
    // Its descriptors did not all arrive, or it made no sense: a failed start, told to the
    // agent (the record may not be there to write to).
    WireEvent e{};
    e.kind = Shim::Event::ended;
    e.attempt = key.attempt;
    e.job = key.job;
    e.rank = r.rank;
    e.exit_code = 127;
    e.end_ms = wall_ms();
    e.step = kShimRecord;
    e.detail = truncated ? EMFILE : EINVAL;
    emit(e);
  }
  for (int fd : fds) ::close(fd);
}

bool ShimProcess::launch(const Request& r, std::string_view payload, std::vector<int>& fds) {
  const AttemptKey key{r.job, r.attempt};
  std::vector<const char*> strings;
  if (payload.empty() || payload.back() != '\0') return false;
  for (std::size_t i = 0; i < payload.size(); i += std::strlen(payload.data() + i) + 1)
    strings.push_back(payload.data() + i);
  if (r.groups > kMaxGroups ||
      strings.size() != 1 + std::size_t{r.has_cwd} + r.argc + r.envc + r.cgroups + r.groups)
    return false;
  std::size_t at = 0;
  TaskArgs a{};
  a.program = strings[at++];
  a.cwd = r.has_cwd ? strings[at++] : nullptr;
  std::vector<char*> argv, envp;
  for (std::uint32_t i = 0; i < r.argc; ++i) argv.push_back(const_cast<char*>(strings[at++]));
  argv.push_back(nullptr);
  for (std::uint32_t i = 0; i < r.envc; ++i) envp.push_back(const_cast<char*>(strings[at++]));
  envp.push_back(nullptr);
  std::vector<const char*> cgroups(strings.begin() + static_cast<std::ptrdiff_t>(at),
                                   strings.begin() + static_cast<std::ptrdiff_t>(at + r.cgroups));
  at += r.cgroups;
  std::vector<gid_t> groups;
  for (; at < strings.size(); ++at) {
    const std::string_view text(strings[at]);
    gid_t g = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), g);
    if (ec != std::errc() || end != text.data() + text.size()) return false;
    groups.push_back(g);
  }
  a.switch_user = r.switch_user != 0;
  a.uid = r.uid;
  a.gid = r.gid;
  a.groups = &groups;
  a.argv = argv.data();
  a.envp = envp.data();
  a.cgroups = &cgroups;
  a.in = fds[0];
  a.out = fds[1];
  a.err = r.separate_err ? fds[2] : fds[1];
  const int record = fds.back();
  fds.pop_back();  // kept while the task runs

  WireEvent e{};
  e.attempt = key.attempt;
  e.job = key.job;
  e.rank = r.rank;
  ChildFailure failure;
  // vfork: the child borrows the shim's memory until its exec, and nothing is copied.
  const pid_t pid = ::vfork();
  if (pid == 0) task_child(a, failure);
  const int fork_errno = errno;
  if (pid > 0 && failure.step == 0) {
    write_line(record, "S " + key_fields(key, r.rank) + " " + std::to_string(pid) + " " +
                           proc_start_time(pid) + " " + std::to_string(::getpid()) + " " +
                           own_start_ + "\n");
    Running running{key, r.rank, record, {}, 0};
    for (const char* c : cgroups) running.cgroup_procs.emplace_back(c);
    tasks_[pid] = std::move(running);
    e.kind = Shim::Event::started;
    e.pid = pid;
    emit(e);
    return true;
  }
  if (pid > 0)
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  e.kind = Shim::Event::ended;
  e.exit_code = 127;
  e.end_ms = wall_ms();
  e.step = pid < 0 ? kShimFork : failure.step;
  e.detail = pid < 0 ? fork_errno : failure.detail;
  write_line(record, "E " + key_fields(key, r.rank) + " 127 0 " + std::to_string(e.end_ms) + " " +
                         std::to_string(e.step) + " " + std::to_string(e.detail) + "\n");
  ::close(record);
  emit(e);
  return true;
}

void ShimProcess::reap() {
  while (true) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
    const pid_t pid = info.si_pid;
    auto it = tasks_.find(pid);
    // While the task is a zombie its pid, which is its group's id, cannot be reused: the
    // SIGKILL for what is left of its group reaches nothing else.
    if (it != tasks_.end()) ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (it == tasks_.end()) continue;
    const Running t = it->second;
    tasks_.erase(it);
    WireEvent e{};
    e.kind = Shim::Event::ended;
    e.attempt = t.key.attempt;
    e.job = t.key.job;
    e.rank = t.rank;
    e.pid = pid;
    e.end_ms = wall_ms();
    e.step = t.lease_kill_at ? kShimLeaseStop : kShimStarted;
    if (WIFSIGNALED(status)) {
      e.signal = WTERMSIG(status);
      e.exit_code = 128 + e.signal;
    } else {
      e.exit_code = WEXITSTATUS(status);
    }
    write_line(t.record_fd, "E " + key_fields(t.key, t.rank) + " " + std::to_string(e.exit_code) +
                                " " + std::to_string(e.signal) + " " + std::to_string(e.end_ms) +
                                " " + std::to_string(e.step) + " 0\n");
    ::close(t.record_fd);
    emit(e);
  }
}

void ShimProcess::read_lease() {
  if (!lease_file_.empty()) lease_ = read_node_lease(lease_file_);
}

// SIGKILL to the task's group and to everything in its cgroups (what left the group: `setsid`).
void ShimProcess::kill_all_of(const Running& t, pid_t pid) {
  ::kill(-pid, SIGKILL);
  for (const auto& procs : t.cgroup_procs) {
    const std::string dir = procs.substr(0, procs.rfind('/'));
    // cgroup v2: the whole cgroup at once; else each process it lists.
    if (cgroup_files::write_control(dir + "/cgroup.kill", "1", false).empty()) continue;
    std::istringstream members(cgroup_files::read_small(procs));
    for (pid_t member; members >> member;)
      if (member > 1) ::kill(member, SIGKILL);
  }
}

int ShimProcess::enforce_lease() {
  if (tasks_.empty() || lease_file_.empty()) return -1;
  std::int64_t now = boot_clock_ms();
  if (lease_ && now >= lease_->deadline_ms) {
    read_lease();  // renewed meanwhile?
    now = boot_clock_ms();
  }
  if (!lease_) return -1;  // none yet: nothing to enforce
  std::int64_t next = -1;
  auto consider = [&](std::int64_t at) { next = next < 0 ? at : std::min(next, at); };
  const bool expired = now >= lease_->deadline_ms;
  for (auto& [pid, t] : tasks_) {
    if (expired && !t.lease_kill_at) {
      t.lease_kill_at = now + lease_->grace_ms;
      ::kill(-pid, SIGTERM);
    }
    if (t.lease_kill_at && now >= t.lease_kill_at) {
      kill_all_of(t, pid);
      t.lease_kill_at = now + 100;  // again, until it is gone
    }
    if (t.lease_kill_at) consider(t.lease_kill_at);
  }
  if (!expired) consider(lease_->deadline_ms);
  return next < 0 ? -1 : static_cast<int>(std::clamp<std::int64_t>(next - now, 0, 3'600'000));
}

void ShimProcess::run() {
  ::prctl(PR_SET_NAME, "zs-shim");
  // 0-2 open (on /dev/null if the agent had them closed), so that descriptors received later
  // never land there and a task's dup2 onto 0-2 cannot clobber one of them.
  if (sock_ <= 2) sock_ = ::fcntl(sock_, F_DUPFD_CLOEXEC, 3);
  for (int fd = 0; fd <= 2; ++fd)
    if (::fcntl(fd, F_GETFD) < 0) ::open("/dev/null", O_RDWR);
  // Out of the agent's session: a Ctrl-C or SIGHUP meant for the agent is not for the tasks.
  ::setsid();
  // Every signal at its default (the daemon ignores SIGPIPE: tasks must not inherit that); the
  // ones the shim must survive are blocked instead, and an exec'd task starts with none.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s)
    if (s != SIGKILL && s != SIGSTOP) ::sigaction(s, &dfl, nullptr);
  sigset_t blocked;
  sigemptyset(&blocked);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE})
    sigaddset(&blocked, s);
  ::sigprocmask(SIG_SETMASK, &blocked, nullptr);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  const int child_fd = ::signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  own_start_ = proc_start_time(::getpid());
  // A record descriptor per running task: as many as the hard limit allows.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  while (agent_alive_ || !tasks_.empty()) {
    pollfd p[2] = {{child_fd, POLLIN, 0}, {sock_, 0, 0}};
    if (agent_alive_) p[1].events = static_cast<short>(POLLIN | (out_.empty() ? 0 : POLLOUT));
    int timeout = enforce_lease();
    if (child_fd < 0) timeout = timeout < 0 ? 50 : std::min(timeout, 50);
    ::poll(p, agent_alive_ ? 2 : 1, timeout);
    signalfd_siginfo info[16];
    while (child_fd >= 0 && ::read(child_fd, info, sizeof info) > 0) {
    }
    reap();
    if (agent_alive_ && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) read_requests();
    if (agent_alive_) flush();
  }
  ::_exit(0);
}

// ---- helpers ------------------------------------------------------------------------------------

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

// ---- the agent's side
// ----------------------------------------------------------------------------

Shim::Shim(std::string lease_file) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    error_ = "cannot create a socket pair: " + errno_text(errno);
    return;
  }
  // Room for launches and many events in flight; a send that still waits 10 s means the shim
  // is stuck, and is treated as its loss.
  const int size = 1 << 20;
  for (int fd : sv) {
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  const pid_t agent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    ::close(sv[0]);
    // Nothing of the agent stays open here: not its sockets, not its work-directory lock.
    ::syscall(SYS_close_range, 3u, static_cast<unsigned>(sv[1] - 1), 0u);
    ::syscall(SYS_close_range, static_cast<unsigned>(sv[1] + 1), ~0u, 0u);
    ShimProcess(sv[1], agent, std::move(lease_file)).run();
  }
  ::close(sv[1]);
  if (pid_ < 0) {
    error_ = "cannot fork the shim: " + errno_text(errno);
    ::close(sv[0]);
    return;
  }
  fd_ = sv[0];
  timeval tv{10, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

Shim::~Shim() {
  if (fd_ >= 0) ::close(fd_);
}

void Shim::lost(const std::string& why) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  error_ = why;
}

bool Shim::send_locked(const void* data, std::size_t size, const int* fds, int nfds) {
  iovec iov{const_cast<void*>(data), size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  if (nfds > 0) {
    std::memset(control, 0, sizeof control);
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    std::memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  ssize_t n;
  do {
    n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);  // one message: all of it, or nothing
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(size)) return true;
  lost("the shim is gone: " + errno_text(n < 0 ? errno : EIO));
  return false;
}

bool Shim::launch(const AttemptKey& key, int rank, const PreparedLaunch& task,
                  const std::vector<std::string>& cgroup_procs, int record_fd, std::string& error) {
  Request r{};
  r.magic = kMagic;
  r.type = kLaunch;
  r.job = key.job;
  r.attempt = key.attempt;
  r.rank = rank;
  std::string message(sizeof r, '\0');
  auto add = [&message](const char* s) {
    message += s;
    message += '\0';
  };
  add(task.program.c_str());
  if (task.cwd) {
    r.has_cwd = 1;
    add(task.cwd);
  }
  for (char* a : task.argv)
    if (a) {
      add(a);
      ++r.argc;
    }
  for (char* e : task.envp)
    if (e) {
      add(e);
      ++r.envc;
    }
  for (const auto& c : cgroup_procs) {
    add(c.c_str());
    ++r.cgroups;
  }
  if (task.switch_user) {
    if (task.groups.size() > kMaxGroups) {
      error = "the task's user has more than " + std::to_string(kMaxGroups) + " groups";
      return false;
    }
    r.switch_user = 1;
    r.uid = task.uid;
    r.gid = task.gid;
    r.groups = static_cast<std::uint32_t>(task.groups.size());
    for (gid_t g : task.groups) add(std::to_string(g).c_str());
  }
  r.payload = message.size() - sizeof r;
  if (r.payload > kMaxPayload) {
    error = "the task's arguments and environment take " + std::to_string(r.payload) +
            " bytes, more than a program can be given";
    return false;
  }
  int fds[kMaxFds];
  int nfds = 0;
  fds[nfds++] = task.in;
  fds[nfds++] = task.out;
  if (task.err_separate >= 0) {
    fds[nfds++] = task.err_separate;
    r.separate_err = 1;
  }
  fds[nfds++] = record_fd;
  int memfd = -1;
  if (r.payload > kInlinePayload) {
    memfd = ::memfd_create("zs-launch", MFD_CLOEXEC);
    std::size_t done = 0;
    while (memfd >= 0 && done < r.payload) {
      ssize_t k = ::write(memfd, message.data() + sizeof r + done, r.payload - done);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) break;
      done += static_cast<std::size_t>(k);
    }
    if (memfd < 0 || done != r.payload) {
      error = "cannot pass the task's arguments to the shim: " + errno_text(errno);
      if (memfd >= 0) ::close(memfd);
      return false;
    }
    r.payload_in_memfd = 1;
    fds[nfds++] = memfd;
    message.resize(sizeof r);
  }
  std::memcpy(message.data(), &r, sizeof r);
  std::lock_guard lk(mu_);
  const bool sent = fd_ >= 0 && send_locked(message.data(), message.size(), fds, nfds);
  if (memfd >= 0) ::close(memfd);
  if (!sent) {
    error = error_.empty() ? "the shim is gone" : error_;
    return false;
  }
  return true;
}

bool Shim::signal(const AttemptKey& key, int rank, int sig) {
  Request r{};
  r.magic = kMagic;
  r.type = kSignal;
  r.job = key.job;
  r.attempt = key.attempt;
  r.rank = rank;
  r.sig = sig;
  std::lock_guard lk(mu_);
  return fd_ >= 0 && send_locked(&r, sizeof r, nullptr, 0);
}

bool Shim::read_events(std::vector<Event>& out) {
  std::lock_guard lk(mu_);
  while (fd_ >= 0) {
    WireEvent w;
    ssize_t n = ::recv(fd_, &w, sizeof w, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n != static_cast<ssize_t>(sizeof w)) {
      lost(n == 0 ? "the shim exited" : "the shim is gone: " + errno_text(n < 0 ? errno : EIO));
      break;
    }
    Event e;
    e.kind = static_cast<Event::Kind>(w.kind);
    e.key = AttemptKey{w.job, w.attempt};
    e.rank = w.rank;
    e.pid = w.pid;
    e.exit_code = w.exit_code;
    e.signal = w.signal;
    e.end_ms = w.end_ms;
    e.step = w.step;
    e.detail = w.detail;
    out.push_back(e);
  }
  return fd_ >= 0;
}

std::string shim_step_message(int step, int detail, const std::string& program,
                              const std::string& cwd,
                              const std::vector<std::string>& cgroup_procs) {
  const int err = step == kShimJoinCgroup ? detail % 4096 : detail;
  const std::string why = errno_text(err);
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
    case kShimRecord:
      return "cannot set up stdin/stdout/stderr: " + why;
    case kShimLeaseStop:
      return kLeaseStopMessage;
    case kShimSetUser:
      return "cannot take the job's Unix user (groups, gid, uid): " + why;
    default:
      return "the task could not be started (step " + std::to_string(step) + "): " + why;
  }
}

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
