// Containment: one tracking cgroup per attempt, always, whatever the job asked for.
//
// A task and everything it starts join the attempt's tracking cgroup before the task's exec
// (shim.h), and nothing leaves a cgroup by itself: `setsid sleep 300 &` escapes the task's
// process group, not its cgroup. Ending an attempt kills the whole cgroup, and the agent reports
// the attempt gone only once the cgroup is empty.
//
// detect() picks, under a root (default /sys/fs/cgroup):
//   v2       root itself when it is cgroup2, else root/unified (hybrid systems): kill writes
//            cgroup.kill (Linux 5.14), else freezes (cgroup.freeze), SIGKILLs every process in
//            cgroup.procs and thaws, else SIGKILLs them until none is left;
//   freezer  the cgroup v1 freezer at root/freezer: freeze, SIGKILL every process, thaw;
//   none     neither is writable: tasks are tracked by their process group only, and status()
//            says so.
// Tracking needs no controller, so it works where CPU and memory limits (cgroup_limits.h) do
// not. The parent (default "zhisuan") is created on detect. A root that is not a cgroup
// filesystem is a fake tree for tests: control files are written, no process is signalled.
#pragma once
#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace zs {

struct TrackerConfig {
  std::string root = "/sys/fs/cgroup";
  std::string parent = "zhisuan";  // relative; may be "a/b"
  bool allow_v2 = true;            // false: v1 freezer only (tests)
};

class CgroupTracker {
 public:
  enum class Kind { none, v2, freezer };

  static CgroupTracker detect(const TrackerConfig& config = {});

  bool available() const { return kind_ != Kind::none; }
  Kind kind() const { return kind_; }
  // "tracking cgroups v2 at /sys/fs/cgroup/unified/zhisuan/n1-0a1b2c3d", or why there are none.
  const std::string& status() const { return status_; }
  bool fake_tree() const { return fake_; }
  const std::string& parent_dir() const { return parent_dir_; }

  // The directory <parent>/<name>, created (or an existing one reused), or "" with `error`.
  std::string create(std::string_view name, std::string& error) const;
  static std::string procs_file(const std::string& dir) { return dir + "/cgroup.procs"; }

  // SIGKILL to every process in the cgroup. "" or what went wrong.
  std::string kill(const std::string& dir) const;
  // The processes in it; empty for a missing cgroup.
  std::vector<pid_t> procs(const std::string& dir) const;
  bool empty(const std::string& dir) const { return procs(dir).empty(); }
  // rmdir: true when it is gone (or was never there); false while processes remain.
  bool remove(const std::string& dir, std::string* error = nullptr) const;
  // The names of the cgroups under the parent (a new agent sweeps those it has no record of).
  std::vector<std::string> children() const;
  // Removes the parent when it is empty (and its ancestors the agent created, if empty).
  void remove_parent() const;

 private:
  std::string kill_v2(const std::string& dir) const;
  std::string kill_frozen(const std::string& dir, const std::string& state_file,
                          const std::string& frozen, const std::string& thawed) const;

  Kind kind_ = Kind::none;
  std::string status_;
  bool fake_ = false;
  std::string parent_, parent_dir_;
};

}  // namespace zs
