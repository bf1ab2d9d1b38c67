#include "agent/cgroup_limits.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <system_error>
#include <thread>

#include "agent/cgroup_files.h"
#include "agent/table_text.h"
#include "core/text.h"

namespace zs {
namespace {

using namespace cgroup_files;

bool valid_parent(std::string_view rel) {
  if (rel.empty() || rel.front() == '/') return false;
  for (const auto& part : components(rel))
    if (part == "." || part == "..") return false;
  return !components(rel).empty();
}

const char* const kFakeNote = " (fake tree: not a cgroup filesystem)";

}  // namespace

std::int64_t CgroupLimits::cpu_quota_us(double cpus) {
  return std::max<std::int64_t>(1000, std::llround(cpus * static_cast<double>(kCpuPeriodUs)));
}

CgroupLimits CgroupLimits::detect(const CgroupConfig& config) {
  CgroupLimits c;
  auto off = [&c](const std::string& why) {
    c.version_ = Version::none;
    c.parents_.clear();
    c.status_ = "no cgroup limits: " + why;
    return c;
  };
  const std::string& root = config.root;
  if (!valid_parent(config.parent))
    return off("parent '" + config.parent + "' must be a relative path without '.' or '..'");
  c.parent_ = config.parent;
  if (exists(root + "/cgroup.controllers")) {
    const std::string listed = read_small(root + "/cgroup.controllers");
    const auto available = words(listed);
    for (const char* needed : {"cpu", "memory"})
      if (std::find(available.begin(), available.end(), needed) == available.end())
        return off("cgroup v2 at " + root + " has no " + needed + " controller");
    c.fake_ = !is_cgroup_fs(root);
    // Children get cpu and memory only if every level above enables them for its subtree.
    std::string dir = root;
    for (const auto& part : components(config.parent)) {
      if (auto e = write_control(dir + "/cgroup.subtree_control", "+cpu +memory", c.fake_);
          !e.empty())
        return off(e);
      dir += "/" + part;
      if (auto e = make_dir(dir); !e.empty()) return off(e);
    }
    if (auto e = write_control(dir + "/cgroup.subtree_control", "+cpu +memory", c.fake_);
        !e.empty())
      return off(e);
    c.parents_ = {dir};
    c.version_ = Version::v2;
    c.status_ = "cgroups v2 (cpu, memory) at " + root + ", tasks under " + config.parent + "/" +
                (c.fake_ ? kFakeNote : "");
    return c;
  }
  std::string cpu_dir, memory_dir;
  for (const char* name : {"cpu", "cpu,cpuacct", "cpuacct,cpu"})
    if (cpu_dir.empty() && exists(root + "/" + name + "/cpu.cfs_quota_us"))
      cpu_dir = root + "/" + name;
  if (exists(root + "/memory/memory.limit_in_bytes")) memory_dir = root + "/memory";
  if (cpu_dir.empty() && memory_dir.empty())
    return off("neither cgroup v2 (" + root + "/cgroup.controllers) nor v1 cpu and memory under " +
               root);
  if (cpu_dir.empty()) return off("no cgroup v1 cpu controller under " + root);
  if (memory_dir.empty()) return off("no cgroup v1 memory controller under " + root);
  c.fake_ = !is_cgroup_fs(cpu_dir) || !is_cgroup_fs(memory_dir);
  for (const std::string& base : {cpu_dir, memory_dir}) {
    if (::access(base.c_str(), W_OK) != 0) return off(base + " not writable: " + errno_text(errno));
    std::string dir = base;
    for (const auto& part : components(config.parent)) {
      dir += "/" + part;
      if (auto e = make_dir(dir); !e.empty()) return off(e);
    }
    c.parents_.push_back(dir);
  }
  c.version_ = Version::v1;
  c.status_ = "cgroups v1 (cpu, memory) at " + root + ", tasks under " + config.parent + "/" +
              (c.fake_ ? kFakeNote : "");
  return c;
}

std::optional<TaskCgroup> CgroupLimits::create(std::string_view name, const ResourceLimits& limits,
                                               std::string& error) const {
  if (!available()) {
    error = status_;
    return std::nullopt;
  }
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos ||
      name.size() > 200) {
    error = "bad cgroup name '" + std::string(name) + "'";
    return std::nullopt;
  }
  if (!std::isfinite(limits.cpus) || limits.cpus < 0 || limits.memory_bytes < 0) {
    error = "cgroup limits must not be negative";
    return std::nullopt;
  }
  TaskCgroup t;
  auto fail = [&](const std::string& why) -> std::optional<TaskCgroup> {
    error = why;
    remove(t, 1, std::chrono::milliseconds(0));
    return std::nullopt;
  };
  for (const std::string& parent : parents_) {
    const std::string dir = parent + "/" + std::string(name);
    if (auto e = make_dir(dir); !e.empty()) return fail(e);
    t.dirs.push_back(dir);
    t.procs_files.push_back(dir + "/cgroup.procs");
    if (fake_)
      if (auto e = write_control(dir + "/cgroup.procs", "", true); !e.empty()) return fail(e);
  }
  const std::string quota = limits.cpus > 0 ? std::to_string(cpu_quota_us(limits.cpus)) : "";
  const std::string period = std::to_string(kCpuPeriodUs);
  const std::string memory = limits.memory_bytes > 0 ? std::to_string(limits.memory_bytes) : "";
  std::vector<std::pair<std::string, std::string>> writes;  // path, value
  if (version_ == Version::v1) {
    writes = {{t.dirs[0] + "/cpu.cfs_period_us", period},
              {t.dirs[0] + "/cpu.cfs_quota_us", quota.empty() ? "-1" : quota},
              {t.dirs[1] + "/memory.limit_in_bytes", memory.empty() ? "-1" : memory}};
  } else {
    writes = {{t.dirs[0] + "/cpu.max", (quota.empty() ? "max" : quota) + " " + period},
              {t.dirs[0] + "/memory.max", memory.empty() ? "max" : memory}};
  }
  for (const auto& [path, value] : writes)
    if (auto e = write_control(path, value, fake_); !e.empty()) return fail(e);
  return t;
}

std::string CgroupLimits::remove(const TaskCgroup& cgroup, int attempts,
                                 std::chrono::milliseconds delay) const {
  std::string problems;
  for (auto it = cgroup.dirs.rbegin(); it != cgroup.dirs.rend(); ++it) {
    if (fake_) delete_plain_files(*it);
    for (int i = 1;; ++i) {
      if (::rmdir(it->c_str()) == 0 || errno == ENOENT) break;
      const int err = errno;
      if (err == EBUSY && i < attempts) {  // its last processes are still exiting
        std::this_thread::sleep_for(delay);
        continue;
      }
      problems += (problems.empty() ? "" : "; ") + std::string("cannot remove ") + *it + ": " +
                  errno_text(err) + (err == EBUSY ? " (processes still in it)" : "");
      break;
    }
  }
  return problems;
}

std::string CgroupLimits::remove_parent() const {
  std::string problems;
  const std::size_t levels = components(parent_).size();
  for (const std::string& parent : parents_) {
    std::string dir = parent;
    for (std::size_t level = 0; level < levels; ++level) {
      if (fake_) delete_plain_files(dir);
      if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
        if (level == 0)  // an ancestor shared with others may rightly stay
          problems += (problems.empty() ? "" : "; ") + std::string("cannot remove ") + dir + ": " +
                      errno_text(errno);
        break;
      }
      dir.resize(dir.rfind('/'));
    }
  }
  return problems;
}

}  // namespace zs
