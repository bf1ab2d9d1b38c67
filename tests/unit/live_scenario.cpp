#include "live_scenario.h"

#include <algorithm>
#include <bit>
#include <csignal>
#include <map>
#include <stdexcept>

#include "controller/controller.h"
#include "core/input_error.h"
#include "fake_agent.h"
#include "store/store.h"

namespace zs::test {
namespace {

// Scenario time 0 on the controller's clock (2026-01-01T00:00:00Z); any value would do.
constexpr TimeMs kEpoch = 1'767'225'600'000;

// The JobSpec that `zs submit` would make for a scenario job.
JobSpec spec_of(const Job& j, const ScenarioInputs& in, const std::string& source) {
  const Catalog& catalog = Catalog::builtin();
  JobSpec s;
  s.name = "job" + std::to_string(j.id);
  s.argv = {"fake-job"};
  s.work_dir = "/tmp";
  s.tenant = j.tenant;
  s.user = j.user;
  s.priority = j.priority;
  s.accel_count = j.accel_count;
  s.nodes = j.nodes;
  s.accel_per_node = j.per_node;
  s.walltime = j.walltime;
  // A job that checkpoints (trace column `checkpoint`, or the tenants file's `checkpoint: all`
  // for a job that does not say) is, live, a job that asked for a signal (sbatch --signal).
  if (j.checkpoint == 1 || (j.checkpoint < 0 && in.shares && in.shares->preemption.checkpoint_all))
    s.signal = SIGUSR1;
  if (!j.unknown_type.empty()) {
    s.accel_type = j.unknown_type;  // refused at submit, as the simulator rejects it
  } else if (j.accepted.count() == 1) {
    s.accel_type = catalog.name(static_cast<TypeId>(std::countr_zero(j.accepted.bits())));
  } else if (!j.accepted.is_any()) {
    // A live job names one type, or none (any type): several only when they are all the
    // cluster has.
    for (const Node& n : in.cluster.nodes)
      if (!j.accepted.contains(n.type))
        throw InputError(source, "job " + std::to_string(j.id) + " accepts several types but not " +
                                     catalog.name(n.type) +
                                     ": a live job names one type or any (mark it live: skip)");
  }
  return s;
}

}  // namespace

std::vector<Outcome> run_live(const Scenario& sc, const ScenarioInputs& in,
                              const std::string& state_dir) {
  const Catalog& catalog = Catalog::builtin();
  std::vector<const Job*> order;
  for (const Job& j : in.jobs) order.push_back(&j);
  std::stable_sort(order.begin(), order.end(), [](const Job* a, const Job* b) {
    return a->submit != b->submit ? a->submit < b->submit : a->id < b->id;
  });
  std::map<JobId, JobSpec> specs;
  for (const Job* j : order) specs.emplace(j->id, spec_of(*j, in, sc.source));
  if (order.empty()) return {};

  TimeMs now = kEpoch + order.front()->submit;
  ControllerOptions opt;
  opt.policy = sc.policy;
  opt.shares = in.shares;
  opt.sched = in.sim.sched;  // las thresholds and the like, as zs controller's flags set them
  // As `zs controller --tenants FILE` does.
  opt.kill_grace_ms = effective_kill_grace_ms(std::nullopt, in.shares.get());
  // The agents sync whenever something happens, and only then: a heartbeat longer than any
  // scenario keeps their nodes up in between.
  opt.heartbeat_ms = 30LL * 24 * 3600 * 1000;
  opt.min_pass_interval_ms = 0;
  opt.keep_finished_ms = 0;
  opt.clock = [&now] { return now; };
  Controller controller(opt, open_sqlite_store(state_dir + "/state.db"));

  FakeJobs work;
  std::vector<FakeAgent> agents;
  for (const Node& n : in.cluster.nodes) {
    FakeAgent a(n.name, n.accel_count, "boot-1", catalog.name(n.type));
    const Leaf& leaf = in.cluster.leaves[n.leaf];
    a.report.leaf = leaf.name;
    a.report.spine = in.cluster.spines[leaf.spine].name;
    agents.push_back(std::move(a));
  }

  // Passes and syncs at `now` until nothing more happens then (a kill with no grace ends at
  // once, and its devices go in the next pass). Returns when the controller wants a pass next.
  auto settle = [&]() -> TimeMs {
    int idle = 0;
    for (int round = 0; round < 1000; ++round) {
      const TimeMs wake = controller.run_pass_for_test();
      bool active = false;
      for (auto& a : agents) active = a.sync(controller, now, work) || active;
      if (active) {
        idle = 0;
        continue;
      }
      if (wake > now) return wake;
      if (++idle == 3) return kNever;  // a pass due at once again, and nothing changes
    }
    throw std::logic_error(sc.source + ": the controller does not settle at t=" +
                           std::to_string(now - kEpoch) + " ms");
  };

  std::map<JobId, JobId> live_id;         // scenario id -> controller id
  std::map<JobId, std::string> rejected;  // refused at submit, with the error
  std::size_t next = 0;
  TimeMs wake = settle();  // the agents register
  for (int steps = 0;; ++steps) {
    if (steps == 1'000'000) throw std::logic_error(sc.source + ": the live run does not end");
    TimeMs t = wake;
    if (next < order.size()) t = std::min(t, kEpoch + order[next]->submit);
    for (const auto& a : agents) t = std::min(t, a.next_event());
    if (t == kNever) break;
    now = std::max(now, t);
    // As the simulator at one instant: the ends first (the agents report them), then the
    // arrivals, then passes.
    for (auto& a : agents) a.sync(controller, now, work);
    for (; next < order.size() && kEpoch + order[next]->submit <= now; ++next) {
      const Job& j = *order[next];
      try {
        const JobId id = controller.submit({specs.at(j.id)}).front();
        live_id[j.id] = id;
        work.add(id, {j.duration, in.sim.preempt_cost_ms});
      } catch (const std::exception& e) {
        rejected[j.id] = e.what();
      }
    }
    wake = settle();
  }

  std::map<std::string, std::size_t> node_index;
  for (std::size_t i = 0; i < in.cluster.nodes.size(); ++i)
    node_index[in.cluster.nodes[i].name] = i;
  std::vector<Outcome> outcomes;
  for (const Job& j : in.jobs) {
    Outcome o;
    o.id = j.id;
    if (auto r = rejected.find(j.id); r != rejected.end()) {
      o.rejected = true;
      o.reject_reason = r->second;
      outcomes.push_back(std::move(o));
      continue;
    }
    const JobRecord rec = controller.get_job(live_id.at(j.id));
    if (rec.state != JobState::completed && rec.state != JobState::timeout) {
      // Waiting for good (nothing more happens), or ended otherwise: as the simulator says.
      o.rejected = true;
      o.reject_reason =
          (rec.state == JobState::pending ? "never started: "
                                          : "ended " + std::string(to_string(rec.state)) + ": ") +
          rec.reason;
      outcomes.push_back(std::move(o));
      continue;
    }
    const FakeJobs::History& h = work.history(rec.id);
    o.first_start = h.first_start - kEpoch;
    o.last_start = h.last_start - kEpoch;
    o.end = rec.end_ms - kEpoch;
    o.run_ms = h.held_ms;
    o.preemptions = h.preemptions;
    o.killed = rec.state == JobState::timeout;
    for (const auto& a : rec.assignment) o.nodes.push_back(a.node);
    std::sort(o.nodes.begin(), o.nodes.end(), [&](const std::string& a, const std::string& b) {
      return node_index.at(a) < node_index.at(b);
    });
    if (!o.nodes.empty()) o.type = catalog.name(in.cluster.nodes[node_index.at(o.nodes[0])].type);
    outcomes.push_back(std::move(o));
  }
  return outcomes;
}

}  // namespace zs::test
