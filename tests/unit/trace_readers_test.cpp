// Trace readers: the canonical CSV and the public formats (Philly, Gavel, ElasticFlow, Pollux).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>

#include "core/input_error.h"
#include "sim/trace.h"
#include "test_util.h"

namespace zs {
namespace {

namespace fs = std::filesystem;
using test::error_of;

const Catalog& catalog() {
  return Catalog::builtin();
}
const ThroughputTable& speeds() {
  return ThroughputTable::builtin();
}

TypeId type(const char* name) {
  auto t = catalog().find(name);
  EXPECT_TRUE(t.has_value()) << name;
  return t.value_or(0);
}

TraceOptions options(const std::string& format, bool skip = false, int recorded = -1) {
  TraceOptions o;
  o.format = format;
  o.skip_bad_rows = skip;
  o.recorded_type = recorded;
  return o;
}

Trace parse(std::string_view text, const std::string& format, bool skip = false, int recorded = -1,
            const ThroughputTable& table = speeds()) {
  return read_trace_text(text, "t.txt", options(format, skip, recorded), catalog(), table);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path traces_dir() {
  return fs::path(ZS_SOURCE_DIR) / "data" / "traces";
}

TimeMs steps_ms(double steps, const char* model, const char* on, int gpus) {
  auto m = speeds().find_model(model);
  EXPECT_TRUE(m.has_value()) << model;
  auto tp = speeds().throughput(*m, type(on), gpus);
  EXPECT_TRUE(tp.has_value()) << model << " on " << on;
  return seconds_to_ms(steps / tp.value_or(1.0));
}

// ---------------------------------------------------------------------------------------------
// Gavel msr (7 fields) and physical-cluster (10 fields) traces.

constexpr const char* kGavelMsr =
    "ResNet-50 (batch size 64)\tpython3 main.py\t--num_steps\t1\t1000\t30.5\t1\n"
    "\n"
    "Recommendation (batch size 8192)\tpython3 train.py\t-n\t1\t2000\t60.000000\t4\r\n"
    "LM (batch size 20)\tpython main.py\t--steps\t0\t500\t90\t2\n";

TEST(TraceReaderGavel, ParsesMsrTrace) {
  Trace t = parse(kGavelMsr, "auto");
  EXPECT_EQ(t.format, "gavel");
  ASSERT_EQ(t.jobs.size(), 3u);
  const Job& a = t.jobs[0];
  EXPECT_EQ(a.id, 1u);  // the line number
  EXPECT_EQ(a.submit, 30'500);
  EXPECT_EQ(a.accel_count, 1);
  EXPECT_EQ(a.model, *speeds().find_model("ResNet-50 (batch size 64)"));
  EXPECT_EQ(a.recorded_type, type("V100"));
  EXPECT_TRUE(a.accepted.is_any());
  EXPECT_TRUE(a.tenant.empty());
  EXPECT_EQ(a.duration, steps_ms(1000, "ResNet-50 (batch size 64)", "V100", 1));
  EXPECT_GT(a.duration, 0);

  const Job& b = t.jobs[1];
  EXPECT_EQ(b.id, 3u);  // line 2 is blank
  EXPECT_EQ(b.submit, 60'000);
  EXPECT_EQ(b.accel_count, 4);
  // Recommendation was measured on 1 GPU only: the 1-GPU throughput stands in for 4.
  EXPECT_EQ(b.duration, steps_ms(2000, "Recommendation (batch size 8192)", "V100", 1));

  const Job& c = t.jobs[2];
  EXPECT_EQ(c.id, 4u);
  EXPECT_EQ(c.accel_count, 2);
  EXPECT_EQ(c.duration, steps_ms(500, "LM (batch size 20)", "V100", 2));
}

TEST(TraceReaderGavel, RecordedOnChangesTheReferenceType) {
  const TypeId p100 = type("P100");
  Trace t = parse(kGavelMsr, "gavel", false, p100);
  ASSERT_EQ(t.jobs.size(), 3u);
  EXPECT_EQ(t.jobs[0].recorded_type, p100);
  EXPECT_EQ(t.jobs[0].duration, steps_ms(1000, "ResNet-50 (batch size 64)", "P100", 1));
}

TEST(TraceReaderGavel, ParsesPhysicalClusterTrace) {
  const std::string text =
      "ResNet-50 (batch size 64)\tpython3 main.py\timage_classification/imagenet\t"
      "--num_minibatches\t1\t2931\t1\t1\t-1.000000\t0\n"
      "Transformer (batch size 16)\tpython3 train.py\ttranslation\t-step\t1\t11005\t2\t2\t"
      "-1.000000\t120\n"
      "A3C\tpython3 main.py\ta3c\t--max-steps\t0\t700\t1\t0.5\t3.5\t7200.5\n";
  Trace t = parse(text, "auto");
  EXPECT_EQ(t.format, "gavel-physical");
  ASSERT_EQ(t.jobs.size(), 3u);
  EXPECT_EQ(t.jobs[0].id, 1u);
  EXPECT_EQ(t.jobs[0].submit, 0);
  EXPECT_EQ(t.jobs[0].accel_count, 1);
  EXPECT_EQ(t.jobs[0].priority, 0);  // weight 1 -> the default priority
  EXPECT_EQ(t.jobs[0].duration, steps_ms(2931, "ResNet-50 (batch size 64)", "V100", 1));
  EXPECT_EQ(t.jobs[1].submit, 120'000);
  EXPECT_EQ(t.jobs[1].accel_count, 2);
  EXPECT_EQ(t.jobs[1].priority, 100);  // weight 2
  EXPECT_EQ(t.jobs[1].duration, steps_ms(11005, "Transformer (batch size 16)", "V100", 2));
  EXPECT_EQ(t.jobs[2].submit, 7'200'500);
  EXPECT_EQ(t.jobs[2].priority, -50);  // weight 0.5
  EXPECT_GT(t.jobs[1].priority, t.jobs[0].priority);
  EXPECT_GT(t.jobs[0].priority, t.jobs[2].priority);
}

TEST(TraceReaderGavel, BadRowsNameLineAndField) {
  const std::string good = "A3C\tcmd\t--steps\t1\t100\t0\t1\n";
  struct Case {
    std::string line, field;
  } cases[] = {
      {"A3C\tcmd\t--steps\t1\t100\t0\n", "expected 7 tab-separated fields"},
      {"A3C cmd --steps 1 100 0 1\n", "expected 7 tab-separated fields"},
      {"NoSuchNet\tcmd\t--steps\t1\t100\t0\t1\n", "column job_type"},
      {"\tcmd\t--steps\t1\t100\t0\t1\n", "column job_type"},
      {"A3C\tcmd\t--steps\t2\t100\t0\t1\n", "column needs_data_dir"},
      {"A3C\tcmd\t--steps\t1\tmany\t0\t1\n", "column total_steps"},
      {"A3C\tcmd\t--steps\t1\t-100\t0\t1\n", "column total_steps"},
      {"A3C\tcmd\t--steps\t1\t12.5\t0\t1\n", "column total_steps"},
      {"A3C\tcmd\t--steps\t1\t1e300\t0\t1\n", "column total_steps"},
      {"A3C\tcmd\t--steps\t1\t100\t-5\t1\n", "column arrival_time_s"},
      {"A3C\tcmd\t--steps\t1\t100\tnan\t1\n", "column arrival_time_s"},
      {"A3C\tcmd\t--steps\t1\t100\t1e300\t1\n", "column arrival_time_s"},
      {"A3C\tcmd\t--steps\t1\t100\t0\t0\n", "column scale_factor"},
      {"A3C\tcmd\t--steps\t1\t100\t0\t1.5\n", "column scale_factor"},
      {"A3C\tcmd\t--steps\t1\t100\t0\t99999999999999999999\n", "column scale_factor"},
  };
  for (const auto& c : cases) {
    const std::string text = good + c.line;
    const std::string msg = error_of([&] { parse(text, "gavel"); });
    EXPECT_NE(msg.find("t.txt:2:"), std::string::npos) << c.line << " -> " << msg;
    EXPECT_NE(msg.find(c.field), std::string::npos) << c.line << " -> " << msg;
    Trace t = parse(text, "gavel", /*skip=*/true);
    EXPECT_EQ(t.jobs.size(), 1u) << c.line;
    EXPECT_EQ(t.skipped_rows, 1) << c.line;
    ASSERT_EQ(t.skipped.size(), 1u);
    EXPECT_NE(t.skipped[0].find("t.txt:2:"), std::string::npos);
  }
}

TEST(TraceReaderGavel, PhysicalBadRowsNameField) {
  const std::string head = "A3C\tcmd\tdir\t--steps\t1\t100\t1\t";
  EXPECT_NE(error_of([&] {
              parse(head + "0\t-1\t0\n", "gavel-physical");
            }).find("t.txt:1: column priority_weight"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] { parse(head + "1\tsoon\t0\n", "gavel-physical"); }).find("t.txt:1: column slo"),
      std::string::npos);
  EXPECT_NE(error_of([&] {
              parse(head + "1\t-1\t-3\n", "gavel-physical");
            }).find("t.txt:1: column arrival_time_s"),
            std::string::npos);
  // A 7-field line read as physical says which format it looks like.
  EXPECT_NE(error_of([&] {
              parse("A3C\tcmd\t--steps\t1\t100\t0\t1\n", "gavel-physical");
            }).find("--trace-format gavel"),
            std::string::npos);
}

TEST(TraceReaderGavel, JobTypeWithoutReferenceThroughputIsABadRow) {
  const std::string table_csv =
      "model,accel_count,accel_type,throughput\n"
      "OnlyK80,1,K80,2.0\n";
  const ThroughputTable table = ThroughputTable::parse(table_csv, "tp.csv", catalog());
  const std::string msg =
      error_of([&] { parse("OnlyK80\tcmd\t-s\t1\t100\t0\t1\n", "gavel", false, -1, table); });
  EXPECT_NE(msg.find("t.txt:1: column job_type"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no throughput on V100"), std::string::npos) << msg;
  // Recorded on K80 instead, the same row is fine: 100 steps at 2 steps/s.
  Trace t = parse("OnlyK80\tcmd\t-s\t1\t100\t0\t1\n", "gavel", false, type("K80"), table);
  ASSERT_EQ(t.jobs.size(), 1u);
  EXPECT_EQ(t.jobs[0].duration, 50'000);
}

TEST(TraceReaderGavel, EmptyFileIsAnError) {
  EXPECT_NE(error_of([] { parse("\n\n", "gavel"); }).find("empty trace"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// ElasticFlow.

constexpr const char* kElasticFlowHeader =
    "job_id,submit_time,real_iteration,model_name,ddl,batch_size,num_gpu,real_duration,duration,"
    "iteration\n";

TEST(TraceReaderElasticFlow, ParsesRows) {
  const std::string text = std::string(kElasticFlowHeader) +
                           "0,0,1282877,vgg16,771220,256,1,976570,976570,1282877\n"
                           "7,219316,26446831,A3C,2065619,64,4,1792395,1792395.5,26446831\n";
  const TypeId a100 = type("A100-SXM4-40GB");
  Trace t = parse(text, "auto", false, a100);
  EXPECT_EQ(t.format, "elasticflow");
  ASSERT_EQ(t.jobs.size(), 2u);
  EXPECT_EQ(t.jobs[0].id, 0u);
  EXPECT_EQ(t.jobs[0].submit, 0);
  EXPECT_EQ(t.jobs[0].duration, 976'570'000);
  EXPECT_EQ(t.jobs[0].accel_count, 1);
  EXPECT_EQ(t.jobs[0].model, -1);  // vgg16 is not in the throughput table: not an error
  EXPECT_EQ(t.jobs[0].recorded_type, a100);
  EXPECT_EQ(t.jobs[1].id, 7u);
  EXPECT_EQ(t.jobs[1].submit, 219'316'000);
  EXPECT_EQ(t.jobs[1].duration, 1'792'395'500);
  EXPECT_EQ(t.jobs[1].accel_count, 4);
  EXPECT_EQ(t.jobs[1].model, *speeds().find_model("A3C"));
  // Without --recorded-on the type stays unknown.
  EXPECT_EQ(parse(text, "elasticflow").jobs[0].recorded_type, -1);
}

TEST(TraceReaderElasticFlow, BadRowsNameLineAndField) {
  const std::string head = std::string(kElasticFlowHeader) + "0,0,1,vgg16,10,1,1,5,5,1\n";
  struct Case {
    std::string row, field;
  } cases[] = {
      {"1,10,1,vgg16,10,1,1,5,-5,1\n", "column duration: negative"},
      {"1,-10,1,vgg16,10,1,1,5,5,1\n", "column submit_time: negative"},
      {"1,10,1,vgg16,10,1,0,5,5,1\n", "column num_gpu"},
      {"1,10,1,vgg16,10,1,2.5,5,5,1\n", "column num_gpu"},
      {"x,10,1,vgg16,10,1,1,5,5,1\n", "column job_id"},
      {"-1,10,1,vgg16,10,1,1,5,5,1\n", "column job_id"},
      {"1e300,10,1,vgg16,10,1,1,5,5,1\n", "column job_id"},
      {"0,10,1,vgg16,10,1,1,5,5,1\n", "column job_id: job id 0 already used on line 2"},
      {"1,10,1,vgg16,10,1,1,5,5\n", "expected 10 fields, found 9"},
      {"1,10,1,vgg16,10,1,1,5,1e300,1\n", "column duration"},
  };
  for (const auto& c : cases) {
    const std::string text = head + c.row;
    const std::string msg = error_of([&] { parse(text, "elasticflow"); });
    EXPECT_NE(msg.find("t.txt:3:"), std::string::npos) << c.row << " -> " << msg;
    EXPECT_NE(msg.find(c.field), std::string::npos) << c.row << " -> " << msg;
    Trace t = parse(text, "elasticflow", /*skip=*/true);
    EXPECT_EQ(t.jobs.size(), 1u) << c.row;
    EXPECT_EQ(t.skipped_rows, 1) << c.row;
  }
}

TEST(TraceReaderElasticFlow, HeaderProblemsAreReported) {
  EXPECT_NE(error_of([] {
              parse("job_id,submit_time,num_gpu\n0,0,1\n", "elasticflow");
            }).find("duration"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse("job_id,submit_time,num_gpu,duration,colour\n0,0,1,5,red\n", "elasticflow");
            }).find("colour"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse("", "elasticflow"); }).find("empty trace"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Pollux.

TEST(TraceReaderPollux, ParsesRowsWithEstimatedDurations) {
  const std::string text =
      "name,time,application,num_replicas,batch_size\n"
      "cifar10-0,107,cifar10,6,2048\n"
      "ncf-1,135,ncf,1,32768\n"
      "imagenet-2,200.5,ImageNet,48,6400\n"
      "cifar10-3,300,cifar10,3,999\n";
  Trace t = parse(text, "auto");
  EXPECT_EQ(t.format, "pollux");
  ASSERT_EQ(t.jobs.size(), 4u);
  const Job& a = t.jobs[0];
  EXPECT_EQ(a.id, 1u);
  EXPECT_EQ(a.name, "cifar10-0");
  EXPECT_EQ(a.submit, 107'000);
  EXPECT_EQ(a.accel_count, 6);
  EXPECT_EQ(a.tenant, "cifar10");
  EXPECT_EQ(a.duration, 910'000);  // profiled: 6 T4s, batch 2048
  EXPECT_EQ(a.recorded_type, type("T4"));
  EXPECT_EQ(a.model, -1);
  EXPECT_EQ(t.jobs[1].duration, 47'000);
  EXPECT_EQ(t.jobs[2].submit, 200'500);
  EXPECT_EQ(t.jobs[2].tenant, "imagenet");
  EXPECT_EQ(t.jobs[2].duration, 19'689'000);
  // Not a profiled configuration: the application's typical GPU time over 3 GPUs.
  EXPECT_EQ(t.jobs[3].duration, seconds_to_ms(6384.0 / 3));
  EXPECT_EQ(t.jobs[3].id, 4u);
  // --recorded-on wins over the T4 default.
  EXPECT_EQ(parse(text, "pollux", false, type("V100")).jobs[0].recorded_type, type("V100"));
}

TEST(TraceReaderPollux, BadRowsNameLineAndField) {
  const std::string head = "name,time,application,num_replicas,batch_size\nncf-0,1,ncf,1,32768\n";
  struct Case {
    std::string row, field;
  } cases[] = {
      {"x-1,5,resnet,1,32\n", "column application: unknown application 'resnet'"},
      {"x-1,-5,ncf,1,32\n", "column time: negative"},
      {"x-1,soon,ncf,1,32\n", "column time"},
      {"x-1,5,ncf,0,32\n", "column num_replicas"},
      {"x-1,5,ncf,1.5,32\n", "column num_replicas"},
      {"x-1,5,ncf,1,-32\n", "column batch_size"},
      {",5,ncf,1,32\n", "column name"},
      {"x-1,5,ncf,1\n", "expected 5 fields, found 4"},
  };
  for (const auto& c : cases) {
    const std::string text = head + c.row;
    const std::string msg = error_of([&] { parse(text, "pollux"); });
    EXPECT_NE(msg.find("t.txt:3:"), std::string::npos) << c.row << " -> " << msg;
    EXPECT_NE(msg.find(c.field), std::string::npos) << c.row << " -> " << msg;
    Trace t = parse(text, "pollux", /*skip=*/true);
    EXPECT_EQ(t.jobs.size(), 1u) << c.row;
    EXPECT_EQ(t.skipped_rows, 1) << c.row;
  }
}

// ---------------------------------------------------------------------------------------------
// The canonical CSV.

TEST(TraceReaderCanonical, RejectsUnknownColumnByName) {
  const std::string msg = error_of(
      [] { parse("id,submit_s,duration_s,accel_count,gpu_kind\n1,0,10,1,x\n", "canonical"); });
  EXPECT_NE(msg.find("gpu_kind"), std::string::npos) << msg;
}

TEST(TraceReaderCanonical, RejectsNegativeDurationWithLineNumber) {
  const std::string text = "id,submit_s,duration_s,accel_count\n1,0,10,1\n2,5,-5,1\n";
  const std::string msg = error_of([&] { parse(text, "auto"); });
  EXPECT_NE(msg.find("t.txt:3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("duration_s"), std::string::npos) << msg;
  EXPECT_NE(msg.find("negative"), std::string::npos) << msg;
  Trace t = parse(text, "canonical", /*skip=*/true);
  EXPECT_EQ(t.jobs.size(), 1u);
  EXPECT_EQ(t.skipped_rows, 1);
}

TEST(TraceReaderCanonical, RejectsDuplicateId) {
  const std::string msg =
      error_of([] { parse("id,submit_s,duration_s,accel_count\n7,0,10,1\n7,1,10,1\n", "auto"); });
  EXPECT_NE(msg.find("t.txt:3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("already used on line 2"), std::string::npos) << msg;
}

TEST(TraceReaderCanonical, ParsesOptionalColumns) {
  Trace t = parse(
      "id,submit_s,duration_s,accel_count,accel_types,tenant,priority,model\n"
      "3,1.5,60,8,V100|P100,teamA,2,A3C\n",
      "auto");
  ASSERT_EQ(t.jobs.size(), 1u);
  const Job& j = t.jobs[0];
  EXPECT_EQ(j.id, 3u);
  EXPECT_EQ(j.submit, 1'500);
  EXPECT_EQ(j.duration, 60'000);
  EXPECT_EQ(j.accel_count, 8);
  EXPECT_TRUE(j.accepted.contains(type("V100")));
  EXPECT_TRUE(j.accepted.contains(type("P100")));
  EXPECT_FALSE(j.accepted.contains(type("K80")));
  EXPECT_EQ(j.tenant, "teamA");
  EXPECT_EQ(j.priority, 2);
  EXPECT_EQ(j.model, *speeds().find_model("A3C"));
}

// ---------------------------------------------------------------------------------------------
// Detection and the real files in data/traces.

TEST(TraceDetect, NamesTheFormatOfEveryFileUnderDataTraces) {
  std::map<std::string, int> files_per_format;
  std::map<std::string, std::size_t> jobs_per_format;
  int checked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(traces_dir())) {
    if (!entry.is_regular_file()) continue;
    const fs::path& p = entry.path();
    const std::string rel = fs::relative(p, traces_dir()).generic_string();
    std::string expected;
    if (p.extension() == ".trace")
      expected = rel.find("physical_cluster/") != std::string::npos ? "gavel-physical" : "gavel";
    else if (rel.rfind("philly/", 0) == 0 && p.extension() == ".csv")
      expected = "philly";
    else if (rel.rfind("philly_derived/", 0) == 0)
      expected = "elasticflow";
    else if (rel.rfind("pollux_workloads/workload-", 0) == 0)
      expected = "pollux";
    else
      continue;  // LICENSE, SOURCES.md, cluster_specs*.json, Pollux app profiles
    const std::string text = slurp(p);
    EXPECT_EQ(detect_trace_format(text, rel), expected) << rel;
    Trace t = read_trace_text(text, rel, options("auto"), catalog(), speeds());
    EXPECT_EQ(t.format, expected) << rel;
    EXPECT_EQ(t.skipped_rows, 0) << rel;
    EXPECT_FALSE(t.jobs.empty()) << rel;
    for (const Job& j : t.jobs) {
      ASSERT_GE(j.accel_count, 1) << rel;
      ASSERT_GE(j.duration, 0) << rel;
      ASSERT_GE(j.submit, 0) << rel;
    }
    ++files_per_format[expected];
    jobs_per_format[expected] += t.jobs.size();
    ++checked;
  }
  EXPECT_EQ(checked, 15 + 8 + 1 + 1 + 8);
  EXPECT_EQ(files_per_format["gavel"], 15);
  EXPECT_EQ(files_per_format["gavel-physical"], 8);
  EXPECT_EQ(files_per_format["pollux"], 8);
  // Totals from /work/shared/traces/README.md.
  EXPECT_EQ(jobs_per_format["gavel"], 15'264u);
  EXPECT_EQ(jobs_per_format["gavel-physical"], 287u);
  EXPECT_EQ(jobs_per_format["pollux"], 8u * 160u);
}

TEST(TraceDetect, RealFilesHaveTheDocumentedJobCounts) {
  auto count = [](const char* rel) {
    return read_trace_file((traces_dir() / rel).string(), options("auto"), catalog(), speeds())
        .jobs.size();
  };
  EXPECT_EQ(count("gavel/msr_philly_vc_seed0/103959.trace"), 986u);
  EXPECT_EQ(count("philly_derived/elasticflow_philly_103959.csv"), 876u);
  EXPECT_EQ(count("pollux_workloads/workload-1.csv"), 160u);
  EXPECT_EQ(count("philly/pollux_philly.csv"), 82'247u);
}

TEST(TraceDetect, RealGavelJobsGetV100DurationsFromTheTable) {
  Trace t = read_trace_file((traces_dir() / "gavel/msr_philly_vc_seed0/103959.trace").string(),
                            options("auto"), catalog(), speeds());
  ASSERT_FALSE(t.jobs.empty());
  // First line: Transformer (batch size 128), 5635991 steps, arrival 0, 1 GPU.
  const Job& j = t.jobs[0];
  EXPECT_EQ(j.id, 1u);
  EXPECT_EQ(j.submit, 0);
  EXPECT_EQ(j.accel_count, 1);
  EXPECT_EQ(j.recorded_type, type("V100"));
  EXPECT_EQ(j.duration, steps_ms(5635991, "Transformer (batch size 128)", "V100", 1));
}

TEST(TraceDetect, RejectsTextOfNoKnownFormat) {
  for (const char* text : {"", "hello world\n", "a,b,c\n1,2,3\n", "x\ty\n"}) {
    const std::string msg = error_of([&] { detect_trace_format(text, "f.txt"); });
    EXPECT_NE(msg.find("f.txt:1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--trace-format"), std::string::npos) << msg;
  }
  // A Pollux application profile is not a trace.
  const std::string prof =
      slurp(traces_dir() / "pollux_workloads/app_profiles/cifar10_placements.csv");
  EXPECT_THROW(detect_trace_format(prof, "p.csv"), InputError);
}

// Mangled input never crashes a reader and only ever fails with InputError.
TEST(TraceReaderRobustness, MutatedInputOnlyRaisesInputError) {
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"gavel", kGavelMsr},
      {"gavel-physical",
       "A3C\tcmd\tdir\t--steps\t1\t100\t1\t1\t-1.000000\t0\nA3C\tc\td\t-s\t0\t7\t2\t2\t-1\t9\n"},
      {"elasticflow", std::string(kElasticFlowHeader) + "0,0,1,vgg16,10,1,1,5,5,1\n"
                                                        "1,10,1,A3C,20,1,4,5,50,1\n"},
      {"pollux",
       "name,time,application,num_replicas,batch_size\nncf-0,1,ncf,1,32768\n"
       "b-1,60,bert,6,384\n"},
      {"canonical", "id,submit_s,duration_s,accel_count,accel_types\n1,0,10,1,any\n2,1,5,2,V100\n"},
  };
  const std::string alphabet = "0123456789.,-+e\t\n\r\" xXnaNIf|";
  std::mt19937 rng(12345);
  for (const auto& [format, seed] : seeds) {
    for (int iter = 0; iter < 3000; ++iter) {
      std::string s = seed;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !s.empty(); ++e) {
        const std::size_t at = rng() % s.size();
        switch (rng() % 4) {
          case 0:
            s[at] = alphabet[rng() % alphabet.size()];
            break;
          case 1:
            s.erase(at, 1 + rng() % 3);
            break;
          case 2:
            s.insert(at, 1, alphabet[rng() % alphabet.size()]);
            break;
          default:
            s.insert(at, rng() % 2 ? "99999999999999999999" : "1e308");
        }
      }
      for (bool skip : {false, true}) {
        try {
          Trace t = parse(s, format, skip);
          for (const Job& j : t.jobs) {
            ASSERT_GE(j.accel_count, 1) << format << ": " << s;
            ASSERT_GE(j.duration, 0) << format << ": " << s;
          }
        } catch (const InputError&) {
        }
      }
    }
  }
}

}  // namespace
}  // namespace zs
