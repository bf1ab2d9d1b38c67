// The input of one scheduling pass: everything `decide` may look at, and nothing else.
//
// The controller builds it from the store, the simulator from its event state. Spans point
// into the caller's memory, so building a snapshot copies nothing per job.
#pragma once
#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "core/cluster.h"
#include "core/job.h"
#include "core/service_distribution.h"
#include "core/tenant_shares.h"
#include "core/throughput.h"
#include "core/time.h"

namespace zs {

class FreePool;
class KeyedIndex;
class LasIndex;
class LasRunning;
class GittinsRunning;
class ShareIndex;
class PassMemory;

// What a keyed preemptive policy (srtf, spf, gittins) orders its waiting jobs by
// (sched/wait_key.h), for a driver that keeps them in a KeyedIndex.
enum class WaitKey : std::uint8_t { kSrtf, kSpf, kGittins };

// One node's devices now. Usable = free & healthy, and nothing at all when the node is down.
struct NodeState {
  std::uint64_t free = 0;  // bit d set: device d holds no job
  std::uint64_t healthy = ~std::uint64_t{0};
  bool up = true;
  double free_cpu = 0;  // cores not held by jobs
  double free_mem_gib = 0;
  std::uint64_t usable() const { return up ? (free & healthy) : 0; }
};

// A job's devices on one node.
struct Slot {
  NodeId node = 0;
  std::uint64_t devices = 0;
  bool operator==(const Slot&) const = default;
};
using Placement = std::vector<Slot>;

struct RunningJob {
  const Job* job = nullptr;
  TypeId type = 0;
  // Job::accel_count, kept beside the run: preemptive passes read it for every running job on
  // every pass, and there the job's record is a cache miss. Drivers give it; -1: not given,
  // accels() reads the record.
  std::int32_t accel_count = -1;
  Placement placement;
  TimeMs started = 0;
  TimeMs expected_end = kNever;  // started + walltime limit: what a real scheduler knows
  TimeMs attained_accel_ms = 0;  // service so far, all runs, in accelerator-milliseconds
  TimeMs remaining_ms = -1;      // oracle only (simulation): true time left, -1 unknown
  TimeMs waited_ms = 0;          // how long it waited before this run started
  TimeMs previous_run_ms = 0;    // length of the run before that wait (0: first run)
  // When the driver's run-time predictor expects it to end (docs/prediction.md): started plus
  // the predicted run time, pushed later by the driver when the job outlives it, never past
  // expected_end. kNever: no prediction.
  TimeMs predicted_end = kNever;
  // What `gittins` ranks it by: the learned distribution of service of its group (see PendingJob).
  const ServiceDistribution::Ranks* service_ranks = nullptr;
};

// How many devices a running job holds (RunningJob::accel_count, else its record's).
inline int accels(const RunningJob& r) {
  return r.accel_count >= 0 ? r.accel_count : r.job->accel_count;
}

// A running job as tenants' shares count it (Snapshot::running_by_start): its index in
// Snapshot::running and the fields of its record that decide what it holds, kept together so
// that a pass walks them without reading every job's record.
struct StartRow {
  std::uint32_t index = 0;       // in Snapshot::running
  std::int32_t tenant = -1;      // Job::tenant_index
  std::int32_t accel_count = 0;  // Job::accel_count
  TypeId type = 0;               // RunningJob::type
  TimeMs started = 0;            // RunningJob::started
  // The devices of this type its tenant holds counting this job and every one before it: the
  // job borrows when that exceeds the tenant's guarantee (sched/share_gate.h).
  std::int32_t held = 0;
  bool operator==(const StartRow&) const = default;
};

// Sets StartRow::held of the rows of one tenant and type (rows in (started, id) order): what a
// driver that keeps the rows does when one of them starts or stops. O(rows).
inline void recount_held(std::span<StartRow> rows, std::int32_t tenant, TypeId type) {
  std::int32_t held = 0;
  for (StartRow& r : rows)
    if (r.tenant == tenant && r.type == type) r.held = held += r.accel_count;
}
// The same for every tenant and type at once (a driver that starts from many running jobs).
// O(rows log rows).
inline void recount_all_held(std::span<StartRow> rows) {
  std::vector<std::uint32_t> order(rows.size());
  for (std::uint32_t k = 0; k < order.size(); ++k) order[k] = k;
  // Grouped by (tenant, type), each group in row order.
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return std::pair{rows[a].tenant, rows[a].type} < std::pair{rows[b].tenant, rows[b].type};
  });
  std::int32_t held = 0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    StartRow& r = rows[order[k]];
    const bool first =
        k == 0 || rows[order[k - 1]].tenant != r.tenant || rows[order[k - 1]].type != r.type;
    r.held = held = (first ? 0 : held) + r.accel_count;
  }
}

// A tenant as a pass sees it (Snapshot::tenants, indexed by Job::tenant_index).
struct TenantView {
  const TenantShare* share = nullptr;  // TenantShares::share_of(name): never null
  double usage = 0;                    // billed usage, decayed to now (fair share)
  // Its jobs in Snapshot::pending, -1 when the driver does not count them. Lets a pass with
  // nothing free see at once that no waiting job can stand within a guarantee (and reclaim).
  std::int64_t waiting = -1;
};

// Devices held for a job that reclaimed them: its victims' devices (busy until they stop) and
// the free devices it will use with them. Only that job may start on them.
struct Hold {
  JobId for_job = 0;
  TypeId type = 0;
  Placement placement;
};

struct PendingJob {
  const Job* job = nullptr;
  TimeMs attained_accel_ms = 0;  // service received before a preemption
  TimeMs waiting_since = 0;      // submit time, or the time it was last preempted
  TimeMs last_run_ms = 0;        // length of the last run (0 if it never ran)
  TimeMs remaining_ms = -1;      // oracle only: run time left on its recorded type
  // Its predicted run time on its recorded type (what a predictor learned from the jobs that
  // ended before it was submitted, capped at its walltime); 0: no prediction.
  TimeMs predicted_ms = 0;
  // What `gittins` ranks it by: the distribution of service of the jobs of its group that have
  // ended, as the driver's predictor learns it (core/service_distribution.h), the group chosen
  // when it was submitted or requeued; the ranks go on learning. Null: no group had enough
  // history (gittins then ranks by attained service alone, as las).
  const ServiceDistribution::Ranks* service_ranks = nullptr;
};

// Policy tuning; defaults are what `zs sim` uses unless flags say otherwise.
struct SchedParams {
  // LAS queue thresholds in accelerator-seconds of attained service (Tiresias' 2D-LAS):
  // queue 0 below the first, queue 1 below the second, ...
  std::vector<double> las_thresholds_accel_s = {3600.0, 36000.0};
  // A demoted job waiting longer than promote_factor x its last run is promoted to queue 0.
  // 4: the best of 2, 4 and 8 over the shipped traces (docs/benchmarks.md); 2 let long jobs
  // back into queue 0 so often that they crowded out the short ones (Philly: 3x the JCT).
  double las_promote_factor = 4.0;
  // spf: a job's key is when it started waiting plus this many times its predicted remaining
  // time. Larger: closer to shortest-first; smaller: closer to first-come. A job waits at most
  // about this many times its own predicted run behind jobs that arrived before it. gittins
  // weighs its Gittins rank (expected service per completion) the same way.
  double spf_size_weight = 16.0;
  // Starvation guard (las): a job waiting this long joins queue 0 whatever its last run, and may
  // then preempt the jobs of lower queues (not every job: it no longer outranks queue 0).
  TimeMs starvation_ms = 48LL * 3600 * 1000;
  // Preemptive policies never preempt a job that has run less than this in its current run:
  // without it, promotion and demotion can hand the same devices back and forth every few
  // milliseconds (each hand-over costing the restart time).
  TimeMs min_run_ms = 5LL * 60 * 1000;
  // How long a reclaim victim keeps its devices after it is told to stop (its grace period).
  // 0: they are free at once and the reclaiming job starts in the same pass; otherwise the
  // pass records a Hold and the job starts once the driver has seen the victims stop.
  TimeMs preempt_grace_ms = 0;
};

struct Snapshot {
  const Cluster* cluster = nullptr;
  const Catalog* catalog = nullptr;
  const ThroughputTable* throughput = nullptr;  // optional: speeds for `hetero`
  std::span<const NodeState> nodes;             // indexed by NodeId
  std::span<const RunningJob> running;
  // Waiting jobs in (submit, id) order: the caller keeps them so (cheap for it), and policies
  // rely on it to avoid sorting thousands of jobs on every pass. Exception: with a las_index
  // or keyed_index that describes them, they may be in any order (the index has the order).
  std::span<const PendingJob> pending;
  // Optional, a driver's promise: `pending` is in (submit, id) order and every job in it has the
  // same priority, so it is in (priority desc, submit, id) order too. A policy then need not
  // check either on every pass - checks that cost O(waiting jobs) on every event of a long
  // replay. False: policies check.
  bool pending_in_priority_order = false;
  SchedParams params;
  // Optional: the same waiting jobs by LAS class, kept by the driver from pass to pass (see
  // sched/las_index.h) for a policy whose uses_las_index() is true. `las` builds one from
  // `pending` when this is null or does not describe the snapshot.
  const LasIndex* las_index = nullptr;
  // Optional: what a `las` pass needs of the running jobs (their queues, victims and wakes),
  // kept by the driver from pass to pass (sched/las_running.h). `las` ranks every running job
  // itself when this is null or does not describe the snapshot.
  const LasRunning* las_running = nullptr;
  // Optional: each running job's `gittins` key and what a pass reads with it, kept by the
  // driver from pass to pass (sched/gittins_running.h). `gittins` works every key out itself
  // when this is null or does not describe the snapshot.
  const GittinsRunning* gittins_running = nullptr;
  // Optional: the same waiting jobs in key order, kept by the driver from pass to pass (see
  // sched/keyed_index.h) for a policy whose keyed_by() names a key (srtf, spf, gittins). The
  // policy computes and sorts every key itself when this is null or does not describe the
  // snapshot. With one that describes them, `pending` may be in any order.
  // Under shares, with a share_index, the driver files the jobs of both by share group
  // (LasIndex::next_in, KeyedIndex::part) and keeps `pending` in (submit, id) order: the share
  // pass merges each tenant's groups in the policy's order instead of ranking every job.
  const KeyedIndex* keyed_index = nullptr;
  // Tenants' shares (sched/share_gate.h): null means no tenant rules. With shares, every job's
  // tenant_index indexes `tenants`; `holds` are the reclaims still in progress, and reclaim
  // victims stop after `shares->preemption.grace_ms` (the driver holds their devices meanwhile).
  const TenantShares* shares = nullptr;
  std::span<const TenantView> tenants;
  std::span<const Hold> holds;
  // Optional, with shares: the waiting jobs by tenant and request, kept by the driver from pass
  // to pass (sched/share_index.h), and the index rank of each entry of `pending` (ascending).
  // Used when every waiting job has the same priority (pending_in_priority_order): policies then
  // classify groups instead of jobs, and may tell whole groups that they wait
  // (Decisions::group_waits) - a driver that gives an index must read those. Null (the
  // controller, tests): every job is classified and waits are said one by one.
  const ShareIndex* share_index = nullptr;
  std::span<const std::uint32_t> pending_ranks;
  // Optional, a driver's promise: the running jobs in (started, job id) order, each with the
  // fields tenants' shares count it by (StartRow; the indices a permutation of `running`).
  // Saves sorting them and reading every job's record on every pass under shares. Empty: sorted.
  std::span<const StartRow> running_by_start;
  // Optional, a driver's promise: a pool equal to FreePool(*cluster, nodes), kept from pass to
  // pass (FreePool::refresh). A pass copies it instead of indexing every node again. Null: built.
  const FreePool* free_pool = nullptr;
  // Optional, a driver's promise: the indices of `running` in (expected_end, job id) order (a
  // permutation). A blocked job's reservation then walks the ends in order instead of heaping
  // every running job on every pass. Empty: they are ordered where needed.
  std::span<const std::uint32_t> running_by_end;
  // Optional, the same by (predicted_end, or expected_end when there is no prediction, id): what
  // a reservation walks when it plans with predictions (easy-pred).
  std::span<const std::uint32_t> running_by_predicted_end;
  // Optional, a driver's promise: parallel to `running`, a number per job, unique among them,
  // that orders them like (submit, job id). Victims are ordered by it without reading every
  // job's record. Empty: they are ordered by their records.
  std::span<const std::uint32_t> running_submit_ranks;
  // Optional: buffers the driver lends to its passes (sched/pass_memory.h), kept from pass to
  // pass. Decisions are the same without. A driver that lends one promises that `cluster`,
  // `catalog`, `throughput` and `shares` stay the same while it lives.
  PassMemory* memory = nullptr;
};

}  // namespace zs
