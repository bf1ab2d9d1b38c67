// The node agent (`zs agent`): reports this node's devices and health to the controller, pulls
// launch and kill orders, runs each job's tasks with their devices and environment, enforces
// walltime, and reports how each attempt ended until the controller acknowledges it.
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

#include "agent/cgroup_limits.h"
#include "agent/devices.h"
#include "agent/script_cache.h"
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
  std::int64_t mem_mib = 0;  // 0 = 128 GiB per fake accelerator, else this machine's memory
  bool cgroups = true;       // apply CPU/memory limits where cgroups allow
  std::string leaf, spine;   // topology: the switches above this node ("" = the default)
  std::string logs_listen;   // HOST:PORT of the log server; "" = `address`, any free port
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
    pid_t pid = -1;
    bool running = false;
    int exit_code = 0;
  };
  struct Attempt {
    NodeLaunch launch;
    std::vector<Task> tasks;
    std::int64_t deadline_ms = 0;   // walltime; 0 = none
    std::int64_t term_sent_ms = 0;  // SIGTERM sent; SIGKILL after the grace period
    std::string end_reason;         // "", "timeout", "killed", "launch failed: ..."
    int first_failure = 0;
    std::optional<TaskCgroup> cgroup;  // removed after the tasks end
    std::string script;                // from scripts_, released after the tasks end
  };

  void sync_loop();
  void supervise_loop();
  void exits_loop();
  AgentReport report();
  void obey(const AgentOrders& orders);
  void start_attempt(const NodeLaunch& launch);  // expects mu_ held
  void stop_attempt(Attempt& a, const std::string& reason, std::int64_t now);
  // Milliseconds until the supervisor must next look at a walltime or a kill grace period;
  // -1 = nothing is due (it then sleeps until a child exits or wake_supervisor()).
  int supervisor_timeout_ms(std::int64_t now) const;  // expects mu_ held
  void wake_supervisor();
  void finish_if_done(const AttemptKey& key, Attempt& a, std::int64_t now);
  void remember_done(const NodeExit& exit);
  // GET /api/v1/attempts/JOB.ATTEMPT/log?stream=&offset=: the output of this node's first task
  // of an attempt it ran, for `zs logs` when the controller cannot see the file itself.
  void serve_log(http::Request& req, http::Response& res);
  void start_log_server();  // binds it (InputError("--logs-listen") if it cannot)
  void install_srun();      // <work_dir>/bin/srun, put first on every task's PATH

  AgentOptions options_;
  std::unique_ptr<DeviceDiscovery> discovery_;
  std::optional<CgroupLimits> cgroups_;  // set when limits can be applied here
  std::optional<ScriptCache> scripts_;   // <work_dir>/scripts
  std::string cgroup_status_;
  std::string boot_id_;
  bool fake_ = false;  // declared devices (discovery kind "fake")

  mutable std::mutex mu_;
  std::condition_variable exits_cv_;
  Inventory inventory_;
  std::int64_t inventory_at_ms_ = 0;
  std::map<AttemptKey, Attempt> attempts_;
  std::map<pid_t, AttemptKey> pid_owner_;
  std::map<AttemptKey, NodeExit> unacked_;
  std::map<AttemptKey, NodeExit> done_;  // finished attempts, to answer repeated launches
  std::deque<AttemptKey> done_order_;
  struct LogFiles {
    std::string out, err;
  };
  std::map<AttemptKey, LogFiles> logs_;  // as many as done_ remembers
  std::deque<AttemptKey> logs_order_;
  std::unique_ptr<http::Listener> logs_server_;
  std::string logs_url_;
  std::string bin_dir_;  // holds our srun; "" when it could not be written
  std::int64_t heartbeat_ms_ = 1000;
  std::int64_t kill_grace_ms_ = 10'000;
  std::atomic<bool> stopping_{false};
  int wake_fd_ = -1;  // eventfd: new deadlines or stop() for the supervisor's poll
};

}  // namespace zs
