// ShareGate from a driver's rows (Snapshot::running_by_start with StartRow::held) counts what
// each tenant holds, and which running jobs borrow, exactly as it does from the running jobs
// alone; a row of a tenant outside the table is counted the long way.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "core/accelerator.h"
#include "core/cluster.h"
#include "core/tenant_shares.h"
#include "sched/share_gate.h"

namespace zs {
namespace {

struct World {
  const Catalog& catalog = Catalog::builtin();
  TypeId v100 = *catalog.find("V100");
  Cluster cluster = build_cluster(parse_inline_cluster("4x8xV100"), catalog);
  TenantShares shares;
  std::vector<TenantView> views;
  std::vector<NodeState> nodes;
  std::vector<Job> jobs;
  std::vector<RunningJob> running;

  World() {
    TenantShare a, b;
    a.name = "a";
    a.quota.assign(catalog.size(), {});
    a.quota[v100] = {8, 16};
    b = a;
    b.name = "b";
    b.quota[v100] = {4, 8};
    shares.tenants = {a, b};
    shares.index();
    views = {TenantView{&shares.tenants[0]}, TenantView{&shares.tenants[1]}};
    nodes.resize(cluster.nodes.size());
    jobs.reserve(16);
  }
  // A running job of tenant index `tenant` (-1: not in the table) started at `started`.
  void run(JobId id, std::int32_t tenant, int count, TimeMs started) {
    Job j;
    j.id = id;
    j.tenant_index = tenant;
    j.accel_count = count;
    jobs.push_back(j);
    running.push_back(
        RunningJob{.job = &jobs.back(), .type = v100, .placement = {}, .started = started});
  }
  Snapshot snapshot() const {
    Snapshot s;
    s.cluster = &cluster;
    s.catalog = &catalog;
    s.nodes = nodes;
    s.running = running;
    s.shares = &shares;
    s.tenants = views;
    return s;
  }
  // The rows a driver keeps: (start, id) order, each with what its tenant holds up to it.
  std::vector<StartRow> rows() const {
    std::vector<StartRow> out;
    for (std::uint32_t i = 0; i < running.size(); ++i) {
      const RunningJob& r = running[i];
      out.push_back({i, r.job->tenant_index, r.job->accel_count, r.type, r.started});
    }
    std::sort(out.begin(), out.end(), [&](const StartRow& x, const StartRow& y) {
      return x.started != y.started ? x.started < y.started
                                    : running[x.index].job->id < running[y.index].job->id;
    });
    for (const StartRow& r : std::vector<StartRow>(out)) recount_held(out, r.tenant, r.type);
    return out;
  }
};

// Which running jobs borrow, and where a probe job of each tenant would stand.
std::vector<int> outlook(const Snapshot& s, const World& w) {
  const ShareGate gate(s);
  std::vector<int> out;
  for (std::uint32_t i = 0; i < s.running.size(); ++i) out.push_back(gate.running_borrowing(i));
  for (std::int32_t t : {0, 1, -1}) {
    Job probe;
    probe.tenant_index = t;
    probe.accel_count = 2;
    out.push_back(static_cast<int>(gate.standing(probe, w.v100)));
  }
  return out;
}

TEST(ShareGateRows, DriverRowsCountAsTheRunningJobsDo) {
  World w;
  // Not in start order in `running`: the rows map back by index.
  w.run(1, 0, 8, 0);   // a: holds exactly its 8, within
  w.run(5, 1, 4, 20);  // b: 2 + 4 = 6 of its 4, borrowing
  w.run(3, 0, 6, 10);  // a: 14, borrowing
  w.run(2, 1, 2, 5);   // b: 2, within
  w.run(4, 0, 2, 10);  // a: 16 (after job 3: same start, larger id), borrowing
  const Snapshot alone = w.snapshot();
  const std::vector<int> expected = outlook(alone, w);
  EXPECT_EQ(expected,
            (std::vector<int>{0, 1, 1, 0, 1, static_cast<int>(ShareGate::Standing::kBorrowing),
                              static_cast<int>(ShareGate::Standing::kBorrowing),
                              static_cast<int>(ShareGate::Standing::kOver)}));
  const std::vector<StartRow> rows = w.rows();
  Snapshot driven = alone;
  driven.running_by_start = rows;
  EXPECT_EQ(outlook(driven, w), expected);
}

TEST(ShareGateRows, ARowOfATenantOutsideTheTableIsCountedTheLongWay) {
  World w;
  w.run(1, 0, 4, 0);
  w.run(2, -1, 3, 1);  // no such tenant: no share, so borrowing
  w.run(3, 7, 1, 2);   // another unknown index, counted with the first
  w.run(4, 0, 6, 3);
  const Snapshot alone = w.snapshot();
  const std::vector<int> expected = outlook(alone, w);
  EXPECT_EQ(std::vector<int>(expected.begin(), expected.begin() + 4),
            (std::vector<int>{0, 1, 1, 1}));
  const std::vector<StartRow> rows = w.rows();
  Snapshot driven = alone;
  driven.running_by_start = rows;
  EXPECT_EQ(outlook(driven, w), expected);
}

// A driver that starts from many running jobs (a forecast's seed) counts every row at once.
TEST(ShareGateRows, RecountingAllRowsAtOnceGivesWhatRecountingEachKeyGives) {
  World w;
  w.run(1, 0, 8, 0);
  w.run(2, 1, 2, 5);
  w.run(3, -1, 3, 6);
  w.run(4, 0, 6, 10);
  w.run(5, 1, 4, 20);
  w.run(6, 0, 2, 21);
  std::vector<StartRow> each = w.rows(), all = each;
  for (StartRow& r : all) r.held = -1;
  recount_all_held(all);
  EXPECT_EQ(all, each);
  EXPECT_EQ(all.back().held, 16);  // job 6: tenant a's 8 + 6 + 2
}

}  // namespace
}  // namespace zs
