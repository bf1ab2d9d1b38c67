// KeyedIndex (sched/keyed_index.h): the waiting jobs of srtf, spf and gittins in key order, kept
// by the simulator from pass to pass. The index itself (order, erase, re-keying when a group's
// Gittins ranks are refreshed, describes()), and the policies deciding every pass of random
// worlds the same with and without it, and whole replays ending the same.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "core/service_distribution.h"
#include "decision_text.h"
#include "sched/keyed_index.h"
#include "sched/policy.h"
#include "sched/share_index.h"
#include "sched/wait_key.h"
#include "sim/simulator.h"
#include "sim/synthetic.h"

namespace zs {
namespace {

std::vector<KeyedIndex::Item> items(const KeyedIndex& index) {
  return {index.begin(), index.end()};
}

Snapshot snapshot_of(std::span<const PendingJob> pending, const SchedParams& params) {
  Snapshot s;
  s.pending = pending;
  s.params = params;
  return s;
}

TEST(KeyedIndex, KeepsKeyThenRankOrderThroughInsertsAndErases) {
  std::vector<Job> jobs(6);
  for (std::size_t i = 0; i < jobs.size(); ++i) jobs[i].id = static_cast<JobId>(10 + i);
  const TimeMs remaining[] = {500, 100, 500, kNever, 100, 300};
  std::vector<PendingJob> pending;
  SchedParams params;
  KeyedIndex index(WaitKey::kSrtf, params);
  for (std::uint32_t r = 0; r < jobs.size(); ++r) {
    PendingJob p{&jobs[r]};
    p.remaining_ms = r == 3 ? -1 : remaining[r];  // unknown: last
    pending.push_back(p);
    index.insert(r, p);
  }
  using I = KeyedIndex::Item;
  EXPECT_EQ(items(index),
            (std::vector<I>{{100, 1}, {100, 4}, {300, 5}, {500, 0}, {500, 2}, {kNever, 3}}));
  EXPECT_EQ(index.job(4).job, &jobs[4]);
  EXPECT_EQ(index.key_of(5), 300);
  index.erase(1);
  index.erase(2);
  EXPECT_EQ(items(index), (std::vector<I>{{100, 4}, {300, 5}, {500, 0}, {kNever, 3}}));
  // A job back in the queue gets its key again (here a shorter remaining time).
  pending[2].remaining_ms = 50;
  index.insert(2, pending[2]);
  EXPECT_EQ(items(index).front(), (I{50, 2}));
  EXPECT_EQ(index.size(), 5u);
  EXPECT_THROW(index.insert(2, pending[2]), std::logic_error);
  EXPECT_THROW(index.erase(1), std::logic_error);
}

// Under tenants' shares the simulator files each job under its share group: each part is in
// key order on its own, and describes_groups() holds only while every group's size matches.
TEST(KeyedIndex, PartsKeepTheirOwnOrderAndMatchTheShareGroups) {
  std::vector<Job> jobs(6);
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    jobs[i].id = static_cast<JobId>(10 + i);
    jobs[i].accel_count = i % 2 ? 1 : 4;  // two share groups: by device count
  }
  const TimeMs remaining[] = {500, 100, 300, 200, 50, 400};
  SchedParams params;
  KeyedIndex index(WaitKey::kSrtf, params);
  ShareIndex groups;
  std::vector<PendingJob> pending;
  for (std::uint32_t r = 0; r < jobs.size(); ++r) {
    PendingJob p{&jobs[r]};
    p.remaining_ms = remaining[r];
    pending.push_back(p);
    groups.insert(r, p);
    index.insert(r, p, groups.group_of(r));
  }
  using I = KeyedIndex::Item;
  const std::uint32_t four = groups.group_of(0), one = groups.group_of(1);
  ASSERT_NE(four, one);
  EXPECT_EQ(std::vector<I>(index.part(four).begin(), index.part(four).end()),
            (std::vector<I>{{50, 4}, {300, 2}, {500, 0}}));
  EXPECT_EQ(std::vector<I>(index.part(one).begin(), index.part(one).end()),
            (std::vector<I>{{100, 1}, {200, 3}, {400, 5}}));
  EXPECT_TRUE(index.part(7).empty());
  EXPECT_EQ(index.size(), 6u);
  EXPECT_TRUE(index.describes_groups(groups));
  // A job that leaves one but not the other breaks the promise.
  groups.erase(3);
  EXPECT_FALSE(index.describes_groups(groups));
  index.erase(3);
  EXPECT_TRUE(index.describes_groups(groups));
  EXPECT_EQ(index.part(one).size(), 2u);
  EXPECT_TRUE(index.describes(snapshot_of(std::span(pending).first(5), params), WaitKey::kSrtf));
}

TEST(KeyedIndex, KeysAreThePoliciesKeys) {
  std::vector<Job> jobs(40);
  Rng rng(7);
  SchedParams params;
  params.spf_size_weight = 2.5;  // not whole: the rounded path
  for (WaitKey key : {WaitKey::kSrtf, WaitKey::kSpf, WaitKey::kGittins}) {
    KeyedIndex index(key, params);
    std::vector<PendingJob> pending;
    for (std::uint32_t r = 0; r < jobs.size(); ++r) {
      jobs[r].id = r;
      jobs[r].accel_count = 1 + static_cast<int>(rng.below(8));
      jobs[r].walltime = rng.below(2) ? static_cast<TimeMs>(rng.below(100'000)) : 0;
      PendingJob p{&jobs[r]};
      p.waiting_since = static_cast<TimeMs>(rng.below(1'000'000));
      p.attained_accel_ms =
          static_cast<TimeMs>(rng.below(3)) * static_cast<TimeMs>(rng.below(100'000'000));
      p.predicted_ms = static_cast<TimeMs>(rng.below(50'000));
      p.remaining_ms = static_cast<TimeMs>(rng.below(90'000));
      pending.push_back(p);
      index.insert(r, p);
    }
    std::vector<KeyedIndex::Item> want;
    for (std::uint32_t r = 0; r < pending.size(); ++r)
      want.push_back({wait_key::of(key, params, pending[r]), r});
    std::sort(want.begin(), want.end());
    EXPECT_EQ(items(index), want);
    EXPECT_TRUE(index.describes(snapshot_of(pending, params), key));
  }
}

TEST(KeyedIndex, DescribesOnlyTheSameKeyWeightAndQueue) {
  std::vector<Job> jobs(3);
  std::vector<PendingJob> pending;
  SchedParams params;
  KeyedIndex index(WaitKey::kSpf, params);
  for (std::uint32_t r = 0; r < jobs.size(); ++r) {
    pending.push_back(PendingJob{&jobs[r]});
    index.insert(r, pending.back());
  }
  EXPECT_TRUE(index.describes(snapshot_of(pending, params), WaitKey::kSpf));
  EXPECT_FALSE(index.describes(snapshot_of(pending, params), WaitKey::kGittins));
  EXPECT_FALSE(index.describes(snapshot_of(std::span(pending).first(2), params), WaitKey::kSpf));
  SchedParams other = params;
  other.spf_size_weight = 4;
  EXPECT_FALSE(index.describes(snapshot_of(pending, other), WaitKey::kSpf));
}

// A group's ranks learn from the jobs that end; the jobs waiting with them are re-keyed by
// refresh(), and only then does the index describe the queue again.
TEST(KeyedIndex, GittinsJobsAreReKeyedWhenTheirGroupLearns) {
  ServiceDistribution sd;
  Job ended;
  ended.user = "u";
  ended.tenant = "t";
  ended.accel_count = 1;
  for (int k = 0; k < 16; ++k) sd.observe(ended, 60'000);  // short jobs: short ranks
  const ServiceDistribution::Ranks* ranks = sd.ranks_for(ended);
  ASSERT_NE(ranks, nullptr);
  std::vector<Job> jobs(8, ended);
  SchedParams params;
  KeyedIndex index(WaitKey::kGittins, params);
  std::vector<PendingJob> pending;
  for (std::uint32_t r = 0; r < jobs.size(); ++r) {
    jobs[r].id = r;
    PendingJob p{&jobs[r]};
    p.waiting_since = 1000 * (7 - r);
    p.attained_accel_ms = r % 2 ? 120'000 : 0;  // some outlived the short jobs
    p.service_ranks = r < 6 ? ranks : nullptr;
    pending.push_back(p);
    index.insert(r, p);
  }
  index.erase(5);
  pending.erase(pending.begin() + 5);
  const auto keys = [&] {
    std::vector<KeyedIndex::Item> want;
    for (const PendingJob& p : pending)
      want.push_back(
          {wait_key::of(WaitKey::kGittins, params, p), static_cast<std::uint32_t>(p.job->id)});
    std::sort(want.begin(), want.end());
    return want;
  };
  EXPECT_EQ(items(index), keys());
  const auto before = items(index);
  const std::uint32_t version = ranks->version;
  // Long jobs end: the group's ranks change (for those past the short jobs most).
  for (int k = 0; k < 40; ++k) sd.observe(ended, 40'000'000);
  ASSERT_NE(ranks->version, version);
  EXPECT_FALSE(index.describes(snapshot_of(pending, params), WaitKey::kGittins));
  ASSERT_NE(keys(), before);  // else the test shows nothing
  index.refresh();
  EXPECT_TRUE(index.describes(snapshot_of(pending, params), WaitKey::kGittins));
  EXPECT_EQ(items(index), keys());
  // A job joining a group whose other members are not re-keyed yet is keyed with the new
  // ranks, and the others are re-keyed at the next refresh all the same.
  for (int k = 0; k < 40; ++k) sd.observe(ended, 1'000);
  PendingJob late{&jobs[5]};
  late.attained_accel_ms = 120'000;
  late.service_ranks = ranks;
  index.insert(5, late);
  pending.push_back(late);
  EXPECT_FALSE(index.describes(snapshot_of(pending, params), WaitKey::kGittins));
  index.refresh();
  EXPECT_EQ(items(index), keys());
  // Every member leaving and one coming back: the group starts from the ranks as they are.
  for (std::uint32_t r : {0u, 1u, 2u, 3u, 4u, 5u}) index.erase(r);
  for (int k = 0; k < 40; ++k) sd.observe(ended, 3'000'000);
  index.insert(1, pending[1]);
  EXPECT_EQ(index.key_of(1), wait_key::of(WaitKey::kGittins, params, pending[1]));
  EXPECT_TRUE(index.describes(snapshot_of(std::span(pending).first(3), params), WaitKey::kGittins));
}

// --- The policies with and without the simulator's index -------------------------------------

const Catalog& catalog() {
  return Catalog::builtin();
}

// Decides each pass with the driver's index and again without it (on the same jobs in
// (submit, id) order), and counts the passes where they differ, and the driver's gittins keys
// that had to be re-keyed (a group learned while its jobs waited).
class WithAndWithout : public Policy {
 public:
  explicit WithAndWithout(std::unique_ptr<Policy> inner) : inner_(std::move(inner)) {}
  std::string_view name() const override { return inner_->name(); }
  bool needs_oracle() const override { return inner_->needs_oracle(); }
  bool reads_walltimes() const override { return inner_->reads_walltimes(); }
  bool preemptive() const override { return inner_->preemptive(); }
  std::optional<WaitKey> keyed_by() const override { return inner_->keyed_by(); }

  Decisions decide(const Snapshot& s, TimeMs now) const override {
    ++passes;
    if (!s.keyed_index || !s.keyed_index->describes(s, *keyed_by())) ++not_described;
    Decisions d = inner_->decide(s, now);
    const std::vector<PendingJob> sorted = test::in_submit_order(s.pending);
    Snapshot plain = s;
    plain.keyed_index = nullptr;
    plain.pending = sorted;
    // The index's order is the order the policy sorts into: keys and (submit, id) ties.
    if (s.keyed_index) {
      for (const KeyedIndex::Item& item : *s.keyed_index) {
        const PendingJob& p = s.keyed_index->job(item.rank);
        if (item.key != wait_key::of(*keyed_by(), s.params, p)) ++wrong_keys;
      }
      rekeyed = s.keyed_index->rekeyed();
    }
    const std::string a = test::describe_decisions(d, nullptr),
                      b = test::describe_decisions(inner_->decide(plain, now), nullptr);
    if (a != b && differing++ == 0)
      first_difference = "t=" + std::to_string(now) + "\n" + a + "vs\n" + b;
    return d;
  }

  mutable long passes = 0, not_described = 0, differing = 0, wrong_keys = 0;
  mutable std::size_t rekeyed = 0;
  mutable std::string first_difference;

 private:
  std::unique_ptr<Policy> inner_;
};

// Hides the policy's key: the simulator keeps no index, every pass sorts.
class WithoutIndex : public Policy {
 public:
  explicit WithoutIndex(std::unique_ptr<Policy> inner) : inner_(std::move(inner)) {}
  std::string_view name() const override { return inner_->name(); }
  bool needs_oracle() const override { return inner_->needs_oracle(); }
  bool reads_walltimes() const override { return inner_->reads_walltimes(); }
  bool preemptive() const override { return inner_->preemptive(); }
  Decisions decide(const Snapshot& s, TimeMs now) const override { return inner_->decide(s, now); }

 private:
  std::unique_ptr<Policy> inner_;
};

const char* const kTypes[] = {"V100", "K80"};

struct World {
  Cluster cluster;
  std::vector<Job> jobs;
};

// A small cluster and a queue that builds up, with few users and names so that groups learn
// (16 ended jobs make a group's ranks, then each eighth more refreshes them) while jobs of
// theirs wait; equal keys (srtf remaining times, submits) are common.
World random_world(std::uint64_t seed) {
  Rng rng(seed);
  World w;
  std::vector<NodeGroupSpec> groups;
  const int n_groups = 1 + static_cast<int>(rng.below(2));
  for (int g = 0; g < n_groups; ++g) {
    NodeGroupSpec s;
    s.accel_type = kTypes[g];
    s.accel_count = rng.below(2) ? 4 : 8;
    s.count = 1 + static_cast<int>(rng.below(3));
    s.where = "group " + std::to_string(g);
    groups.push_back(s);
  }
  w.cluster = build_cluster(groups, catalog(), "random");
  const int n = 80 + static_cast<int>(rng.below(120));
  const char* const users[] = {"ann", "bob", "cy", ""};
  const char* const names[] = {"train", "eval", ""};
  for (int i = 0; i < n; ++i) {
    Job j;
    j.id = static_cast<JobId>(9000 - 7 * i);
    j.submit = static_cast<TimeMs>(rng.below(3000)) * 1000;
    // Two kinds per user: short and long (a bimodal distribution moves Gittins ranks).
    const bool long_job = rng.below(3) == 0;
    j.duration = static_cast<TimeMs>(long_job ? 600 + rng.below(3000) : 1 + rng.below(8)) * 60'000;
    if (rng.below(5) == 0) j.duration = (j.duration / 60'000) * 60'000;  // ties
    const TypeId main =
        static_cast<TypeId>(w.cluster.nodes[rng.below(w.cluster.nodes.size())].type);
    j.accel_count = 1 << static_cast<int>(rng.below(4));
    if (rng.below(6) == 0) j.accel_count = 1 + static_cast<int>(rng.below(12));
    j.accepted = rng.below(3) ? TypeSet::of(main) : TypeSet::any();
    j.walltime = rng.below(3) ? j.duration * static_cast<TimeMs>(1 + rng.below(3)) : 0;
    j.user = users[rng.below(4)];
    j.name = names[rng.below(3)];
    j.checkpoint = static_cast<std::int8_t>(rng.below(3)) - 1;
    w.jobs.push_back(std::move(j));
  }
  return w;
}

class KeyedIndexProperty : public testing::TestWithParam<std::string> {};

TEST_P(KeyedIndexProperty, EveryPassDecidesTheSameWithAndWithoutTheIndex) {
  long passes = 0;
  std::size_t rekeyed = 0;
  for (std::uint64_t k = 1; k <= 40; ++k) {
    const World w = random_world(k * 15485863 + 11);
    WithAndWithout check(make_policy(GetParam()));
    SimOptions opt;
    opt.preempt_cost_ms = 5'000;
    // Exact wakes only with a minimum run: with neither, a pass may ask for the next at +1 ms.
    opt.sched.min_run_ms = k % 3 == 0 ? 0 : 120'000;
    opt.wake_granularity_ms = k % 3 != 0 && k % 2 ? 0 : 60'000;
    if (k % 4 == 1) opt.sched.spf_size_weight = 1.5;
    simulate(w.cluster, catalog(), &ThroughputTable::builtin(), w.jobs, check, opt);
    const std::string ctx = GetParam() + " world " + std::to_string(k);
    EXPECT_EQ(check.differing, 0) << ctx << ": first difference at " << check.first_difference;
    EXPECT_EQ(check.not_described, 0) << ctx;
    EXPECT_EQ(check.wrong_keys, 0) << ctx;
    passes += check.passes;
    rekeyed += check.rekeyed;
    if (HasFailure()) return;
  }
  EXPECT_GT(passes, 2000);
  if (GetParam() == "gittins") {
    EXPECT_GT(rekeyed, 100u);  // groups learned while jobs waited
  }
}

TEST_P(KeyedIndexProperty, WholeReplaysEndTheSameWithAndWithoutTheIndex) {
  for (std::uint64_t k = 1; k <= 40; ++k) {
    const World w = random_world(k * 2654435761 + 5);
    SimOptions opt;
    opt.preempt_cost_ms = 5'000;
    opt.sched.min_run_ms = k % 2 ? 0 : 300'000;
    opt.forecasts = k % 3 == 0 ? 8 : 0;  // forecasts replay through an index of their own
    const auto policy = make_policy(GetParam());
    const SimResult a =
        simulate(w.cluster, catalog(), &ThroughputTable::builtin(), w.jobs, *policy, opt);
    WithoutIndex plain(make_policy(GetParam()));
    const SimResult b =
        simulate(w.cluster, catalog(), &ThroughputTable::builtin(), w.jobs, plain, opt);
    ASSERT_EQ(a.jobs.size(), b.jobs.size());
    EXPECT_EQ(a.passes, b.passes) << "world " << k;
    EXPECT_EQ(a.preemptions, b.preemptions) << "world " << k;
    EXPECT_EQ(a.forecasts, b.forecasts) << "world " << k;
    EXPECT_EQ(a.forecast_median_abs_s, b.forecast_median_abs_s) << "world " << k;
    for (std::size_t i = 0; i < a.jobs.size(); ++i) {
      const JobOutcome &x = a.jobs[i], &y = b.jobs[i];
      EXPECT_EQ(x.first_start, y.first_start) << "world " << k << " job " << x.id;
      EXPECT_EQ(x.end, y.end) << "world " << k << " job " << x.id;
      EXPECT_EQ(x.attempts, y.attempts) << "world " << k << " job " << x.id;
      EXPECT_EQ(x.type, y.type) << "world " << k << " job " << x.id;
      EXPECT_EQ(x.rejected, y.rejected) << "world " << k << " job " << x.id;
    }
    if (HasFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Property, KeyedIndexProperty, testing::Values("srtf", "spf", "gittins"));

}  // namespace
}  // namespace zs
