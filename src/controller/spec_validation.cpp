#include "controller/spec_validation.h"

#include <algorithm>
#include <cmath>

#include "core/cluster.h"
#include "core/input_error.h"

namespace zs {
namespace {

constexpr int kMaxAccelerators = 100'000;
constexpr int kMaxNodes = 10'000;
constexpr int kMaxTasksPerNode = 1'024;
constexpr int kMaxRetries = 100;
constexpr std::size_t kMaxPathBytes = 4096;  // PATH_MAX, with its NUL
constexpr std::size_t kMaxNameBytes = 256;

void require(bool ok, const char* field, const std::string& message) {
  if (!ok) throw InputError(field, message);
}

}  // namespace

void validate_spec(JobSpec& spec, const Catalog& catalog) {
  require(!spec.argv.empty() || !spec.script.empty(), "argv", "a job needs a command or a script");
  for (std::size_t i = 0; i < spec.argv.size(); ++i)
    if (i == 0 && spec.script.empty() && spec.argv[0].empty())
      throw InputError("argv[0]", "the command is empty");
  for (std::size_t i = 0; i < spec.env.size(); ++i) {
    const auto& e = spec.env[i];
    auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError("env[" + std::to_string(i) + "]", "expected KEY=VALUE, got '" + e + "'");
  }
  require(spec.accel_count >= 0 && spec.accel_count <= kMaxAccelerators, "accel_count",
          "must be between 0 and " + std::to_string(kMaxAccelerators));
  require(spec.nodes >= 0 && spec.nodes <= kMaxNodes, "nodes",
          "must be between 0 and " + std::to_string(kMaxNodes));
  require(spec.accel_per_node >= 0 && spec.accel_per_node <= kMaxDevicesPerNode, "accel_per_node",
          "must be between 0 and " + std::to_string(kMaxDevicesPerNode));
  require(spec.tasks_per_node >= 1 && spec.tasks_per_node <= kMaxTasksPerNode, "tasks_per_node",
          "must be between 1 and " + std::to_string(kMaxTasksPerNode));
  require(spec.ntasks >= 0 && spec.ntasks <= kMaxNodes * kMaxTasksPerNode, "ntasks",
          "out of range");
  require(
      std::isfinite(spec.cpus_per_task) && spec.cpus_per_task >= 0 && spec.cpus_per_task <= 4096,
      "cpus_per_task", "must be between 0 and 4096");
  require(spec.mem_mib >= 0 && spec.mem_mib <= (std::int64_t{1} << 32), "mem_mib", "out of range");
  require(spec.walltime >= 0, "walltime", "must not be negative");
  require(spec.max_retries >= 0 && spec.max_retries <= kMaxRetries, "max_retries",
          "must be between 0 and " + std::to_string(kMaxRetries));
  if (spec.work_dir.empty()) spec.work_dir = "/tmp";  // the CLI sends its current directory
  require(spec.work_dir.front() == '/', "work_dir",
          "must be an absolute path, got '" + spec.work_dir + "'");

  // Paths reach the agents' file system calls and names every listing: bounded like the
  // kernel bounds them (PATH_MAX) and like Slurm bounds names, far below what a record holds.
  for (auto [field, path] :
       {std::pair{"work_dir", &spec.work_dir}, std::pair{"stdout_path", &spec.stdout_path},
        std::pair{"stderr_path", &spec.stderr_path}})
    require(path->size() < kMaxPathBytes, field,
            "a path has at most " + std::to_string(kMaxPathBytes - 1) + " bytes, got " +
                std::to_string(path->size()));
  for (auto [field, text] :
       {std::pair{"name", &spec.name}, std::pair{"user", &spec.user},
        std::pair{"tenant", &spec.tenant}, std::pair{"partition", &spec.partition}}) {
    require(text->size() <= kMaxNameBytes, field,
            "at most " + std::to_string(kMaxNameBytes) + " bytes");
    require(std::none_of(text->begin(), text->end(),
                         [](unsigned char c) { return c < 0x20 || c == 0x7f; }),
            field, "control characters are not allowed");
  }

  if (!spec.accel_type.empty()) {
    require(spec.accel_count > 0, "accel_type", "an accelerator type needs a count > 0");
    spec.accel_type = catalog.name(catalog.resolve(spec.accel_type, "accel_type"));
  }
  if (spec.accel_per_node > 0 && spec.accel_count == 0)
    spec.accel_count = spec.accel_per_node * std::max(1, spec.nodes);
  if (spec.accel_per_node > 0 && spec.nodes > 0)
    require(spec.accel_count == spec.accel_per_node * spec.nodes, "accel_count",
            std::to_string(spec.accel_count) + " accelerators is not " +
                std::to_string(spec.nodes) + " nodes x " + std::to_string(spec.accel_per_node));
  if (spec.accel_per_node > 0)
    require(spec.accel_count % spec.accel_per_node == 0, "accel_count",
            std::to_string(spec.accel_count) + " accelerators do not fill whole nodes of " +
                std::to_string(spec.accel_per_node));
  if (spec.nodes > 0 && spec.accel_count > 0)
    require(spec.accel_count % spec.nodes == 0 && spec.accel_count >= spec.nodes, "accel_count",
            std::to_string(spec.accel_count) + " accelerators do not split evenly over " +
                std::to_string(spec.nodes) + " nodes");
  if (spec.ntasks > 0 && spec.nodes > 0)
    require(spec.ntasks >= spec.nodes, "ntasks",
            std::to_string(spec.ntasks) + " tasks cannot cover " + std::to_string(spec.nodes) +
                " nodes");
  if (spec.name.empty()) {
    std::string cmd = spec.argv.empty() ? "script" : spec.argv.front();
    auto slash = cmd.rfind('/');
    spec.name = slash == std::string::npos ? cmd : cmd.substr(slash + 1);
    // A derived name obeys the rules a given one must (the command may be anything).
    if (spec.name.size() > kMaxNameBytes) {  // cut at a character boundary (valid UTF-8)
      std::size_t cut = kMaxNameBytes;
      while (cut > 0 && (static_cast<unsigned char>(spec.name[cut]) & 0xC0) == 0x80) --cut;
      spec.name.resize(cut);
    }
    for (char& c : spec.name)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
}

int total_tasks(const JobSpec& spec, int nodes) {
  int total = std::max(1, spec.tasks_per_node) * std::max(1, nodes);
  return spec.ntasks > 0 ? std::min(spec.ntasks, total) : total;
}

Job scheduler_job(JobId id, const JobSpec& spec, TimeMs submit_ms, const Catalog& catalog) {
  Job j;
  j.id = id;
  j.name = spec.name;
  j.tenant = spec.tenant;
  j.user = spec.user;
  j.priority = spec.priority;
  j.submit = submit_ms;
  j.accel_count = spec.accel_count;
  j.nodes = spec.nodes;
  j.per_node = spec.accel_per_node;
  if (spec.nodes > 0 && spec.accel_per_node == 0 && spec.accel_count > 0)
    j.per_node = spec.accel_count / spec.nodes;
  if (!spec.accel_type.empty()) {
    if (auto t = catalog.find(spec.accel_type))
      j.accepted = TypeSet::of(*t);
    else
      j.unknown_type = spec.accel_type;
  }
  if (spec.accel_count > 0) {
    int nodes_guess = std::max(1, spec.nodes);
    j.cpu_per_accel = spec.cpus_per_task * total_tasks(spec, nodes_guess) / spec.accel_count;
    j.mem_gib_per_accel =
        static_cast<double>(spec.mem_mib) * nodes_guess / 1024.0 / spec.accel_count;
  }
  j.walltime = spec.walltime;
  return j;
}

}  // namespace zs
