#include "agent/tool_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>

#include "agent/launcher.h"
#include "core/text.h"

extern char** environ;

namespace zs {
namespace {

constexpr std::size_t kMaxOutput = 4 << 20;  // a table of devices is a few KiB

std::string errno_text(int err) {
  return std::system_category().message(err);
}

// The agent's environment with LC_ALL=C, so that tools print the layout the parsers expect.
std::vector<std::string> tool_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e)
    if (std::string_view(*e).substr(0, 7) != "LC_ALL=") env.emplace_back(*e);
  env.emplace_back("LC_ALL=C");
  return env;
}

std::string timed_out(const std::string& tool, std::chrono::milliseconds timeout) {
  return tool + " timed out after " +
         (timeout.count() % 1000 ? std::to_string(timeout.count()) + " ms"
                                 : std::to_string(timeout.count() / 1000) + " s");
}

std::string first_line(std::string_view text) {
  text = trim(text);
  return std::string(trim(text.substr(0, text.find('\n'))));
}

}  // namespace

ToolOutput run_tool(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  ToolOutput r;
  if (argv.empty()) {
    r.error = "no command";
    return r;
  }
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    r.error = "cannot create a pipe: " + errno_text(errno);
    return r;
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    r.error = "cannot create a pipe: " + errno_text(errno);
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return r;
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  // Its own process group, so a timeout kills whatever the tool started too.
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  std::vector<std::string> args = argv, env = tool_environment();
  std::vector<char*> cargv, cenv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0].c_str(), &fa, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    r.error = "cannot run " + argv[0] + ": " + errno_text(rc);
    return r;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_pipes = 2;
  while (open_pipes > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(-pid, SIGKILL);
      r.error = timed_out(argv[0], timeout);
      break;
    }
    int n = ::poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::kill(-pid, SIGKILL);
      r.error = "poll failed: " + errno_text(errno);
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[8192];
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
      } else if (sinks[i]->size() < kMaxOutput) {
        sinks[i]->append(buf, static_cast<std::size_t>(got));
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  // A tool that closed its output may still be running: wait until the deadline, then kill it.
  int status = 0;
  pid_t got;
  bool killed = !r.error.empty();
  while ((got = ::waitpid(pid, &status, killed ? 0 : WNOHANG)) == 0 ||
         (got < 0 && errno == EINTR)) {
    if (got < 0) continue;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      r.error = timed_out(argv[0], timeout);
      killed = true;
    } else {
      ::usleep(2000);
    }
  }
  if (got == pid && r.error.empty()) {
    if (WIFEXITED(status))
      r.exit_code = WEXITSTATUS(status);
    else
      r.error = argv[0] + " killed by signal " + std::to_string(WTERMSIG(status));
  }
  return r;
}

std::optional<std::string> find_tool(const std::string& name, const std::string& configured,
                                     const std::vector<std::string>& extra_dirs,
                                     std::string& error) {
  const char* env_path = std::getenv("PATH");
  std::string path = env_path ? env_path : "";
  for (const auto& dir : extra_dirs) path += (path.empty() ? "" : ":") + dir;
  return find_program(configured.empty() ? name : configured, path, "", error);
}

namespace {

class ToolDiscovery : public DeviceDiscovery {
 public:
  ToolDiscovery(std::vector<std::string> argv, ToolParser parse, const Catalog& catalog)
      : argv_(std::move(argv)), parse_(parse), catalog_(catalog) {}

  Inventory discover() override {
    ToolOutput o = run_tool(argv_, std::chrono::seconds(30));
    std::string failure = o.error;
    if (failure.empty() && o.exit_code > 0) {
      std::string why = first_line(o.err.empty() ? o.out : o.err);
      failure =
          "exited with status " + std::to_string(o.exit_code) + (why.empty() ? "" : ": ") + why;
    }
    if (failure.empty()) {
      last_ = parse_(o.out, catalog_);
      return last_;
    }
    Inventory inv = last_;
    const std::string problem = argv_[0] + " failed: " + failure;
    for (Device& d : inv.devices) {
      d.healthy = false;
      d.problem = problem;
    }
    inv.warnings = {problem};
    return inv;
  }

 private:
  std::vector<std::string> argv_;
  ToolParser parse_;
  const Catalog& catalog_;
  Inventory last_;
};

}  // namespace

std::unique_ptr<DeviceDiscovery> make_tool_discovery(std::vector<std::string> argv,
                                                     ToolParser parse, const Catalog& catalog) {
  return std::make_unique<ToolDiscovery>(std::move(argv), parse, catalog);
}

}  // namespace zs
