// zs srun [OPTIONS] COMMAND [ARGS]: Slurm's srun inside a job script (core/srun_step.h). Agents
// put an `srun` that calls this first on every task's PATH, so scripts written for sbatch run
// unchanged. Takes srun's options; honours the step's shape (-n, -N, --ntasks-per-node), -D,
// --export additions and -l, and accepts the rest (binding, MPI flavour, ...) as no-ops.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "core/input_error.h"
#include "core/srun_step.h"

namespace zs::cli {
namespace {

// srun options that take a value and that zs accepts without acting on them: the job's
// allocation already fixed devices, CPUs, memory and placement.
constexpr std::string_view kIgnoredWithValue[] = {"-c",
                                                  "--cpus-per-task",
                                                  "--gres",
                                                  "-G",
                                                  "--gpus",
                                                  "--gpus-per-node",
                                                  "--gpus-per-task",
                                                  "--mem",
                                                  "--mem-per-cpu",
                                                  "--mem-per-gpu",
                                                  "-J",
                                                  "--job-name",
                                                  "-t",
                                                  "--time",
                                                  "--mpi",
                                                  "--cpu-bind",
                                                  "--cpu_bind",
                                                  "--gpu-bind",
                                                  "--accel-bind",
                                                  "-m",
                                                  "--distribution",
                                                  "-p",
                                                  "--partition",
                                                  "-A",
                                                  "--account",
                                                  "-w",
                                                  "--nodelist",
                                                  "-x",
                                                  "--exclude",
                                                  "--hint",
                                                  "--ntasks-per-gpu",
                                                  "--threads-per-core",
                                                  "--signal",
                                                  "--comment",
                                                  "--network",
                                                  "-W",
                                                  "--wait",
                                                  "-C",
                                                  "--constraint",
                                                  "--qos",
                                                  "-q",
                                                  "--reservation",
                                                  "--het-group"};
constexpr std::string_view kIgnoredFlags[] = {
    "-u",      "--unbuffered",  "--exclusive", "--overlap",
    "-O",      "--overcommit",  "-Q",          "--quiet",
    "-v",      "--verbose",     "-X",          "--disable-status",
    "--exact", "--whole",       "-s",          "--oversubscribe",
    "-k",      "--no-kill",     "-K",          "--kill-on-bad-exit",
    "-Z",      "--no-allocate", "--propagate"};
// Options that would change where output goes or what runs, which zs does not do in a step.
constexpr std::string_view kRefused[] = {"-o",          "--output", "-e",           "--error",
                                         "-i",          "--input",  "--multi-prog", "--pty",
                                         "--container", "--jobid"};

template <std::size_t N>
bool in(const std::string_view (&set)[N], std::string_view s) {
  for (auto x : set)
    if (x == s) return true;
  return false;
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  int out = fallback;
  if (v && *v) std::from_chars(v, v + std::strlen(v), out);
  return out;
}

int count_value(const std::string& opt, const std::string& value) {
  int v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || p != value.data() + value.size() || v < 1 || v > 1'000'000)
    throw InputError(opt, "expected a positive count, got '" + value + "'");
  return v;
}

struct SrunArgs {
  StepShape shape;
  std::string chdir;
  std::vector<std::string> exports;  // NAME=VALUE to set
  bool label = false;
  std::vector<std::string> command;
};

SrunArgs parse(const std::vector<std::string>& words) {
  SrunArgs a;
  std::size_t i = 0;
  for (; i < words.size(); ++i) {
    std::string w = words[i];
    if (w == "--") {
      ++i;
      break;
    }
    if (w.empty() || w[0] != '-' || w == "-") break;  // the command
    std::string value;
    bool has_value = false;
    if (w.rfind("--", 0) == 0) {
      if (auto eq = w.find('='); eq != std::string::npos) {
        value = w.substr(eq + 1);
        w = w.substr(0, eq);
        has_value = true;
      }
    } else if (w.size() > 2) {  // -n4
      value = w.substr(2);
      w = w.substr(0, 2);
      has_value = true;
    }
    auto take = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= words.size()) throw InputError(w, "needs a value");
      return words[++i];
    };
    if (w == "-n" || w == "--ntasks") {
      a.shape.ntasks = count_value(w, take());
    } else if (w == "-N" || w == "--nodes") {
      std::string v = take();
      a.shape.nodes = count_value(w, v.substr(0, v.find('-')));  // "2-4": the minimum
    } else if (w == "--ntasks-per-node") {
      a.shape.tasks_per_node = count_value(w, take());
    } else if (w == "-D" || w == "--chdir") {
      a.chdir = take();
    } else if (w == "--export") {
      std::string v = take();
      for (std::size_t at = 0; at <= v.size();) {
        auto comma = v.find(',', at);
        std::string item =
            v.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        if (item.find('=') != std::string::npos) a.exports.push_back(item);
        if (comma == std::string::npos) break;
        at = comma + 1;
      }
    } else if (w == "-l" || w == "--label") {
      if (has_value && w == "-l") throw InputError(w, "takes no value");
      a.label = true;
    } else if (in(kIgnoredWithValue, w)) {
      take();
    } else if (in(kIgnoredFlags, w)) {
      // accepted; meaningless or already true inside a zs job
    } else if (in(kRefused, w)) {
      throw InputError(w,
                       "not supported by zs srun: a step runs in the job's own tasks, with "
                       "the job's output files (docs/job-scripts.md)");
    } else {
      throw InputError(w, "unknown srun option");
    }
  }
  a.command.assign(words.begin() + static_cast<std::ptrdiff_t>(i), words.end());
  if (a.command.empty()) throw InputError("srun", "nothing to run: zs srun [OPTIONS] COMMAND");
  return a;
}

// Runs the command with its output lines prefixed by "RANK: ", like srun -l.
int run_labelled(const std::vector<char*>& argv, int rank) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    execvp(argv[0], argv.data());
    std::fprintf(stderr, "zs srun: cannot run '%s': %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  const std::string prefix = std::to_string(rank) + ": ";
  std::string line;
  char buf[4096];
  bool at_start = true;
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    std::string out;
    for (ssize_t k = 0; k < n; ++k) {
      if (at_start) out += prefix;
      out += buf[k];
      at_start = buf[k] == '\n';
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int run_srun(const std::vector<std::string>& words) {
  if (!std::getenv("ZS_JOB_ID"))
    throw InputError("srun",
                     "not inside a Zhisuan job (ZS_JOB_ID is unset): zs srun runs a step "
                     "of the job whose script calls it; submit with zs submit");
  SrunArgs a = parse(words);
  JobTaskPlace job;
  job.nodes = env_int("SLURM_NNODES", 1);
  job.tasks = env_int("SLURM_NTASKS", 1);
  job.per_node = env_int("ZS_TASKS_PER_NODE", env_int("LOCAL_WORLD_SIZE", 1));
  if (const char* v = std::getenv("SLURM_TASKS_PER_NODE"); v && job.nodes > 0)
    job.node_tasks = parse_slurm_tasks_per_node(v, job.nodes);
  job.node_rank = env_int("NODE_RANK", 0);
  job.local_rank = env_int("LOCAL_RANK", 0);
  const StepPlace p = place_in_step(job, a.shape);
  if (!p.runs) return 0;  // this task has no part in the step

  auto set = [](const char* k, int v) { setenv(k, std::to_string(v).c_str(), 1); };
  set("RANK", p.rank);
  set("SLURM_PROCID", p.rank);
  set("WORLD_SIZE", p.size);
  set("SLURM_NTASKS", p.size);
  set("SLURM_STEP_NUM_TASKS", p.size);
  set("LOCAL_RANK", p.local_rank);
  set("SLURM_LOCALID", p.local_rank);
  set("LOCAL_WORLD_SIZE", p.local_size);
  set("SLURM_STEP_NUM_NODES", p.nodes);
  for (const auto& kv : a.exports) {
    auto eq = kv.find('=');
    setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
  }
  if (!a.chdir.empty() && chdir(a.chdir.c_str()) != 0)
    throw InputError("--chdir", "cannot change to " + a.chdir + ": " + std::strerror(errno));
  std::vector<char*> argv;
  for (auto& w : a.command) argv.push_back(w.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  if (a.label) return run_labelled(argv, p.rank);
  execvp(argv[0], argv.data());
  std::fprintf(stderr, "zs srun: cannot run '%s': %s\n", argv[0], std::strerror(errno));
  return 127;
}

}  // namespace zs::cli
