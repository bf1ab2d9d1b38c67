// The controller: owns the live cluster's state, persists every change before acting on it,
// runs the same `decide(snapshot, now)` as the simulator, and hands launch and kill orders to
// agents that pull them (see api/agent_protocol.h).
//
// Threads: HTTP handlers call the public methods; one scheduler thread runs passes when an
// event arrives or a timer fires; one DurableWriter thread group-commits to the store. All
// state is guarded by one mutex, which is never held across a store write.
#pragma once
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "api/agent_protocol.h"
#include "api/cluster_api.h"
#include "controller/clock.h"
#include "controller/fit_check.h"
#include "controller/identity_registry.h"
#include "controller/order_waiter.h"
#include "core/accelerator.h"
#include "core/cluster.h"
#include "core/fair_share.h"
#include "core/job_record.h"
#include "core/runtime_predictor.h"
#include "core/tenant_shares.h"
#include "sched/policy.h"
#include "sim/forecast.h"
#include "store/store.h"

namespace zs {

class DurableWriter;

struct ControllerOptions {
  std::string policy = "easy";
  TimeMs heartbeat_ms = 1000;     // agents sync at least this often
  TimeMs node_lost_ms = 0;        // no contact for this long = node lost; 0 = 1.5 x heartbeat
  TimeMs kill_grace_ms = 10'000;  // SIGTERM to SIGKILL
  // The node lease (AgentOrders::lease_ms): a lost node's running attempts are given up (and
  // requeued) only after this plus the kill grace period, when its agent has stopped them.
  // 0 = the larger of 10 s and twice node_lost_ms. At least node_lost_ms + heartbeat_ms.
  TimeMs node_lease_ms = 0;
  TimeMs min_pass_interval_ms = 1;  // events within this window share one pass
  int master_port_base = 29500;
  int master_port_count = 2000;
  std::size_t max_jobs_per_submit = 1'000'000;
  // Finished jobs are forgotten (in memory and in the store) this long after they end, as
  // Slurm's MinJobAge does, so a long-running controller does not grow without bound. 0 = never.
  TimeMs keep_finished_ms = 24 * 3600 * 1000;
  // Accept jobs that can never fit the nodes known so far (nodes are expected to join); by
  // default they are refused at submit with the reason (fit_check.h).
  bool keep_unfit_jobs = false;
  // Scheduler parameters (las thresholds and promotion, starvation, minimum run); with a
  // tenants file, its preemption.min_runtime replaces min_run_ms.
  SchedParams sched;
  // Used instead of `policy` when set: tests give the controller a wrong policy to prove that
  // its decisions are checked before they are acted on.
  std::shared_ptr<const Policy> policy_override;
  // Tenants' shares (--tenants FILE, docs/tenants.md): quotas, reclaim, fair share. Null: none.
  // Applied over those stored by an earlier `zs admin apply` (or --tenants), as apply does.
  std::shared_ptr<const TenantShares> shares;
  // kill_grace_ms was given (--kill-grace-ms): else the shares' preemption.grace sets it, now
  // and whenever shares are applied (effective_kill_grace_ms).
  bool kill_grace_given = true;
  // Start-time forecasts (zs queue --start, estimated_start_ms; docs/prediction.md): while jobs
  // wait, the queue is forecast forward at most this often, on a thread of its own. 0: never.
  TimeMs forecast_interval_ms = 5'000;
  // At most this many waiting jobs are forecast, the first in (priority, submit) order (Slurm's
  // bf_max_job_test); the others have no estimate.
  std::size_t forecast_max_jobs = 50'000;
  // Every time the controller reads (ms since the epoch); empty = the wall clock. Tests give a
  // fake clock to replay a schedule deterministically (tests/unit/live_scenario_test.cpp).
  std::function<TimeMs()> clock;
};

// The kill grace period (SIGTERM or the job's signal to SIGKILL), one setting for every kill:
// --kill-grace-ms when given; else, with a tenants file, its preemption.grace (the file's
// default, 120 s, when it names none: the simulator uses the same); else 10 s. At most 1 h.
TimeMs effective_kill_grace_ms(std::optional<TimeMs> flag, const TenantShares* shares);

class Controller : public ClusterApi {
 public:
  Controller(ControllerOptions options, std::unique_ptr<Store> store);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  void start();  // starts the scheduler thread
  void stop();
  // Tests on a fake clock, without start(): what one round of the scheduler thread does (lost
  // nodes, a pass when one is needed or due, the commit that dispatches its orders). Returns
  // when the next pass is due (kNever: only an event will ask for one).
  TimeMs run_pass_for_test();

  // Validates every spec (InputError naming "jobs[i].field"), expands arrays, and returns once
  // all are durable: the ids in order (an array's tasks get consecutive ids).
  std::vector<JobId> submit(std::vector<JobSpec> specs) override;
  JobPage list_jobs(const JobFilter& filter) const override;
  JobRecord get_job(JobId id) const override;  // ApiError 404
  JobRecord cancel(JobId id, bool whole_array = true) override;
  JobRecord set_held(JobId id, bool held, bool whole_array = true) override;
  JobId array_task(JobId array_job,
                   int task) const override;  // ApiError 404; a finished job is returned unchanged

  std::vector<NodeView> nodes() const override;
  NodeView set_drained(const std::string& node, bool drained, const std::string& reason) override;

  // Agent endpoints. A sync with no orders to answer is parked up to report.wait_ms (capped at
  // half a heartbeat) without a thread; see ClusterApi.
  SyncAnswer begin_agent_sync(const std::string& node, const AgentReport& report,
                              std::function<void()> wake) override;
  AgentOrders agent_orders(const std::string& node, std::uint64_t wait) override;
  AgentOrders agent_exits(const std::string& node, const std::vector<NodeExit>& exits) override;

  LogLocation log_location(JobId id, bool stderr_stream) const override;
  ClusterStats stats() const override;
  UsageAnswer usage(UsageWindow window, const std::vector<std::string>& tenants) override;
  TimeMs clock_ms() const override { return now_ms(); }
  std::optional<TimeMs> estimated_start(JobId id) const override;
  // Tests on a fake clock, without start(): the forecast the thread would make of the queue the
  // last pass captured (none if no pass captured one since the last forecast).
  void run_forecast_for_test();
  SharesView shares() const override;
  ApplyResult apply_shares(const std::string& yaml, const std::string& source,
                           bool dry_run) override;
  const ControllerOptions& options() const { return options_; }
  // Tenants, users and tokens (persisted with the jobs, in the same store).
  IdentityRegistry& identities() { return *identities_; }

 private:
  // Resources an attempt holds on one node. A hold is released only when the agent confirms
  // the attempt's processes are gone there (an exit, or a report without it), never merely
  // because the controller stopped wanting the attempt: a lost node's devices stay held until
  // its agent comes back and kills what still runs, so no device is ever given to a second job
  // while anything of the first may still run on it.
  struct NodeHold {
    std::uint64_t devices = 0;
    double cpus = 0;
    std::int64_t mem_mib = 0;
    int master_port = 0;       // reserved on this node's address (rank-0 node only)
    bool launch_sent = false;  // the launch is queued for the agent or was delivered
    TimeMs kill_sent_ms = 0;   // a kill was queued for the agent at this time (0 = none)
  };
  struct LiveNode {
    NodeRecord rec;
    // The agent has reported since this controller started. Until then the node takes no new
    // work: after a restart the controller does not know what still runs there.
    bool synced = false;
    std::vector<std::string> device_problems;
    std::string discovery;
    std::string logs_key;  // what its log server asks of the controller (not stored)
    TimeMs last_contact = 0;
    // Its running attempts were given up: silent for longer than the lease allows (reset when
    // it speaks again).
    bool given_up = false;
    // Its requests being answered now (one may wait long for a slow store): not silent.
    int busy = 0;
    std::map<AttemptKey, NodeHold> holds;
    std::vector<NodeLaunch> launches;  // orders waiting for the next sync
    std::vector<KillOrder> kills;
    std::vector<AttemptKey> acks;
    OrderWaiter waiter;  // its parked sync (long poll), woken when orders arrive
    std::uint64_t allocated() const;
    std::uint64_t all_devices() const;  // one bit per device the agent reported
    double used_cpus() const;
    double used_mem_mib() const;
  };
  struct LiveJob {
    JobRecord rec;
    Job sched;            // the scheduler's view; stable address for Snapshot pointers
    int array_limit = 0;  // %N of its array
    // Service for las/srtf (PendingJob/RunningJob): accelerator-ms of its ended attempts, when
    // the last one ended (0: never ran) and how long it ran. Rebuilt from the usage records.
    TimeMs attained_accel_ms = 0, last_end_ms = 0, last_run_ms = 0;
    // Its run time as predicted when it was submitted (after a restart: when the controller
    // started), from the jobs that had ended (docs/prediction.md).
    TimeMs predicted_ms = 0;
  };

  TimeMs now_ms() const { return options_.clock ? options_.clock() : wall_clock_ms(); }
  // All private methods expect mu_ held.
  void load_state();
  void scheduler_loop();
  void run_pass(TimeMs now);
  // Start-time forecasts (controller_forecast.cpp). A pass captures its snapshot when a
  // forecast is due; the forecast thread replays it without holding mu_.
  bool forecast_due(TimeMs now) const;
  void capture_for_forecast(const Snapshot& snapshot, TimeMs now);
  void forecast_loop();
  struct ForecastJob {
    ForecastInput input;
    std::shared_ptr<const TenantShares> shares;  // the input points into them
  };
  void forecast_and_publish(const ForecastJob& job);
  // What one node of an attempt holds: its devices and its share of the job's CPUs and memory.
  // The same at a start and when a restart rebuilds running attempts from the store.
  static NodeHold hold_for(const JobRecord& rec, std::size_t node_index);
  // A finished job whose run time the predictor learns: it ran and ended by itself (completed,
  // failed, or killed at its walltime), not cancelled or lost with a node.
  static bool teaches_predictor(const JobRecord& rec);
  void start_job(LiveJob& job, const std::vector<NodeAssignment>& assignment, TimeMs now);
  std::string start_problem(const LiveJob& job,
                            const std::vector<NodeAssignment>& assignment) const;
  bool checked_start(LiveJob& job, const std::vector<NodeAssignment>& assignment);
  // Checks the pass's preemptions before acting on them (sched/decision_check.h): one that
  // breaks the rules (a reclaim of a job within its tenant's guarantee, too young, or of the
  // reclaiming job's own tenant; a job not running) is a policy bug. It is refused, logged and
  // counted, and so is the rest of what the job it was for would have done with the devices
  // (its other victims, its start or hold).
  void refuse_bad_preemptions(const Snapshot& snapshot, Decisions& decisions, TimeMs now);
  // Sets job.sched's required/excluded node ids from the spec's -w/-x names for this pass's
  // cluster. False (with the reason) when a required node is not in it (down, gone, or a node
  // without the job's accelerators).
  static bool map_node_constraints(LiveJob& job, const std::map<std::string, NodeId>& id_of,
                                   std::string& reason);
  void dispatch_launch(LiveJob& job);
  void end_attempt(LiveJob& job, JobState state, int exit_code, const std::string& reason,
                   TimeMs now);
  // `when`: the moment the node's part was confirmed gone (the end of a bill in its grace).
  void release_hold(LiveNode& node, const AttemptKey& key, TimeMs when);
  // Tenants' shares (controller_shares.cpp): the pass's tenant table, fair-share usage and
  // holds; the decisions that only shares make (holds, wait reasons); usage billed at the end
  // of an attempt; the guarantees the nodes up cannot hold yet, logged when that changes.
  void prepare_shares(Snapshot& snapshot, std::span<const RunningJob> running,
                      const std::map<std::string, NodeId>& id_of, TimeMs now);
  void apply_share_decisions(const Decisions& d);
  void report_shortfall();
  // Makes `shares` the ones enforced from the next pass on (tenant table, fair-share ledger,
  // kill grace); `persist` also queues them for the store.
  void use_shares(std::shared_ptr<const TenantShares> shares);
  void load_stored_shares();
  Cluster known_capacity() const;  // accelerators of every node that ever registered, by type
  // Reclaims in progress survive a restart (controller_reclaim_holds.cpp): stored whenever they
  // change, read back at start-up for the jobs still waiting.
  void store_reclaim_holds();
  void load_reclaim_holds();
  // "" or why `assignment` takes a device held for another job's reclaim.
  std::string reclaim_hold_problem(JobId job, const std::vector<NodeAssignment>& assignment) const;
  // Accounting (controller_usage.cpp): an attempt's usage record, written when it ends and
  // again when its last devices are released (the kill grace period is billed); fair share is
  // charged the same run. At start-up, fair share is rebuilt from the stored records.
  UsageRecord usage_record_of(const LiveJob& job, JobState how, int exit_code, TimeMs end) const;
  void bill_attempt(const LiveJob& job, JobState how, int exit_code, TimeMs end);
  void attempt_released(const AttemptKey& key, TimeMs when);
  void bill(const UsageRecord& rec, TimeMs charged_until);
  bool held_anywhere(const AttemptKey& key) const;
  void load_fair_share_history(TimeMs now);
  void load_attained_service();  // LiveJob's service, from the usage records
  std::int32_t tenant_index(const std::string& tenant);
  void handle_exit(LiveNode& node, const NodeExit& exit, TimeMs now);
  void lose_node_attempts(LiveNode& node, const std::string& reason, TimeMs now);
  void check_lost_nodes(TimeMs now);
  void reconcile(LiveNode& node, const AgentReport& report, bool agent_restarted, TimeMs now);
  // Orders the agent to kill an attempt it runs (or may run) there; the hold stays until the
  // agent confirms. Repeated when a kill seems lost (the order went out in an answer that never
  // arrived), never more often than once per kill grace period plus two heartbeats.
  // `checkpoint`: a preemption, where the job's own --signal goes first (KillOrder::checkpoint).
  void order_kill(LiveNode& node, const AttemptKey& key, NodeHold& hold, const std::string& reason,
                  TimeMs now, bool checkpoint = false);
  bool schedulable(const LiveNode& node) const {
    return node.synced && node.rec.state == NodeStatus::up;
  }
  // The end of a sync: its orders now, or a parked wait for them (controller_sync_wait.cpp).
  SyncAnswer answer_sync(LiveNode& node, AgentOrders orders, TimeMs hold_ms,
                         std::function<void()> wake);
  void take_orders(LiveNode& node, AgentOrders& orders);
  bool dependencies_state(const LiveJob& job, std::string& reason);  // false = never
  // Throws InputError naming the field when a spec names a node (--nodelist/--exclude) that
  // this controller has never heard of.
  void check_node_names(const std::vector<JobSpec>& specs) const;
  void cancel_broken_dependents(TimeMs now);
  int reserve_master_port(const std::string& address);
  void touch(const LiveJob& job);  // queue its record for the next write
  void touch(const LiveNode& node);
  void flush(std::unique_lock<std::mutex>& lock);  // writes queued records, then dispatches
  LiveNode& node_named(const std::string& name);
  void rebuild_cluster();
  void cancel_one(LiveJob& job, TimeMs now);
  void purge_finished(std::unique_lock<std::mutex>& lock, TimeMs now);
  bool anything_free() const;  // false: no job could start now (a pass can be skipped)
  TimeMs node_lost_ms() const;
  // How often the scheduler thread looks for lost nodes (a longer gap is its own stall).
  TimeMs lost_check_interval_ms() const { return std::max<TimeMs>(10, options_.heartbeat_ms / 4); }
  TimeMs node_lease_ms() const;
  // How long after its last contact a silent node's tasks are surely gone: the lease, the
  // agent's kill grace period, and a margin for the two clocks and the agent's reaction.
  TimeMs give_up_after_ms() const;
  NodeView view_of(const LiveNode& node) const;

  ControllerOptions options_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<DurableWriter> writer_;
  std::unique_ptr<IdentityRegistry> identities_;
  std::shared_ptr<const Policy> policy_;
  const Catalog& catalog_;

  mutable std::mutex mu_;
  std::condition_variable wake_;  // scheduler thread
  bool stopping_ = false;
  bool pass_needed_ = true;
  bool deps_dirty_ = false;  // a job ended badly: its afterok dependents must be cancelled
  TimeMs policy_wake_at_ = kNever;

  std::map<JobId, std::unique_ptr<LiveJob>> jobs_;
  std::map<JobId, LiveJob*> pending_;  // in id (= submit) order
  std::map<JobId, LiveJob*> running_;
  std::map<std::string, LiveNode> nodes_;
  std::mutex id_mu_;  // guards the two below (not mu_: submits must not wait for passes)
  JobId next_id_ = 1;
  TimeMs last_submit_ms_ = 0;

  // Scheduler view of the nodes, rebuilt when nodes come, go or change devices.
  Cluster cluster_;
  std::vector<std::string> cluster_node_names_;  // by NodeId
  bool cluster_dirty_ = true;
  void mark_cluster_dirty() {
    cluster_dirty_ = true;
    capacity_stale_ = true;
  }
  // What submits check a job against (fit_check.h): rebuilt with cluster_, read without mu_.
  std::mutex capacity_mu_;
  std::shared_ptr<const Capacity> capacity_ = std::make_shared<Capacity>();
  std::atomic<bool> capacity_stale_{true};
  std::shared_ptr<const Capacity> current_capacity();

  // Tenants' shares: the tenant table of the last pass (Job::tenant_index), decayed usage, and
  // reclaims in progress (devices by node name: node ids change when the cluster is rebuilt).
  std::vector<TenantView> tenant_views_;
  std::map<std::string, std::int32_t> tenant_ids_;
  FairShareLedger fair_{7LL * 24 * 3600 * 1000};  // the file's half-life (constructor)
  // Run times learned from the jobs that ended (completed, failed or timed out), for easy-pred;
  // rebuilt at start-up from the finished jobs the store still has.
  RuntimePredictor predictor_;
  struct ReclaimHold {
    JobId for_job = 0;
    TypeId type = 0;
    std::vector<NodeAssignment> devices;
  };
  std::vector<ReclaimHold> reclaim_holds_;
  std::vector<Hold> pass_holds_;      // the snapshot's view of reclaim_holds_
  std::string stored_reclaim_holds_;  // as last queued for the store (controller_reclaim_holds.cpp)
  std::string last_shortfall_;
  std::mutex apply_mu_;  // one zs admin apply at a time (taken before mu_)
  // Attempts that ended while some of their devices are still held (a kill in its grace
  // period): their records, rewritten with the real end once the last node confirms.
  std::map<AttemptKey, UsageRecord> unreleased_usage_;
  std::uint64_t unbillable_ = 0;  // records refused by usage_record_problem (logged)

  WriteBatch unwritten_;              // changes made in memory, not yet durable
  std::set<AttemptKey> to_dispatch_;  // started attempts whose launches wait for durability
  std::map<std::string, std::vector<KillOrder>> kills_to_dispatch_;

  // Master ports: those held per address, computed once per pass (a pass may start thousands
  // of jobs on one address), and where the round-robin goes on next (a port just released may
  // still be in TIME_WAIT).
  std::map<std::string, std::set<int>> ports_in_pass_;
  std::map<std::string, int> next_port_;
  TimeMs store_failing_since_ = 0;  // the last flush failed (0 = the store is fine)
  std::uint64_t passes_ = 0, started_ = 0, purged_ = 0;
  std::uint64_t refused_starts_ = 0;       // decisions checked_start refused (a policy bug)
  std::uint64_t refused_preemptions_ = 0;  // ... and refuse_bad_preemptions() refused
  std::set<std::pair<JobId, std::string>> told_refused_;  // logged once per victim and problem
  TimeMs next_purge_ms_ = 0;
  TimeMs last_lost_check_ms_ = 0;  // when check_lost_nodes last ran (a stall shows as a gap)
  std::thread scheduler_;

  TimeMs next_forecast_ms_ = 0;  // (mu_) when a pass captures the queue for a forecast next
  // The forecast thread's input and output, under forecast_mu_ (never held with mu_ taken
  // after it): estimates of the waiting jobs' starts, and when they were made.
  mutable std::mutex forecast_mu_;
  std::condition_variable forecast_wake_;
  std::unique_ptr<ForecastJob> forecast_input_;
  bool forecast_stopping_ = false;
  std::map<JobId, TimeMs> estimates_;
  std::thread forecaster_;
};

}  // namespace zs
