#include "fake_agent.h"

#include <algorithm>
#include <cmath>

namespace zs::test {

TimeMs FakeJobs::started(const AttemptKey& key, TimeMs now) {
  Entry& j = jobs_[key.job];
  if (j.attempt == key.attempt) return j.ends_at;  // another node of the same attempt
  j.attempt = key.attempt;
  j.start = now;
  j.stop_ordered = j.ended = false;
  j.overhead = j.was_preempted ? j.work.restart_cost : 0;
  if (j.history.first_start < 0) j.history.first_start = now;
  j.history.last_start = now;
  // As the simulator: the restart cost, then what is left of the work (rounded up to a ms).
  j.ends_at =
      j.described
          ? now + j.overhead +
                static_cast<TimeMs>(std::ceil(j.remaining * static_cast<double>(j.work.duration)))
          : kNever;
  return j.ends_at;
}

TimeMs FakeJobs::overhead(const AttemptKey& key) const {
  auto it = jobs_.find(key.job);
  return it != jobs_.end() && it->second.attempt == key.attempt ? it->second.overhead : 0;
}

void FakeJobs::preempted(const AttemptKey& key, TimeMs now, bool checkpoint_signal) {
  Entry& j = jobs_[key.job];
  if (j.attempt != key.attempt || j.stop_ordered) return;
  j.stop_ordered = j.was_preempted = true;
  ++j.history.preemptions;
  const TimeMs progress = std::max<TimeMs>(0, now - j.start - j.overhead);
  if (checkpoint_signal && j.work.duration > 0)
    j.remaining = std::max(
        0.0, j.remaining - static_cast<double>(progress) / static_cast<double>(j.work.duration));
  else
    j.remaining = 1.0;
}

void FakeJobs::ended(const AttemptKey& key, TimeMs now) {
  Entry& j = jobs_[key.job];
  if (j.attempt != key.attempt || j.ended) return;
  j.ended = true;
  j.history.held_ms += now - j.start;
}

const FakeJobs::History& FakeJobs::history(JobId id) const {
  static const History none;
  auto it = jobs_.find(id);
  return it == jobs_.end() ? none : it->second.history;
}

FakeAgent::FakeAgent(std::string n, int devices, std::string boot, std::string accel_type)
    : name(std::move(n)) {
  report.boot_id = std::move(boot);
  report.address = "127.0.0.1";
  report.accel_type = std::move(accel_type);
  report.accel_count = devices;
  report.cpus = 64;
  report.mem_mib = 512 * 1024;
  report.wait_ms = 0;
}

bool FakeAgent::sync(ClusterApi& controller, TimeMs now, FakeJobs& jobs) {
  for (auto it = parts_.begin(); it != parts_.end();) {
    const Part& p = it->second;
    if (p.ends_at > now) {
      ++it;
      continue;
    }
    const AttemptKey key = it->first;
    report.exits.push_back(NodeExit{key, p.exit_code, p.reason, p.ends_at});
    jobs.ended(key, p.ends_at);
    std::erase_if(report.running, [&](const RunningAttempt& r) { return r.key == key; });
    it = parts_.erase(it);
  }
  bool active = !report.exits.empty();
  AgentOrders orders = controller.agent_sync(name, report);
  kill_grace_ms_ = orders.kill_grace_ms;
  std::erase_if(report.exits, [&](const NodeExit& e) {
    return std::find(orders.acked.begin(), orders.acked.end(), e.key) != orders.acked.end();
  });
  for (const NodeLaunch& l : orders.launches) launch(l, now, jobs);
  for (const KillOrder& k : orders.kills) kill(k, now, jobs);
  return active || !orders.launches.empty() || !orders.kills.empty();
}

TimeMs FakeAgent::next_event() const {
  TimeMs next = kNever;
  for (const auto& [key, part] : parts_) next = std::min(next, part.ends_at);
  return next;
}

void FakeAgent::launch(const NodeLaunch& l, TimeMs now, FakeJobs& jobs) {
  if (parts_.count(l.key)) return;  // launches are idempotent
  Part p;
  for (const auto& t : l.tasks)
    p.devices.insert(p.devices.end(), t.devices.begin(), t.devices.end());
  p.signal = l.signal != 0;
  p.ends_at = jobs.started(l.key, now);
  if (l.walltime_ms > 0) {
    // The simulator's limit: the walltime counts after the restart cost (the real agent counts
    // it from the launch).
    const TimeMs limit = now + jobs.overhead(l.key) + l.walltime_ms;
    if (limit < p.ends_at) {
      p.ends_at = limit;
      p.reason = "timeout";
      p.exit_code = 128 + 15;
    }
  }
  report.running.push_back({l.key, p.devices});
  parts_.emplace(l.key, std::move(p));
}

void FakeAgent::kill(const KillOrder& k, TimeMs now, FakeJobs& jobs) {
  auto it = parts_.find(k.key);
  if (it == parts_.end() || it->second.stopping) return;
  Part& p = it->second;
  p.stopping = true;
  if (k.checkpoint) jobs.preempted(k.key, now, p.signal);
  // The tasks spend the whole grace period (checkpointing, when they can) and go at SIGKILL, as
  // the simulator models a reclaim: the victim holds its devices until then.
  p.ends_at = now + kill_grace_ms_;
  p.reason = "killed";
  p.exit_code = 128 + 9;
}

}  // namespace zs::test
