// The agent's attempts: starting tasks under shims, stopping them, supervising them, and
// re-adopting those of the agent that ran before this one on the same work directory.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <system_error>

#include "agent/agent.h"
#include "agent/agent_clock.h"
#include "agent/launcher.h"
#include "agent/shim.h"
#include "core/output_pattern.h"

namespace zs {
namespace {

constexpr std::size_t kRememberedAttempts = 100'000;
constexpr std::int64_t kDrainRetryMs = 10;         // a killed cgroup is usually empty by then
constexpr std::int64_t kUnwatchedCheckMs = 1'000;  // adopted shims without a pidfd (Linux < 5.3)

std::string joined(const std::vector<int>& v) {
  std::string out;
  for (int x : v) {
    if (!out.empty()) out += ',';
    out += std::to_string(x);
  }
  return out;
}

bool has_key(const std::vector<std::string>& env, const std::string& key) {
  for (const auto& e : env)
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=')
      return true;
  return false;
}

// For kernels without pidfds: the adopted shim checked by pid and start time.
bool still_running(pid_t pid, const std::string& start) {
  bool alive = false;
  const int fd = open_pidfd_if_alive(pid, start, alive);
  if (fd >= 0) ::close(fd);
  return alive;
}

std::string key_text(const AttemptKey& key) {
  return std::to_string(key.job) + "." + std::to_string(key.attempt);
}

}  // namespace

void Agent::remember_done(const NodeExit& exit) {
  if (done_.emplace(exit.key, exit).second) done_order_.push_back(exit.key);
  while (done_order_.size() > kRememberedAttempts) {
    done_.erase(done_order_.front());
    done_order_.pop_front();
  }
}

void Agent::remember_logs(const AttemptKey& key, const AttemptHeader& h) {
  const bool shared = h.stderr_path.empty();
  LogFiles files{h.stdout_path, shared ? h.stdout_path : h.stderr_path, h.stdout_id,
                 shared ? h.stdout_id : h.stderr_id};
  if (!logs_.emplace(key, std::move(files)).second) return;
  logs_order_.push_back(key);
  while (logs_order_.size() > kRememberedAttempts) {
    logs_.erase(logs_order_.front());
    logs_order_.pop_front();
  }
}

void Agent::acknowledged(const AttemptKey& key) {
  if (!unacked_.erase(key)) return;
  // The controller has the exit for good: the record is no longer needed to tell it again.
  if (auto it = ended_records_.find(key); it != ended_records_.end()) {
    records_->free(it->second);
    ended_records_.erase(it);
  }
}

void Agent::append_record(const Attempt& a, const std::string& line) {
  if (!a.record.empty()) records_->append(a.record, line);
}

void Agent::start_attempt(const NodeLaunch& launch) {
  const AttemptKey key = launch.key;
  Attempt& a = attempts_[key];
  const std::int64_t now = now_ms();
  AttemptHeader& h = a.header;
  h.key = key;
  h.node_rank = launch.node_rank;
  for (const auto& t : launch.tasks) {
    h.ranks.push_back(t.rank);
    h.devices.insert(h.devices.end(), t.devices.begin(), t.devices.end());
  }
  if (launch.walltime_ms > 0) a.deadline_ms = h.deadline_ms = now + launch.walltime_ms;
  if (launch.signal > 0) {
    a.signal = h.signal = launch.signal;
    a.signal_batch = h.signal_batch = launch.signal_batch;
    // TIME seconds before the limit; a TIME longer than the walltime means at once, as Slurm.
    if (a.deadline_ms)
      a.signal_at_ms = h.signal_ms =
          std::max(now, a.deadline_ms - std::int64_t{launch.signal_time_s} * 1000);
  }
  h.kernel_boot = kernel_boot_;
  h.cwd = launch.work_dir;
  if (!launch.argv.empty()) h.program = launch.argv.front();

  // Nothing has started: every rank fails with this reason.
  auto fail_all = [&](const std::string& reason) {
    a.tasks.clear();
    for (const auto& t : launch.tasks) {
      Task task;
      task.rank = t.rank;
      task.outcome = RankOutcome{RankOutcome::launch_failed, 127, now, bounded_text(reason)};
      a.tasks.push_back(task);
      append_record(a, record_failed_line(t.rank, reason, now));
    }
    finish_if_done(key, a, now);
  };
  if (launch.tasks.empty()) return fail_all("no tasks for this node");

  // Whom its tasks run as: nothing runs when that account is not to be had here.
  std::string run_as_error;
  const std::optional<RunAs> run_as =
      decide_run_as(launch.unix_user, self_, self_known_, options_.single_user, options_.name,
                    lookup_account, run_as_error);
  if (!run_as) return fail_all(run_as_error);

  std::vector<std::string> argv = launch.argv;
  if (!launch.script.empty()) {
    std::string error;
    ScriptOwner owner;
    owner.chown = run_as->switch_user;
    owner.uid = run_as->account.uid;
    owner.gid = run_as->account.gid;
    h.script = scripts_->acquire(launch.script, error, owner);
    if (h.script.empty()) return fail_all(error);
    argv.insert(argv.begin(), h.script);
    h.program = h.script;
  }

  // Every attempt is contained: its tasks and all they start stay in this cgroup, which is
  // killed as a whole when the attempt ends.
  if (tracker_) {
    std::string error;
    h.tracking = tracker_->create("job-" + key_text(key), error);
    if (h.tracking.empty()) return fail_all("cannot create the attempt's cgroup: " + error);
    h.cgroup_procs.push_back(CgroupTracker::procs_file(h.tracking));
  }
  // CPU and memory limits, when the job asked for them.
  if (cgroups_ && (launch.cpus > 0 || launch.mem_mib > 0)) {
    std::string error;
    a.limits = cgroups_->create("job-" + key_text(key),
                                ResourceLimits{launch.cpus, launch.mem_mib * 1024 * 1024}, error);
    if (a.limits) {
      h.limit_dirs = a.limits->dirs;
      for (const auto& f : a.limits->procs_files)
        if (std::find(h.cgroup_procs.begin(), h.cgroup_procs.end(), f) == h.cgroup_procs.end())
          h.cgroup_procs.push_back(f);
    } else {
      std::fprintf(stderr, "zs agent %s: job %s runs without CPU/memory limits: %s\n",
                   options_.name.c_str(), key_text(key).c_str(), bounded_text(error).c_str());
    }
  }

  // Every task's files are opened and its program found before anything starts, so a bad
  // output path fails the attempt without starting half of it.
  std::vector<LaunchSpec> specs(launch.tasks.size());
  std::vector<PreparedLaunch> prepared;
  prepared.reserve(launch.tasks.size());
  for (std::size_t i = 0; i < launch.tasks.size(); ++i) {
    const TaskLaunch& t = launch.tasks[i];
    LaunchSpec& spec = specs[i];
    spec.argv = argv;
    spec.env = launch.env;
    if (!has_key(spec.env, "PATH")) spec.env.push_back("PATH=/usr/local/bin:/usr/bin:/bin");
    // Our `srun` first, so sbatch scripts that call srun run unchanged (cmd_srun.cpp).
    if (!bin_dir_.empty())
      for (auto& kv : spec.env)
        if (kv.rfind("PATH=", 0) == 0) kv.insert(5, bin_dir_ + ":");
    if (run_as->known) {
      // The account's own, whatever the submitter's environment said.
      std::erase_if(spec.env, [](const std::string& kv) {
        return kv.rfind("USER=", 0) == 0 || kv.rfind("LOGNAME=", 0) == 0 ||
               (kv.rfind("HOME=", 0) == 0);
      });
      spec.env.push_back("USER=" + run_as->account.name);
      spec.env.push_back("LOGNAME=" + run_as->account.name);
      if (!run_as->account.home.empty()) spec.env.push_back("HOME=" + run_as->account.home);
    }
    if (!has_key(spec.env, "HOME")) spec.env.push_back("HOME=" + launch.work_dir);
    spec.env.push_back("RANK=" + std::to_string(t.rank));
    spec.env.push_back("LOCAL_RANK=" + std::to_string(t.local_rank));
    spec.env.push_back("SLURM_PROCID=" + std::to_string(t.rank));
    spec.env.push_back("SLURM_LOCALID=" + std::to_string(t.local_rank));
    spec.env.push_back("ZS_NODE=" + options_.name);
    if (!launch.visible_devices_env.empty())
      spec.env.push_back(launch.visible_devices_env + "=" + joined(t.devices));
    spec.cwd = launch.work_dir;
    spec.run_as = &*run_as;
    auto resolve = [&](const std::string& pattern) {
      std::string p = expand_task_pattern(pattern, options_.name, launch.node_rank, t.rank);
      if (!p.empty() && p.front() != '/') p = launch.work_dir + "/" + p;
      return p;
    };
    spec.stdout_path = resolve(launch.stdout_path);
    spec.stderr_path = resolve(launch.stderr_path);
    std::string error;
    auto p = prepare_launch(spec, error);
    if (i == 0) {
      h.stdout_path = spec.stdout_path;
      h.stderr_path = spec.stderr_path.empty() ? spec.stdout_path : spec.stderr_path;
      if (p) {
        h.stdout_id = p->out_id;
        h.stderr_id = spec.stderr_path.empty() ? p->out_id : p->err_id;
      }
      remember_logs(key, h);
    }
    if (!p) return fail_all(error);
    if (i == 0) h.program = p->program;
    prepared.push_back(std::move(*p));
  }

  // The record exists before any process does: whatever happens to this agent from here on,
  // the next one can account for every task.
  std::string error;
  const int record_fd = records_->create(record_header_line(h), a.record, error);
  if (record_fd < 0) {
    a.record.clear();
    return fail_all(error);
  }

  for (std::size_t i = 0; i < launch.tasks.size(); ++i) {
    Task task;
    task.rank = launch.tasks[i].rank;
    if (!launch_task(key, task.rank, prepared[i], h.cgroup_procs, record_fd, error)) {
      // This rank and those after it never start; the ones before are stopped.
      for (std::size_t j = i; j < launch.tasks.size(); ++j) {
        Task failed;
        failed.rank = launch.tasks[j].rank;
        const std::string why =
            j == i ? error : "not started: rank " + std::to_string(task.rank) + " could not be";
        failed.outcome = RankOutcome{RankOutcome::launch_failed, 127, now, bounded_text(why)};
        append_record(a, record_failed_line(failed.rank, why, now));
        a.tasks.push_back(failed);
      }
      stop_attempt(a, "", now);
      break;
    }
    task.running = true;  // its pid comes with the shim's "started"
    a.tasks.push_back(task);
  }
  ::close(record_fd);
  finish_if_done(key, a, now);
}

bool Agent::launch_task(const AttemptKey& key, int rank, const PreparedLaunch& task,
                        const std::vector<std::string>& cgroup_procs, int record_fd,
                        std::string& error) {
  if (shim_->launch(key, rank, task, cgroup_procs, record_fd, error)) return true;
  if (shim_->ok()) return false;  // this launch cannot be sent (too large)
  // The shim died: its tasks are accounted for from the records, and a new one takes over.
  shim_lost(now_ms());
  return shim_->ok() && shim_->launch(key, rank, task, cgroup_procs, record_fd, error);
}

void Agent::signal_task(const AttemptKey& key, const Task& t, int sig) {
  if (!t.running) return;
  if (!t.adopted) {
    // Through the shim, which signals the group only while it has not collected the task.
    shim_->signal(key, t.rank, sig);
    return;
  }
  if (t.ended_ms || t.pid <= 1) return;
  // An earlier shim's task: its group, while the pidfd says the leader has not ended (a live
  // leader's pid, the group's id, cannot be reused).
  if (t.pidfd >= 0) {
    pollfd p{t.pidfd, POLLIN, 0};
    if (::poll(&p, 1, 0) != 0) return;
  } else if (!still_running(t.pid, t.start)) {
    return;
  }
  if (sig < 0)
    ::kill(t.pid, -sig);  // the task's own process only (shim.h)
  else
    ::kill(-t.pid, sig == kKillGroup ? SIGKILL : sig);
}

// As sbatch --signal: to every task's process group (the program and what it started), or with
// B: to each task's own process only: a script's shell, which traps it and tells its programs
// what it wants. Zhisuan runs the script in every task, so every task's shell gets it.
void Agent::send_checkpoint_signal(Attempt& a) {
  if (!a.signal) return;
  for (const auto& t : a.tasks) signal_task(a.header.key, t, a.signal_batch ? -a.signal : a.signal);
}

// SIGTERM now to every task's process group, SIGKILL to the whole cgroup after the grace
// period (supervisor). A preempted job that named a checkpoint signal gets that instead of
// SIGTERM (the "preemption with grace"): it was asked for to save the job's state.
void Agent::stop_attempt(Attempt& a, const std::string& reason, std::int64_t now, bool checkpoint) {
  if (a.stop_reason.empty() && !reason.empty()) {
    a.stop_reason = reason;
    append_record(a, record_stop_line(reason, now));  // a restarted agent keeps the reason
  }
  if (a.term_sent_ms) return;
  a.term_sent_ms = now;
  a.signal_at_ms = 0;  // stopping now: the walltime's checkpoint signal is moot
  if (checkpoint && a.signal) return send_checkpoint_signal(a);
  for (const auto& t : a.tasks) signal_task(a.header.key, t, SIGTERM);
}

void Agent::kill_attempt(Attempt& a) {
  if (tracker_ && !a.header.tracking.empty()) {
    if (std::string e = tracker_->kill(a.header.tracking); !e.empty())
      std::fprintf(stderr, "zs agent %s: %s\n", options_.name.c_str(), bounded_text(e).c_str());
  }
  for (const auto& t : a.tasks) signal_task(a.header.key, t, kKillGroup);  // without a cgroup
}

void Agent::task_ended(const AttemptKey& key, Attempt& a, Task& t, RankOutcome outcome,
                       std::int64_t now) {
  if (!t.running) return;
  t.running = false;
  if (t.pidfd >= 0) ::close(t.pidfd);
  t.pidfd = -1;
  outcome.reason = bounded_text(outcome.reason);
  t.outcome = outcome;
  if (outcome.exit_code != 0) stop_attempt(a, "", now);  // one rank failed: stop the others
  finish_if_done(key, a, now);
}

bool Agent::settle_adopted(const AttemptKey& key, Attempt& a, Task& t, std::int64_t now) {
  const AttemptRecord rec = parse_attempt_record(records_->read(a.record), &a.header);
  if (auto r = rec.ranks.find(t.rank); r != rec.ranks.end())
    if (auto outcome = outcome_of(r->second, a.header)) {
      task_ended(key, a, t, *outcome, now);
      return true;
    }
  if (!t.ended_ms) t.ended_ms = now;
  // Its shim reaps it and then writes the E line: a moment, unless the shim is gone too.
  if (now - t.ended_ms < 2'000 && still_running(t.shim_pid, t.shim_start)) return false;
  task_ended(
      key, a, t,
      RankOutcome{RankOutcome::lost, -1, now,
                  "its shim (pid " + std::to_string(t.shim_pid) + ") did not record its end"},
      now);
  return true;
}

void Agent::adopted_child_ended(const Exit& x, std::int64_t now) {
  for (auto& [key, a] : attempts_)
    for (auto& t : a.tasks)
      if (t.running && t.adopted && t.pid == x.pid) {
        // Its shim died and it became our child: we have its exit, which its shim would have
        // recorded. The record gets it too, for an agent restarting before it is reported.
        append_record(a, "E " + std::to_string(key.job) + " " + std::to_string(key.attempt) + " " +
                             std::to_string(t.rank) + " " + std::to_string(x.code) + " " +
                             std::to_string(x.signal) + " " + std::to_string(now) + " 0 0\n");
        task_ended(key, a, t, RankOutcome{RankOutcome::exited, x.code, now, ""}, now);
        return;
      }
}

void Agent::apply(const std::vector<Shim::Event>& events, std::int64_t now) {
  for (const auto& e : events) {
    auto it = attempts_.find(e.key);
    if (it == attempts_.end()) continue;
    Attempt& a = it->second;
    for (auto& t : a.tasks) {
      if (t.rank != e.rank || t.adopted || !t.running) continue;
      if (e.kind == Shim::Event::started) {
        t.pid = e.pid;
        break;
      }
      RankOutcome o{RankOutcome::exited, e.exit_code, e.end_ms, ""};
      if (e.step == kShimLeaseStop) {
        o.kind = RankOutcome::lost;  // a node failure: the controller gave the attempt up
        o.reason = kLeaseStopMessage;
      } else if (e.step != kShimStarted) {
        o.kind = RankOutcome::launch_failed;
        o.exit_code = 127;
        o.reason = shim_step_message(e.step, e.detail, a.header.program, a.header.cwd,
                                     a.header.cgroup_procs);
      }
      task_ended(e.key, a, t, o, now);
      break;
    }
  }
}

void Agent::shim_lost(std::int64_t now) {
  std::fprintf(stderr, "zs agent %s: %s; its tasks are re-adopted, a new shim takes over\n",
               options_.name.c_str(), shim_->error().c_str());
  std::vector<AttemptKey> keys;
  for (const auto& [key, a] : attempts_) keys.push_back(key);
  for (const auto& key : keys) {
    Attempt& a = attempts_.at(key);
    const AttemptRecord rec = parse_attempt_record(records_->read(a.record), &a.header);
    for (auto& t : a.tasks) {
      if (!t.running || t.adopted) continue;
      const auto r = rec.ranks.find(t.rank);
      if (r != rec.ranks.end()) {
        if (auto outcome = outcome_of(r->second, a.header)) {
          task_ended(key, a, t, *outcome, now);
        } else if (r->second.started) {
          bool alive = false;
          t.adopted = true;
          t.pid = r->second.task_pid;
          t.start = r->second.task_start;
          t.shim_pid = r->second.shim_pid;
          t.shim_start = r->second.shim_start;
          t.pidfd = open_pidfd_if_alive(t.pid, t.start, alive);
          if (!alive) settle_adopted(key, a, t, now);
        } else {
          task_ended(key, a, t,
                     RankOutcome{RankOutcome::lost, -1, now, "the shim died before starting it"},
                     now);
        }
      }
      if (!attempts_.count(key)) break;
    }
  }
  shim_ = std::make_unique<Shim>(lease_file_);
  if (!shim_->ok())
    std::fprintf(stderr, "zs agent %s: no new shim: %s\n", options_.name.c_str(),
                 shim_->error().c_str());
}

void Agent::finish_if_done(const AttemptKey& key, Attempt& a, std::int64_t now) {
  for (const auto& t : a.tasks)
    if (t.running) return;
  a.draining = true;
  // What the tasks left behind (`setsid sleep &`, daemons) goes with the attempt, and the
  // attempt is reported gone, and its devices free, only once nothing of it runs.
  if (tracker_ && !a.header.tracking.empty()) {
    std::string error;
    if (!tracker_->remove(a.header.tracking, &error)) {
      tracker_->kill(a.header.tracking);
      if (now - a.drain_logged_ms >= 10'000) {
        if (a.drain_logged_ms)
          std::fprintf(stderr, "zs agent %s: attempt %s still has processes: %s\n",
                       options_.name.c_str(), key_text(key).c_str(), bounded_text(error).c_str());
        a.drain_logged_ms = now;
      }
      return;  // the supervisor tries again in kDrainRetryMs
    }
  }
  if (a.limits && cgroups_) {
    std::string left = cgroups_->remove(*a.limits, 3, std::chrono::milliseconds(1));
    if (!left.empty())
      std::fprintf(stderr, "zs agent %s: %s\n", options_.name.c_str(), bounded_text(left).c_str());
  }
  std::map<int, RankOutcome> outcomes;
  for (const auto& t : a.tasks)
    if (t.outcome) outcomes.emplace(t.rank, *t.outcome);
  NodeExit e = node_exit_of(key, outcomes, a.stop_reason, a.term_sent_ms);
  if (e.end_ms <= 0) e.end_ms = now;
  remember_done(e);
  unacked_[key] = e;
  if (!a.record.empty()) ended_records_[key] = a.record;
  if (!a.header.script.empty() && scripts_) scripts_->release(a.header.script);
  attempts_.erase(key);
  exits_cv_.notify_all();
}

// Applies what the shim says, watches re-adopted tasks, fails a node's whole part when one task
// fails (the gang rule, locally), enforces walltime and the kill grace period, and empties
// ended attempts' cgroups.
void Agent::supervise_loop() {
  // SIGCHLD is blocked in every thread (run()); a signalfd turns it into something poll() sees,
  // so that orphans reparented to the agent are reaped. An idle agent sleeps until the shim
  // speaks, an adopted task ends, or a deadline is due.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  const int child_fd = ::signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  std::vector<std::pair<AttemptKey, int>> ready;  // adopted tasks whose pidfd said "ended"
  std::int64_t next_unwatched_check = 0;
  std::vector<Shim::Event> events;
  while (!stopping_) {
    // Orphans of tasks, a shim that died, and the tasks of a dead shim: reparented to the agent
    // (a subreaper), so their exits come here.
    const std::vector<Exit> reaped = reap_children();
    events.clear();
    const std::int64_t now = now_ms();
    int timeout = -1;
    std::vector<pollfd> fds{{wake_fd_, POLLIN, 0}, {child_fd, POLLIN, 0}};
    std::vector<std::pair<AttemptKey, int>> watched;  // (attempt, rank) of fds[3...]
    {
      std::lock_guard lk(mu_);  // shim_ may be replaced by a launch that found it gone
      const bool shim_ok = shim_->read_events(events);
      apply(events, now);
      if (!shim_ok) shim_lost(now);
      for (const auto& x : reaped) adopted_child_ended(x, now);
      fds.push_back({shim_->event_fd(), POLLIN, 0});
      const bool check_unwatched = now >= next_unwatched_check;
      if (check_unwatched) next_unwatched_check = now + kUnwatchedCheckMs;
      std::vector<AttemptKey> keys;
      for (const auto& [key, a] : attempts_) keys.push_back(key);
      for (const auto& key : keys) {
        auto it = attempts_.find(key);
        if (it == attempts_.end()) continue;
        for (auto& t : it->second.tasks) {
          if (!t.running || !t.adopted) continue;
          const bool gone =
              t.ended_ms ||
              std::any_of(ready.begin(), ready.end(),
                          [&](const auto& r) { return r.first == key && r.second == t.rank; }) ||
              (t.pidfd < 0 && check_unwatched && !still_running(t.pid, t.start));
          if (gone && settle_adopted(key, it->second, t, now) && !attempts_.count(key)) break;
        }
      }
      ready.clear();
      // No answer from the controller within the lease: it gives these attempts up (and may
      // run their jobs elsewhere), so they stop here. The shims do the same on their own, for
      // when this agent is frozen.
      const std::int64_t boot_now = boot_clock_ms();
      const bool lease_out = lease_deadline_ > 0 && boot_now >= lease_deadline_;
      bool unwatched = false, settling = false;
      for (const auto& key : keys) {
        auto it = attempts_.find(key);
        if (it == attempts_.end()) continue;
        Attempt& a = it->second;
        if (a.draining) {
          finish_if_done(key, a, now);
          continue;
        }
        if (a.signal_at_ms && now >= a.signal_at_ms && !a.term_sent_ms) {
          a.signal_at_ms = 0;  // once
          send_checkpoint_signal(a);
        }
        if (a.deadline_ms && now >= a.deadline_ms && !a.term_sent_ms)
          stop_attempt(a, "timeout", now);
        if (lease_out && !a.term_sent_ms)
          stop_attempt(a, std::string("lost: ") + kLeaseStopMessage, now);
        if (a.term_sent_ms && now - a.term_sent_ms >= kill_grace_ms_) kill_attempt(a);
        for (const auto& t : a.tasks) {
          if (!t.running || !t.adopted) continue;
          if (t.ended_ms) {
            settling = true;
          } else if (t.pidfd < 0) {
            unwatched = true;
          } else {
            fds.push_back({t.pidfd, POLLIN, 0});
            watched.emplace_back(key, t.rank);
          }
        }
      }
      timeout = supervisor_timeout_ms(now);
      auto at_most = [&timeout](std::int64_t ms) {
        timeout = timeout < 0 ? static_cast<int>(ms) : std::min(timeout, static_cast<int>(ms));
      };
      if (unwatched) at_most(kUnwatchedCheckMs);
      if (settling) at_most(20);
      if (!shim_->ok()) at_most(1'000);  // try a new shim again
    }
    if (child_fd < 0) timeout = timeout < 0 ? 50 : std::min(timeout, 50);  // no signalfd: poll
    if (child_fd < 0) fds[1].fd = -1;
    if (::poll(fds.data(), fds.size(), timeout) > 0) {
      std::uint64_t count;
      [[maybe_unused]] auto n = ::read(wake_fd_, &count, sizeof count);
      signalfd_siginfo info[16];
      while (child_fd >= 0 && ::read(child_fd, info, sizeof info) > 0) {
      }
      for (std::size_t i = 3; i < fds.size(); ++i)
        if (fds[i].revents) ready.push_back(watched[i - 3]);
    }
  }
  if (child_fd >= 0) ::close(child_fd);
  if (!options_.kill_tasks_on_exit) return;  // tasks run on; the next agent re-adopts them
  std::lock_guard lk(mu_);
  const std::int64_t now = now_ms();
  for (auto& [key, a] : attempts_) {
    stop_attempt(a, "killed: the agent stopped", now);
    kill_attempt(a);
  }
}

int Agent::supervisor_timeout_ms(std::int64_t now) const {
  std::int64_t next = -1;
  auto consider = [&](std::int64_t at) { next = next < 0 ? at : std::min(next, at); };
  const std::int64_t to_lease_end = lease_deadline_ > 0 ? lease_deadline_ - boot_clock_ms() : -1;
  for (const auto& [key, a] : attempts_) {
    if (a.draining) consider(now + kDrainRetryMs);
    if (to_lease_end >= 0 && !a.term_sent_ms) consider(now + to_lease_end);
    if (a.deadline_ms && !a.term_sent_ms) consider(a.deadline_ms);
    if (a.signal_at_ms && !a.term_sent_ms) consider(a.signal_at_ms);
    if (a.term_sent_ms)
      for (const auto& t : a.tasks) {
        if (!t.running) continue;
        // SIGKILL at the end of the grace period, then again every 100 ms until it is gone.
        const std::int64_t kill_at = a.term_sent_ms + kill_grace_ms_;
        consider(now < kill_at ? kill_at : now + 100);
      }
  }
  if (next < 0) return -1;
  return static_cast<int>(std::clamp<std::int64_t>(next - now, 0, 3'600'000));
}

}  // namespace zs
