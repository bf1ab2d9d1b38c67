// Controller: construction, recovery, the user-facing operations, and durable commits.
#include "controller/controller.h"
#include "controller/launch_plan.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>

#include "api/api_error.h"
#include "controller/clock.h"
#include "controller/durable_writer.h"
#include "controller/spec_validation.h"
#include "core/input_error.h"
#include "core/output_pattern.h"
#include "core/slurm_values.h"

namespace zs {

std::uint64_t Controller::LiveNode::allocated() const {
  std::uint64_t mask = 0;
  for (const auto& [key, hold] : holds) mask |= hold.devices;
  return mask;
}

std::uint64_t Controller::LiveNode::all_devices() const {
  const int count = rec.accel_count;
  return count >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << count) - 1;
}

double Controller::LiveNode::used_cpus() const {
  double cpus = 0;
  for (const auto& [key, hold] : holds) cpus += hold.cpus;
  return cpus;
}

double Controller::LiveNode::used_mem_mib() const {
  double mem = 0;
  for (const auto& [key, hold] : holds) mem += static_cast<double>(hold.mem_mib);
  return mem;
}

Controller::NodeHold Controller::hold_for(const JobRecord& rec, std::size_t node_index) {
  const int n = static_cast<int>(rec.assignment.size());
  // A job without accelerators takes at least one core per task (as Slurm does).
  const double cpus_per_task =
      rec.spec.accel_count == 0 ? std::max(1.0, rec.spec.cpus_per_task) : rec.spec.cpus_per_task;
  NodeHold hold;
  for (int d : rec.assignment[node_index].devices) hold.devices |= std::uint64_t{1} << d;
  // The tasks this node runs (an uneven -n split puts more on the first nodes).
  const std::vector<int> tasks = tasks_per_node(rec.spec, rec.assignment);
  hold.cpus = node_index < tasks.size() ? cpus_per_task * tasks[node_index]
                                        : cpus_per_task * total_tasks(rec.spec, n) / std::max(1, n);
  hold.mem_mib = rec.spec.mem_mib;
  hold.master_port = node_index == 0 ? rec.master_port : 0;
  return hold;
}

Controller::Controller(ControllerOptions options, std::unique_ptr<Store> store)
    : options_(std::move(options)),
      store_(std::move(store)),
      writer_(std::make_unique<DurableWriter>(*store_)),
      policy_(options_.policy_override
                  ? options_.policy_override
                  : std::shared_ptr<const Policy>(make_policy(options_.policy))),
      catalog_(Catalog::builtin()) {
  // A policy that reads real run times would silently get none here: refused, not degraded.
  if (policy_->needs_oracle())
    throw InputError("--policy", std::string(policy_->name()) +
                                     " knows every job's real run time: it exists in zs sim "
                                     "only, as a yardstick (docs/policies.md)");
  if (options_.node_lease_ms > 0 && options_.node_lease_ms < node_lost_ms() + options_.heartbeat_ms)
    throw InputError("--node-lease-ms",
                     "the node lease must be at least the node-lost time plus a heartbeat (" +
                         std::to_string(node_lost_ms() + options_.heartbeat_ms) + " ms)");
  identities_ = std::make_unique<IdentityRegistry>(
      [this](WriteBatch batch) {
        try {
          writer_->write(std::move(batch));
        } catch (const StoreError& e) {
          throw ApiError(503, "unavailable", std::string("cannot persist the change: ") + e.what());
        }
      },
      [this] { return now_ms(); });
  identities_->load(store_->load_tenants(), store_->load_users(), store_->load_tokens());
  std::lock_guard lk(mu_);
  load_state();
  load_attained_service();
  load_stored_shares();
  load_reclaim_holds();
}

Controller::~Controller() {
  stop();
}

void Controller::start() {
  std::lock_guard lk(mu_);
  if (scheduler_.joinable()) return;
  scheduler_ = std::thread([this] { scheduler_loop(); });
  forecaster_ = std::thread([this] { forecast_loop(); });
}

void Controller::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    for (auto& [name, node] : nodes_) node.waiter.notify_all();
  }
  wake_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
  {
    std::lock_guard lk(forecast_mu_);
    forecast_stopping_ = true;
  }
  forecast_wake_.notify_all();
  if (forecaster_.joinable()) forecaster_.join();
}

TimeMs Controller::node_lost_ms() const {
  return options_.node_lost_ms > 0 ? options_.node_lost_ms : options_.heartbeat_ms * 3 / 2;
}

TimeMs Controller::node_lease_ms() const {
  return options_.node_lease_ms > 0 ? options_.node_lease_ms
                                    : std::max<TimeMs>(10'000, 2 * node_lost_ms());
}

TimeMs Controller::give_up_after_ms() const {
  const TimeMs lease = node_lease_ms();
  return lease + options_.kill_grace_ms + options_.heartbeat_ms + lease / 50;
}

// After a restart: every acknowledged job is back; attempts that were running still hold their
// devices, and each agent's first sync tells which of them are really alive (reconcile).
void Controller::load_state() {
  const TimeMs now = now_ms();
  for (auto& rec : store_->load_nodes()) {
    LiveNode node;
    node.rec = std::move(rec);
    node.last_contact = now;  // a full grace period to reconnect
    std::string name = node.rec.name;
    nodes_.emplace(std::move(name), std::move(node));
  }
  next_id_ = store_->max_job_id() + 1;  // no submit runs yet: id_mu_ not needed
  for (auto& rec : store_->load_jobs()) {
    auto job = std::make_unique<LiveJob>();
    job->sched = scheduler_job(rec.id, rec.spec, rec.submit_ms, catalog_);
    if (!rec.spec.array.empty()) {
      try {
        job->array_limit = parse_array_spec(rec.spec.array).max_concurrent;
      } catch (const InputError&) {
      }
    }
    job->rec = std::move(rec);
    last_submit_ms_ = std::max(last_submit_ms_, job->rec.submit_ms);
    const JobId id = job->rec.id;
    if (job->rec.state == JobState::pending) pending_.emplace(id, job.get());
    if (job->rec.state == JobState::running) {
      running_.emplace(id, job.get());
      const AttemptKey key{id, job->rec.attempt};
      const int n = static_cast<int>(job->rec.assignment.size());
      for (int i = 0; i < n; ++i) {
        NodeHold hold = hold_for(job->rec, i);
        hold.launch_sent = true;  // unknown: the agent's first sync settles it
        node_named(job->rec.assignment[i].node).holds[key] = hold;
      }
    }
    jobs_.emplace(id, std::move(job));
  }
  // The predictor learns again from the finished jobs still stored, in the order they ended;
  // jobs still waiting or running are predicted from all of it.
  std::vector<const LiveJob*> ended;
  for (const auto& [id, job] : jobs_)
    if (teaches_predictor(job->rec)) ended.push_back(job.get());
  std::sort(ended.begin(), ended.end(), [](const LiveJob* a, const LiveJob* b) {
    return a->rec.end_ms != b->rec.end_ms ? a->rec.end_ms < b->rec.end_ms : a->rec.id < b->rec.id;
  });
  for (const LiveJob* job : ended)
    predictor_.observe(job->sched, job->rec.end_ms - job->rec.start_ms);
  for (auto& [id, job] : jobs_)
    if (job->rec.state == JobState::pending || job->rec.state == JobState::running)
      job->predicted_ms = predictor_.predict(job->sched).ms;
  mark_cluster_dirty();
  pass_needed_ = true;
}

bool Controller::teaches_predictor(const JobRecord& rec) {
  const bool ended_itself = rec.state == JobState::completed || rec.state == JobState::failed ||
                            rec.state == JobState::timeout;
  return ended_itself && rec.start_ms > 0 && rec.end_ms >= rec.start_ms && rec.spec.accel_count > 0;
}

Controller::LiveNode& Controller::node_named(const std::string& name) {
  auto it = nodes_.find(name);
  if (it != nodes_.end()) return it->second;
  LiveNode node;
  node.rec.name = name;
  node.rec.state = NodeStatus::down;
  node.rec.reason = "never registered";
  mark_cluster_dirty();
  return nodes_.emplace(name, std::move(node)).first->second;
}

void Controller::touch(const LiveJob& job) {
  unwritten_.jobs.push_back(job.rec);
}
void Controller::touch(const LiveNode& node) {
  unwritten_.nodes.push_back(node.rec);
}

// Makes every change so far durable, then sends the orders that depended on it. The state lock
// is released while the store writes, but the batch is queued under it, so batches land in the
// order their changes were made.
//
// When the store fails (disk full, I/O error), nothing is lost and nothing is acted on: the
// records are queued again from memory (which is ahead of the store now), the orders wait, the
// caller gets ApiError 503, and the next flush (the scheduler retries) writes them all. The
// controller never exits here: records are bounded where their data enters (the API, agent
// reports, kMaxReasonBytes), so a batch cannot fail for its content.
void Controller::flush(std::unique_lock<std::mutex>& lk) {
  if (unwritten_.empty() && to_dispatch_.empty() && kills_to_dispatch_.empty()) return;
  WriteBatch batch;
  batch.jobs.swap(unwritten_.jobs);
  batch.nodes.swap(unwritten_.nodes);
  batch.usage.swap(unwritten_.usage);
  batch.settings.swap(unwritten_.settings);
  auto settings = batch.settings;  // queued again if the write fails (a later one first wins)
  std::vector<UsageRecord> usage = batch.usage;  // queued again if the write fails
  std::vector<JobId> job_ids;
  std::vector<std::string> node_names;
  job_ids.reserve(batch.jobs.size());
  for (const auto& j : batch.jobs) job_ids.push_back(j.id);
  for (const auto& n : batch.nodes) node_names.push_back(n.name);
  std::set<AttemptKey> launches;
  launches.swap(to_dispatch_);
  std::map<std::string, std::vector<KillOrder>> kills;
  kills.swap(kills_to_dispatch_);
  auto ticket = writer_->enqueue(std::move(batch));
  lk.unlock();
  std::string error;
  try {
    writer_->wait(ticket);
  } catch (const std::exception& e) {
    error = e.what();
  }
  lk.lock();
  if (!error.empty()) {
    for (JobId id : job_ids)
      if (auto it = jobs_.find(id); it != jobs_.end()) touch(*it->second);
    for (const auto& name : node_names)
      if (auto it = nodes_.find(name); it != nodes_.end()) touch(it->second);
    // Older than anything billed since: first, so a later rewrite of a record still wins.
    usage.insert(usage.end(), unwritten_.usage.begin(), unwritten_.usage.end());
    unwritten_.usage.swap(usage);
    settings.insert(settings.end(), unwritten_.settings.begin(), unwritten_.settings.end());
    unwritten_.settings.swap(settings);
    to_dispatch_.merge(launches);
    for (auto& [name, orders] : kills) {
      auto& later = kills_to_dispatch_[name];
      orders.insert(orders.end(), later.begin(), later.end());
      later.swap(orders);
    }
    if (store_failing_since_ == 0) {
      store_failing_since_ = now_ms();
      std::fprintf(stderr, "zs controller: cannot persist state (retrying; requests get 503): %s\n",
                   error.c_str());
    }
    throw ApiError::unavailable("the controller cannot persist its state: " + error);
  }
  if (store_failing_since_ != 0) {
    std::fprintf(stderr, "zs controller: persisting again after %.1f s\n",
                 static_cast<double>(now_ms() - store_failing_since_) / 1000.0);
    store_failing_since_ = 0;
  }
  for (const auto& key : launches) {
    auto it = jobs_.find(key.job);
    if (it == jobs_.end()) continue;
    LiveJob& job = *it->second;
    if (job.rec.state == JobState::running && job.rec.attempt == key.attempt) dispatch_launch(job);
  }
  for (auto& [name, orders] : kills) {
    LiveNode& node = node_named(name);
    for (auto& k : orders) node.kills.push_back(std::move(k));
    node.waiter.notify_all();
  }
}

std::vector<JobId> Controller::submit(std::vector<JobSpec> specs) {
  if (specs.empty()) throw InputError("jobs", "no jobs to submit");
  std::vector<ArraySpec> arrays(specs.size());
  std::size_t total = 0;
  const auto capacity = options_.keep_unfit_jobs ? nullptr : current_capacity();
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const std::string prefix = specs.size() == 1 ? "" : "jobs[" + std::to_string(i) + "].";
    try {
      validate_spec(specs[i], catalog_);
      if (!specs[i].array.empty()) arrays[i] = parse_array_spec(specs[i].array, "array");
    } catch (const InputError& e) {
      throw InputError(prefix + (e.where().empty() ? "array" : e.where()), e.message());
    }
    if (capacity)
      if (auto why =
              never_fits(specs[i], scheduler_job(0, specs[i], 0, catalog_), *capacity, catalog_))
        throw ApiError(
            422, "never_fits",
            (specs.size() == 1 ? "" : prefix) + "this job can never run on this cluster: " + *why);
    total += specs[i].array.empty() ? 1 : arrays[i].indices.size();
    if (total > options_.max_jobs_per_submit)
      throw ApiError(413, "too_many_jobs",
                     "one submit may create at most " +
                         std::to_string(options_.max_jobs_per_submit) + " jobs");
  }

  bool any_dependencies = false;
  for (const auto& spec : specs) any_dependencies = any_dependencies || !spec.after_ok.empty();
  if (any_dependencies) {
    std::lock_guard lk(mu_);
    for (std::size_t i = 0; i < specs.size(); ++i)
      for (JobId dep : specs[i].after_ok)
        if (!jobs_.count(dep))
          throw InputError(
              specs.size() == 1 ? "after_ok" : "jobs[" + std::to_string(i) + "].after_ok",
              "unknown job " + std::to_string(dep));
  }

  bool any_node_names = false;
  for (const auto& spec : specs)
    any_node_names = any_node_names || !spec.nodelist.empty() || !spec.exclude.empty();
  if (any_node_names) {
    std::lock_guard lk(mu_);
    check_node_names(specs);
  }

  // Ids and submit times come from their own small lock, so that building the records does not
  // hold up the scheduler or other submitters. Ids follow submit time.
  JobId first_id = 0;
  TimeMs now = 0;
  {
    std::lock_guard ids(id_mu_);
    now = std::max(now_ms(), last_submit_ms_);
    last_submit_ms_ = now;
    first_id = next_id_;
    next_id_ += total;
  }

  std::vector<std::unique_ptr<LiveJob>> fresh;
  fresh.reserve(total);
  WriteBatch batch;
  batch.jobs.reserve(total);
  JobId id = first_id;
  auto add = [&](const JobSpec& spec, JobId array_id, int index, int limit) {
    auto job = std::make_unique<LiveJob>();
    job->rec.id = id++;
    job->rec.spec = spec;
    job->rec.submit_ms = now;
    job->rec.array_job_id = array_id;
    job->rec.array_task_id = index;
    job->array_limit = limit;
    job->sched = scheduler_job(job->rec.id, spec, now, catalog_);
    batch.jobs.push_back(job->rec);
    fresh.push_back(std::move(job));
  };
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].array.empty()) {
      add(specs[i], 0, -1, 0);
      continue;
    }
    const JobId array_id = id;
    for (int index : arrays[i].indices) add(specs[i], array_id, index, arrays[i].max_concurrent);
  }
  try {
    writer_->write(std::move(batch));
  } catch (const std::exception& e) {
    throw ApiError::unavailable(std::string("could not persist the jobs: ") + e.what());
  }

  std::vector<JobId> ids;
  ids.reserve(fresh.size());
  std::lock_guard lk(mu_);
  for (auto& job : fresh) {
    const JobId job_id = job->rec.id;
    ids.push_back(job_id);
    job->predicted_ms = predictor_.predict(job->sched).ms;
    pending_.emplace_hint(pending_.end(), job_id, job.get());
    jobs_.emplace_hint(jobs_.end(), job_id, std::move(job));
  }
  pass_needed_ = true;
  // In a full cluster (the usual state of an AI center) a new job cannot start: do not wake the
  // scheduler for nothing; the exit that frees devices will.
  if (policy_->preemptive() || anything_free()) wake_.notify_one();
  return ids;
}

JobPage Controller::list_jobs(const JobFilter& filter) const {
  std::lock_guard lk(mu_);
  JobPage page;
  auto matches = [&](const JobRecord& r) {
    if (filter.state && r.state != *filter.state) return false;
    if (filter.active_only && is_terminal(r.state)) return false;
    if (!filter.user.empty() && r.spec.user != filter.user) return false;
    if (!filter.tenant.empty() && r.spec.tenant != filter.tenant) return false;
    if (filter.tenants_only && std::find(filter.tenants_only->begin(), filter.tenants_only->end(),
                                         r.spec.tenant) == filter.tenants_only->end())
      return false;
    return true;
  };
  auto visit = [&](const LiveJob& job) {
    if (!matches(job.rec)) return true;
    if (page.jobs.size() == filter.limit) {
      page.next_after = page.jobs.back().id;
      return false;
    }
    page.jobs.push_back(job.rec);
    return true;
  };
  if (filter.active_only || (filter.state && !is_terminal(*filter.state))) {
    // Walk only the active sets: a queue listing must not scan a million finished jobs.
    std::vector<JobId> ids;
    for (const auto& [id, job] : pending_) ids.push_back(id);
    for (const auto& [id, job] : running_) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    for (auto it = std::upper_bound(ids.begin(), ids.end(), filter.after); it != ids.end(); ++it)
      if (!visit(*jobs_.at(*it))) break;
    return page;
  }
  for (auto it = jobs_.upper_bound(filter.after); it != jobs_.end(); ++it)
    if (!visit(*it->second)) break;
  return page;
}

JobRecord Controller::get_job(JobId id) const {
  std::lock_guard lk(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) throw ApiError::not_found("no job " + std::to_string(id));
  return it->second->rec;
}

LogLocation Controller::log_location(JobId id, bool stderr_stream) const {
  std::lock_guard lk(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) throw ApiError::not_found("no job " + std::to_string(id));
  const JobRecord& rec = it->second->rec;
  const std::string& pattern =
      stderr_stream && !rec.spec.stderr_path.empty() ? rec.spec.stderr_path : rec.spec.stdout_path;
  const std::string node = rec.assignment.empty() ? "" : rec.assignment.front().node;
  std::string path = expand_task_pattern(expand_job_pattern(pattern, rec), node, 0, 0);
  if (path.empty() || path.front() != '/') path = rec.spec.work_dir + "/" + path;
  LogLocation where{path, rec.state, "", "", rec.id, rec.attempt};
  if (auto n = nodes_.find(node); n != nodes_.end()) {
    where.node_logs_url = n->second.rec.logs_url;
    where.node_logs_key = n->second.logs_key;
  }
  return where;
}

JobId Controller::array_task(JobId array_job, int task) const {
  std::lock_guard lk(mu_);
  // An array's tasks have consecutive ids from the array id, in index order.
  // (lower_bound: the first tasks may have been purged already)
  for (auto it = jobs_.lower_bound(array_job); it != jobs_.end(); ++it) {
    const JobRecord& r = it->second->rec;
    if (r.array_job_id != array_job) break;
    if (r.array_task_id == task) return r.id;
  }
  throw ApiError::not_found("no task " + std::to_string(task) + " in array " +
                            std::to_string(array_job));
}

void Controller::cancel_one(LiveJob& job, TimeMs now) {
  if (job.rec.state == JobState::pending) {
    pending_.erase(job.rec.id);
    job.rec.state = JobState::cancelled;
    job.rec.end_ms = now;
    job.rec.reason = "cancelled";
    touch(job);
    deps_dirty_ = true;
    pass_needed_ = true;
    wake_.notify_one();
  } else if (job.rec.state == JobState::running) {
    end_attempt(job, JobState::cancelled, 0, "cancelled", now);
  }
}

JobRecord Controller::cancel(JobId id, bool whole_array) {
  std::unique_lock lk(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) throw ApiError::not_found("no job " + std::to_string(id));
  LiveJob& job = *it->second;
  const TimeMs now = now_ms();
  if (whole_array && job.rec.array_task_id >= 0 && job.rec.array_job_id == id) {
    for (auto t = it; t != jobs_.end() && t->second->rec.array_job_id == id; ++t)
      cancel_one(*t->second, now);
  } else {
    cancel_one(job, now);
  }
  flush(lk);
  return job.rec;
}

JobRecord Controller::set_held(JobId id, bool held, bool whole_array) {
  std::unique_lock lk(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) throw ApiError::not_found("no job " + std::to_string(id));
  LiveJob& job = *it->second;
  const bool array = whole_array && job.rec.array_task_id >= 0 && job.rec.array_job_id == id;
  int pending = 0;
  for (auto t = it; t != jobs_.end(); ++t) {
    LiveJob& target = *t->second;
    if (t != it && (!array || target.rec.array_job_id != id)) break;
    if (target.rec.state != JobState::pending) continue;
    ++pending;
    if (target.rec.spec.hold == held) continue;
    target.rec.spec.hold = held;
    // Shown at once; the next pass says what the released job waits for.
    target.rec.reason = held ? kReasonHeld : "";
    touch(target);
  }
  if (pending == 0)
    throw ApiError::conflict("job " + std::to_string(id) + " is " +
                             std::string(to_string(job.rec.state)) +
                             ": only a pending job can be " + (held ? "held" : "released"));
  pass_needed_ = true;
  wake_.notify_one();
  flush(lk);
  return job.rec;
}

void Controller::check_node_names(const std::vector<JobSpec>& specs) const {
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const std::string prefix = specs.size() == 1 ? "" : "jobs[" + std::to_string(i) + "].";
    for (const auto* list : {&specs[i].nodelist, &specs[i].exclude})
      for (const auto& name : *list)
        if (!nodes_.count(name))
          throw InputError(prefix + (list == &specs[i].nodelist ? "nodelist" : "exclude"),
                           "unknown node " + quote_value(name) + " (zs nodes lists the nodes)");
  }
}

std::vector<NodeView> Controller::nodes() const {
  std::lock_guard lk(mu_);
  std::vector<NodeView> out;
  for (const auto& [name, node] : nodes_) out.push_back(view_of(node));
  return out;
}

NodeView Controller::view_of(const LiveNode& node) const {
  NodeView v;
  v.record = node.rec;
  v.allocated = std::popcount(node.allocated());
  v.jobs = static_cast<int>(node.holds.size());
  v.cpus_used = node.used_cpus();
  v.device_problems = node.device_problems;
  v.discovery = node.discovery;
  return v;
}

NodeView Controller::set_drained(const std::string& name, bool drained, const std::string& reason) {
  std::unique_lock lk(mu_);
  auto it = nodes_.find(name);
  if (it == nodes_.end()) throw ApiError::not_found("no node " + name);
  LiveNode& node = it->second;
  NodeRecord& rec = node.rec;
  if (drained) {
    // Draining again replaces the reason. A down node keeps its state (and its "not
    // responding" reason) and is drained when its agent comes back.
    rec.drain_reason = reason.empty() ? "drained by an operator" : reason;
    if (rec.state != NodeStatus::down) {
      rec.state = NodeStatus::drained;
      rec.reason = rec.drain_reason;
    }
  } else {
    if (rec.state == NodeStatus::down && rec.drain_reason.empty())
      throw ApiError::conflict("node " + name + " is down (" + rec.reason +
                               "); it comes back when its agent does");
    rec.drain_reason.clear();
    if (rec.state == NodeStatus::drained) {
      rec.state = NodeStatus::up;
      rec.reason.clear();
    }
  }
  touch(node);
  pass_needed_ = true;
  wake_.notify_one();
  flush(lk);
  return view_of(node);
}

ClusterStats Controller::stats() const {
  std::lock_guard lk(mu_);
  ClusterStats s;
  s.pending = pending_.size();
  s.running = running_.size();
  s.finished = jobs_.size() - s.pending - s.running;
  s.passes = passes_;
  s.started = started_;
  s.refused_starts = refused_starts_;
  s.refused_preemptions = refused_preemptions_;
  s.purged = purged_;
  s.transactions = writer_->transactions();
  for (const auto& [name, node] : nodes_) {
    if (node.rec.state == NodeStatus::up) ++s.nodes_up;
    if (node.rec.state == NodeStatus::down) ++s.nodes_down;
    if (node.rec.state == NodeStatus::drained) ++s.nodes_drained;
    s.accels_total += node.rec.accel_count;
    s.accels_allocated += std::popcount(node.allocated());
  }
  if (options_.shares)
    for (const auto& g : options_.shares->guarantee_totals(cluster_, catalog_))
      s.guarantees.push_back({catalog_.name(g.type), g.guaranteed, g.available});
  s.unbilled_attempts = unbillable_;
  return s;
}

}  // namespace zs
