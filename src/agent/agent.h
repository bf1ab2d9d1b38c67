// The node agent (`zs agent`): reports this node's devices and health to the controller, pulls
// launch and kill orders, runs each job's tasks with their devices and environment, enforces
// walltime, and reports how each attempt ended until the controller acknowledges it.
//
// Tasks outlive the agent: they are children of the agent's shim (shim.h), and each attempt has
// a record in the work directory (attempt_record.h) and a tracking cgroup (cgroup_tracker.h). An
// agent that restarts, however it ended, re-adopts the tasks still running, reports those that
// ended meanwhile with their real end time, and reports as lost those it can no longer account
// for (docs/agent.md, "Agent restarts").
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/attempt_record.h"
#include "agent/cgroup_limits.h"
#include "agent/cgroup_tracker.h"
#include "agent/devices.h"
#include "agent/launcher.h"
#include "agent/node_lease.h"
#include "agent/record_store.h"
#include "agent/run_as.h"
#include "agent/script_cache.h"
#include "agent/shim.h"
#include "agent/work_dir.h"
#include "api/agent_protocol.h"

namespace zs {
namespace http {
class Listener;
struct Request;
struct Response;
}  // namespace http

class ApiClient;

struct AgentOptions {
  std::string controller_url;
  std::string name;
  std::string work_dir;               // scripts and per-attempt files; created if missing
  std::string discovery;              // fake | nvidia | cambricon | ascend | auto ("" = fake if
                                      // accelerators are declared, else auto)
  std::string accelerators;           // fake devices: "8xMLU590"
  std::string address = "127.0.0.1";  // MASTER_ADDR when this node holds rank 0
  double cpus = 0;                    // 0 = 16 per fake accelerator, else this machine's cores
  std::int64_t mem_mib = 0;         // 0 = 128 GiB per fake accelerator, else this machine's memory
  bool cgroups = true;              // track every attempt in a cgroup, and apply CPU/memory limits
  bool kill_tasks_on_exit = false;  // stop() kills every task (default: they run on, re-adopted
                                    // by the next agent on this work directory)
  std::string leaf, spine;          // topology: the switches above this node ("" = the default)
  std::string logs_listen;          // HOST:PORT of the log server; "" = `address`, any free port
  // The node credential (`zs admin node-token create NAME`), read from this file at start; a
  // file others may read is refused. "" = none (a controller run with --insecure-no-auth).
  std::string token_file;
  // An agent that is not root runs every job as itself; without this it refuses the jobs of
  // other Unix users (run_as.h). Refused for an agent running as root.
  bool single_user = false;
  // Serve the log server over HTTPS with this certificate and key (PEM; the key mode 0600).
  // Both or neither. The CA that the agent verifies an https:// controller with is process-wide
  // (tls::set_client_ca_file, zs agent --ca-file).
  std::string tls_cert, tls_key;
};

class Agent {
 public:
  explicit Agent(AgentOptions options);  // throws InputError for bad options
  ~Agent();
  // Blocks SIGCHLD in the calling thread. Call it before the process starts any thread: a thread
  // that leaves SIGCHLD unblocked receives (and, by default, discards) the exits the supervisor
  // waits for, which then wait for its 50 ms tick.
  static void block_child_signal();
  void run();  // until stop(); keeps retrying an unreachable controller
  void stop();
  std::string describe() const;  // devices, discovery and cgroup status, for the start-up line

 private:
  struct Task {
    int rank = 0;
    bool running = false;  // launched (or re-adopted) and not known to have ended
    pid_t pid = -1;        // the task, once the shim has started it
    // A task of an earlier agent's shim, watched by the task's pid and start time: a pidfd
    // (or, on kernels without pidfds, a check each second), then its E line in the record.
    bool adopted = false;
    int pidfd = -1;
    std::string start;
    pid_t shim_pid = 0;  // the shim that writes its E line
    std::string shim_start;
    std::int64_t ended_ms = 0;           // an adopted task ended; waiting for its shim's E line
    std::optional<RankOutcome> outcome;  // once it ended
  };
  struct Attempt {
    AttemptHeader header;  // what its record says (key, devices, cgroups, log files, ...)
    std::vector<Task> tasks;
    std::int64_t deadline_ms = 0;   // walltime; 0 = none
    std::int64_t term_sent_ms = 0;  // SIGTERM sent; SIGKILL after the grace period
    // The job's checkpoint signal (--signal; 0 = none) and when it is due before the walltime
    // (0 = not due: no walltime, or already sent). Sent once; a preemption sends it again.
    int signal = 0;
    bool signal_batch = false;
    std::int64_t signal_at_ms = 0;
    std::string stop_reason;  // "timeout", "killed", ... ("" = not stopped for a reason)
    bool draining = false;    // every task ended; waiting for its cgroup to empty
    std::int64_t drain_logged_ms = 0;
    std::optional<TaskCgroup> limits;  // CPU/memory limits, removed after the tasks end
    std::string record;                // its record file ("" = none could be written)
  };

  void sync_loop();
  void supervise_loop();
  void exits_loop();
  AgentReport report();
  void obey(const AgentOrders& orders);
  void start_attempt(const NodeLaunch& launch);  // expects mu_ held
  // Starts one task under a shim; "" or why it could not be started.
  std::string start_task(Attempt& a, const NodeLaunch& launch, const TaskLaunch& t,
                         const std::vector<std::string>& argv, int record_fd, Task& task);
  // SIGTERM to every task's group, or with `checkpoint` (a preemption) the job's own signal
  // when it has one; SIGKILL after the grace period.
  void stop_attempt(Attempt& a, const std::string& reason, std::int64_t now,
                    bool checkpoint = false);
  void send_checkpoint_signal(Attempt& a);  // the job's --signal, as it asked (B: or not)
  void kill_attempt(Attempt& a);            // SIGKILL now: its cgroup, and each shim's task group
  // sig 0: SIGKILL the group; -N: signal N to the task's own process only, not its group.
  void signal_task(const AttemptKey& key, const Task& t, int sig);
  // A rank ended with `outcome`: the gang rule, then the attempt's end if it was the last.
  void task_ended(const AttemptKey& key, Attempt& a, Task& t, RankOutcome outcome,
                  std::int64_t now);
  // An adopted task: its E line if the record has it yet, else lost once its shim is gone or
  // has not written it within 2 s. False while it is still worth waiting.
  bool settle_adopted(const AttemptKey& key, Attempt& a, Task& t, std::int64_t now);
  void apply(const std::vector<Shim::Event>& events, std::int64_t now);  // expects mu_ held
  void adopted_child_ended(const Exit& exit, std::int64_t now);          // expects mu_ held
  // The shim is gone: its tasks are re-adopted from the records (or lost), and a new shim is
  // started for the launches to come.
  void shim_lost(std::int64_t now);  // expects mu_ held
  bool launch_task(const AttemptKey& key, int rank, const PreparedLaunch& task,
                   const std::vector<std::string>& cgroup_procs, int record_fd,
                   std::string& error);  // expects mu_ held
  // Milliseconds until the supervisor must next look at a walltime, a kill grace period or a
  // draining cgroup; -1 = nothing is due.
  int supervisor_timeout_ms(std::int64_t now) const;  // expects mu_ held
  void wake_supervisor();
  void finish_if_done(const AttemptKey& key, Attempt& a, std::int64_t now);
  // The node lease (node_lease.h) now runs until `sent` (boot clock) + lease_ms, for either of:
  // - an answer from the controller to a request sent at `sent` (it heard from us after that);
  // - a request sent at `sent` that was refused: nothing listened at the controller's address,
  //   so no controller was giving up on us then, and one that starts later gives every node a
  //   full lease from its start. A controller restart does not stop the tasks, however long.
  void renew_lease(std::int64_t sent, std::int64_t lease_ms, std::int64_t grace_ms);
  void lease_answered(std::int64_t sent, const AgentOrders& orders);
  void lease_refused(std::int64_t sent);
  void remember_done(const NodeExit& exit);
  void remember_logs(const AttemptKey& key, const AttemptHeader& h);
  void acknowledged(const AttemptKey& key);  // the exit is durable at the controller
  void append_record(const Attempt& a, const std::string& line);
  // At start: re-adopts the attempts of the agents before this one on the work directory and
  // removes what nothing accounts for. Before any thread runs.
  void adopt_attempts();
  // GET /api/v1/attempts/JOB.ATTEMPT/log?stream=&offset=: the output of this node's first task
  // of an attempt it ran, for `zs logs` when the controller cannot see the file itself.
  void serve_log(http::Request& req, http::Response& res);
  void start_log_server();  // binds it (InputError("--logs-listen") if it cannot)
  void install_srun();      // <work_dir>/bin/srun, put first on every task's PATH

  AgentOptions options_;
  std::optional<WorkDirLock> lock_;  // first: nothing is touched before it is ours
  std::unique_ptr<Shim> shim_;       // the parent of this agent's tasks (shim.h)
  std::unique_ptr<DeviceDiscovery> discovery_;
  std::optional<CgroupLimits> cgroups_;   // set when limits can be applied here
  std::optional<CgroupTracker> tracker_;  // set when attempts can be tracked by cgroup
  std::optional<ScriptCache> scripts_;    // <work_dir>/scripts
  std::string cgroup_status_;
  std::string boot_id_;                 // the work directory's instance id (work_dir.h)
  std::string kernel_boot_;             // the machine's boot id
  std::optional<RecordStore> records_;  // <work_dir>/attempts: one record per attempt
  bool fake_ = false;                   // declared devices (discovery kind "fake")
  UnixAccount self_;                    // the account the agent runs as (run_as.h)
  bool self_known_ = false;             // passwd knows it

  mutable std::mutex mu_;
  std::condition_variable exits_cv_;
  Inventory inventory_;
  std::int64_t inventory_at_ms_ = 0;
  std::map<AttemptKey, Attempt> attempts_;
  std::map<AttemptKey, NodeExit> unacked_;
  std::map<AttemptKey, std::string> ended_records_;  // records kept until the exit is acked
  std::map<AttemptKey, NodeExit> done_;  // finished attempts, to answer repeated launches
  std::deque<AttemptKey> done_order_;
  struct LogFiles {
    std::string out, err;
    FileIdentity out_id, err_id;  // what the attempt opened: nothing else is served
  };
  std::map<AttemptKey, LogFiles> logs_;  // as many as done_ remembers
  std::deque<AttemptKey> logs_order_;
  std::unique_ptr<http::Listener> logs_server_;
  std::string logs_url_;
  std::string logs_key_;    // what the log server asks of callers (sent to the controller only)
  std::string token_;       // the node credential
  std::string bin_dir_;     // holds our srun; "" when it could not be written
  std::string lease_file_;  // <work_dir>/lease
  std::int64_t lease_deadline_ = 0;  // boot clock; 0 = no lease (never heard of one)
  std::int64_t lease_written_ = 0;   // the deadline the file says
  std::int64_t lease_grace_written_ = -1;
  std::int64_t lease_ms_ = 0, lease_grace_ms_ = 0;  // as the controller last said
  bool lease_warned_ = false;
  std::int64_t heartbeat_ms_ = 1000;
  std::int64_t kill_grace_ms_ = 10'000;
  std::atomic<bool> stopping_{false};
  int wake_fd_ = -1;  // eventfd: new deadlines or stop() for the supervisor's poll
};

}  // namespace zs
