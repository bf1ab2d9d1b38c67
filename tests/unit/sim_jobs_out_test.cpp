// zs sim's per-tenant metrics (accelerator-hours, cost, preemptions, guarantee, average use) and
// the per-job CSV of --jobs-out.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "sim/jobs_csv.h"
#include "sim/metrics.h"
#include "sim/report.h"

namespace zs {
namespace {

constexpr TimeMs kHour = 3'600'000;

JobOutcome finished(JobId id, std::string tenant, TimeMs submit, TimeMs first_start,
                    TimeMs last_start, TimeMs end, int count, double accel_h, double price) {
  JobOutcome o;
  o.id = id;
  o.tenant = std::move(tenant);
  o.user = "u" + std::to_string(id);
  o.submit = submit;
  o.first_start = first_start;
  o.last_start = last_start;
  o.end = end;
  o.run_ms = end - first_start;
  o.accel_count = count;
  o.attempts = 1;
  o.type = 0;
  o.nodes = 1;
  o.accel_ms = accel_h * 3.6e6;
  o.cost = accel_h * price;
  return o;
}

// Ten hours; tenant a: 8 + 19 accelerator-hours at 8.5, one preemption; tenant b: 8 at 20 and
// one rejected job.
SimResult sample() {
  SimResult r;
  r.policy = "easy";
  r.total_accels = 16;
  r.first_submit = 0;
  r.last_end = 10 * kHour;
  JobOutcome j1 = finished(1, "a", 0, 0, kHour, 2 * kHour, 4, 8, 8.5);
  j1.preemptions = 1;
  j1.attempts = 2;
  r.jobs.push_back(j1);
  r.jobs.push_back(finished(2, "a", kHour / 2, kHour / 2, kHour / 2, 10 * kHour, 2, 19, 8.5));
  JobOutcome j3;
  j3.id = 3;
  j3.tenant = "b";
  j3.rejected = true;
  j3.reject_reason = "needs 64 accelerators";
  j3.accel_count = 64;
  r.jobs.push_back(j3);
  r.jobs.push_back(finished(4, "b", 0, 0, 0, kHour, 8, 8, 20));
  return r;
}

TenantShares sample_shares() {
  TenantShares s;
  TenantShare a;
  a.name = "a";
  a.quota = {{64, 32}, {16, 0}};
  TenantShare c;  // promised 8, no jobs
  c.name = "c";
  c.quota = {{0, 0}, {8, 4}};
  s.tenants = {a, c};
  TenantShare d;
  d.name = "default";
  d.quota = {{0, TypeQuota::kUnlimited}};
  s.default_share = d;
  s.index();
  return s;
}

TEST(SimTenantMetrics, AccelHoursCostPreemptionsAndAverageUse) {
  const PolicyMetrics m = compute_metrics(sample());
  EXPECT_DOUBLE_EQ(m.makespan_s, 36000);
  EXPECT_DOUBLE_EQ(m.accel_hours, 35);
  EXPECT_DOUBLE_EQ(m.cost, 27 * 8.5 + 160);
  ASSERT_EQ(m.tenants.size(), 2u);
  const TenantMetrics& a = m.tenants[0];
  EXPECT_EQ(a.tenant, "a");
  EXPECT_EQ(a.jobs, 2);
  EXPECT_DOUBLE_EQ(a.accel_hours, 27);
  EXPECT_DOUBLE_EQ(a.cost, 229.5);
  EXPECT_EQ(a.preemptions, 1);
  EXPECT_EQ(a.guaranteed, 0);  // no shares
  EXPECT_DOUBLE_EQ(a.avg_used, 2.7);
  // avg JCT: (2 h + 9.5 h) / 2
  EXPECT_DOUBLE_EQ(a.avg_jct_s, 5.75 * 3600);
  const TenantMetrics& b = m.tenants[1];
  EXPECT_EQ(b.tenant, "b");
  EXPECT_EQ(b.jobs, 1);  // the rejected job is not a finished one
  EXPECT_DOUBLE_EQ(b.accel_hours, 8);
  EXPECT_DOUBLE_EQ(b.cost, 160);
  EXPECT_EQ(b.preemptions, 0);
  EXPECT_DOUBLE_EQ(b.avg_used, 0.8);
}

TEST(SimTenantMetrics, GuaranteedFromShares) {
  const TenantShares shares = sample_shares();
  const PolicyMetrics m = compute_metrics(sample(), &shares);
  ASSERT_EQ(m.tenants.size(), 3u);
  EXPECT_EQ(m.tenants[0].tenant, "a");
  EXPECT_EQ(m.tenants[0].guaranteed, 80);  // 64 of one type + 16 of another
  EXPECT_DOUBLE_EQ(m.tenants[0].accel_hours, 27);
  EXPECT_EQ(m.tenants[1].tenant, "b");  // the default entry: no guarantee
  EXPECT_EQ(m.tenants[1].guaranteed, 0);
  EXPECT_EQ(m.tenants[2].tenant, "c");  // listed, no jobs: the promise shows, unused
  EXPECT_EQ(m.tenants[2].guaranteed, 8);
  EXPECT_EQ(m.tenants[2].jobs, 0);
  EXPECT_DOUBLE_EQ(m.tenants[2].accel_hours, 0);
  EXPECT_DOUBLE_EQ(m.tenants[2].avg_used, 0);
  EXPECT_DOUBLE_EQ(m.tenants[2].avg_jct_s, 0);
}

TEST(SimTenantMetrics, ZeroMakespanHasNoAverageUse) {
  SimResult r;
  r.policy = "fifo";
  r.jobs.push_back(finished(1, "a", 0, 0, 0, 0, 1, 0, 1));
  const PolicyMetrics m = compute_metrics(r);
  ASSERT_EQ(m.tenants.size(), 1u);
  EXPECT_DOUBLE_EQ(m.tenants[0].avg_used, 0);
}

TEST(SimTenantMetrics, Renderings) {
  const TenantShares shares = sample_shares();
  const std::vector<PolicyMetrics> ms = {compute_metrics(sample(), &shares)};
  const auto j = nlohmann::json::parse(render_report(ms, ReportFormat::kJson, true));
  const auto& p = j["policies"][0];
  EXPECT_DOUBLE_EQ(p["accel_hours"].get<double>(), 35);
  EXPECT_DOUBLE_EQ(p["cost"].get<double>(), 389.5);
  const auto& a = p["tenants"][0];
  EXPECT_EQ(a["tenant"], "a");
  EXPECT_DOUBLE_EQ(a["accel_hours"].get<double>(), 27);
  EXPECT_DOUBLE_EQ(a["cost"].get<double>(), 229.5);
  EXPECT_EQ(a["preemptions"], 1);
  EXPECT_EQ(a["guaranteed"], 80);
  EXPECT_DOUBLE_EQ(a["avg_used"].get<double>(), 2.7);

  const std::string csv = render_report(ms, ReportFormat::kCsv, true);
  EXPECT_NE(csv.find("\npolicy,tenant,jobs,avg_jct_s,avg_queue_s,accel_hours,cost,preemptions,"
                     "guaranteed,avg_used\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\neasy,a,2,20700.000,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",27.000000,229.500000,1,80,2.700000\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("killed_at_walltime,accel_hours,cost,clairvoyant,pred_mae_s,"),
            std::string::npos)
      << csv;

  const std::string table = render_report(ms, ReportFormat::kTable, true);
  EXPECT_NE(table.find("accel-h"), std::string::npos) << table;
  EXPECT_NE(table.find("avg used"), std::string::npos) << table;
  // Without the flag there are no tenant rows.
  EXPECT_EQ(render_report(ms, ReportFormat::kJson, false).find("\"tenants\""), std::string::npos);
}

// A minimal RFC 4180 reader, to check that what the writer quotes reads back as it was.
std::vector<std::vector<std::string>> read_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1, std::vector<std::string>(1));
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        rows.back().back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        rows.back().back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().emplace_back();
    } else if (c == '\n') {
      rows.emplace_back(1);
    } else {
      rows.back().back() += c;
    }
  }
  if (rows.back().size() == 1 && rows.back()[0].empty()) rows.pop_back();
  return rows;
}

TEST(SimJobsCsv, CsvField) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field(" padded"), "\" padded\"");
}

TEST(SimJobsCsv, RowsPerPolicyQuotingAndEmptyCells) {
  const Catalog& catalog = Catalog::builtin();
  const TypeId mlu = catalog.resolve("MLU590", "test");
  SimResult fifo;
  fifo.policy = "fifo";
  JobOutcome ran = finished(7, "vision, research", 1500, 2000, 5000, 9001, 8, 2, 8.5);
  ran.user = "o\"brien";
  ran.type = mlu;
  ran.nodes = 2;
  ran.attempts = 2;
  ran.preemptions = 1;
  fifo.jobs.push_back(ran);
  JobOutcome rejected;
  rejected.id = 3;
  rejected.tenant = "speech";
  rejected.user = "bob";
  rejected.submit = 12'345'678;
  rejected.rejected = true;
  rejected.reject_reason = "needs 9999 accelerators, \"the cluster\" has 16\nat most";
  rejected.accel_count = 9999;
  rejected.partition = "batch";
  fifo.jobs.push_back(rejected);
  SimResult easy = fifo;
  easy.policy = "easy";
  easy.jobs[0].end = 8000;
  std::ostringstream out;
  write_jobs_csv(out, {fifo, easy}, catalog);
  const auto rows = read_csv(out.str());
  ASSERT_EQ(rows.size(), 5u) << out.str();
  const std::vector<std::string> header = {
      "policy",      "id",          "tenant", "user",   "submit_s", "first_start_s",
      "start_s",     "end_s",       "type",   "count",  "nodes",    "attempts",
      "preemptions", "accel_hours", "cost",   "reason", "partition"};
  EXPECT_EQ(rows[0], header);
  const std::vector<std::string> r1 = {
      "fifo",  "7",        "vision, research", "o\"brien", "1.500", "2.000",
      "5.000", "9.001",    catalog.name(mlu),  "8",        "2",     "2",
      "1",     "2.000000", "17.000000",        "",         ""};
  EXPECT_EQ(rows[1], r1);
  const std::vector<std::string> r2 = {
      "fifo", "3",    "speech", "bob", "12345.678", "",         "",         "",
      "",     "9999", "0",      "0",   "0",         "0.000000", "0.000000", rejected.reject_reason,
      "batch"};
  EXPECT_EQ(rows[2], r2);
  EXPECT_EQ(rows[3][0], "easy");
  EXPECT_EQ(rows[3][1], "7");
  EXPECT_EQ(rows[3][7], "8.000");
  EXPECT_EQ(rows[4][0], "easy");
  EXPECT_EQ(rows[4][1], "3");
  for (const auto& row : rows) EXPECT_EQ(row.size(), header.size());
}

TEST(SimJobsCsv, NoResultsIsJustTheHeader) {
  std::ostringstream out;
  write_jobs_csv(out, {}, Catalog::builtin());
  EXPECT_EQ(out.str(), std::string(kJobsCsvHeader) + "\n");
}

}  // namespace
}  // namespace zs
