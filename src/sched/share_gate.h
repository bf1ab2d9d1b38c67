// ShareGate: tenants' shares during one scheduling pass (docs/tenants.md).
//
// A job stands *within guarantee* on a type when its tenant's devices of that type plus the job
// fit the guarantee, *borrowing* when they fit guaranteed + borrow, and *over* its limit
// otherwise. Jobs within guarantee are offered before borrowing ones; inside each group by
// explicit priority, then fair share, then the policy's own order. Borrowing jobs use only
// capacity that no waiting job within guarantee needs, and never preempt. A running job is
// borrowing when the devices its tenant started on that type before it, plus its own, exceed
// the guarantee: those, most recent first, are what reclaim may take back.
//
// Without shares (Snapshot::shares null) every job stands within guarantee and nothing is
// counted: the policies behave exactly as before.
#pragma once
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sched/decision.h"
#include "sched/free_pool.h"
#include "sched/index_list.h"
#include "sched/snapshot.h"

namespace zs {

class ShareIndex;

class ShareGate {
 public:
  enum class Standing : std::uint8_t { kWithin, kBorrowing, kOver };

  explicit ShareGate(const Snapshot& s);
  ShareGate(const ShareGate&) = delete;  // it points into itself (in_start_order_)
  ShareGate& operator=(const ShareGate&) = delete;
  bool active() const { return active_; }

  // Where `job` would stand on type t if it started now (counting this pass's starts).
  Standing standing(const Job& job, TypeId t) const;
  // The job's standing on the only type of the cluster it accepts; nullopt when it accepts
  // several or none (then its request decides which it can ever fit on).
  std::optional<Standing> sole_standing(const Job& job) const;
  // The best standing over `types` (kOver when empty).
  Standing best(const Job& job, const std::vector<TypeId>& types) const;
  // `types` narrowed to those where the job stands exactly `want`.
  void filter(const Job& job, const std::vector<TypeId>& types, Standing want,
              std::vector<TypeId>& out) const;

  // A waiting job's place in the order.
  struct OrderKey {
    std::int64_t neg_priority;
    std::uint32_t tenant_rank;
    std::int64_t rank;
    std::uint32_t index;  // in Snapshot::pending
    std::uint32_t seq;    // in (submit, id) order
    bool operator<(const OrderKey& o) const {
      if (neg_priority != o.neg_priority) return neg_priority < o.neg_priority;
      if (tenant_rank != o.tenant_rank) return tenant_rank < o.tenant_rank;
      if (rank != o.rank) return rank < o.rank;
      return seq < o.seq;
    }
  };
  class Order {
   public:
    IndexList within;
    int min_count = 0;  // the fewest devices a job in either list asks for
    // Sorted when first asked for: a pass often ends before it gets to the borrowing jobs.
    const IndexList& borrowing();

   private:
    friend class ShareGate;
    std::vector<OrderKey> borrowing_keys_;
    std::uint32_t tenants_ = 0;
    bool sorted_ = true;
    IndexList borrowing_;
  };
  // The waiting jobs in the order to offer them (indices into Snapshot::pending): first those
  // within guarantee on some type, then the borrowing ones, each group by (priority desc, fair
  // share desc, `rank`, position in `pending`). `rank` is the policy's own order inside that
  // (e.g. las's class); empty: none. Jobs over their limit on every type are left out and get
  // a wait reason in `d`. Inactive: priority order, as before. `within_only`: the borrowing
  // jobs are not needed (nothing is free: only reclaim can start a job) and left out.
  Order order(const std::vector<std::int64_t>& rank, Decisions& d, bool within_only = false);

  // Lists of groups, one per tenant of GroupOrder::tenants, in one vector (a pass builds them).
  struct GroupLists {
    std::vector<std::uint32_t> groups;
    std::vector<std::uint32_t> from;  // list k: groups[from[k], from[k + 1])
    std::size_t size() const { return from.empty() ? 0 : from.size() - 1; }
    std::span<const std::uint32_t> operator[](std::size_t k) const {
      return std::span(groups).subspan(from[k], from[k + 1] - from[k]);
    }
  };
  // With a driver's ShareIndex (Snapshot::share_index): the same classification by group. Every
  // job of a group stands the same, so each group is classified once; groups over their limit
  // everywhere get their wait (Decisions::group_waits) as order() gives it to each of their jobs.
  struct GroupOrder {
    // Gate tenants in order (fair share), and for each its groups within guarantee / borrowing.
    std::vector<std::uint32_t> tenants;
    GroupLists within, borrowing;
    int min_count = std::numeric_limits<int>::max();
    bool any_within = false;  // some waiting job stands within guarantee (order().within non-empty)
  };
  GroupOrder group_order(const ShareIndex& index, Decisions& d, bool within_only) const;
  // The tenant table's index of a job (the last entry for jobs of unknown tenants).
  std::size_t tenant_of(const Job& job) const { return tenant(job); }
  // The only type of the cluster `job` accepts, nullopt when it accepts several or none.
  std::optional<TypeId> sole_type(const Job& job) const;
  // Whether the tenant of `job` may hold any number of devices of type t.
  bool unlimited(const Job& job, TypeId t) const;

  // A job started on type t in this pass / a running job (of Snapshot::running) was preempted
  // in this pass. A release may leave later jobs of its tenant on that type within guarantee:
  // they are no longer running_borrowing().
  void started(const Job& job, TypeId t);
  void released(const RunningJob& r);

  // A job within guarantee waits: its tenant's remaining guarantee of these types stays free
  // for it (borrowing jobs may not take it).
  void needs(const Job& job, const std::vector<TypeId>& types);
  // Whether a borrowing job of n devices of type t may start with `pool`'s free devices.
  bool may_borrow(const FreePool& pool, TypeId t, int n);
  // False when no job asking for at least `min_count` devices may borrow on any type, and none
  // borrowing at the start of the pass can stand within guarantee now (nothing was released).
  // Stays false as the pass goes on: starts shrink the free devices at least as much as what
  // is held back for guarantees. O(types).
  bool some_may_borrow(const FreePool& pool, int min_count) const;

  // The running jobs in (started, id) order, as shares count them.
  std::span<const StartRow> in_start_order() const { return in_start_order_; }
  // Running job i (Snapshot::running) is borrowing, counting this pass's releases: reclaim may
  // take it back.
  bool running_borrowing(std::uint32_t i) const {
    return active_ && i < running_borrowing_.size() && running_borrowing_[i];
  }
  // Devices of running borrowing jobs that have run at least `min_run` by `now` (what reclaim
  // could take now), and the earliest time a younger one comes of age (kNever if none).
  struct ReclaimOutlook {
    long devices = 0;
    TimeMs next = kNever;
  };
  ReclaimOutlook reclaim_outlook(TimeMs now, TimeMs min_run) const;
  // The start of a pass under shares: what reclaim could take now, when the next borrowing job
  // comes of age, and whether anything can start at all (with nothing free, only a job within
  // guarantee can, by reclaiming). When nothing can, `d.wake_at` says when a pass is due.
  struct PassStart {
    bool can_start = true;
    long reclaimable = 0;
    TimeMs next_of_age = kNever;
  };
  PassStart pass_start(TimeMs now, Decisions& d) const;
  // Whether some waiting job stands within guarantee on a type it accepts.
  bool any_within() const;
  // False when no waiting job can stand within a guarantee: no tenant with waiting jobs (or
  // uncounted ones, TenantView::waiting -1) has guaranteed devices it does not use. O(tenants).
  bool may_have_within() const;
  // The fair-share factor of a tenant (1 when inactive).
  double factor(const Job& job) const;
  // Why a job that is over its limit on every accepted type waits.
  std::string over_reason(const Job& job, const std::vector<TypeId>& types) const;

 private:
  std::size_t tenant(const Job& job) const { return tenant_at(job.tenant_index); }
  std::size_t tenant_at(std::int32_t tenant_index) const;
  // The constructor's count of what each tenant holds from the driver's StartRow::held; false
  // (nothing counted) when a row's tenant is not in the table.
  bool count_from_held();
  // The job's best standing over the types of the cluster it accepts (kOver if none), and the
  // slot of the first of those types (-1 if none): what order() and group_order() classify by.
  Standing best_accepted(const Job& job, int& first_slot) const;
  // Rank of each tenant by fair-share factor, best first (ties: tenant index).
  std::vector<std::uint32_t> tenant_ranks() const;
  int type_slot(TypeId t) const { return t < slot_of_type_.size() ? slot_of_type_[t] : -1; }
  int& used(std::size_t tenant, int slot) { return used_[tenant * types_ + slot]; }
  int used(std::size_t tenant, int slot) const { return used_[tenant * types_ + slot]; }
  // Guaranteed devices no job of the tenant uses yet, but a waiting job within guarantee needs.
  int held_back(std::size_t tenant, int slot) const;

  const Snapshot& s_;
  bool active_ = false;
  std::size_t tenants_ = 0;        // Snapshot::tenants.size() + 1 (the last: unknown tenants)
  std::size_t types_ = 0;          // types present in the cluster
  std::vector<int> slot_of_type_;  // TypeId -> slot, -1 when absent
  std::vector<TypeId> type_of_slot_;
  std::vector<int> used_;  // tenant x slot: devices held
  // tenant x slot: the quota's guaranteed devices and limit, -1 for a tenant without a share
  // (standing() runs for every waiting job on every pass: no pointer chasing).
  std::vector<int> guaranteed_, limit_;
  std::vector<int> unmet_;            // tenant x slot: devices waiting jobs within guarantee need
  std::vector<int> held_;             // by slot: sum over tenants of held_back
  std::vector<std::uint32_t> needy_;  // tenants with some unmet demand
  std::vector<double> factor_;        // by tenant
  std::vector<std::uint8_t> running_borrowing_;  // by running index (bytes: set on every pass)
  // The running jobs by (start, id): the driver's (Snapshot::running_by_start) or by_start_.
  std::vector<StartRow> by_start_;
  std::span<const StartRow> in_start_order_;
  std::vector<bool> gone_;  // by running index: released in this pass (made on the first)
  bool released_ = false;   // released() was called: a tenant's standing may have improved
};

}  // namespace zs
