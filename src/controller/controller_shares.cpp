// Tenants' shares in the live controller (docs/tenants.md): the same core rules as `zs sim`.
// The controller gives each pass its tenant table, fair-share usage and the reclaims still in
// progress; reclaim victims are stopped with their checkpoint signal and the kill grace period,
// and their devices stay held until their agents confirm the processes are gone (as for every
// kill), so the job that reclaimed them starts in a later pass.
#include <cstdio>

#include "api/api_error.h"
#include "controller/controller.h"
#include "controller/durable_writer.h"
#include "core/input_error.h"
#include "sched/free_pool.h"
#include "sim/tenants_file.h"

namespace zs {

namespace {

// Price per accelerator-millisecond of `type` (1 per hour when there are no prices).
double rate_per_ms(const TenantShares& shares, TypeId type, int count) {
  return count * shares.price(type) / 3.6e6;
}

}  // namespace

TimeMs effective_kill_grace_ms(std::optional<TimeMs> flag, const TenantShares* shares) {
  if (flag) return *flag;
  if (shares) return std::min<TimeMs>(shares->preemption.grace_ms, 3'600'000);
  return ControllerOptions{}.kill_grace_ms;
}

namespace {

constexpr const char* kSharesKey = "tenants";  // Store settings key
constexpr const char* kStoredSource = "the stored tenants' shares";

}  // namespace

// At start-up: the shares stored by the last apply, with --tenants FILE applied over them (and
// stored, with the file's tenants created, when that changes anything).
void Controller::load_stored_shares() {
  std::shared_ptr<const TenantShares> shares;
  std::string stored_text;
  if (auto stored = store_->load_setting(kSharesKey)) {
    stored_text = *stored;
    // Written by this code from a parsed file: unreadable only if the store was tampered with
    // or a newer zs wrote it. Then the controller does not start (as for any unreadable record).
    try {
      shares = std::make_shared<TenantShares>(parse_tenants_yaml(*stored, kStoredSource, catalog_));
    } catch (const InputError& e) {
      throw StoreError(std::string("the stored tenants' shares are unreadable: ") + e.what());
    }
  }
  if (options_.shares) {
    auto applied = std::make_shared<TenantShares>(
        (shares ? *shares : TenantShares{}).apply(*options_.shares).shares);
    std::vector<std::string> names;
    for (const TenantShare& t : options_.shares->tenants) names.push_back(t.name);
    identities_->ensure_tenants(names);
    shares = std::move(applied);
    std::string text = tenants_yaml(*shares, catalog_);
    if (text != stored_text) {
      WriteBatch batch;
      batch.settings.emplace_back(kSharesKey, std::move(text));
      writer_->write(std::move(batch));
    }
  }
  options_.shares.reset();
  if (shares)
    use_shares(std::move(shares));
  else if (!options_.kill_grace_given)
    options_.kill_grace_ms = effective_kill_grace_ms(std::nullopt, nullptr);
}

void Controller::use_shares(std::shared_ptr<const TenantShares> shares) {
  const bool new_ledger = !options_.shares || options_.shares->half_life_ms != shares->half_life_ms;
  options_.shares = std::move(shares);
  // The tenant table keeps its indices (the ledger's); each entry points into the new shares.
  for (const auto& [name, index] : tenant_ids_)
    tenant_views_[static_cast<std::size_t>(index)].share = &options_.shares->share_of(name);
  if (new_ledger) {
    fair_ = FairShareLedger(options_.shares->half_life_ms);
    load_fair_share_history(now_ms());
  }
  if (!options_.kill_grace_given)
    options_.kill_grace_ms = effective_kill_grace_ms(std::nullopt, options_.shares.get());
  last_shortfall_.assign(1, '\n');  // no report looks like this: said again for the new guarantees
  pass_needed_ = true;
  wake_.notify_one();
}

Cluster Controller::known_capacity() const {
  Cluster known;
  known.accels_of_type.assign(catalog_.size(), 0);
  for (const auto& [name, node] : nodes_)
    if (auto type = catalog_.find(node.rec.accel_type); type && !node.rec.boot_id.empty())
      known.accels_of_type[*type] += node.rec.accel_count;
  return known;
}

SharesView Controller::shares() const {
  std::lock_guard lk(mu_);
  SharesView v;
  if (!options_.shares) return v;
  v.enabled = true;
  v.yaml = tenants_yaml(*options_.shares, catalog_);
  v.shortfall = options_.shares->shortfalls(cluster_, catalog_);
  return v;
}

ApplyResult Controller::apply_shares(const std::string& yaml, const std::string& source,
                                     bool dry_run) {
  const TenantShares file = parse_tenants_yaml(yaml, source, catalog_);
  std::lock_guard one_at_a_time(apply_mu_);
  std::unique_lock lk(mu_);
  const TenantShares::Applied applied =
      (options_.shares ? *options_.shares : TenantShares{}).apply(file);
  // Checked against every node the controller knows (up or not): a guarantee must be one the
  // cluster can hold. A controller started with --tenants before its nodes joined is the
  // exception (it reports the shortfall until they do).
  const Cluster known = known_capacity();
  if (auto shortfalls = applied.shares.shortfalls(known, catalog_); !shortfalls.empty()) {
    std::string text;
    for (const auto& s : shortfalls) text += (text.empty() ? "" : "; ") + s;
    throw InputError(source,
                     "the guarantees exceed the accelerators of the nodes this controller "
                     "knows: " +
                         text);
  }
  ApplyResult r;
  r.added = applied.added;
  r.changed = applied.changed;
  r.unchanged = applied.unchanged;
  r.settings_changed = applied.settings_changed;
  r.dry_run = dry_run;
  for (const auto& type : applied.shares.unpriced_types(known, catalog_))
    r.warnings.push_back(type + " has no price: its accelerator-hours cost 0");
  std::vector<std::string> names;
  for (const TenantShare& t : file.tenants) names.push_back(t.name);
  if (dry_run) {
    for (const auto& name : names)
      if (!identities_->tenant_exists(name)) r.created_tenants.push_back(name);
    return r;
  }
  // The tenants first (one batch), then the shares: a crash between leaves tenants without
  // their quotas, and applying the file again finishes the job.
  lk.unlock();
  r.created_tenants = identities_->ensure_tenants(names);
  lk.lock();
  auto next = std::make_shared<const TenantShares>(
      (options_.shares ? *options_.shares : TenantShares{}).apply(file).shares);
  WriteBatch batch;
  batch.settings.emplace_back(kSharesKey, tenants_yaml(*next, catalog_));
  auto ticket = writer_->enqueue(std::move(batch));
  lk.unlock();
  try {
    writer_->wait(ticket);
  } catch (const StoreError& e) {
    throw ApiError::unavailable(std::string("cannot persist the shares: ") + e.what());
  }
  lk.lock();
  use_shares(std::move(next));
  return r;
}

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
  if (std::erase_if(reclaim_holds_,
                    [&](const ReclaimHold& h) { return !pending_.count(h.for_job); }))
    store_reclaim_holds();
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
  if (!d.holds.empty()) store_reclaim_holds();
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
