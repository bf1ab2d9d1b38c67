// The agent's work directory: private to it, and owned by one agent at a time.
//
// It holds job scripts (scripts/), attempt records with their environment and paths
// (attempts/), the srun wrapper (bin/) and the lock. A second agent on the same directory would
// re-adopt, kill and delete the first one's tasks and records, so it is refused.
#pragma once
#include <string>

namespace zs {

class WorkDirLock {
 public:
  // Creates `dir` if needed, makes it mode 0700 and takes an exclusive lock (flock) on
  // <dir>/agent.lock, which names the holder's pid. Throws InputError("--work-dir") when it
  // cannot, e.g. "work directory /x is in use by another zs agent (pid 4242): two agents must
  // not share one".
  explicit WorkDirLock(const std::string& dir);
  WorkDirLock(const WorkDirLock&) = delete;
  WorkDirLock& operator=(const WorkDirLock&) = delete;
  ~WorkDirLock();

 private:
  int fd_ = -1;
};

// The agent state's identity: <dir>/instance-id, created once (random). It stays the same
// across agent restarts on the same directory (the new agent re-adopts the old one's tasks)
// and is new for a new directory (nothing of an earlier agent can be running). "" if it can
// neither be read nor written.
std::string work_dir_instance_id(const std::string& dir);

// 8 hex digits naming the directory (its absolute path), to keep cgroups of agents that share
// a node name on one host apart.
std::string work_dir_tag(const std::string& dir);

// /proc/sys/kernel/random/boot_id: changes when the machine reboots ("" if unreadable).
std::string kernel_boot_id();

// A random 24-hex-digit id.
std::string random_hex_id();

}  // namespace zs
