// A live job as the controller and the store know it: its spec plus its life so far.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/job_spec.h"
#include "core/time.h"

namespace zs {

// Reasons stored in records and shown to users (an agent's exit reason, an operator's drain
// reason) are at most this many bytes: they are messages, and a record must never outgrow what
// the store accepts (which would leave memory ahead of the store).
inline constexpr std::size_t kMaxReasonBytes = 1024;

// Slurm's vocabulary, lower case. Terminal: completed, failed, cancelled, timeout, node_fail.
enum class JobState : std::uint8_t {
  pending,
  running,
  completed,
  failed,
  cancelled,
  timeout,
  node_fail
};

std::string_view to_string(JobState s);
std::optional<JobState> job_state_from_string(std::string_view s);
inline bool is_terminal(JobState s) {
  return s != JobState::pending && s != JobState::running;
}

// The devices a job holds on one node, and the task ranks it runs there.
struct NodeAssignment {
  std::string node;
  std::vector<int> devices;  // device indices on that node
  bool operator==(const NodeAssignment&) const = default;
};

struct JobRecord {
  JobId id = 0;
  JobSpec spec;
  JobState state = JobState::pending;
  TimeMs submit_ms = 0;  // wall-clock ms since the epoch
  TimeMs start_ms = 0;   // of the current or last attempt; 0 = never started
  TimeMs end_ms = 0;     // 0 = not ended
  int attempt = 0;       // incremented at every start; launches are idempotent per (id, attempt)
  int exit_code = 0;     // of the first failing task, else 0; 128+N for signal N
  std::string reason;    // why it is pending, or why it ended (e.g. "node b lost")
  std::vector<NodeAssignment> assignment;  // current (running) or last allocation
  int master_port = 0;     // MASTER_PORT of the current or last attempt (on the first node)
  JobId array_job_id = 0;  // the first job of its array, 0 when not an array task
  int array_task_id = -1;
  bool operator==(const JobRecord&) const = default;
};

// A node as the controller knows it; the agent reports devices and health.
enum class NodeStatus : std::uint8_t { up, drained, down };
std::string_view to_string(NodeStatus s);
std::optional<NodeStatus> node_state_from_string(std::string_view s);

struct NodeRecord {
  std::string name;
  std::string address;     // host the agent is reachable at (for MASTER_ADDR)
  std::string leaf;        // the leaf switch it hangs off ("" = the default one)
  std::string spine;       // the spine above that leaf ("" = the default one)
  std::string logs_url;    // where its agent serves the logs of the attempts it ran
  std::string accel_type;  // catalog name of its devices; "" = no accelerators
  int accel_count = 0;
  std::uint64_t unhealthy = 0;  // bit d: device d reported unhealthy
  double cpus = 0;
  std::int64_t mem_mib = 0;
  NodeStatus state = NodeStatus::up;  // drained: by an operator; down: heartbeats missed
  std::string reason;                 // why drained or down
  // Set while an operator has the node drained, whatever else happens: a drained node that
  // stops answering is down, and drained again (not up) when its agent comes back.
  std::string drain_reason;
  TimeMs last_seen_ms = 0;
  std::string boot_id;  // the agent instance; a new one means the tasks it ran are gone
  bool operator==(const NodeRecord&) const = default;
};

}  // namespace zs
