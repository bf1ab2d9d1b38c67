// Tenants' shares in the live controller (docs/tenants.md): the same core rules as `zs sim`.
// The controller gives each pass its tenant table, fair-share usage and the reclaims still in
// progress; reclaim victims are stopped with their checkpoint signal and the kill grace period,
// and their devices stay held until their agents confirm the processes are gone (as for every
// kill), so the job that reclaimed them starts in a later pass.
#include <cstdio>

#include "controller/controller.h"
#include "sched/free_pool.h"

namespace zs {

namespace {

// Price per accelerator-millisecond of `type` (1 per hour when there are no prices).
double rate_per_ms(const TenantShares& shares, TypeId type, int count) {
  return count * shares.price(type) / 3.6e6;
}

}  // namespace

void Controller::prepare_shares(Snapshot& snapshot, std::span<const RunningJob> running,
                                const std::map<std::string, NodeId>& id_of, TimeMs now) {
  const TenantShares& shares = *options_.shares;
  for (auto& [id, job] : pending_) job->sched.tenant_index = tenant_index(job->sched.tenant);
  for (auto& [id, job] : running_) job->sched.tenant_index = tenant_index(job->sched.tenant);
  for (std::size_t t = 0; t < tenant_views_.size(); ++t)
    tenant_views_[t].usage = fair_.usage(t, now);
  for (const RunningJob& r : running)
    tenant_views_[static_cast<std::size_t>(r.job->tenant_index)].usage += decayed_accrual(
        rate_per_ms(shares, r.type, r.job->accel_count), r.started, now, shares.half_life_ms);

  // Reclaims in progress: dropped once their job no longer waits, mapped to this pass's ids.
  std::erase_if(reclaim_holds_, [&](const ReclaimHold& h) { return !pending_.count(h.for_job); });
  pass_holds_.clear();
  for (const ReclaimHold& h : reclaim_holds_) {
    Hold hold{h.for_job, h.type, {}};
    bool known = true;
    for (const NodeAssignment& a : h.devices) {
      auto it = id_of.find(a.node);
      if (it == id_of.end()) {
        known = false;  // its node left: the hold is void, the job competes like any other
        break;
      }
      Slot slot{it->second, 0};
      for (int d : a.devices) slot.devices |= std::uint64_t{1} << d;
      hold.placement.push_back(slot);
    }
    if (known) pass_holds_.push_back(std::move(hold));
  }
  snapshot.shares = &shares;
  snapshot.tenants = tenant_views_;
  snapshot.holds = pass_holds_;
  snapshot.params.min_run_ms = shares.preemption.min_runtime_ms;
  // Victims keep their devices until their agents confirm they stopped: always a hold.
  snapshot.params.preempt_grace_ms = std::max<TimeMs>(options_.kill_grace_ms, 1);
}

// Tenants known so far keep their index (the fair-share ledger is indexed the same way).
std::int32_t Controller::tenant_index(const std::string& tenant) {
  auto [it, added] = tenant_ids_.emplace(tenant, static_cast<std::int32_t>(tenant_views_.size()));
  if (added) tenant_views_.push_back({&options_.shares->share_of(tenant), 0.0});
  return it->second;
}

void Controller::apply_share_decisions(const Decisions& d) {
  for (const Hold& h : d.holds) {
    ReclaimHold held{h.for_job, h.type, {}};
    for (const Slot& slot : h.placement) {
      NodeAssignment a;
      a.node = cluster_node_names_[slot.node];
      for (int dev = 0; dev < 64; ++dev)
        if ((slot.devices >> dev) & 1u) a.devices.push_back(dev);
      held.devices.push_back(std::move(a));
    }
    reclaim_holds_.push_back(std::move(held));
  }
  for (const WaitDecision& w : d.waits) {
    auto it = pending_.find(w.job);
    if (it == pending_.end() || w.reason >= d.wait_reasons.size()) continue;
    const std::string& why = d.wait_reasons[w.reason];
    if (it->second->rec.reason != why) it->second->rec.reason = why;
  }
}

void Controller::report_shortfall() {
  if (!options_.shares) return;
  std::string text;
  for (const auto& s : options_.shares->shortfalls(cluster_, catalog_))
    text += (text.empty() ? "" : "; ") + s;
  if (text == last_shortfall_) return;
  last_shortfall_ = text;
  if (text.empty())
    std::fprintf(stderr, "zs controller: the nodes up now hold every tenant's guarantee\n");
  else
    std::fprintf(stderr,
                 "zs controller: tenants' guarantees exceed the nodes up (until more join, "
                 "reclaim can only take back what is lent): %s\n",
                 text.c_str());
}

}  // namespace zs
