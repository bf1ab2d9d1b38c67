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

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

void Agent::adopt_attempts() {
  std::lock_guard lk(mu_);
  const std::int64_t now = now_ms();
  std::vector<std::string> scripts_in_use;
  std::set<std::string> cgroups_in_use;  // names of the attempts' cgroups ("job-J.A")
  int adopted = 0, ended = 0;
  for (auto& found : records_->load()) {
    const std::string& path = found.path;
    const AttemptRecord& rec = found.record;
    const AttemptKey key = rec.header->key;
    if (attempts_.count(key)) {  // two records of one attempt: the first one counts
      records_->free(path);
      continue;
    }
    const AttemptHeader& h = *rec.header;
    Attempt a;
    a.header = h;
    a.record = path;
    a.deadline_ms = h.deadline_ms;
    a.signal = h.signal;
    a.signal_batch = h.signal_batch;
    // Due and not past: the last agent may have sent it already, and a second checkpoint
    // request is not what the job asked for (at most once, as sbatch).
    if (h.signal && h.signal_ms > now) a.signal_at_ms = h.signal_ms;
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
      if (auto outcome = outcome_of(r, h)) {
        t.outcome = outcome;
      } else if (!rebooted && r.started) {
        // Watched by the task's pid and start time; its E line comes from the old shim.
        bool alive = false;
        t.adopted = true;
        t.running = true;
        t.pid = r.task_pid;
        t.start = r.task_start;
        t.shim_pid = r.shim_pid;
        t.shim_start = r.shim_start;
        t.pidfd = open_pidfd_if_alive(r.task_pid, r.task_start, alive);
        if (!alive) t.ended_ms = now;  // ended: its E line may still be on its way
        any_running = true;
      } else {
        t.outcome =
            RankOutcome{RankOutcome::lost, -1, now,
                        rebooted ? "the node restarted" : "the agent stopped while starting it"};
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
    remember_logs(key, h);
    (any_running ? adopted : ended)++;
    attempts_.emplace(key, std::move(a));
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
