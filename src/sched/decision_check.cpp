#include "sched/decision_check.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>

#include "sched/free_pool.h"
#include "sched/pass_memory.h"
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
    case ViolationKind::kOverQuota:
      return "over-quota";
    case ViolationKind::kProtectedVictim:
      return "protected-victim";
    case ViolationKind::kHeld:
      return "held";
  }
  return "?";
}

namespace {

// Appends `item` to a `sep`-separated list.
void append(std::string& list, std::string_view sep, std::string_view item) {
  if (!list.empty()) list += sep;
  list += item;
}

std::uint64_t all_devices(int count) {
  return count >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << count) - 1);
}

// "device 3" / "devices 0,5".
std::string devices_text(std::uint64_t mask) {
  std::string list;
  for (int d = 0; d < 64; ++d)
    if ((mask >> d) & 1u) append(list, ",", std::to_string(d));
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
  std::uint64_t given = 0;      // given to this pass's starts
  bool up = false;
  double cpu = 0, mem = 0;
};

// Ids that occur more than once in `ids` (sorted in place).
std::vector<JobId> repeated(std::vector<JobId>& ids) {
  std::sort(ids.begin(), ids.end());
  std::vector<JobId> twice;
  for (std::size_t i = 1; i < ids.size(); ++i)
    if (ids[i] == ids[i - 1] && (twice.empty() || twice.back() != ids[i])) twice.push_back(ids[i]);
  return twice;
}

bool contains(const std::vector<JobId>& sorted, JobId id) {
  return std::binary_search(sorted.begin(), sorted.end(), id);
}

// The checker runs on every pass of a simulation (hundreds of thousands), so it keeps to a few
// flat vectors: no per-job or per-node allocation unless something is wrong.
class Checker {
 public:
  Checker(const Snapshot& s, const Decisions& d, const JobLookup& lookup, TimeMs now)
      : s_(s),
        c_(*s.cluster),
        d_(d),
        lookup_(lookup),
        now_(now),
        started_(take_vector<JobId>(s.memory)),
        slot_of_node_(take_vector<std::uint32_t>(s.memory)),
        ledgers_(take_vector<Ledger>(s.memory)) {}
  // Its arrays go back to the snapshot's pass memory (sched/pass_memory.h).
  ~Checker() { give_vectors(s_.memory, started_, slot_of_node_, ledgers_); }
  Checker(const Checker&) = delete;
  Checker& operator=(const Checker&) = delete;

  std::vector<Violation> run() {
    if (d_.preemptions.empty() && d_.starts.empty() && d_.rejections.empty() && d_.holds.empty())
      return {};
    started_.reserve(d_.starts.size());
    for (const auto& st : d_.starts) started_.push_back(st.job);
    if (started_.size() > 1) started_twice_ = repeated(started_);
    if (!lookup_.pending) index_pending();
    preemptions();
    for (std::size_t i = 0; i < d_.starts.size(); ++i) start(i);
    rejections();
    if (s_.shares) shares();
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
    std::vector<JobId> ids = started_;
    for (const auto& r : d_.rejections) ids.push_back(r.job);
    if (s_.shares) {
      for (const auto& h : d_.holds) ids.push_back(h.for_job);
      for (const auto& h : s_.holds) ids.push_back(h.for_job);
      for (const auto& p : d_.preemptions) ids.push_back(p.for_job);
    }
    std::sort(ids.begin(), ids.end());
    for (const PendingJob& p : s_.pending)
      if (p.job && contains(ids, p.job->id)) pending_.emplace_back(p.job->id, p.job);
    std::sort(pending_.begin(), pending_.end());
  }

  const Job* pending_job(JobId id) const {
    if (lookup_.pending) return lookup_.pending(id);
    auto it = std::lower_bound(pending_.begin(), pending_.end(),
                               std::pair<JobId, const Job*>{id, nullptr});
    return it != pending_.end() && it->first == id ? it->second : nullptr;
  }

  Ledger& ledger(NodeId n) {
    if (slot_of_node_.empty()) slot_of_node_.assign(c_.nodes.size(), kNoSlot);
    std::uint32_t& slot = slot_of_node_[n];
    if (slot == kNoSlot) {
      slot = static_cast<std::uint32_t>(ledgers_.size());
      const NodeState st = n < s_.nodes.size() ? s_.nodes[n] : NodeState{0, 0, false, 0, 0};
      Ledger l;
      l.exists = all_devices(c_.nodes[n].accel_count);
      l.healthy = st.healthy & l.exists;
      l.up = st.up;
      l.available = st.usable() & l.exists;
      l.cpu = st.free_cpu;
      l.mem = st.free_mem_gib;
      ledgers_.push_back(l);
    }
    return ledgers_[slot];
  }

  // Tenants' shares, checked independently of sched/share_gate.cpp: usage per (tenant, type)
  // after the pass within limits, reclaim victims borrowing, held devices to their job only.
  void shares() {
    const TenantShares& shares = *s_.shares;
    // Keyed by the tenant's name as a view (no copy), in a small sorted vector of the keys
    // this pass touches: this runs over every running job on every pass of a replay, where a
    // map of (name, type) copied a string for every running job. Names, not the driver's
    // tenant indices: the check must not trust what it checks.
    using Key = std::pair<std::string_view, TypeId>;
    auto key = [](const Job& j, TypeId t) { return Key{j.tenant, t}; };
    std::vector<std::pair<const Job*, TypeId>> taking;
    for (const auto& st : d_.starts)
      if (const Job* j = pending_job(st.job)) taking.emplace_back(j, st.type);
    for (const auto& h : d_.holds)
      if (const Job* j = pending_job(h.for_job)) taking.emplace_back(j, h.type);
    // A tenant without a limit on the type cannot go over it: counting what it holds (a walk
    // over every running job) is needed only for the others.
    std::erase_if(taking, [&](const auto& jt) {
      return shares.share_of(jt.first->tenant).of(jt.second).limit() == TypeQuota::kUnlimited;
    });
    if (!taking.empty()) {
      std::vector<Key> keys;
      for (const auto& [j, t] : taking) keys.push_back(key(*j, t));
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
      std::vector<long> used(keys.size(), 0);
      auto slot = [&](const Job& j, TypeId t) -> long* {
        auto it = std::lower_bound(keys.begin(), keys.end(), key(j, t));
        return it != keys.end() && *it == key(j, t)
                   ? &used[static_cast<std::size_t>(it - keys.begin())]
                   : nullptr;
      };
      std::vector<JobId> preempted;
      for (const auto& p : d_.preemptions) preempted.push_back(p.job);
      std::sort(preempted.begin(), preempted.end());
      // Holds of earlier passes count for their jobs: they start on them.
      for (const Hold& h : s_.holds) {
        const Job* j = pending_job(h.for_job);
        if (!j || contains(started_, h.for_job)) continue;
        if (long* u = slot(*j, h.type)) *u += j->accel_count;
      }
      for (const RunningJob& r : s_.running) {
        long* u = slot(*r.job, r.type);
        if (u && !contains(preempted, r.job->id)) *u += r.job->accel_count;
      }
      for (const auto& [j, t] : taking) {
        long& u = *slot(*j, t);
        u += j->accel_count;
        const TypeQuota& q = shares.share_of(j->tenant).of(t);
        if (u > q.limit())
          add(ViolationKind::kOverQuota, j->id,
              "tenant '" + j->tenant + "' would hold " + std::to_string(u) + " x " + type_name(t) +
                  ", its limit is " + std::to_string(q.limit()));
      }
    }
    reclaims(shares);
    held_devices();
  }

  // Reclaim victims: borrowing (what their tenant started on the type before them, plus their
  // own, exceeds the guarantee - not counting the victims reclaimed before them in this pass:
  // a reclaimed gang may take its tenant below its guarantee), past the minimum run, of another
  // tenant.
  void reclaims(const TenantShares& shares) {
    bool any = false;
    for (const auto& p : d_.preemptions) any = any || p.reclaim;
    if (!any) return;
    std::vector<const RunningJob*> by_start;
    for (const RunningJob& r : s_.running) by_start.push_back(&r);
    const auto earlier = [](const RunningJob* a, const RunningJob* b) {
      return a->started != b->started ? a->started < b->started : a->job->id < b->job->id;
    };
    std::sort(by_start.begin(), by_start.end(), earlier);
    std::set<JobId> reclaimed;  // victims before this one
    for (const auto& p : d_.preemptions) {
      if (!p.reclaim) continue;
      const RunningJob* r = nullptr;
      for (const RunningJob* x : by_start)
        if (x->job->id == p.job) r = x;
      if (!r) continue;  // not running: reported by preemptions()
      long held = 0;     // what its tenant started on the type up to it, victims before it gone
      for (const RunningJob* x : by_start) {
        if (earlier(r, x)) break;
        if (x->type == r->type && x->job->tenant == r->job->tenant && !reclaimed.count(x->job->id))
          held += x->job->accel_count;
      }
      reclaimed.insert(p.job);
      if (held <= shares.share_of(r->job->tenant).of(r->type).guaranteed)
        add(ViolationKind::kProtectedVictim, p.job,
            "reclaimed but within tenant '" + r->job->tenant + "''s guarantee of " +
                type_name(r->type));
      if (now_ >= 0 && now_ - r->started < s_.params.min_run_ms)
        add(ViolationKind::kProtectedVictim, p.job, "reclaimed before its minimum run");
      const Job* for_job = pending_job(p.for_job);
      if (for_job && for_job->tenant == r->job->tenant)
        add(ViolationKind::kProtectedVictim, p.job,
            "reclaimed for job " + std::to_string(p.for_job) + " of its own tenant");
    }
  }

  // Devices held for a waiting job go to that job only.
  void held_devices() {
    if (s_.holds.empty() || d_.starts.empty()) return;
    for (const auto& st : d_.starts)
      for (const Hold& h : s_.holds) {
        if (h.for_job == st.job || !pending_job(h.for_job)) continue;
        for (const Slot& a : st.placement)
          for (const Slot& b : h.placement)
            if (a.node == b.node && (a.devices & b.devices))
              add(ViolationKind::kHeld, st.job,
                  devices_are(a.devices & b.devices, name(a.node),
                              "held for job " + std::to_string(h.for_job)));
      }
  }

  // Each preempted job must be running; its devices (the healthy ones of up nodes) and its CPU
  // and memory come back for this pass's starts.
  void preemptions() {
    if (d_.preemptions.empty()) return;
    std::vector<JobId> ids = take_vector<JobId>(s_.memory);
    for (const auto& p : d_.preemptions) ids.push_back(p.job);
    const std::vector<JobId> twice = repeated(ids);
    for (JobId id : twice) add(ViolationKind::kDecidedTwice, id, "preempted twice");
    std::vector<const RunningJob*> found = take_vector<const RunningJob*>(s_.memory);
    found.assign(ids.size(), nullptr);
    if (lookup_.running) {
      for (std::size_t i = 0; i < ids.size(); ++i) found[i] = lookup_.running(ids[i]);
    } else {
      for (const RunningJob& r : s_.running) {
        if (!r.job) continue;
        auto it = std::lower_bound(ids.begin(), ids.end(), r.job->id);
        if (it != ids.end() && *it == r.job->id && !found[it - ids.begin()])
          found[static_cast<std::size_t>(it - ids.begin())] = &r;
      }
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (i > 0 && ids[i] == ids[i - 1]) continue;  // preempted twice: reported, counted once
      if (!found[i] || !found[i]->job) {
        add(ViolationKind::kNotRunning, ids[i], "preempted but not running");
        continue;
      }
      const RunningJob& r = *found[i];
      for (const Slot& slot : r.placement) {
        if (slot.node >= c_.nodes.size()) continue;  // nothing to return
        Ledger& l = ledger(slot.node);
        const std::uint64_t back = slot.devices & l.exists;
        if (l.up) l.available |= back & l.healthy;
        l.cpu += device_count(back) * r.job->cpu_per_accel;
        l.mem += device_count(back) * r.job->mem_gib_per_accel;
      }
    }
    give_vectors(s_.memory, ids, found);
  }

  void start(std::size_t index) {
    const StartDecision& st = d_.starts[index];
    const JobId id = st.job;
    const Job* job = pending_job(id);
    if (!job) {
      add(ViolationKind::kNotPending, id, "started but not waiting");
      return;
    }
    if (contains(started_twice_, id)) {
      if (std::find(seen_twice_.begin(), seen_twice_.end(), id) != seen_twice_.end()) {
        add(ViolationKind::kDecidedTwice, id, "started twice");
        return;
      }
      seen_twice_.push_back(id);
    }
    if (!job->accepted.contains(st.type))
      add(ViolationKind::kRefusedType, id,
          "started on " + type_name(st.type) + ", which it refuses");
    if (st.placement.empty()) {
      add(ViolationKind::kWrongCount, id, "started on no device");
      return;
    }
    types_check(st);
    int total = 0;
    bool shape_known = true;
    for (std::size_t k = 0; k < st.placement.size(); ++k) {
      const Slot& slot = st.placement[k];
      if (slot.node >= c_.nodes.size()) {
        add(ViolationKind::kUnknownNode, id,
            "node id " + std::to_string(slot.node) + " is not in the cluster");
        shape_known = false;
        continue;
      }
      bool repeat = false;
      for (std::size_t j = 0; j < k; ++j) repeat = repeat || st.placement[j].node == slot.node;
      if (repeat) {
        add(ViolationKind::kDuplicateNode, id, "two slots on node " + name(slot.node));
        shape_known = false;
        continue;
      }
      total += device_count(slot.devices);
      devices_check(*job, index, slot);
    }
    if (total != job->accel_count) {
      add(ViolationKind::kWrongCount, id,
          "placed on " + std::to_string(total) + " devices, asks for " +
              std::to_string(job->accel_count));
    } else if (shape_known) {
      shape_check(*job, st);
    }
    constraints_check(*job, st);
  }

  // The gang's nodes are all of the decision's type.
  void types_check(const StartDecision& st) {
    if (std::all_of(st.placement.begin(), st.placement.end(), [&](const Slot& slot) {
          return slot.node >= c_.nodes.size() || c_.nodes[slot.node].type == st.type;
        }))
      return;
    std::vector<TypeId> types;
    for (const Slot& slot : st.placement)
      if (slot.node < c_.nodes.size() &&
          std::find(types.begin(), types.end(), c_.nodes[slot.node].type) == types.end())
        types.push_back(c_.nodes[slot.node].type);
    if (types.size() > 1) {
      std::string list;
      for (TypeId t : types) {
        append(list, ", ", type_name(t));
        list += " (";
        std::string on;
        for (const Slot& slot : st.placement)
          if (slot.node < c_.nodes.size() && c_.nodes[slot.node].type == t)
            append(on, " ", name(slot.node));
        list += on + ")";
      }
      add(ViolationKind::kMixedTypes, st.job, "gang on more than one type: " + list);
    } else if (types.size() == 1 && types.front() != st.type) {
      add(ViolationKind::kMixedTypes, st.job,
          "decided on " + type_name(st.type) + " but placed on " + type_name(types.front()));
    }
  }

  // The job that an earlier start of this pass gave `devices` of node n to.
  JobId holder(std::size_t before, NodeId n, std::uint64_t devices) const {
    for (std::size_t i = 0; i < before; ++i)
      for (const Slot& slot : d_.starts[i].placement)
        if (slot.node == n && (slot.devices & devices)) return d_.starts[i].job;
    return 0;
  }

  void devices_check(const Job& job, std::size_t index, const Slot& slot) {
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
    const std::uint64_t twice = real & l.given;
    for (std::uint64_t left = twice; left != 0;) {
      // One message per earlier job holding some of them.
      const JobId other = holder(index, n, left & (~left + 1));
      std::uint64_t theirs = 0;
      for (std::size_t i = 0; i < index; ++i)
        if (d_.starts[i].job == other)
          for (const Slot& s : d_.starts[i].placement)
            if (s.node == n) theirs |= s.devices & left;
      if (theirs == 0) theirs = left & (~left + 1);
      add(ViolationKind::kGivenTwice, id,
          devices_are(theirs, name(n), "also given to job " + std::to_string(other)));
      left &= ~theirs;
    }
    if (const std::uint64_t busy = real & l.healthy & ~l.available & ~twice; busy && l.up)
      add(ViolationKind::kBusy, id, devices_are(busy, name(n), "not free"));
    l.available &= ~real;
    l.given |= real;
    const int k = device_count(slot.devices);
    if (k * job.cpu_per_accel > l.cpu + 1e-6 || k * job.mem_gib_per_accel > l.mem + 1e-6)
      add(ViolationKind::kCpuMemory, id, "CPU or memory of node " + name(n) + " overbooked");
    l.cpu -= k * job.cpu_per_accel;
    l.mem -= k * job.mem_gib_per_accel;
  }

  void shape_check(const Job& job, const StartDecision& st) {
    const auto& max = c_.max_per_node_of_type;
    const auto shape = shape_for(job, st.type < max.size() ? max[st.type] : 0);
    // The sizes must be: shape->nodes slots of per_node, plus one of remainder.
    if (shape) {
      int mains = 0, rests = 0;
      for (const Slot& slot : st.placement) {
        const int k = device_count(slot.devices);
        mains += k == shape->per_node;
        rests += shape->remainder > 0 && k == shape->remainder;
      }
      if (mains == shape->nodes && static_cast<int>(st.placement.size()) == shape->node_count() &&
          (shape->remainder == 0 || rests == 1))
        return;
    }
    std::vector<int> sizes;
    for (const Slot& slot : st.placement) sizes.push_back(device_count(slot.devices));
    std::sort(sizes.begin(), sizes.end());
    std::string got;
    for (int k : sizes) append(got, "+", std::to_string(k));
    add(ViolationKind::kWrongShape, job.id,
        "devices per node " + got + " differ from its shape" +
            (shape ? " (" + std::to_string(shape->nodes) + " x " + std::to_string(shape->per_node) +
                         (shape->remainder ? " + " + std::to_string(shape->remainder) : "") + ")"
                   : std::string(" (none fits)")));
  }

  void constraints_check(const Job& job, const StartDecision& st) {
    if (!job.has_node_constraints()) return;
    auto in_gang = [&](NodeId n) {
      return std::any_of(st.placement.begin(), st.placement.end(),
                         [&](const Slot& s) { return s.node == n; });
    };
    // Linear searches: the check must not trust the job's sets to be sorted.
    for (NodeId n : job.required_nodes)
      if (!in_gang(n))
        add(ViolationKind::kRequiredMissing, job.id,
            "required node " + (n < c_.nodes.size() ? name(n) : "id " + std::to_string(n)) +
                " is not in the gang");
    for (const Slot& s : st.placement)
      if (s.node < c_.nodes.size() &&
          std::find(job.excluded_nodes.begin(), job.excluded_nodes.end(), s.node) !=
              job.excluded_nodes.end())
        add(ViolationKind::kExcludedUsed, job.id,
            "excluded node " + name(s.node) + " is in the gang");
  }

  void rejections() {
    if (d_.rejections.empty()) return;
    std::vector<JobId> ids;
    for (const auto& r : d_.rejections) ids.push_back(r.job);
    for (JobId id : repeated(ids)) add(ViolationKind::kDecidedTwice, id, "rejected twice");
    for (const RejectDecision& r : d_.rejections) {
      if (!pending_job(r.job))
        add(ViolationKind::kNotPending, r.job, "rejected but not waiting");
      else if (contains(started_, r.job))
        add(ViolationKind::kDecidedTwice, r.job, "started and rejected");
    }
  }

  static constexpr std::uint32_t kNoSlot = ~std::uint32_t{0};
  const Snapshot& s_;
  const Cluster& c_;
  const Decisions& d_;
  const JobLookup& lookup_;
  TimeMs now_;                                         // -1: unknown (no minimum-run check)
  std::vector<std::pair<JobId, const Job*>> pending_;  // sorted, without a lookup
  std::vector<JobId> started_;                         // sorted
  std::vector<JobId> started_twice_, seen_twice_;
  std::vector<std::uint32_t> slot_of_node_;  // by node id: index in ledgers_
  std::vector<Ledger> ledgers_;
  std::vector<Violation> out_;
};

}  // namespace

std::vector<Violation> find_violations(const Snapshot& s, const Decisions& d,
                                       const JobLookup& lookup, TimeMs now) {
  return Checker(s, d, lookup, now).run();
}

std::string describe(const std::vector<Violation>& violations) {
  std::string text;
  for (const Violation& v : violations) append(text, "; ", v.what);
  return text;
}

}  // namespace zs
