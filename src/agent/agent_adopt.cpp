// Re-adoption: what a starting agent does with the attempts of the agent before it on the same
// work directory (docs/agent.md, "Agent restarts").
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include "agent/agent.h"
#include "agent/agent_clock.h"
#include "agent/shim.h"

namespace zs {
namespace {

std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  ::closedir(d);
  return out;
}

std::string read_all(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rbe");
  if (!f) return "";
  std::string out;
  char buf[8192];
  for (std::size_t n; out.size() < kMaxRecordBytes && (n = std::fread(buf, 1, sizeof buf, f)) > 0;)
    out.append(buf, n);
  std::fclose(f);
  return out;
}

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

void Agent::adopt_attempts() {
  std::lock_guard lk(mu_);
  ::mkdir(attempts_dir_.c_str(), 0700);
  ::chmod(attempts_dir_.c_str(), 0700);
  const std::int64_t now = now_ms();
  std::vector<std::string> scripts_in_use;
  std::set<std::string> cgroups_in_use;  // names of the attempts' cgroups ("job-J.A")
  int adopted = 0, ended = 0;
  for (const std::string& name : dir_entries(attempts_dir_)) {
    const std::string path = attempts_dir_ + "/" + name;
    const auto key = parse_record_name(name);
    const AttemptRecord rec = key ? parse_attempt_record(read_all(path)) : AttemptRecord{};
    if (!key || !rec.header || rec.header->key != *key) {
      // Not a record, or one cut short before any task started: its cgroup (if any) is swept
      // below with the others nothing accounts for.
      ::unlink(path.c_str());
      continue;
    }
    const AttemptHeader& h = *rec.header;
    Attempt a;
    a.header = h;
    a.record = path;
    a.deadline_ms = h.deadline_ms;
    if (!h.limit_dirs.empty()) {
      TaskCgroup limits;
      limits.dirs = h.limit_dirs;
      for (const auto& d : h.limit_dirs) limits.procs_files.push_back(d + "/cgroup.procs");
      a.limits = limits;
    }
    const bool rebooted = !h.kernel_boot.empty() && h.kernel_boot != kernel_boot_;
    bool any_running = false;
    for (int rank : h.ranks) {
      const RankRecord& r = rec.ranks.at(rank);
      Task t;
      t.rank = rank;
      bool alive = false;
      if (auto outcome = outcome_of(r, h)) {
        t.outcome = outcome;
      } else if (!rebooted && r.started) {
        const int fd = open_pidfd_if_alive(r.shim_pid, r.shim_start, alive);
        if (alive) {
          t.adopted = true;
          t.running = true;
          t.pid = r.shim_pid;
          t.pidfd = fd;
          t.start = r.shim_start;
          any_running = true;
        }
      }
      if (!t.outcome && !alive) {
        const std::string why =
            rebooted    ? "the node restarted"
            : r.started ? "its shim (pid " + std::to_string(r.shim_pid) + ") ended without a report"
                        : "the agent stopped while starting it";
        t.outcome = RankOutcome{RankOutcome::lost, -1, now, why};
      }
      a.tasks.push_back(t);
    }
    if (rec.stopped) {
      a.stop_reason = rec.stop_reason;
      a.term_sent_ms = any_running ? std::max<std::int64_t>(1, rec.stop_ms) : 0;
    }
    if (!h.tracking.empty()) cgroups_in_use.insert(base_name(h.tracking));
    for (const auto& d : h.limit_dirs) cgroups_in_use.insert(base_name(d));
    if (!h.script.empty()) scripts_in_use.push_back(h.script);
    remember_logs(*key, h.stdout_path, h.stderr_path);
    (any_running ? adopted : ended)++;
    attempts_.emplace(*key, std::move(a));
  }
  scripts_.emplace(options_.work_dir + "/scripts", 64, scripts_in_use);

  // Cgroups that no record accounts for belong to attempts an earlier agent was starting when
  // it died (before their record existed): nothing may run untracked, so they are killed.
  auto sweep = [&](const std::string& parent, auto kill, auto remove) {
    for (const std::string& name : dir_entries(parent)) {
      struct stat st {};
      const std::string dir = parent + "/" + name;
      if (cgroups_in_use.count(name) || ::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        continue;
      bool gone = false;
      for (int i = 0; i < 100 && !gone; ++i) {
        kill(dir);
        gone = remove(dir);
        if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (!gone)
        std::fprintf(stderr, "zs agent %s: cannot empty the leftover cgroup %s\n",
                     options_.name.c_str(), dir.c_str());
    }
  };
  if (tracker_)
    sweep(
        tracker_->parent_dir(), [&](const std::string& d) { tracker_->kill(d); },
        [&](const std::string& d) { return tracker_->remove(d); });
  if (cgroups_)
    for (const auto& parent : cgroups_->parent_dirs())
      sweep(
          parent, [](const std::string&) {},
          [&](const std::string& d) {
            TaskCgroup t{{d}, {d + "/cgroup.procs"}};
            return cgroups_->remove(t, 1, std::chrono::milliseconds(0)).empty();
          });

  // Now as if they had never been away: the gang rule, stops in progress, ends.
  std::vector<AttemptKey> keys;
  for (const auto& [key, a] : attempts_) keys.push_back(key);
  for (const auto& key : keys) {
    Attempt& a = attempts_.at(key);
    const bool failed = std::any_of(a.tasks.begin(), a.tasks.end(), [](const Task& t) {
      return t.outcome && t.outcome->exit_code != 0;
    });
    if (failed) stop_attempt(a, "", now);
    finish_if_done(key, a, now);
  }
  if (adopted || ended)
    std::fprintf(stderr,
                 "zs agent %s: re-adopted %d running attempt(s); %d ended while no agent ran\n",
                 options_.name.c_str(), adopted, ended);
}

}  // namespace zs
