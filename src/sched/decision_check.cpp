#include "sched/decision_check.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "sched/free_pool.h"
#include "sched/shape.h"

namespace zs {

std::string_view to_string(ViolationKind kind) {
  switch (kind) {
    case ViolationKind::kNotPending:
      return "not-pending";
    case ViolationKind::kNotRunning:
      return "not-running";
    case ViolationKind::kDecidedTwice:
      return "decided-twice";
    case ViolationKind::kRefusedType:
      return "refused-type";
    case ViolationKind::kMixedTypes:
      return "mixed-types";
    case ViolationKind::kUnknownNode:
      return "unknown-node";
    case ViolationKind::kNoSuchDevice:
      return "no-such-device";
    case ViolationKind::kDuplicateNode:
      return "duplicate-node";
    case ViolationKind::kNodeDown:
      return "node-down";
    case ViolationKind::kUnhealthy:
      return "unhealthy";
    case ViolationKind::kBusy:
      return "busy";
    case ViolationKind::kGivenTwice:
      return "given-twice";
    case ViolationKind::kWrongCount:
      return "wrong-count";
    case ViolationKind::kWrongShape:
      return "wrong-shape";
    case ViolationKind::kCpuMemory:
      return "cpu-memory";
    case ViolationKind::kRequiredMissing:
      return "required-missing";
    case ViolationKind::kExcludedUsed:
      return "excluded-used";
  }
  return "?";
}

namespace {

std::uint64_t all_devices(int count) {
  return count >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << count) - 1);
}

// "device 3" / "devices 0,5".
std::string devices_text(std::uint64_t mask) {
  std::string list;
  for (int d = 0; d < 64; ++d)
    if ((mask >> d) & 1u) list += (list.empty() ? "" : ",") + std::to_string(d);
  return (device_count(mask) == 1 ? "device " : "devices ") + list;
}

// "device 3 of node n1 is unhealthy" / "devices 3,4 of node n1 are unhealthy".
std::string devices_are(std::uint64_t mask, const std::string& node, const std::string& what) {
  return devices_text(mask) + " of node " + node + (device_count(mask) == 1 ? " is " : " are ") +
         what;
}

// One node's devices as the pass's decisions are applied.
struct Ledger {
  std::uint64_t exists = 0;     // the node's accelerators
  std::uint64_t healthy = 0;    // of those, healthy
  std::uint64_t available = 0;  // free, healthy and up, plus what preemptions returned
  bool up = false;
  double cpu = 0, mem = 0;
  std::vector<std::pair<JobId, std::uint64_t>> given;  // this pass's starts on the node
};

class Checker {
 public:
  Checker(const Snapshot& s, const Decisions& d, const PendingLookup& lookup)
      : s_(s), c_(*s.cluster), d_(d), lookup_(lookup) {}

  std::vector<Violation> run() {
    if (d_.preemptions.empty() && d_.starts.empty() && d_.rejections.empty()) return {};
    if (!lookup_) index_pending();
    for (const PreemptDecision& p : d_.preemptions) preemption(p);
    for (const StartDecision& st : d_.starts) start(st);
    for (const RejectDecision& r : d_.rejections) rejection(r);
    return std::move(out_);
  }

 private:
  void add(ViolationKind kind, JobId job, const std::string& what) {
    out_.push_back({kind, job, "job " + std::to_string(job) + ": " + what});
  }

  const std::string& name(NodeId n) const { return c_.nodes[n].name; }

  std::string type_name(TypeId t) const {
    if (s_.catalog && t < s_.catalog->size()) return s_.catalog->name(t);
    return "type " + std::to_string(t);
  }

  // The decided jobs among Snapshot::pending, found in one scan.
  void index_pending() {
    std::vector<JobId> ids;
    for (const auto& st : d_.starts) ids.push_back(st.job);
    for (const auto& r : d_.rejections) ids.push_back(r.job);
    std::sort(ids.begin(), ids.end());
    for (const PendingJob& p : s_.pending)
      if (p.job && std::binary_search(ids.begin(), ids.end(), p.job->id))
        pending_.emplace(p.job->id, p.job);
  }

  const Job* pending_job(JobId id) const {
    if (lookup_) return lookup_(id);
    auto it = pending_.find(id);
    return it == pending_.end() ? nullptr : it->second;
  }

  Ledger& ledger(NodeId n) {
    auto [it, fresh] = ledgers_.try_emplace(n);
    Ledger& l = it->second;
    if (fresh) {
      const NodeState st = n < s_.nodes.size() ? s_.nodes[n] : NodeState{0, 0, false, 0, 0};
      l.exists = all_devices(c_.nodes[n].accel_count);
      l.healthy = st.healthy & l.exists;
      l.up = st.up;
      l.available = st.usable() & l.exists;
      l.cpu = st.free_cpu;
      l.mem = st.free_mem_gib;
    }
    return l;
  }

  void preemption(const PreemptDecision& p) {
    if (!preempted_.insert(p.job).second) {
      add(ViolationKind::kDecidedTwice, p.job, "preempted twice");
      return;
    }
    if (running_.empty())
      for (const RunningJob& r : s_.running)
        if (r.job) running_.emplace(r.job->id, &r);
    auto it = running_.find(p.job);
    if (it == running_.end()) {
      add(ViolationKind::kNotRunning, p.job, "preempted but not running");
      return;
    }
    const RunningJob& r = *it->second;
    for (const Slot& slot : r.placement) {
      if (slot.node >= c_.nodes.size()) continue;  // nothing to return
      Ledger& l = ledger(slot.node);
      const std::uint64_t back = slot.devices & l.exists;
      if (l.up) l.available |= back & l.healthy;
      l.cpu += device_count(back) * r.job->cpu_per_accel;
      l.mem += device_count(back) * r.job->mem_gib_per_accel;
    }
  }

  void start(const StartDecision& st) {
    const JobId id = st.job;
    const Job* job = pending_job(id);
    if (!job) {
      add(ViolationKind::kNotPending, id, "started but not waiting");
      return;
    }
    if (!started_.insert(id).second) {
      add(ViolationKind::kDecidedTwice, id, "started twice");
      return;
    }
    if (!job->accepted.contains(st.type))
      add(ViolationKind::kRefusedType, id,
          "started on " + type_name(st.type) + ", which it refuses");
    if (st.placement.empty()) {
      add(ViolationKind::kWrongCount, id, "started on no device");
      return;
    }
    types_check(st);
    std::vector<NodeId> nodes;
    std::vector<int> sizes;
    int total = 0;
    for (const Slot& slot : st.placement) {
      if (slot.node >= c_.nodes.size()) {
        add(ViolationKind::kUnknownNode, id,
            "node id " + std::to_string(slot.node) + " is not in the cluster");
        continue;
      }
      if (std::find(nodes.begin(), nodes.end(), slot.node) != nodes.end()) {
        add(ViolationKind::kDuplicateNode, id, "two slots on node " + name(slot.node));
        continue;
      }
      nodes.push_back(slot.node);
      sizes.push_back(device_count(slot.devices));
      total += sizes.back();
      devices_check(*job, slot);
    }
    if (total != job->accel_count) {
      add(ViolationKind::kWrongCount, id,
          "placed on " + std::to_string(total) + " devices, asks for " +
              std::to_string(job->accel_count));
    } else {
      shape_check(*job, st.type, sizes);
    }
    constraints_check(*job, nodes);
  }

  // The gang's nodes are all of the decision's type.
  void types_check(const StartDecision& st) {
    std::vector<TypeId> types;
    for (const Slot& slot : st.placement)
      if (slot.node < c_.nodes.size() &&
          std::find(types.begin(), types.end(), c_.nodes[slot.node].type) == types.end())
        types.push_back(c_.nodes[slot.node].type);
    if (types.size() > 1) {
      std::string list;
      for (TypeId t : types) {
        list += (list.empty() ? "" : ", ") + type_name(t) + " (";
        std::string on;
        for (const Slot& slot : st.placement)
          if (slot.node < c_.nodes.size() && c_.nodes[slot.node].type == t)
            on += (on.empty() ? "" : " ") + name(slot.node);
        list += on + ")";
      }
      add(ViolationKind::kMixedTypes, st.job, "gang on more than one type: " + list);
    } else if (types.size() == 1 && types.front() != st.type) {
      add(ViolationKind::kMixedTypes, st.job,
          "decided on " + type_name(st.type) + " but placed on " + type_name(types.front()));
    }
  }

  void devices_check(const Job& job, const Slot& slot) {
    const JobId id = job.id;
    const NodeId n = slot.node;
    Ledger& l = ledger(n);
    if (slot.devices == 0)
      add(ViolationKind::kNoSuchDevice, id, "a slot with no device on node " + name(n));
    if (const std::uint64_t missing = slot.devices & ~l.exists)
      add(ViolationKind::kNoSuchDevice, id,
          devices_are(missing, name(n),
                      "beyond its " + std::to_string(c_.nodes[n].accel_count) + " accelerators"));
    const std::uint64_t real = slot.devices & l.exists;
    if (!l.up && real) add(ViolationKind::kNodeDown, id, "node " + name(n) + " is down");
    if (const std::uint64_t sick = real & ~l.healthy)
      add(ViolationKind::kUnhealthy, id, devices_are(sick, name(n), "unhealthy"));
    std::uint64_t twice = 0;
    for (const auto& [holder, mask] : l.given)
      if (const std::uint64_t both = mask & real) {
        twice |= both;
        add(ViolationKind::kGivenTwice, id,
            devices_are(both, name(n), "also given to job " + std::to_string(holder)));
      }
    if (const std::uint64_t busy = real & l.healthy & ~l.available & ~twice; busy && l.up)
      add(ViolationKind::kBusy, id, devices_are(busy, name(n), "not free"));
    l.available &= ~real;
    l.given.emplace_back(id, real);
    const int k = device_count(slot.devices);
    if (k * job.cpu_per_accel > l.cpu + 1e-6 || k * job.mem_gib_per_accel > l.mem + 1e-6)
      add(ViolationKind::kCpuMemory, id, "CPU or memory of node " + name(n) + " overbooked");
    l.cpu -= k * job.cpu_per_accel;
    l.mem -= k * job.mem_gib_per_accel;
  }

  void shape_check(const Job& job, TypeId type, std::vector<int> sizes) {
    const auto& max = c_.max_per_node_of_type;
    const auto shape = shape_for(job, type < max.size() ? max[type] : 0);
    std::vector<int> want;
    if (shape) {
      want.assign(static_cast<std::size_t>(shape->nodes), shape->per_node);
      if (shape->remainder > 0) want.push_back(shape->remainder);
    }
    std::sort(sizes.begin(), sizes.end());
    std::sort(want.begin(), want.end());
    if (sizes == want) return;
    std::string got;
    for (int k : sizes) got += (got.empty() ? "" : "+") + std::to_string(k);
    add(ViolationKind::kWrongShape, job.id,
        "devices per node " + got + " differ from its shape" +
            (shape ? " (" + std::to_string(shape->nodes) + " x " + std::to_string(shape->per_node) +
                         (shape->remainder ? " + " + std::to_string(shape->remainder) : "") + ")"
                   : std::string(" (none fits)")));
  }

  void constraints_check(const Job& job, std::vector<NodeId> nodes) {
    if (!job.has_node_constraints()) return;
    // Sorted copies: the check must not trust the job's sets to be sorted.
    std::sort(nodes.begin(), nodes.end());
    for (NodeId n : job.required_nodes)
      if (!std::binary_search(nodes.begin(), nodes.end(), n))
        add(ViolationKind::kRequiredMissing, job.id,
            "required node " + (n < c_.nodes.size() ? name(n) : "id " + std::to_string(n)) +
                " is not in the gang");
    std::vector<NodeId> excluded = job.excluded_nodes;
    std::sort(excluded.begin(), excluded.end());
    for (NodeId n : nodes)
      if (std::binary_search(excluded.begin(), excluded.end(), n))
        add(ViolationKind::kExcludedUsed, job.id, "excluded node " + name(n) + " is in the gang");
  }

  void rejection(const RejectDecision& r) {
    if (!pending_job(r.job)) {
      add(ViolationKind::kNotPending, r.job, "rejected but not waiting");
      return;
    }
    if (started_.count(r.job))
      add(ViolationKind::kDecidedTwice, r.job, "started and rejected");
    else if (!rejected_.insert(r.job).second)
      add(ViolationKind::kDecidedTwice, r.job, "rejected twice");
  }

  const Snapshot& s_;
  const Cluster& c_;
  const Decisions& d_;
  const PendingLookup& lookup_;
  std::unordered_map<JobId, const Job*> pending_;
  std::unordered_map<JobId, const RunningJob*> running_;
  std::unordered_map<NodeId, Ledger> ledgers_;
  std::unordered_set<JobId> preempted_, started_, rejected_;
  std::vector<Violation> out_;
};

}  // namespace

std::vector<Violation> find_violations(const Snapshot& s, const Decisions& d,
                                       const PendingLookup& pending) {
  return Checker(s, d, pending).run();
}

std::string describe(const std::vector<Violation>& violations) {
  std::string text;
  for (const Violation& v : violations) text += (text.empty() ? "" : "; ") + v.what;
  return text;
}

}  // namespace zs
