// Controller: scheduling passes and the life of an attempt (start, launch, end).
#include <algorithm>
#include <bit>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "api/api_error.h"
#include "controller/clock.h"
#include "controller/controller.h"
#include "controller/durable_writer.h"
#include "controller/launch_plan.h"
#include "controller/spec_validation.h"
#include "sched/cpu_placement.h"
#include "sched/decision_check.h"

namespace zs {

void Controller::scheduler_loop() {
  std::unique_lock lk(mu_);
  const TimeMs check_every = lost_check_interval_ms();
  while (!stopping_) {
    const TimeMs now = now_ms();
    check_lost_nodes(now);
    if (pass_needed_ || now >= policy_wake_at_ || forecast_due(now)) {
      pass_needed_ = false;
      run_pass(now);
    }
    try {
      flush(lk);
    } catch (const ApiError&) {
      // The store failed (flush said so once); retry soon, without spinning.
      lk.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      lk.lock();
      continue;
    }
    if (options_.keep_finished_ms > 0 && now >= next_purge_ms_) purge_finished(lk, now);
    if (stopping_) break;
    // Let events that arrive together (a burst of submits or exits) share one pass.
    if (options_.min_pass_interval_ms > 0) {
      lk.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(options_.min_pass_interval_ms));
      lk.lock();
    }
    if (stopping_ || pass_needed_) continue;
    TimeMs next = std::min(policy_wake_at_, now + check_every);
    if (options_.forecast_interval_ms > 0 && !pending_.empty())
      next = std::min(next, std::max(next_forecast_ms_, now + 1));
    wake_.wait_until(lk, time_point_of(next), [&] { return stopping_ || pass_needed_; });
  }
}

TimeMs Controller::run_pass_for_test() {
  std::unique_lock lk(mu_);
  const TimeMs now = now_ms();
  check_lost_nodes(now);
  if (pass_needed_ || now >= policy_wake_at_) {
    pass_needed_ = false;
    run_pass(now);
  }
  flush(lk);
  if (options_.keep_finished_ms > 0 && now >= next_purge_ms_) purge_finished(lk, now);
  return pass_needed_ ? now : policy_wake_at_;
}

// The topology agents report (--leaf/--spine) becomes the core's: nodes of one leaf contiguous,
// leaves of one spine contiguous (core/cluster.h), so gangs are packed under one leaf switch.
// Agents that name none share the default leaf and spine.
void Controller::rebuild_cluster() {
  cluster_ = Cluster{};
  cluster_node_names_.clear();
  std::map<std::string, std::map<std::string, std::vector<std::string>>> tree;  // spine, leaf
  for (const auto& [name, node] : nodes_)
    if (node.rec.accel_count > 0 && catalog_.find(node.rec.accel_type))
      tree[node.rec.spine][node.rec.leaf].push_back(name);
  for (const auto& [spine_name, leaves] : tree) {
    Spine spine{spine_name.empty() ? "default" : spine_name,
                static_cast<std::uint32_t>(cluster_.leaves.size()), 0};
    for (const auto& [leaf_name, names] : leaves) {
      Leaf leaf{leaf_name.empty() ? "default" : leaf_name,
                static_cast<std::uint32_t>(cluster_.spines.size()),
                static_cast<NodeId>(cluster_.nodes.size()), 0};
      for (const std::string& name : names) {
        const NodeRecord& rec = nodes_.at(name).rec;
        Node n;
        n.name = name;
        n.type = *catalog_.find(rec.accel_type);
        n.accel_count = static_cast<std::uint8_t>(rec.accel_count);
        n.island_size = n.accel_count;
        n.cpu_cores = static_cast<std::uint32_t>(rec.cpus);
        n.memory_gib = static_cast<double>(rec.mem_mib) / 1024.0;
        n.leaf = static_cast<std::uint32_t>(cluster_.leaves.size());
        cluster_.nodes.push_back(std::move(n));
        cluster_node_names_.push_back(name);
      }
      leaf.end_node = static_cast<NodeId>(cluster_.nodes.size());
      cluster_.leaves.push_back(std::move(leaf));
    }
    spine.end_leaf = static_cast<std::uint32_t>(cluster_.leaves.size());
    cluster_.spines.push_back(std::move(spine));
  }
  if (cluster_.leaves.empty()) {  // no accelerator nodes yet: one empty leaf
    cluster_.leaves.push_back(Leaf{"default", 0, 0, 0});
    cluster_.spines.push_back(Spine{"default", 0, 1});
  }
  cluster_.finalize(catalog_.size());
  cluster_dirty_ = false;
  report_shortfall();
  // Nodes that never registered (named only by a drain, say) have no size: they hold nothing.
  auto capacity = std::make_shared<Capacity>();
  capacity->accelerators = cluster_;
  for (const auto& [name, node] : nodes_)
    if (!node.rec.boot_id.empty())
      capacity->hosts.push_back({node.rec.cpus, static_cast<double>(node.rec.mem_mib)});
  std::lock_guard lk(capacity_mu_);
  capacity_ = std::move(capacity);
  capacity_stale_ = false;
}

std::shared_ptr<const Capacity> Controller::current_capacity() {
  if (capacity_stale_) {
    std::lock_guard lk(mu_);
    if (cluster_dirty_) rebuild_cluster();
  }
  std::lock_guard lk(capacity_mu_);
  return capacity_;
}

// Forgets jobs that ended more than keep_finished_ms ago. A job stays while a node still holds
// one of its attempts (a kill not yet confirmed). The store forgets the same jobs, except that
// its cut-off stops below any job still kept in memory, so memory and store never disagree
// about a job the controller may still act on.
void Controller::purge_finished(std::unique_lock<std::mutex>& lk, TimeMs now) {
  const TimeMs keep = options_.keep_finished_ms;
  next_purge_ms_ = now + std::clamp<TimeMs>(keep / 10, 10, 60'000);
  const TimeMs cutoff = now - keep;
  std::set<JobId> held;
  for (const auto& [name, node] : nodes_)
    for (const auto& [key, hold] : node.holds) held.insert(key.job);
  TimeMs store_cutoff = cutoff;
  std::uint64_t forgotten = 0;
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    const JobRecord& r = it->second->rec;
    if (!is_terminal(r.state) || r.end_ms >= cutoff) {
      ++it;
    } else if (held.count(r.id)) {
      store_cutoff = std::min(store_cutoff, r.end_ms);
      ++it;
    } else {
      it = jobs_.erase(it);
      ++forgotten;
    }
  }
  if (forgotten == 0) return;
  purged_ += forgotten;
  lk.unlock();  // a large delete must not stop submits and passes
  try {
    // Batches queued before this point (one may hold a job just forgotten) land first, so the
    // delete is the last word on every forgotten job.
    writer_->write(WriteBatch{});
    writer_->run_alone([&](Store& store) { store.purge_jobs_ended_before(store_cutoff); });
  } catch (const std::exception& e) {
    // Memory is already smaller; the store is purged again at the next round.
    std::fprintf(stderr, "zs controller: purging finished jobs from the store: %s\n", e.what());
  }
  lk.lock();
}

// afterok:ID waits for job ID; when ID is an array's id, for every task of the array (Slurm).
bool Controller::dependencies_state(const LiveJob& job, std::string& reason) {
  reason.clear();
  for (JobId dep : job.rec.spec.after_ok) {
    auto it = jobs_.find(dep);
    if (it == jobs_.end()) continue;  // purged long ago: it had ended
    const bool array = it->second->rec.array_job_id == dep && it->second->rec.array_task_id >= 0;
    // An array's tasks have consecutive ids from the array id.
    for (; it != jobs_.end(); ++it) {
      const JobRecord& r = it->second->rec;
      if (r.id != dep && (!array || r.array_job_id != dep)) break;
      if (r.state == JobState::completed) continue;
      const std::string what =
          array ? "task " + std::to_string(r.array_task_id) + " of array " + std::to_string(dep)
                : std::to_string(dep);
      if (is_terminal(r.state)) {
        reason = "dependency " + what + " ended " + std::string(to_string(r.state));
        return false;
      }
      if (reason.empty()) reason = "waiting for dependency " + what;
      if (!array) break;
    }
  }
  return true;
}

bool Controller::anything_free() const {
  for (const auto& [name, node] : nodes_) {
    if (!schedulable(node)) continue;
    if (node.all_devices() & ~node.allocated() & ~node.rec.unhealthy) return true;
    if (node.rec.cpus - node.used_cpus() >= 1.0) return true;  // a CPU-only job could start
  }
  return false;
}

void Controller::cancel_broken_dependents(TimeMs now) {
  deps_dirty_ = false;
  std::vector<LiveJob*> broken;
  std::string reason;
  for (const auto& [id, job] : pending_)
    if (!job->rec.spec.after_ok.empty() && !dependencies_state(*job, reason)) {
      job->rec.reason = reason;
      broken.push_back(job);
    }
  for (LiveJob* job : broken) {
    pending_.erase(job->rec.id);
    job->rec.state = JobState::cancelled;
    job->rec.end_ms = now;
    touch(*job);
  }
  if (!broken.empty()) deps_dirty_ = pass_needed_ = true;  // their own dependents, next pass
}

void Controller::run_pass(TimeMs now) {
  // The master-port cache lives for this pass only: holds change between passes.
  struct ClearAtExit {
    std::map<std::string, std::set<int>>& ports;
    ~ClearAtExit() { ports.clear(); }
  } clear_ports{ports_in_pass_};
  ports_in_pass_.clear();
  if (cluster_dirty_) rebuild_cluster();
  // A full (or empty) cluster cannot start anything: skip the walk over the queue. Preemptive
  // policies still need their passes (a waiting job may displace a running one), and so do
  // tenants' shares (a job within guarantee may reclaim lent devices).
  if (!policy_->preemptive() && !options_.shares && !anything_free() && !forecast_due(now)) {
    if (deps_dirty_) cancel_broken_dependents(now);
    // Nothing starts before something frees (which asks for a pass): no timed wake until then,
    // or a begin time or reservation already past would spin this loop.
    policy_wake_at_ = kNever;
    return;
  }
  deps_dirty_ = false;
  ++passes_;
  std::map<std::string, NodeId> id_of;
  std::vector<NodeState> states(cluster_.nodes.size());
  for (NodeId i = 0; i < cluster_.nodes.size(); ++i) {
    const LiveNode& node = nodes_.at(cluster_node_names_[i]);
    id_of[cluster_node_names_[i]] = i;
    NodeState& s = states[i];
    s.free = node.all_devices() & ~node.allocated();
    s.healthy = ~node.rec.unhealthy;
    s.up = schedulable(node);
    s.free_cpu = node.rec.cpus - node.used_cpus();
    s.free_mem_gib = (static_cast<double>(node.rec.mem_mib) - node.used_mem_mib()) / 1024.0;
  }

  std::vector<RunningJob> running;
  std::map<JobId, int> array_running;
  for (const auto& [id, live] : running_) {
    const LiveJob& job = *live;
    if (job.rec.array_task_id >= 0) ++array_running[job.rec.array_job_id];
    if (job.rec.spec.accel_count == 0) continue;
    RunningJob r;
    r.job = &job.sched;
    r.accel_count = job.sched.accel_count;
    r.started = job.rec.start_ms;
    r.expected_end = job.rec.spec.walltime > 0 ? job.rec.start_ms + job.rec.spec.walltime : kNever;
    r.attained_accel_ms = job.attained_accel_ms +
                          std::max<TimeMs>(0, now - job.rec.start_ms) * job.rec.spec.accel_count;
    r.waited_ms = job.rec.start_ms - (job.last_end_ms > 0 ? job.last_end_ms : job.rec.submit_ms);
    r.previous_run_ms = job.last_run_ms;
    r.service_ranks = predictor_.service().ranks_for(job.sched);
    if (job.predicted_ms > 0) {  // doubled while it outlives it (RuntimePredictor::extended)
      const TimeMs work = RuntimePredictor::extended(
          job.predicted_ms, std::max<TimeMs>(0, now - job.rec.start_ms), job.rec.spec.walltime);
      r.predicted_end = std::min(job.rec.start_ms + work, r.expected_end);
    }
    bool known = true;
    for (const auto& a : job.rec.assignment) {
      auto it = id_of.find(a.node);
      if (it == id_of.end()) {
        known = false;
        break;
      }
      Slot slot{it->second, 0};
      for (int d : a.devices) slot.devices |= std::uint64_t{1} << d;
      r.placement.push_back(slot);
    }
    if (!known || r.placement.empty()) continue;
    r.type = cluster_.nodes[r.placement.front().node].type;
    running.push_back(std::move(r));
  }

  std::vector<PendingJob> pending;
  std::vector<LiveJob*> cpu_jobs;
  std::vector<LiveJob*> broken;  // dependencies that can never be met
  // Reasons are only assigned when they change: this loop visits every waiting job each pass.
  auto set_reason = [](LiveJob& job, const std::string& reason) {
    if (job.rec.reason != reason) job.rec.reason = reason;
  };
  static const std::string kWaiting = "waiting for resources";
  std::string reason;
  TimeMs begin_wake = kNever;  // the earliest --begin still ahead: a pass is due then
  for (const auto& [id, live] : pending_) {
    LiveJob& job = *live;
    reason.clear();
    if (const char* blocker = start_blocker(job.rec.spec, now)) {  // held, or --begin ahead
      set_reason(job, blocker);
      if (job.rec.spec.begin_ms > now) begin_wake = std::min(begin_wake, job.rec.spec.begin_ms);
      continue;
    }
    if (!job.rec.spec.after_ok.empty()) {
      if (!dependencies_state(job, reason)) {
        set_reason(job, reason);
        broken.push_back(&job);
        continue;
      }
      if (!reason.empty()) {
        set_reason(job, reason);
        continue;
      }
    }
    if (job.array_limit > 0 && job.rec.array_task_id >= 0) {
      int& n = array_running[job.rec.array_job_id];
      if (n >= job.array_limit) {
        set_reason(job, "array limit of " + std::to_string(job.array_limit) + " running tasks");
        continue;
      }
      ++n;  // a slot this task may take in this pass
    }
    // "requeued: node b lost" says more than "waiting" until the job starts again.
    if (job.rec.reason.rfind("requeued", 0) != 0) set_reason(job, kWaiting);
    if (job.rec.spec.accel_count == 0) {
      cpu_jobs.push_back(&job);
      continue;
    }
    // -w/-x name nodes; the core takes ids of this pass's cluster (rebuilt as nodes come and go).
    if (!job.rec.spec.nodelist.empty() || !job.rec.spec.exclude.empty()) {
      if (!map_node_constraints(job, id_of, reason)) {
        set_reason(job, reason);
        continue;
      }
    }
    PendingJob p;
    p.job = &job.sched;
    p.waiting_since = job.last_end_ms > 0 ? job.last_end_ms : job.rec.submit_ms;
    p.attained_accel_ms = job.attained_accel_ms;
    p.last_run_ms = job.last_run_ms;
    p.predicted_ms = job.predicted_ms;
    p.service_ranks = predictor_.service().ranks_for(job.sched);
    pending.push_back(p);
  }
  for (LiveJob* job : broken) {
    pending_.erase(job->rec.id);
    job->rec.state = JobState::cancelled;
    job->rec.end_ms = now;
    touch(*job);
    deps_dirty_ = pass_needed_ = true;  // their own dependents, next pass
  }

  Snapshot snapshot;
  snapshot.cluster = &cluster_;
  snapshot.catalog = &catalog_;
  snapshot.nodes = states;
  snapshot.running = running;
  snapshot.pending = pending;
  snapshot.params = options_.sched;
  if (options_.shares) prepare_shares(snapshot, running, id_of, now);
  if (!pending.empty()) capture_for_forecast(snapshot, now);
  Decisions decisions =
      cluster_.nodes.empty() || pending.empty() ? Decisions{} : policy_->decide(snapshot, now);
  policy_wake_at_ = std::min(decisions.wake_at, begin_wake);

  if (!decisions.preemptions.empty()) refuse_bad_preemptions(snapshot, decisions, now);
  for (const auto& p : decisions.preemptions) {
    auto it = jobs_.find(p.job);
    if (it == jobs_.end() || it->second->rec.state != JobState::running) continue;
    LiveJob& victim = *it->second;
    end_attempt(
        victim, JobState::pending, 0,
        (p.reclaim ? "reclaimed for job " : "preempted for job ") + std::to_string(p.for_job), now);
  }
  for (const auto& s : decisions.starts) {
    LiveJob& job = *jobs_.at(s.job);
    std::vector<NodeAssignment> assignment;
    for (const Slot& slot : s.placement) {
      NodeAssignment a;
      a.node = cluster_node_names_[slot.node];
      for (int d = 0; d < 64; ++d)
        if ((slot.devices >> d) & 1u) a.devices.push_back(d);
      assignment.push_back(std::move(a));
    }
    if (!checked_start(job, assignment)) continue;
    start_job(job, assignment, now);
  }
  for (const auto& r : decisions.rejections) jobs_.at(r.job)->rec.reason = r.reason;
  if (options_.shares) apply_share_decisions(decisions);

  if (!cpu_jobs.empty()) {
    std::vector<std::string> names;
    std::vector<CpuCandidate> candidates;
    for (const auto& [name, node] : nodes_) {
      if (!schedulable(node)) continue;
      candidates.push_back({static_cast<int>(names.size()), node.rec.cpus - node.used_cpus(),
                            static_cast<double>(node.rec.mem_mib) - node.used_mem_mib()});
      names.push_back(name);
    }
    for (LiveJob* job : cpu_jobs) {
      const JobSpec& spec = job->rec.spec;
      const double cpus_per_task = std::max(1.0, spec.cpus_per_task);
      const auto mem = static_cast<double>(spec.mem_mib);
      std::optional<std::vector<int>> chosen;
      std::vector<int> tasks;  // per chosen node
      // -w/-x: only allowed nodes are candidates, and every listed one must be chosen.
      std::vector<CpuCandidate> allowed;
      const bool constrained = !spec.nodelist.empty() || !spec.exclude.empty();
      if (constrained) {
        for (const CpuCandidate& c : candidates) {
          const std::string& name = names[c.index];
          if (std::find(spec.exclude.begin(), spec.exclude.end(), name) == spec.exclude.end())
            allowed.push_back(c);
        }
      }
      const std::span<const CpuCandidate> pool = constrained
                                                     ? std::span<const CpuCandidate>(allowed)
                                                     : std::span<const CpuCandidate>(candidates);
      if (spec.nodes == 0 && spec.ntasks > 1 && spec.nodelist.empty()) {
        // -n without -N: the fewest nodes that hold the tasks (Slurm).
        chosen = place_cpu_tasks(pool, spec.ntasks, cpus_per_task, mem);
        if (chosen) tasks = even_split(spec.ntasks, static_cast<int>(chosen->size()));
      } else {
        const int nodes = std::max(1, spec.nodes);
        CpuRequest request;
        request.nodes = nodes;
        request.cpus_per_node = cpus_per_task * total_tasks(spec, nodes) / nodes;
        request.mem_mib_per_node = mem;
        if (spec.nodelist.empty()) {
          chosen = place_cpu_job(pool, request);
        } else {
          std::vector<int> required;
          for (const auto& name : spec.nodelist) {
            auto at = std::find(names.begin(), names.end(), name);
            required.push_back(at == names.end() ? -1 : static_cast<int>(at - names.begin()));
          }
          chosen = place_cpu_job_including(pool, required, request);
        }
        if (chosen) tasks.assign(chosen->size(), total_tasks(spec, nodes) / nodes);
      }
      if (!chosen) continue;  // first-come: a later small job may still fit (backfill)
      std::vector<NodeAssignment> assignment;
      for (std::size_t i = 0; i < chosen->size(); ++i) {
        const int c = (*chosen)[i];
        assignment.push_back({names[c], {}});
        candidates[c].free_cpus -= cpus_per_task * tasks[i];
        candidates[c].free_mem_mib -= mem;
      }
      if (!checked_start(*job, assignment)) continue;
      start_job(*job, assignment, now);
    }
  }
}

// What is wrong with starting `job` on `assignment`, judged against the controller's own state
// (its holds, not the snapshot the policy saw), or "" when nothing is. A decision that fails
// is refused and logged: a bug in a policy must never put two jobs on one device, a gang on
// two types, or work on a node that is down, drained or not yet synced.
std::string Controller::start_problem(const LiveJob& job,
                                      const std::vector<NodeAssignment>& assignment) const {
  const JobSpec& spec = job.rec.spec;
  if (job.rec.state != JobState::pending) return "the job is not pending";
  if (assignment.empty()) return "no nodes";
  if (spec.nodes > 0 && static_cast<int>(assignment.size()) != spec.nodes)
    return std::to_string(assignment.size()) + " nodes for a job of " + std::to_string(spec.nodes);
  std::set<std::string> seen;
  const std::string& type = nodes_.count(assignment.front().node)
                                ? nodes_.at(assignment.front().node).rec.accel_type
                                : spec.accel_type;
  for (const NodeAssignment& a : assignment) {  // the nodes: known, usable, one type
    auto it = nodes_.find(a.node);
    if (it == nodes_.end()) return "unknown node " + a.node;
    const LiveNode& node = it->second;
    if (!seen.insert(a.node).second) return "node " + a.node + " twice";
    if (!schedulable(node)) return "node " + a.node + " takes no work";
    if (std::find(spec.exclude.begin(), spec.exclude.end(), a.node) != spec.exclude.end())
      return "node " + a.node + " is excluded (-x)";
    if (spec.accel_count == 0) continue;
    if (node.rec.accel_type != type)
      return "a gang across types (" + type + " and " + node.rec.accel_type + ")";
    if (!spec.accel_type.empty() && node.rec.accel_type != spec.accel_type)
      return "node " + a.node + " has " + node.rec.accel_type + ", not " + spec.accel_type;
  }
  for (const auto& name : spec.nodelist)
    if (!seen.count(name)) return "required node " + name + " (-w) is not among its nodes";
  int devices = 0;
  for (const NodeAssignment& a : assignment) {  // the devices: exist, healthy, free, once
    const LiveNode& node = nodes_.at(a.node);
    if (spec.accel_count == 0 && !a.devices.empty())
      return "devices for a job without accelerators";
    const std::uint64_t taken = node.allocated();
    std::uint64_t mine = 0;
    for (int d : a.devices) {
      if (d < 0 || d >= node.rec.accel_count)
        return "no device " + std::to_string(d) + " on " + a.node;
      const std::uint64_t bit = std::uint64_t{1} << d;
      const std::string which = "device " + std::to_string(d) + " of " + a.node;
      if (node.rec.unhealthy & bit) return which + " is unhealthy";
      if (mine & bit) return which + " twice";
      mine |= bit;
    }
    if (const std::uint64_t both = mine & taken)
      return "device " + std::to_string(std::countr_zero(both)) + " of " + a.node + " is held";
    devices += static_cast<int>(a.devices.size());
  }
  if (devices != spec.accel_count)
    return std::to_string(devices) + " devices for a job of " + std::to_string(spec.accel_count);
  return reclaim_hold_problem(job.rec.id, assignment);
}

void Controller::refuse_bad_preemptions(const Snapshot& snapshot, Decisions& d, TimeMs now) {
  std::map<JobId, std::string> bad;  // victim -> what is wrong
  for (const Violation& v : find_violations(snapshot, d, {}, now))
    for (const PreemptDecision& p : d.preemptions)
      if (p.job == v.job) bad.emplace(v.job, v.what);
  if (bad.empty()) return;
  // The jobs those preemptions were for: the rest of their plan goes too.
  std::set<JobId> for_jobs;
  for (const PreemptDecision& p : d.preemptions)
    if (bad.count(p.job)) for_jobs.insert(p.for_job);
  if (told_refused_.size() > 10'000) told_refused_.clear();  // bounded; a bug would log again
  for (const auto& [victim, what] : bad) {
    ++refused_preemptions_;
    if (told_refused_.emplace(victim, what).second)  // once per victim and problem
      std::fprintf(stderr, "zs controller: refused to preempt job %llu: %s\n",
                   static_cast<unsigned long long>(victim), what.c_str());
  }
  std::erase_if(d.preemptions,
                [&](const PreemptDecision& p) { return for_jobs.count(p.for_job) > 0; });
  std::erase_if(d.starts, [&](const StartDecision& s) { return for_jobs.count(s.job) > 0; });
  std::erase_if(d.holds, [&](const Hold& h) { return for_jobs.count(h.for_job) > 0; });
  for (JobId id : for_jobs)
    if (auto it = jobs_.find(id); it != jobs_.end())
      it->second->rec.reason = "scheduler decision refused: a preemption for it broke the rules";
}

bool Controller::checked_start(LiveJob& job, const std::vector<NodeAssignment>& assignment) {
  const std::string problem = start_problem(job, assignment);
  if (problem.empty()) return true;
  ++refused_starts_;
  const std::string reason = "scheduler decision refused: " + problem;
  if (job.rec.reason != reason) {  // once per job and problem, not once per pass
    std::fprintf(stderr, "zs controller: refused to start job %llu: %s\n",
                 static_cast<unsigned long long>(job.rec.id), problem.c_str());
    job.rec.reason = reason;
  }
  return false;
}

int Controller::reserve_master_port(const std::string& address) {
  auto [it, fresh] = ports_in_pass_.try_emplace(address);
  std::set<int>& used = it->second;
  if (fresh)
    for (const auto& [name, node] : nodes_)
      if (node.rec.address == address)
        for (const auto& [key, hold] : node.holds)
          if (hold.master_port) used.insert(hold.master_port);
  const int count = std::max(1, options_.master_port_count);
  int& next = next_port_[address];
  for (int i = 0; i < count; ++i) {
    const int offset = (next + i) % count;
    const int port = options_.master_port_base + offset;
    if (used.insert(port).second) {
      next = (offset + 1) % count;
      return port;
    }
  }
  return options_.master_port_base;  // more gangs than ports on one address: share
}

void Controller::start_job(LiveJob& job, const std::vector<NodeAssignment>& assignment,
                           TimeMs now) {
  JobRecord& rec = job.rec;
  rec.state = JobState::running;
  rec.attempt += 1;
  rec.start_ms = now;
  rec.end_ms = 0;
  rec.exit_code = 0;
  rec.reason.clear();
  rec.assignment = assignment;
  rec.master_port = reserve_master_port(nodes_.at(assignment.front().node).rec.address);
  const AttemptKey key{rec.id, rec.attempt};
  for (std::size_t i = 0; i < assignment.size(); ++i)
    nodes_.at(assignment[i].node).holds[key] = hold_for(rec, i);
  pending_.erase(rec.id);
  running_.emplace(rec.id, &job);
  touch(job);
  to_dispatch_.insert(key);
  ++started_;
}

void Controller::dispatch_launch(LiveJob& job) {
  LaunchContext context;
  for (const auto& a : job.rec.assignment) {
    const std::string& address = nodes_.at(a.node).rec.address;
    context.node_addresses.push_back(address.empty() ? "127.0.0.1" : address);
  }
  context.master_port = job.rec.master_port;
  if (auto type = catalog_.find(job.rec.spec.accel_type.empty()
                                    ? nodes_.at(job.rec.assignment.front().node).rec.accel_type
                                    : job.rec.spec.accel_type);
      type && job.rec.spec.accel_count > 0)
    context.visible_devices_env = catalog_.type(*type).visible_devices_env;
  auto launches = plan_launch(job.rec, context);
  const AttemptKey key{job.rec.id, job.rec.attempt};
  for (std::size_t i = 0; i < launches.size(); ++i) {
    LiveNode& node = nodes_.at(job.rec.assignment[i].node);
    auto hold = node.holds.find(key);
    if (hold == node.holds.end()) continue;  // that part already ended (node lost)
    hold->second.launch_sent = true;
    node.launches.push_back(std::move(launches[i]));
    node.waiter.notify_all();
  }
}

// Ends the current attempt: kills what runs, frees what never launched, and either requeues the
// job (state pending = preempted, or a failure with retries left) or records how it ended.
void Controller::end_attempt(LiveJob& job, JobState state, int exit_code, const std::string& reason,
                             TimeMs now) {
  const AttemptKey key{job.rec.id, job.rec.attempt};
  // Only a preemption ends an attempt as pending: its tasks get the job's own checkpoint signal
  // first (sbatch --signal), where a cancel, a timeout or a failure keeps SIGTERM.
  const bool preempted = state == JobState::pending;
  for (const auto& a : job.rec.assignment) {
    auto nit = nodes_.find(a.node);
    if (nit == nodes_.end()) continue;
    LiveNode& node = nit->second;
    auto hold = node.holds.find(key);
    if (hold == node.holds.end()) continue;
    // A launch still waiting for the node's next sync is withdrawn: nothing started there.
    const auto queued = std::find_if(node.launches.begin(), node.launches.end(),
                                     [&](const NodeLaunch& l) { return l.key == key; });
    if (queued != node.launches.end()) {
      node.launches.erase(queued);
      release_hold(node, key, now);
    } else if (hold->second.launch_sent) {
      if (hold->second.kill_sent_ms == 0)
        order_kill(node, key, hold->second, reason, now, preempted);
    } else {
      release_hold(node, key, now);
    }
  }
  bill_attempt(job, state, exit_code, now);
  if (job.rec.start_ms > 0) {  // the service las and srtf see when it waits again
    job.last_run_ms = std::max<TimeMs>(0, now - job.rec.start_ms);
    job.attained_accel_ms += job.last_run_ms * job.rec.spec.accel_count;
    job.last_end_ms = now;
  }
  running_.erase(job.rec.id);
  // Preemption (state pending) requeues without spending one of the job's retries.
  const bool retryable = state == JobState::failed || state == JobState::node_fail;
  if (state == JobState::pending || (retryable && job.rec.attempt - 1 < job.rec.spec.max_retries)) {
    job.rec.state = JobState::pending;
    job.rec.reason = "requeued: " + reason;
    job.rec.exit_code = exit_code;
    pending_.emplace(job.rec.id, &job);
  } else {
    job.rec.state = state;
    job.rec.end_ms = now;
    job.rec.exit_code = exit_code;
    job.rec.reason = reason;
    deps_dirty_ = true;
    if (teaches_predictor(job.rec)) predictor_.observe(job.sched, now - job.rec.start_ms);
  }
  touch(job);
  pass_needed_ = true;
  wake_.notify_one();
}

void Controller::release_hold(LiveNode& node, const AttemptKey& key, TimeMs when) {
  if (node.holds.erase(key)) {
    pass_needed_ = true;
    wake_.notify_one();
    if (unreleased_usage_.count(key)) attempt_released(key, when);
  }
}

bool Controller::map_node_constraints(LiveJob& job, const std::map<std::string, NodeId>& id_of,
                                      std::string& reason) {
  Job& j = job.sched;
  j.required_nodes.clear();
  j.excluded_nodes.clear();
  for (const auto& name : job.rec.spec.nodelist) {
    auto it = id_of.find(name);
    if (it == id_of.end()) {
      reason = "required node " + name + " is not available";
      return false;
    }
    j.required_nodes.push_back(it->second);
  }
  for (const auto& name : job.rec.spec.exclude)
    if (auto it = id_of.find(name); it != id_of.end()) j.excluded_nodes.push_back(it->second);
  normalize_node_set(j.required_nodes);
  normalize_node_set(j.excluded_nodes);
  return true;
}

}  // namespace zs
