// Controller: the agents' side — syncs, exits, lost nodes and reconciliation after a restart.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>

#include "api/api_error.h"
#include "api/audit_log.h"
#include "api/json_fields.h"
#include "controller/clock.h"
#include "controller/controller.h"
#include "controller/launch_plan.h"
#include "core/input_error.h"

namespace zs {
namespace {

void check_node_name(const std::string& name) {
  if (name.empty() || name.size() > 64)
    throw InputError("name", "a node name has 1 to 64 characters");
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      throw InputError("name", "node names use letters, digits, '-', '_' and '.' only");
}

// The host of http://HOST:PORT (or https://), brackets of an IPv6 address removed.
std::string url_host(const std::string& url) {
  auto start = url.find("://");
  if (start == std::string::npos) return "";
  std::string rest = url.substr(start + 3);
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    return close == std::string::npos ? "" : rest.substr(1, close - 1);
  }
  return rest.substr(0, rest.rfind(':'));
}

// The controller fetches logs from a node's own address only: a report whose log server is
// elsewhere (another host of the network, a metadata service) is not followed.
std::string checked_logs_url(const std::string& node, const AgentReport& report) {
  if (report.logs_url.empty()) return "";
  const std::string host = url_host(report.logs_url);
  const std::string address = report.address.empty() ? "127.0.0.1" : report.address;
  if (host == address) return report.logs_url;
  static std::atomic<int> warned{0};
  if (warned.fetch_add(1) < 20)
    std::fprintf(stderr,
                 "zs controller: node %s reports its log server at %s, not at its address %s: "
                 "its logs will not be fetched\n",
                 node.c_str(), json_fields::printable(report.logs_url, 256).c_str(),
                 json_fields::printable(address, 256).c_str());
  return "";
}

// A node's request is being answered: not silent meanwhile, however long the store takes.
// Destroyed with the controller's lock held (it is declared after the lock).
struct BusyNode {
  int& busy;
  explicit BusyNode(int& b) : busy(b) { ++busy; }
  ~BusyNode() { --busy; }
  BusyNode(const BusyNode&) = delete;
  BusyNode& operator=(const BusyNode&) = delete;
};

}  // namespace

SyncAnswer Controller::begin_agent_sync(const std::string& name, const AgentReport& report,
                                        std::function<void()> wake) {
  check_node_name(name);
  std::string type_name;
  if (report.accel_count > 0) {
    if (report.accel_type.empty()) throw InputError("accel_type", "devices need a type");
    type_name = catalog_.name(catalog_.resolve(report.accel_type, "accel_type"));
  }
  std::unique_lock lk(mu_);
  const TimeMs now = now_ms();
  const bool new_node = nodes_.find(name) == nodes_.end();
  LiveNode& node = node_named(name);
  node.last_contact = now;
  node.given_up = false;
  BusyNode busy(node.busy);
  NodeRecord& rec = node.rec;
  const NodeRecord before = rec;
  // A new boot id: the agent restarted and lost its task keeper, so only what it reports still
  // runs (an agent that re-adopts its tasks keeps its boot id).
  const bool agent_restarted = !rec.boot_id.empty() && rec.boot_id != report.boot_id;
  if (new_node || agent_restarted) {
    Principal self;
    self.kind = Principal::Kind::node;
    self.name = name;
    audit(self, new_node ? "registered (address " + report.address + ")"
                         : "reports a new boot id: its agent restarted without its tasks");
  }
  rec.boot_id = report.boot_id;
  node.logs_key = report.logs_key;
  const std::string logs_url = checked_logs_url(name, report);
  if (rec.accel_type != type_name || rec.accel_count != report.accel_count ||
      rec.cpus != report.cpus || rec.mem_mib != report.mem_mib || rec.address != report.address ||
      rec.leaf != report.leaf || rec.spine != report.spine || rec.logs_url != logs_url) {
    rec.accel_type = type_name;
    rec.accel_count = report.accel_count;
    rec.cpus = report.cpus;
    rec.mem_mib = report.mem_mib;
    rec.address = report.address;
    rec.leaf = report.leaf;
    rec.spine = report.spine;
    rec.logs_url = logs_url;
    mark_cluster_dirty();
  }
  rec.unhealthy = report.unhealthy;
  node.device_problems = report.device_problems;
  node.discovery = report.discovery;
  if (rec.state == NodeStatus::down) {  // back: as the operator left it
    rec.state = rec.drain_reason.empty() ? NodeStatus::up : NodeStatus::drained;
    rec.reason = rec.drain_reason;
  }
  if (!node.synced) {
    // Schedulable from now on (after a controller restart, or its first report): a pass, even
    // when nothing in its record changed, or its free devices wait for the next event.
    node.synced = true;
    pass_needed_ = true;
    wake_.notify_one();
  }
  for (const auto& exit : report.exits) handle_exit(node, exit, now);
  reconcile(node, report, agent_restarted, now);
  if (!(rec == before)) {
    rec.last_seen_ms = now;
    touch(node);
    pass_needed_ = true;
    wake_.notify_one();
  }
  flush(lk);  // exits and node changes are durable before they are acknowledged
  node.last_contact = now_ms();

  AgentOrders orders;
  for (const auto& e : report.exits) orders.acked.push_back(e.key);
  // Hold the request (long poll) until there are orders or half a heartbeat has passed, so a
  // live agent is heard from well within node_lost_ms.
  return answer_sync(nodes_.at(name), std::move(orders),
                     std::min(report.wait_ms, options_.heartbeat_ms / 2), std::move(wake));
}

AgentOrders Controller::agent_exits(const std::string& name, const std::vector<NodeExit>& exits) {
  check_node_name(name);
  std::unique_lock lk(mu_);
  auto it = nodes_.find(name);
  if (it == nodes_.end()) throw ApiError::not_found("node " + name + " has not registered");
  const TimeMs now = now_ms();
  it->second.last_contact = now;
  it->second.given_up = false;
  BusyNode busy(it->second.busy);
  for (const auto& exit : exits) handle_exit(it->second, exit, now);
  flush(lk);
  it->second.last_contact = now_ms();
  AgentOrders orders;
  for (const auto& e : exits) orders.acked.push_back(e.key);
  orders.heartbeat_ms = options_.heartbeat_ms;
  orders.kill_grace_ms = options_.kill_grace_ms;
  orders.lease_ms = node_lease_ms();
  return orders;
}

// One node's part of an attempt ended. A failed part fails the whole gang (its other parts are
// killed); the attempt completes when every part has ended well.
void Controller::handle_exit(LiveNode& node, const NodeExit& exit, TimeMs now) {
  const bool held = node.holds.count(exit.key) > 0;
  // When the part ended, by the agent's clock: an exit reported late (after a controller
  // restart, or a long partition) keeps its real time, within what the controller knows.
  auto it = jobs_.find(exit.key.job);
  TimeMs started = it == jobs_.end() ? 0 : it->second->rec.start_ms;
  if (auto u = unreleased_usage_.find(exit.key); u != unreleased_usage_.end())
    started = u->second.start_ms;  // an attempt in its grace period (the job may run again)
  const TimeMs ended = exit.end_ms >= started && exit.end_ms <= now ? exit.end_ms : now;
  release_hold(node, exit.key, ended);
  if (!held || it == jobs_.end()) return;  // a repeat, or an attempt already ended
  LiveJob& job = *it->second;
  if (job.rec.state != JobState::running || job.rec.attempt != exit.key.attempt) return;
  const std::string& where = node.rec.name;
  // Only a node the attempt was given speaks for it: an agent may report an attempt with the
  // same key from elsewhere (a work directory that outlived a wiped controller state).
  if (std::none_of(job.rec.assignment.begin(), job.rec.assignment.end(),
                   [&](const NodeAssignment& a) { return a.node == where; }))
    return;
  if (exit.reason == "timeout") {
    end_attempt(job, JobState::timeout, exit.exit_code, "walltime limit reached", ended);
  } else if (exit.reason.rfind("lost", 0) == 0) {
    // The agent could not account for the tasks (its shim died with them, the node rebooted):
    // a node failure, not the job's, so requeued while retries remain.
    end_attempt(job, JobState::node_fail, -1,
                json_fields::printable(exit.reason, kMaxReasonBytes) + " on " + where, ended);
  } else if (exit.exit_code != 0 || !exit.reason.empty()) {
    // The agent's words are shown and stored: bounded, printable.
    std::string why = exit.reason.empty()
                          ? "a task on " + where + " exited with " + std::to_string(exit.exit_code)
                          : json_fields::printable(exit.reason, kMaxReasonBytes) + " on " + where;
    end_attempt(job, JobState::failed, exit.exit_code == 0 ? 1 : exit.exit_code, why, ended);
  } else {
    const AttemptKey key = exit.key;
    const bool others = std::any_of(job.rec.assignment.begin(), job.rec.assignment.end(),
                                    [&](const NodeAssignment& a) {
                                      auto n = nodes_.find(a.node);
                                      return n != nodes_.end() && n->second.holds.count(key);
                                    });
    if (!others) {
      bill_attempt(job, JobState::completed, 0, ended);
      running_.erase(job.rec.id);
      job.rec.state = JobState::completed;
      job.rec.end_ms = ended;
      job.rec.exit_code = 0;
      job.rec.reason.clear();
      if (teaches_predictor(job.rec)) predictor_.observe(job.sched, ended - job.rec.start_ms);
      touch(job);
    }
  }
}

// A node whose agent has been silent for longer than its lease allows: its agent (or, if the
// agent is frozen or dead, its shim) has stopped the tasks by now, so its attempts fail as node
// failures (requeued while retries remain) and their other parts are killed. What it held stays
// held until its agent confirms the tasks gone.
void Controller::lose_node_attempts(LiveNode& node, const std::string& reason, TimeMs now) {
  std::vector<AttemptKey> keys;
  for (const auto& [key, hold] : node.holds) keys.push_back(key);
  for (const auto& key : keys) {
    auto it = jobs_.find(key.job);
    if (it == jobs_.end()) continue;
    LiveJob& job = *it->second;
    if (job.rec.state == JobState::running && job.rec.attempt == key.attempt)
      end_attempt(job, JobState::node_fail, -1, reason, now);
  }
}

// Two steps, as a silent node may only be cut off from the controller while its tasks run on:
// - after node_lost_ms: down, no new work; its running jobs go on (they may well be fine, and
//   its agent resumes them if it comes back within the lease);
// - after give_up_after_ms: its agent has stopped the tasks (the lease): its attempts fail.
void Controller::check_lost_nodes(TimeMs now) {
  const TimeMs lost_after = node_lost_ms(), give_up_after = give_up_after_ms();
  // The controller itself stalled (a frozen process, a machine too loaded to run it): no node
  // could be heard meanwhile, so the stall does not count as their silence.
  const TimeMs stalled =
      last_lost_check_ms_ ? now - last_lost_check_ms_ - lost_check_interval_ms() : 0;
  last_lost_check_ms_ = now;
  if (stalled > lost_after / 4)
    for (auto& [name, node] : nodes_)
      node.last_contact = std::min(now, node.last_contact + stalled);
  for (auto& [name, node] : nodes_) {
    if (node.rec.boot_id.empty() || node.busy > 0) continue;
    const TimeMs silent = now - node.last_contact;
    if (node.rec.state != NodeStatus::down && silent > lost_after) {
      node.rec.state = NodeStatus::down;
      node.rec.reason = "not responding for " + std::to_string(silent / 1000.0).substr(0, 4) +
                        " s (its running jobs end " +
                        std::to_string(std::max<TimeMs>(0, give_up_after - silent) / 1000) +
                        " s later unless it returns)";
      touch(node);
      pass_needed_ = true;
    }
    if (node.rec.state == NodeStatus::down && !node.given_up && silent > give_up_after) {
      node.given_up = true;
      lose_node_attempts(node,
                         "node " + name + " lost: silent for " + std::to_string(silent / 1000) +
                             " s, longer than its lease",
                         now);
      pass_needed_ = true;
    }
  }
}

// An agent's report is the truth about what runs on its node; the controller's holds follow it.
// - An attempt the agent runs: held with the devices it reports. If the controller no longer
//   owns it (it ended, was requeued or cancelled while the node was away, or was forgotten by a
//   restart), the agent is ordered to kill it, and its devices stay held until it is gone.
// - An attempt held here whose launch went out, that the agent neither runs nor has finished:
//   with the same agent (boot id), the order never arrived (the controller died between
//   committing the start and sending it, or the answer was lost): send it again (launches are
//   idempotent at the agent, so this cannot start anything twice). With a restarted agent, its
//   tasks are gone: the attempt failed on this node.
void Controller::reconcile(LiveNode& node, const AgentReport& report, bool agent_restarted,
                           TimeMs now) {
  // The controller runs this attempt, and on this node.
  auto owned = [&](const AttemptKey& key) {
    auto it = jobs_.find(key.job);
    if (it == jobs_.end()) return false;
    const JobRecord& rec = it->second->rec;
    return rec.state == JobState::running && rec.attempt == key.attempt &&
           std::any_of(rec.assignment.begin(), rec.assignment.end(),
                       [&](const NodeAssignment& a) { return a.node == node.rec.name; });
  };
  std::set<AttemptKey> alive;
  const std::uint64_t node_devices = node.all_devices();
  for (const auto& r : report.running) {
    alive.insert(r.key);
    // No hold here: a part this node was never given (or already confirmed gone): not ours.
    auto [it, fresh] = node.holds.try_emplace(r.key);
    NodeHold& hold = it->second;
    hold.launch_sent = true;
    for (int d : r.devices) hold.devices |= (std::uint64_t{1} << d) & node_devices;
    if ((fresh || !owned(r.key)) &&
        (hold.kill_sent_ms == 0 ||
         now - hold.kill_sent_ms > options_.kill_grace_ms + 2 * options_.heartbeat_ms))
      order_kill(node, r.key, hold, "not running at the controller", now);
  }
  std::set<AttemptKey> known = alive;
  for (const auto& e : report.exits) known.insert(e.key);
  for (const auto& l : node.launches) known.insert(l.key);
  std::vector<AttemptKey> gone;
  for (auto& [key, hold] : node.holds) {
    if (!hold.launch_sent || known.count(key)) continue;
    if (owned(key) && !agent_restarted) {
      hold.launch_sent = false;
      to_dispatch_.insert(key);
    } else {
      gone.push_back(key);
    }
  }
  for (const auto& key : gone) {
    release_hold(node, key, now);
    auto it = jobs_.find(key.job);
    if (it != jobs_.end() && owned(key))
      end_attempt(*it->second, JobState::node_fail, -1,
                  "the agent on " + node.rec.name + " restarted and lost its tasks", now);
  }
}

void Controller::order_kill(LiveNode& node, const AttemptKey& key, NodeHold& hold,
                            const std::string& reason, TimeMs now, bool checkpoint) {
  hold.kill_sent_ms = now;
  kills_to_dispatch_[node.rec.name].push_back({key, reason, checkpoint});
}

}  // namespace zs
