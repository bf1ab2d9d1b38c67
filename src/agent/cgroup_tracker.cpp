#include "agent/cgroup_tracker.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <system_error>
#include <thread>

#include "agent/cgroup_files.h"
#include "core/text.h"

namespace zs {
namespace {

using namespace cgroup_files;

std::uint64_t fs_type(const std::string& dir) {
  struct statfs s {};
  return ::statfs(dir.c_str(), &s) == 0 ? static_cast<std::uint64_t>(s.f_type) : 0;
}

bool valid_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.size() <= 200 &&
         name.find('/') == std::string_view::npos;
}

}  // namespace

CgroupTracker CgroupTracker::detect(const TrackerConfig& config) {
  CgroupTracker t;
  const auto parts = components(config.parent);
  bool parent_ok = !parts.empty() && config.parent.front() != '/';
  for (const auto& p : parts) parent_ok = parent_ok && valid_name(p);
  if (!parent_ok) {
    t.status_ = "no tracking cgroups: parent '" + config.parent + "' must be a relative path";
    return t;
  }
  t.parent_ = config.parent;
  std::string why;
  // Creates <base>/<parent>; "" or why not.
  auto make_parent = [&](const std::string& base) {
    std::string dir = base;
    for (const auto& part : parts) {
      dir += "/" + part;
      if (auto e = make_dir(dir); !e.empty()) return e;
    }
    t.parent_dir_ = dir;
    return std::string();
  };
  const std::string& root = config.root;
  std::vector<std::string> v2_candidates;
  if (config.allow_v2) {
    if (exists(root + "/cgroup.controllers")) v2_candidates.push_back(root);
    if (exists(root + "/unified/cgroup.controllers")) v2_candidates.push_back(root + "/unified");
  }
  for (const auto& base : v2_candidates) {
    const std::uint64_t type = fs_type(base);
    t.fake_ = type != CGROUP2_SUPER_MAGIC;
    if (auto e = make_parent(base); !e.empty()) {
      why += (why.empty() ? "" : "; ") + e;
      continue;
    }
    t.kind_ = Kind::v2;
    t.status_ = "tracking cgroups v2 at " + t.parent_dir_ +
                (t.fake_ ? " (fake tree: not a cgroup filesystem)" : "");
    return t;
  }
  const std::string freezer = root + "/freezer";
  if (exists(freezer + "/cgroup.procs")) {
    t.fake_ = fs_type(freezer) != CGROUP_SUPER_MAGIC;
    if (auto e = make_parent(freezer); !e.empty()) {
      why += (why.empty() ? "" : "; ") + e;
    } else {
      t.kind_ = Kind::freezer;
      t.status_ = "tracking cgroups v1 freezer at " + t.parent_dir_ +
                  (t.fake_ ? " (fake tree: not a cgroup filesystem)" : "");
      return t;
    }
  } else if (why.empty()) {
    why = "neither cgroup v2 (" + root + "/cgroup.controllers, " + root +
          "/unified/cgroup.controllers) nor the v1 freezer (" + freezer + ")";
  }
  t.parent_dir_.clear();
  t.fake_ = false;
  t.status_ = "no tracking cgroups (tasks are tracked by process group only): " + why;
  return t;
}

std::string CgroupTracker::create(std::string_view name, std::string& error) const {
  if (!available()) {
    error = status_;
    return "";
  }
  if (!valid_name(name)) {
    error = "bad cgroup name '" + std::string(name) + "'";
    return "";
  }
  const std::string dir = parent_dir_ + "/" + std::string(name);
  if (auto e = make_dir(dir); !e.empty()) {
    // The parent went (an operator's cleanup): made again, once.
    std::string base = parent_dir_.substr(0, parent_dir_.size() - parent_.size() - 1);
    bool again = errno == ENOENT;
    for (const auto& part : components(parent_))
      if (again) again = make_dir(base += "/" + part).empty();
    if (!again || !make_dir(dir).empty()) {
      error = e;
      return "";
    }
  }
  if (fake_) {
    if (auto e = write_control(procs_file(dir), "", true); !e.empty()) {
      error = e;
      return "";
    }
  }
  return dir;
}

std::vector<pid_t> CgroupTracker::procs(const std::string& dir) const {
  std::vector<pid_t> out;
  const std::string text = read_small(procs_file(dir));
  for (auto word : split(text, '\n')) {
    word = trim(word);
    pid_t pid = 0;
    auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), pid);
    if (ec == std::errc() && p == word.data() + word.size() && pid > 0) out.push_back(pid);
  }
  return out;
}

std::string CgroupTracker::kill(const std::string& dir) const {
  if (!available() || dir.empty()) return "";
  if (!exists(dir)) return "";
  if (kind_ == Kind::freezer) return kill_frozen(dir, dir + "/freezer.state", "FROZEN", "THAWED");
  return kill_v2(dir);
}

std::string CgroupTracker::kill_v2(const std::string& dir) const {
  if (exists(dir + "/cgroup.kill")) {
    // Kills every process in the cgroup (and below) at once; forks cannot race it.
    return write_control(dir + "/cgroup.kill", "1", false);
  }
  if (exists(dir + "/cgroup.freeze")) return kill_frozen(dir, dir + "/cgroup.freeze", "1", "0");
  // Neither (Linux < 5.2): SIGKILL what is listed until nothing is; a process that forks
  // between the read and the kill is caught in the next round.
  for (int round = 0; round < 20; ++round) {
    const auto pids = procs(dir);
    if (pids.empty()) break;
    if (!fake_)
      for (pid_t p : pids) ::kill(p, SIGKILL);
  }
  return "";
}

// Freeze, SIGKILL every process, thaw: frozen processes cannot fork in between, and the kills
// take effect when they thaw.
std::string CgroupTracker::kill_frozen(const std::string& dir, const std::string& state_file,
                                       const std::string& frozen, const std::string& thawed) const {
  if (auto e = write_control(state_file, frozen, fake_); !e.empty()) return e;
  const bool v1 = kind_ == Kind::freezer;
  // Wait (briefly) for the freeze to complete; a process in uninterruptible sleep may delay it.
  for (int i = 0; i < 100 && !fake_; ++i) {
    const std::string state = v1 ? read_small(state_file) : read_small(dir + "/cgroup.events");
    if (v1 ? trim(state) == "FROZEN" : state.find("frozen 1") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!fake_)
    for (pid_t p : procs(dir)) ::kill(p, SIGKILL);
  return write_control(state_file, thawed, fake_);
}

bool CgroupTracker::remove(const std::string& dir, std::string* error) const {
  if (dir.empty()) return true;
  if (fake_) {
    if (!procs(dir).empty()) {
      if (error) *error = "cannot remove " + dir + ": processes still in it";
      return false;
    }
    delete_plain_files(dir);
  }
  if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
  if (error)
    *error = "cannot remove " + dir + ": " + errno_text(errno) +
             (errno == EBUSY ? " (processes still in it)" : "");
  return false;
}

std::vector<std::string> CgroupTracker::children() const {
  std::vector<std::string> out;
  if (!available()) return out;
  DIR* d = ::opendir(parent_dir_.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::lstat((parent_dir_ + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode))
      out.push_back(name);
  }
  ::closedir(d);
  return out;
}

void CgroupTracker::remove_parent() const {
  if (!available()) return;
  std::string dir = parent_dir_;
  for (std::size_t level = 0; level < components(parent_).size(); ++level) {
    if (fake_) delete_plain_files(dir);
    if (::rmdir(dir.c_str()) != 0) break;  // not empty: another agent's, or tasks left
    dir.resize(dir.rfind('/'));
  }
}

}  // namespace zs
