// What the controller and its agents say to each other (POST /api/v1/agents/{name}/sync and
// /exits; see docs/api.md). Agents pull: each sync carries the agent's report and is answered
// with orders, held open by the controller until it has orders or the heartbeat interval ends.
// Launches are idempotent per (job, attempt): an agent ignores one it has already started, and
// re-reports the exit of one it has already finished.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/job.h"
#include "core/time.h"

namespace zs {

struct AttemptKey {
  JobId job = 0;
  int attempt = 0;
  auto operator<=>(const AttemptKey&) const = default;
};

struct TaskLaunch {
  int rank = 0;        // among all the job's tasks
  int local_rank = 0;  // on this node
  std::vector<int> devices;
  bool operator==(const TaskLaunch&) const = default;
};

// One node's part of one attempt of a job.
struct NodeLaunch {
  AttemptKey key;
  int node_rank = 0;
  std::vector<TaskLaunch> tasks;
  std::vector<std::string> argv;
  std::string script;  // when set, written to a file and executed (argv are its arguments)
  std::string work_dir;
  std::string unix_user;  // the account the tasks run as ("" = as the agent itself)
  // KEY=VALUE for every task: the user's, then ZS_*, SLURM_*, MASTER_ADDR/PORT, WORLD_SIZE,
  // NODE_RANK. The agent adds per task: RANK, LOCAL_RANK and the visible-devices variable.
  std::vector<std::string> env;
  std::string visible_devices_env;       // e.g. CUDA_VISIBLE_DEVICES; "" when no accelerators
  std::string stdout_path, stderr_path;  // patterns; the agent expands %N and %t
  TimeMs walltime_ms = 0;                // 0 = no limit
  double cpus = 0;                       // this node's share, for cgroup limits; 0 = none
  std::int64_t mem_mib = 0;
  // The job's checkpoint signal (JobSpec::signal): sent signal_time_s before the walltime ends
  // and first at a preemption. 0 = none. Sent only when set; an older agent ignores it.
  int signal = 0;
  int signal_time_s = 0;
  bool signal_batch = false;  // only each task's own process (the script's shell), not its group
  bool operator==(const NodeLaunch&) const = default;
};

struct KillOrder {
  AttemptKey key;
  std::string reason;
  // The job was preempted: its own checkpoint signal (NodeLaunch::signal) goes first instead of
  // SIGTERM, SIGKILL after the grace period as always. A cancel or a node's loss keeps SIGTERM
  // (scancel's default). Sent only when set; an older agent ignores it and sends SIGTERM.
  bool checkpoint = false;
};

// The end of one node's part of an attempt (all its tasks have ended).
struct NodeExit {
  AttemptKey key;
  int exit_code = 0;   // first failing task's code, 128+N for signal N, else 0
  std::string reason;  // "" (ran to the end), "timeout", "killed", "launch failed: ..."
  TimeMs end_ms = 0;
};

// An attempt with tasks alive on the node, and the devices it holds there. The controller holds
// those devices until the agent reports the attempt gone, even for an attempt it no longer owns
// (which it then orders killed): a device is never given to a second job while anything of the
// first may still run on it.
struct RunningAttempt {
  AttemptKey key;
  std::vector<int> devices;
  bool operator==(const RunningAttempt&) const = default;
};

struct AgentReport {
  // The agent's work directory's id (<work-dir>/instance-id): the same after an agent restart,
  // which re-adopts its tasks and reports them in `running` (or their ends in `exits`); a
  // changed id means a new work directory, where nothing of the old agent's tasks runs.
  std::string boot_id;
  std::string address;  // where its tasks can be reached (MASTER_ADDR for rank 0)
  std::string leaf;     // topology: its leaf switch and the spine above ("" = default)
  std::string spine;
  std::string logs_url;  // http(s)://HOST:PORT of its log server ("" = none); HOST = address
  // A random secret of this agent's run: its log server answers only requests that carry it
  // (the controller's, on behalf of a user allowed to read the job's output).
  std::string logs_key;
  std::string accel_type;
  int accel_count = 0;
  std::uint64_t unhealthy = 0;
  std::vector<std::string> device_problems;  // "3: ecc error"
  double cpus = 0;
  std::int64_t mem_mib = 0;
  std::string discovery;                // how the devices were found, for `zs nodes -l`
  std::vector<RunningAttempt> running;  // attempts with tasks still alive here
  std::vector<NodeExit> exits;          // ended and not yet acknowledged
  TimeMs wait_ms = 0;                   // how long the controller may hold the request
};

struct AgentOrders {
  std::vector<NodeLaunch> launches;
  std::vector<KillOrder> kills;
  std::vector<AttemptKey> acked;  // exits now durable at the controller: forget them
  TimeMs heartbeat_ms = 1000;
  TimeMs kill_grace_ms = 10'000;
  // The node lease: an agent that has had no answer from the controller for this long (counted
  // from when it sent the last request that got one) stops its tasks, and the controller gives
  // a silent node's attempts up only once this, the kill grace period and a margin have passed
  // since it last heard from it. So a partitioned or frozen node's tasks are gone before their
  // job runs again elsewhere. 0 = no lease (the agent never stops tasks on its own).
  TimeMs lease_ms = 0;
};

nlohmann::json to_json(const AgentReport& r);
AgentReport agent_report_from_json(const nlohmann::json& j);  // throws InputError(field)
nlohmann::json to_json(const AgentOrders& o);
AgentOrders agent_orders_from_json(const nlohmann::json& j);

}  // namespace zs
