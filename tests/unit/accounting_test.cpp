// Accounting records and usage reports (core/accounting.h): pro-rating at the window's edges,
// the split of a record at UTC midnight, and totals that reconcile exactly in integer units.
#include "core/accounting.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace zs {
namespace {

constexpr TimeMs kDay = kMsPerDay;
constexpr TimeMs kHour = kMsPerHour;
// 2026-12-06T00:00:00Z.
constexpr TimeMs kDec6 = 1'796'515'200'000;

UsageRecord record(JobId job, TimeMs start, TimeMs end, int count = 1, double price = 1.0) {
  UsageRecord r;
  r.tenant = "vision";
  r.user = "ada";
  r.job = job;
  r.attempt = 0;
  r.accel_type = "MLU590";
  r.accel_count = count;
  r.start_ms = start;
  r.end_ms = end;
  r.state = "completed";
  r.price_per_hour = price;
  return r;
}

TEST(Accounting, UtcDays) {
  EXPECT_EQ(utc_day(0), "1970-01-01");
  EXPECT_EQ(utc_day(kDec6), "2026-12-06");
  EXPECT_EQ(utc_day(kDec6 - 1), "2026-12-05");
  EXPECT_EQ(utc_day(kDec6 + kDay - 1), "2026-12-06");
  EXPECT_EQ(utc_day(951'782'400'000), "2000-02-29");
  EXPECT_EQ(utc_day_start(kDec6 + 5 * kHour), kDec6);
  EXPECT_EQ(utc_day_start(kDec6), kDec6);
}

TEST(Accounting, OneHourAtAPriceCostsItInMilliUnits) {
  UsageRecord r = record(1, kDec6, kDec6 + kHour, 8, 8.5);
  EXPECT_EQ(accel_ms(r, {}), 8 * kHour);
  EXPECT_EQ(cost_milli(r, {}), 68'000);  // 8 accelerator-hours x 8.5
  EXPECT_EQ(usage_record_problem(r), "");
}

TEST(Accounting, RoundsHalvesAwayFromZero) {
  EXPECT_EQ(cost_milli(1800, 1.0), 1);  // 0.5 milli-units
  EXPECT_EQ(cost_milli(1799, 1.0), 0);  // 0.4997
  EXPECT_EQ(cost_milli(5400, 1.0), 2);  // 1.5
  EXPECT_EQ(cost_milli(0, 1234.5), 0);
}

TEST(Accounting, ProRatesAtBothEdgesOfTheWindow) {
  // 2 devices from 10:00 to 14:00; the window is 11:00 to 13:30.
  UsageRecord r = record(1, kDec6 + 10 * kHour, kDec6 + 14 * kHour, 2, 3.0);
  UsageWindow w{kDec6 + 11 * kHour, kDec6 + 13 * kHour + 30 * 60'000};
  EXPECT_EQ(accel_ms(r, w), 2 * (2 * kHour + 30 * 60'000));
  EXPECT_EQ(cost_milli(r, w), 15'000);  // 5 accelerator-hours x 3
  // Only the start edge, only the end edge.
  EXPECT_EQ(accel_ms(r, {kDec6 + 13 * kHour, kNever}), 2 * kHour);
  EXPECT_EQ(accel_ms(r, {0, kDec6 + 11 * kHour}), 2 * kHour);
  // The edges: [start, end) touching the record's end or start holds none of it.
  EXPECT_FALSE(in_window(r, {kDec6 + 14 * kHour, kNever}));
  EXPECT_FALSE(in_window(r, {0, kDec6 + 10 * kHour}));
  EXPECT_TRUE(in_window(r, {0, kDec6 + 10 * kHour + 1}));
  EXPECT_EQ(accel_ms(r, {0, kDec6 + 10 * kHour + 1}), 2);
  auto rows = summarize(std::vector<UsageRecord>{r}, w, UsageGroup::tenant);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].accel_ms, 5 * kHour);
  EXPECT_DOUBLE_EQ(rows[0].accel_hours, 5.0);
  EXPECT_EQ(rows[0].cost_milli, 15'000);
  EXPECT_EQ(rows[0].attempts, 1);
}

TEST(Accounting, InstantRecordIsAnAttemptWithoutUsage) {
  UsageRecord r = record(1, kDec6, kDec6, 4, 10);
  EXPECT_TRUE(in_window(r, {kDec6, kDec6 + 1}));
  EXPECT_FALSE(in_window(r, {kDec6 - 1, kDec6}));
  auto rows = summarize(std::vector<UsageRecord>{r}, {}, UsageGroup::day);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].key, "2026-12-06");
  EXPECT_EQ(rows[0].attempts, 1);
  EXPECT_EQ(rows[0].accel_ms, 0);
  EXPECT_EQ(rows[0].cost_milli, 0);
}

TEST(Accounting, DaySplitsARecordAtUtcMidnight) {
  // 4 devices from 22:00 on Dec 5 to 03:00 on Dec 7.
  UsageRecord r = record(7, kDec6 - 2 * kHour, kDec6 + kDay + 3 * kHour, 4, 2.5);
  auto rows = summarize(std::vector<UsageRecord>{r}, {}, UsageGroup::day);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].key, "2026-12-05");
  EXPECT_EQ(rows[0].accel_ms, 4 * 2 * kHour);
  EXPECT_EQ(rows[0].cost_milli, 20'000);
  EXPECT_EQ(rows[1].key, "2026-12-06");
  EXPECT_EQ(rows[1].accel_ms, 4 * 24 * kHour);
  EXPECT_EQ(rows[1].cost_milli, 240'000);
  EXPECT_EQ(rows[2].key, "2026-12-07");
  EXPECT_EQ(rows[2].accel_ms, 4 * 3 * kHour);
  EXPECT_EQ(rows[2].cost_milli, 30'000);
  for (const UsageRow& row : rows) {
    EXPECT_EQ(row.jobs, 1);
    EXPECT_EQ(row.attempts, 1);
    EXPECT_EQ(row.tenant, "vision");
  }
  // Each part pro-rated by the window too: from 23:00 on Dec 5 to 01:00 on Dec 7.
  UsageWindow w{kDec6 - kHour, kDec6 + kDay + kHour};
  rows = summarize(std::vector<UsageRecord>{r}, w, UsageGroup::day);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].accel_ms, 4 * kHour);
  EXPECT_EQ(rows[1].accel_ms, 4 * 24 * kHour);
  EXPECT_EQ(rows[2].accel_ms, 4 * kHour);
  EXPECT_EQ(cost_milli(r, w), 10'000 + 240'000 + 10'000);
}

// Rounding is per piece (record x UTC day): a record crossing midnight costs the sum of its
// days, so that daily reports add up to the monthly one.
TEST(Accounting, PiecesAreRoundedPerDay) {
  // 1 ms before and 1 ms after midnight at 1 per hour: 0.2778 milli-units each, rounded to 0.
  UsageRecord r = record(1, kDec6 - 1000, kDec6 + 1000, 1, 1.0);
  EXPECT_EQ(cost_milli(r, {}), 0);
  EXPECT_EQ(cost_milli(2000, 1.0), 1);  // what a single rounding would have said
  auto days = summarize(std::vector<UsageRecord>{r}, {}, UsageGroup::day);
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days[0].cost_milli + days[1].cost_milli, 0);
}

TEST(Accounting, LongRecordCostsTheSameWithoutWalkingItsDays) {
  UsageRecord r = record(1, kDec6 - 5 * kHour - 17, kDec6 + 40 * kDay + 7 * kHour + 3, 3, 1.234567);
  std::int64_t by_days = 0, ms = 0;
  for (const UsageRow& row : summarize(std::vector<UsageRecord>{r}, {}, UsageGroup::day)) {
    by_days += row.cost_milli;
    ms += row.accel_ms;
  }
  EXPECT_EQ(cost_milli(r, {}), by_days);
  EXPECT_EQ(accel_ms(r, {}), ms);
  EXPECT_EQ(usage_total(std::vector<UsageRecord>{r}, {}).cost_milli, by_days);
}

TEST(Accounting, GroupsAreSortedByKey) {
  std::vector<UsageRecord> records;
  for (JobId id : {30, 4, 200}) records.push_back(record(id, kDec6, kDec6 + kHour));
  records[0].tenant = "speech";
  records[1].user = "bob";
  records[2].accel_type = "A100-SXM4-80GB";
  auto keys = [&](UsageGroup by) {
    std::vector<std::string> out;
    for (const UsageRow& row : summarize(records, {}, by)) out.push_back(row.key);
    return out;
  };
  EXPECT_EQ(keys(UsageGroup::job), (std::vector<std::string>{"4", "30", "200"}));
  EXPECT_EQ(keys(UsageGroup::tenant), (std::vector<std::string>{"speech", "vision"}));
  EXPECT_EQ(keys(UsageGroup::user), (std::vector<std::string>{"ada", "bob"}));
  EXPECT_EQ(keys(UsageGroup::type), (std::vector<std::string>{"A100-SXM4-80GB", "MLU590"}));
  auto users = summarize(records, {}, UsageGroup::user);
  EXPECT_EQ(users[0].tenant, "");  // ada's jobs are in two tenants
  EXPECT_EQ(users[1].tenant, "vision");
}

TEST(Accounting, DistinctJobsAndAttempts) {
  std::vector<UsageRecord> records = {record(1, kDec6, kDec6 + kHour),
                                      record(1, kDec6 + 2 * kHour, kDec6 + 3 * kHour),
                                      record(2, kDec6, kDec6 + kHour)};
  records[1].attempt = 1;
  records[1].state = "preempted";
  UsageRow total = usage_total(records, {});
  EXPECT_EQ(total.jobs, 2);
  EXPECT_EQ(total.attempts, 3);
  EXPECT_EQ(total.accel_ms, 3 * kHour);
  EXPECT_EQ(total.key, "");
}

TEST(Accounting, FiltersByTenantAndUser) {
  std::vector<UsageRecord> records;
  const char* tenants[] = {"vision", "speech", "nlp"};
  const char* users[] = {"ada", "bob"};
  JobId id = 0;
  for (const char* t : tenants)
    for (const char* u : users) {
      records.push_back(record(++id, kDec6, kDec6 + kHour, 1, 1.0));
      records.back().tenant = t;
      records.back().user = u;
    }
  UsageFilter f;
  f.tenants = {"vision", "nlp"};
  auto rows = summarize(records, {}, UsageGroup::tenant, f);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].key, "nlp");
  EXPECT_EQ(rows[1].key, "vision");
  EXPECT_EQ(rows[1].jobs, 2);
  f.users = {"bob"};
  rows = summarize(records, {}, UsageGroup::job, f);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].key, "2");
  EXPECT_EQ(rows[0].user, "bob");
  EXPECT_EQ(rows[1].key, "6");
  EXPECT_EQ(usage_total(records, {}, f).cost_milli, 2000);
  UsageFilter nobody;
  nobody.users = {"carol"};
  EXPECT_TRUE(summarize(records, {}, UsageGroup::day, nobody).empty());
  EXPECT_EQ(usage_total(records, {}, nobody), (UsageRow{}));
}

TEST(Accounting, ProblemsOfRecords) {
  UsageRecord r = record(1, kDec6, kDec6 + kHour, 8, 8.5);
  UsageRecord bad = r;
  bad.end_ms = r.start_ms - 1;
  EXPECT_EQ(usage_record_problem(bad), "ends before it starts");
  bad = r;
  bad.price_per_hour = -1;
  EXPECT_NE(usage_record_problem(bad), "");
  bad.price_per_hour = std::numeric_limits<double>::quiet_NaN();
  EXPECT_NE(usage_record_problem(bad), "");
  bad = r;
  bad.accel_count = -2;
  EXPECT_NE(usage_record_problem(bad), "");
  bad = r;
  bad.accel_count = 1'000'000;
  bad.end_ms = bad.start_ms + kMaxUsageAccelMs / 1'000'000 + 1;
  EXPECT_NE(usage_record_problem(bad), "");
  bad.end_ms -= 1;
  EXPECT_EQ(usage_record_problem(bad), "");
  bad = r;
  bad.state = "running";
  EXPECT_EQ(usage_record_problem(bad),
            "has an unknown state \"running\" (expected one of: completed, failed, preempted, "
            "cancelled, timeout, node_fail)");
  for (std::string_view s : kUsageStates) {
    bad.state = s;
    EXPECT_EQ(usage_record_problem(bad), "");
  }
  EXPECT_EQ(usage_group_from_string("day"), UsageGroup::day);
  EXPECT_EQ(usage_group_from_string("account"), std::nullopt);
}

// The property the bills rest on: whatever the grouping, the rows add up to the same grand
// total, in integer milli-units and accelerator-ms, exactly.
TEST(Accounting, TotalsReconcileExactlyAcrossGroupings) {
  std::mt19937_64 rng(2026);
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  const std::vector<std::string> tenants = {"vision", "speech", "nlp", "robotics"};
  const std::vector<std::string> users = {"ada", "bob", "carol", "dan", "eve"};
  const std::vector<std::string> types = {"MLU590", "A100-SXM4-80GB", "H100", "Ascend910B"};
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::vector<UsageRecord> records;
    const int n = static_cast<int>(uniform(100, 600));
    const TimeMs base = kDec6 - 20 * kDay;
    for (int i = 0; i < n; ++i) {
      UsageRecord r;
      r.tenant = tenants[uniform(0, 3)];
      r.user = users[uniform(0, 4)];
      r.job = static_cast<JobId>(uniform(1, n / 2));
      r.attempt = static_cast<int>(uniform(0, 3));
      r.accel_type = types[uniform(0, 3)];
      r.accel_count = static_cast<int>(uniform(0, 64));
      r.start_ms = base + uniform(0, 30 * kDay);
      // Mostly short, sometimes days long, sometimes no time at all.
      const int kind = static_cast<int>(uniform(0, 9));
      r.end_ms = r.start_ms + (kind == 0  ? 0
                               : kind < 7 ? uniform(1, 6 * kHour)
                                          : uniform(1, 5 * kDay));
      r.price_per_hour = std::uniform_real_distribution<double>(0, 40)(rng);
      if (kind == 1) r.price_per_hour = 0;
      r.state = "completed";
      ASSERT_EQ(usage_record_problem(r), "");
      records.push_back(r);
    }
    UsageWindow w;
    if (round % 4 != 0) {  // every fourth round: all time
      w.start = base + uniform(-2 * kDay, 20 * kDay);
      w.end = w.start + uniform(1, 15 * kDay);
    }
    UsageFilter filter;
    if (round % 3 == 1) filter.tenants = {"vision", "nlp"};
    if (round % 5 == 2) filter.users = {"ada", "carol", "eve"};

    // The grand total, record by record.
    std::int64_t cost = 0, ms = 0, attempts = 0;
    for (const UsageRecord& r : records) {
      if (!filter.accepts(r) || !in_window(r, w)) continue;
      cost += cost_milli(r, w);
      ms += accel_ms(r, w);
      ++attempts;
    }
    const UsageRow total = usage_total(records, w, filter);
    EXPECT_EQ(total.cost_milli, cost);
    EXPECT_EQ(total.accel_ms, ms);
    EXPECT_GT(total.cost_milli, 0);
    std::map<std::pair<JobId, int>, int> distinct;
    for (const UsageRecord& r : records)
      if (filter.accepts(r) && in_window(r, w)) ++distinct[{r.job, r.attempt}];
    EXPECT_EQ(total.attempts, static_cast<std::int64_t>(distinct.size()));

    for (UsageGroup by : {UsageGroup::tenant, UsageGroup::user, UsageGroup::type, UsageGroup::day,
                          UsageGroup::job}) {
      SCOPED_TRACE(std::string(to_string(by)));
      std::int64_t rows_cost = 0, rows_ms = 0;
      double hours = 0;
      std::vector<UsageRow> rows = summarize(records, w, by, filter);
      for (const UsageRow& row : rows) {
        rows_cost += row.cost_milli;
        rows_ms += row.accel_ms;
        hours += row.accel_hours;
        EXPECT_GT(row.attempts, 0);
      }
      EXPECT_EQ(rows_cost, total.cost_milli);
      EXPECT_EQ(rows_ms, total.accel_ms);
      EXPECT_NEAR(hours, static_cast<double>(total.accel_ms) / kMsPerHour, 1e-6);
      if (by == UsageGroup::job) {  // job rows partition the (job, attempt) pairs
        std::int64_t rows_attempts = 0;
        for (const UsageRow& row : rows) rows_attempts += row.attempts;
        EXPECT_EQ(rows_attempts, static_cast<std::int64_t>(distinct.size()));
      }
    }

    // Day-aligned windows add up to their union.
    UsageWindow days{utc_day_start(base), utc_day_start(base) + 10 * kDay};
    std::int64_t sum = 0;
    for (TimeMs d = days.start; d < days.end; d += kDay)
      sum += usage_total(records, {d, d + kDay}, filter).cost_milli;
    EXPECT_EQ(sum, usage_total(records, days, filter).cost_milli);
  }
}

}  // namespace
}  // namespace zs
