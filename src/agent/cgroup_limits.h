// CPU and memory limits for tasks through cgroups.
//
// detect() looks under a root (default /sys/fs/cgroup) for cgroup v2 (root/cgroup.controllers
// listing cpu and memory) or v1 (root/cpu with cpu.cfs_quota_us, or root/cpu,cpuacct, and
// root/memory with memory.limit_in_bytes), creates the parent cgroups (<parent>, default
// "zhisuan") and says in status() what it found or why limits are off. It never throws: a node
// without usable cgroups runs tasks unlimited, and status() says so.
//
// A root that is not a cgroup filesystem (a test's temp directory holding the control files)
// is treated as a fake tree: control files are created by writing them, and remove() deletes
// them before the rmdir, which a real cgroup does not need.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zs {

struct CgroupConfig {
  std::string root = "/sys/fs/cgroup";
  std::string parent = "zhisuan";  // relative to each controller's root; may be "a/b"
};

struct ResourceLimits {
  double cpus = 0;                // 2.5 = quota 250000 per 100000 us period; 0 = unlimited
  std::int64_t memory_bytes = 0;  // 0 = unlimited
};

struct TaskCgroup {
  std::vector<std::string> dirs;         // one per hierarchy (v1: cpu and memory; v2: one)
  std::vector<std::string> procs_files;  // give these to LaunchSpec::cgroup_procs
};

class CgroupLimits {
 public:
  enum class Version { none, v1, v2 };

  static CgroupLimits detect(const CgroupConfig& config = {});

  bool available() const { return version_ != Version::none; }
  Version version() const { return version_; }
  // "cgroups v1 (cpu, memory) at /sys/fs/cgroup, tasks under zhisuan/", or
  // "no cgroup limits: /sys/fs/cgroup/memory/zhisuan: Read-only file system".
  const std::string& status() const { return status_; }
  bool fake_tree() const { return fake_; }
  // The parent cgroup in each hierarchy (a restarted agent removes leftovers below them).
  const std::vector<std::string>& parent_dirs() const { return parents_; }

  // Creates <parent>/<name> in each hierarchy and writes the limits (an existing cgroup of that
  // name, left by a crashed agent, is reused and its limits overwritten). On failure returns
  // nullopt with the reason in `error`, and removes what it created.
  std::optional<TaskCgroup> create(std::string_view name, const ResourceLimits& limits,
                                   std::string& error) const;

  // Removes the task's cgroups; call after its processes have exited and been reaped. A cgroup
  // still busy is retried `attempts` times, `delay` apart. Returns "" or what is left and why.
  std::string remove(const TaskCgroup& cgroup, int attempts = 20,
                     std::chrono::milliseconds delay = std::chrono::milliseconds(50)) const;

  // Removes the parent cgroups if they are empty (agent shutdown, tests).
  std::string remove_parent() const;

  // cpus -> CFS quota in microseconds per 100 ms period; at least 1000 (the kernel's minimum).
  static std::int64_t cpu_quota_us(double cpus);
  static constexpr std::int64_t kCpuPeriodUs = 100000;

 private:
  Version version_ = Version::none;
  std::string status_;
  bool fake_ = false;
  std::string parent_;
  std::vector<std::string> parents_;  // v1: {cpu/<parent>, memory/<parent>}; v2: {<parent>}
};

}  // namespace zs
