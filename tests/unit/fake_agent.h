// Fake agents for controller tests: they speak the agent API in-process (ClusterApi::agent_sync)
// and start no process. A test may drive one step by step through its report (controller_test),
// or let it run jobs on a fake clock (live_scenario_test): it reports its node, takes launches,
// "runs" each attempt for the time its FakeJobs entry says, honours kill orders with the grace
// period, and reports every exit.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "api/agent_protocol.h"
#include "api/cluster_api.h"
#include "core/time.h"

namespace zs::test {

// What fake jobs do, shared by the agents of one cluster (a job's progress follows it from node
// to node across attempts), and what each job went through, for the test to check.
class FakeJobs {
 public:
  struct Work {
    TimeMs duration = 0;      // the work to do
    TimeMs restart_cost = 0;  // spent first by every attempt after a preemption
  };
  // What happened to a job, on the agents' side.
  struct History {
    TimeMs first_start = -1, last_start = -1;
    TimeMs held_ms = 0;   // from each launch to its exit, all attempts (grace included)
    int preemptions = 0;  // attempts stopped by a preemption's kill order
  };

  void add(JobId id, Work work) {
    jobs_[id].work = work;
    jobs_[id].described = true;
  }
  // An attempt's tasks start at `now` (each node of a gang says so; the first call counts):
  // when they finish their work. A job without Work never finishes by itself.
  TimeMs started(const AttemptKey& key, TimeMs now);
  // The restart cost the current attempt pays first (0 for a first attempt).
  TimeMs overhead(const AttemptKey& key) const;
  // The attempt is told to stop at `now` for a preemption. With its checkpoint signal (it asked
  // for one at submit), it saves its progress; else it will start again from zero.
  void preempted(const AttemptKey& key, TimeMs now, bool checkpoint_signal);
  void ended(const AttemptKey& key, TimeMs now);  // once per attempt
  const History& history(JobId id) const;

 private:
  struct Entry {
    Work work;
    bool described = false;
    double remaining = 1.0;  // fraction of the work still to do
    int attempt = 0;         // the current one (0 = none yet)
    TimeMs start = 0, overhead = 0, ends_at = kNever;
    bool stop_ordered = false, was_preempted = false, ended = false;
    History history;
  };
  std::map<JobId, Entry> jobs_;
};

class FakeAgent {
 public:
  std::string name;
  AgentReport report;  // what the next sync reports (the test may change it)

  FakeAgent(std::string n, int devices, std::string boot = "boot-1",
            std::string accel_type = "A100-SXM4-80GB");

  // --- Running jobs on a fake clock. ---
  // One sync at `now`: reports the attempts whose tasks ended by then, takes launches (started
  // at `now`) and kill orders. True when it reported an exit or received an order.
  bool sync(ClusterApi& controller, TimeMs now, FakeJobs& jobs);
  // The earliest time one of its attempts ends here (kNever: none runs).
  TimeMs next_event() const;

 private:
  struct Part {  // this node's part of one attempt
    std::vector<int> devices;
    TimeMs ends_at = kNever;
    std::string reason;  // of the exit at ends_at: "", "timeout", "killed"
    int exit_code = 0;
    bool signal = false;  // the job asked for a checkpoint signal (NodeLaunch::signal)
    bool stopping = false;
  };
  void launch(const NodeLaunch& l, TimeMs now, FakeJobs& jobs);
  void kill(const KillOrder& k, TimeMs now, FakeJobs& jobs);

  std::map<AttemptKey, Part> parts_;
  TimeMs kill_grace_ms_ = 10'000;  // as the controller's orders say
};

}  // namespace zs::test
