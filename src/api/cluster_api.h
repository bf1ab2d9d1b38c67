// What the HTTP API serves: the operations of the cluster, independent of how the controller
// implements them (the routes in http_server.cpp call only this).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/agent_protocol.h"
#include "core/accounting.h"
#include "core/job_record.h"

namespace zs {

struct JobFilter {
  std::optional<JobState> state;
  bool active_only = false;  // pending or running
  std::string user, tenant;
  // Only jobs of these tenants (a caller who may see only its own tenants' jobs).
  std::optional<std::vector<std::string>> tenants_only;
  JobId after = 0;  // pagination: ids greater than this
  std::size_t limit = 1000;
};

struct JobPage {
  std::vector<JobRecord> jobs;
  JobId next_after = 0;  // pass as `after` for the next page; 0 = no more
};

struct NodeView {
  NodeRecord record;
  int allocated = 0;  // devices held by jobs
  int jobs = 0;       // attempts holding resources here
  double cpus_used = 0;
  std::vector<std::string> device_problems;
  std::string discovery;
};

struct ClusterStats {
  std::size_t pending = 0, running = 0, finished = 0;
  std::uint64_t passes = 0, started = 0, transactions = 0, purged = 0;
  std::uint64_t refused_starts = 0;       // scheduler decisions the controller's check refused
  std::uint64_t refused_preemptions = 0;  // ... preemptions among them
  int nodes_up = 0, nodes_down = 0, nodes_drained = 0;
  int accels_total = 0, accels_allocated = 0;
  // Tenants' guarantees per accelerator type (--tenants) against the nodes up.
  struct Guarantee {
    std::string type;
    std::int64_t guaranteed = 0, available = 0;
  };
  std::vector<Guarantee> guarantees;
  std::uint64_t unbilled_attempts = 0;  // usage records refused as unusable (logged)
};

// Where a job's output file is: the pattern expanded for its first node and task.
struct LogLocation {
  std::string path;
  JobState state = JobState::pending;
  // The agent of the job's first node and the attempt there, to ask when `path` is not
  // visible on the controller's host (no shared file system).
  std::string node_logs_url;
  std::string node_logs_key;  // the bearer token that node's log server wants
  std::uint64_t job = 0;
  int attempt = 0;
};

// Accounting (core/accounting.h): the records of the attempts that belong to a window, those
// still running or in their kill grace period included, as if they ended now.
struct UsageAnswer {
  std::vector<UsageRecord> records;    // whole, in (job, attempt) order: the caller pro-rates
  std::vector<std::string> shortfall;  // tenants' guarantees the nodes up cannot hold now
  TimeMs now = 0;
};

// Tenants' shares (docs/tenants.md): what the controller enforces, in the tenants file's form.
struct SharesView {
  bool enabled = false;  // false: no tenants file was ever given or applied
  std::string yaml;      // the effective shares (sections never given are left out)
  std::vector<std::string> shortfall;
};
// What `zs admin apply FILE` did (or, with dry_run, would do).
struct ApplyResult {
  std::vector<std::string> added, changed, unchanged;  // the file's tenants
  std::vector<std::string> created_tenants;            // new in the identity registry too
  bool settings_changed = false;                       // default, prices, fair share, preemption
  std::vector<std::string> warnings;                   // e.g. types without a price
  bool dry_run = false;
};

// An agent's sync, answered now or later (a long poll that holds no thread while it waits).
struct SyncAnswer {
  std::optional<AgentOrders> orders;  // set: the answer, now
  std::uint64_t wait = 0;             // else: collect with agent_orders(node, wait) ...
  TimeMs wait_ms = 0;                 // ... once `wake` has been called or this much has passed
};

// Errors: InputError for bad input (400, naming the field), ApiError for the rest.
class ClusterApi {
 public:
  virtual ~ClusterApi() = default;
  virtual std::vector<JobId> submit(std::vector<JobSpec> specs) = 0;
  virtual JobPage list_jobs(const JobFilter& filter) const = 0;
  virtual JobRecord get_job(JobId id) const = 0;
  // Cancelling an array's first job (its array id) cancels every task of the array, as scancel
  // does; whole_array = false cancels that one task.
  virtual JobRecord cancel(JobId id, bool whole_array = true) = 0;
  // Holds (held = true) or releases a pending job, as scontrol hold/release: a held job is not
  // started until released. An array's id applies to every pending task of the array (as
  // cancel); whole_array = false to that one task. ApiError 404 for no such job, 409 when no
  // targeted job is pending.
  virtual JobRecord set_held(JobId id, bool held, bool whole_array = true) = 0;
  // The job id of task `task` of array `array_job` (ids like "17_3"); ApiError 404 if none.
  virtual JobId array_task(JobId array_job, int task) const = 0;
  virtual std::vector<NodeView> nodes() const = 0;
  virtual NodeView set_drained(const std::string& node, bool drained,
                               const std::string& reason) = 0;
  // Applies an agent's report. Answers at once when there is something to say (orders, acks)
  // or the report allows no wait; else parks the sync and calls `wake` — at most once, from any
  // thread, possibly under the API's own locks, so it must only schedule — when orders arrive
  // (or a newer sync of the node replaces this one, or the API stops).
  virtual SyncAnswer begin_agent_sync(const std::string& node, const AgentReport& report,
                                      std::function<void()> wake) = 0;
  // The orders for a sync that begin_agent_sync parked (none when a newer sync replaced it).
  virtual AgentOrders agent_orders(const std::string& node, std::uint64_t wait) = 0;
  // Both, waiting on the calling thread (in-process callers and tests).
  AgentOrders agent_sync(const std::string& node, const AgentReport& report);
  virtual AgentOrders agent_exits(const std::string& node, const std::vector<NodeExit>& exits) = 0;
  virtual LogLocation log_location(JobId id, bool stderr_stream) const = 0;
  virtual ClusterStats stats() const = 0;
  virtual SharesView shares() const = 0;
  // Applies a tenants file (its text; `source` names it in errors), declaratively: InputError
  // naming source:line:column for a bad file, or the types whose guarantees exceed the nodes
  // the controller knows. Durable when it returns (unless dry_run).
  virtual ApplyResult apply_shares(const std::string& yaml, const std::string& source,
                                   bool dry_run) = 0;
  // The controller's clock (ms since the epoch): what "now" means in a request.
  virtual TimeMs clock_ms() const = 0;
  // When the last start-time forecast expects waiting job `id` to start (docs/prediction.md);
  // nullopt when there is none (not waiting, held, blocked, or not before the horizon).
  virtual std::optional<TimeMs> estimated_start(JobId id) const = 0;
  // Records of the listed tenants (every tenant when empty) that belong to `window`.
  virtual UsageAnswer usage(UsageWindow window, const std::vector<std::string>& tenants) = 0;
};

}  // namespace zs
