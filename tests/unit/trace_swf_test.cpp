// The SWF reader (Standard Workload Format, Parallel Workloads Archive): one hand-written file
// per rule in tests/data/swf/.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/input_error.h"
#include "sched/shape.h"
#include "sim/trace.h"
#include "test_util.h"

namespace zs {
namespace {

using test::error_of;

std::string path_of(const std::string& name) {
  return std::string(ZS_SOURCE_DIR) + "/tests/data/swf/" + name;
}

Trace read(const std::string& name, TraceOptions opt = {}) {
  return read_trace_file(path_of(name), opt, Catalog::builtin(), ThroughputTable::builtin());
}

std::string error_reading(const std::string& name, TraceOptions opt = {}) {
  return error_of([&] { read(name, opt); });
}

TEST(TraceSwf, DetectedFromTheHeaderCommentOrEighteenNumbers) {
  EXPECT_EQ(read("basic.swf").format, "swf");
  EXPECT_EQ(read("no_header.swf").format, "swf");  // no ';' line: 18 numbers on the first
  EXPECT_EQ(read("no_header.swf").jobs.size(), 2u);
}

TEST(TraceSwf, FieldsMapOntoTheJob) {
  const Trace t = read("basic.swf");
  ASSERT_EQ(t.jobs.size(), 3u);
  EXPECT_EQ(t.max_procs, 16);
  EXPECT_EQ(t.not_run, 0);
  const Job& j = t.jobs[1];
  EXPECT_EQ(j.id, 2u);               // field 1
  EXPECT_EQ(j.submit, 60'000);       // field 2, seconds
  EXPECT_EQ(j.duration, 600'000);    // field 4: run time
  EXPECT_EQ(j.accel_count, 12);      // field 5: allocated processors
  EXPECT_EQ(j.walltime, 900'000);    // field 9: requested time
  EXPECT_EQ(j.user, "4");            // field 12
  EXPECT_EQ(j.tenant, "7");          // field 13: group
  EXPECT_EQ(j.name, "12");           // field 14: executable
  EXPECT_EQ(j.partition, "1");       // field 15: queue
  EXPECT_EQ(j.nodes, 0);             // no --swf-per-node: the scheduler chooses
  EXPECT_TRUE(j.accepted.is_any());  // no --swf-type: any type of the cluster
  EXPECT_EQ(t.jobs[2].tenant, "9");
}

TEST(TraceSwf, RequestedProcessorsWhenAllocatedAreUnknown) {
  const Trace t = read("requested_procs.swf");
  ASSERT_EQ(t.jobs.size(), 1u);
  EXPECT_EQ(t.jobs[0].accel_count, 4);  // field 8
}

TEST(TraceSwf, JobsThatNeverRanAreSkippedAndCountedOthersReplayForTheirRunTime) {
  const Trace t = read("not_run.swf");
  EXPECT_EQ(t.not_run, 2);  // run time 0 (cancelled while waiting) and -1 (unknown)
  ASSERT_EQ(t.jobs.size(), 2u);
  EXPECT_EQ(t.jobs[0].id, 3u);  // failed (status 0) after 50 s
  EXPECT_EQ(t.jobs[0].duration, 50'000);
  EXPECT_EQ(t.jobs[1].id, 4u);  // cancelled (status 5) after 70 s
  EXPECT_EQ(t.jobs[1].duration, 70'000);
  EXPECT_EQ(t.skipped_rows, 0);  // not bad rows
}

// A job that ran but whose size is unknown (-1 in fields 5 and 8) cannot be placed: real logs
// have them (KTH-SP2-1996), so it is skipped and counted, not an error.
TEST(TraceSwf, JobsOfUnknownSizeAreSkippedAndCounted) {
  const Trace t = read("no_processors.swf");
  EXPECT_EQ(t.no_size, 1);
  ASSERT_EQ(t.jobs.size(), 1u);
  EXPECT_EQ(t.jobs[0].id, 2u);
}

TEST(TraceSwf, UnknownFieldsAreEmptyAndNoWalltime) {
  const Trace t = read("unknowns.swf");
  ASSERT_EQ(t.jobs.size(), 1u);
  const Job& j = t.jobs[0];
  EXPECT_EQ(j.walltime, 0);
  EXPECT_EQ(j.user, "");
  EXPECT_EQ(j.tenant, "");
  EXPECT_EQ(j.name, "");
  EXPECT_EQ(j.partition, "");
  EXPECT_EQ(t.max_procs, 0);  // no MaxProcs header
}

TEST(TraceSwf, PerNodeGroupsProcessorsIntoNodes) {
  TraceOptions opt;
  opt.swf_per_node = 8;
  const Trace t = read("basic.swf", opt);
  EXPECT_EQ(t.jobs[0].nodes, 0);  // 8 fit one node: the scheduler places it
  EXPECT_EQ(t.jobs[1].nodes, 2);  // 12 with N=8: two nodes
  EXPECT_EQ(t.jobs[1].accel_count, 12);
  // 12 on 2 nodes: 6 + 6; 13 on 2 nodes: 7 + 6 (as Slurm spreads -N 2 -n 13).
  auto shape = shape_for(t.jobs[1], 8);
  ASSERT_TRUE(shape);
  EXPECT_EQ(shape->node_count(), 2);
  EXPECT_EQ(shape->total(), 12);
  Job odd = t.jobs[1];
  odd.accel_count = 13;
  shape = shape_for(odd, 8);
  ASSERT_TRUE(shape);
  EXPECT_EQ(shape->node_count(), 2);
  EXPECT_EQ(shape->per_node, 7);
  EXPECT_EQ(shape->remainder, 6);
}

TEST(TraceSwf, TypeOptionMakesEveryJobAskForThatType) {
  TraceOptions opt;
  const TypeId v100 = Catalog::builtin().resolve("V100", "test");
  opt.swf_type = static_cast<int>(v100);
  const Trace t = read("basic.swf", opt);
  for (const Job& j : t.jobs) {
    EXPECT_FALSE(j.accepted.is_any());
    EXPECT_TRUE(j.accepted.contains(v100));
    EXPECT_EQ(j.recorded_type, static_cast<int>(v100));
  }
}

TEST(TraceSwf, BadRowsNameFileLineAndField) {
  EXPECT_NE(error_reading("bad_field_count.swf").find("bad_field_count.swf:3: expected 18"),
            std::string::npos)
      << error_reading("bad_field_count.swf");
  const std::string num = error_reading("bad_number.swf");
  EXPECT_NE(num.find("bad_number.swf:3: field 5 (allocated processors): '2x' is not a number"),
            std::string::npos)
      << num;
  const std::string frac = error_reading("fractional_procs.swf");
  EXPECT_NE(frac.find(":1: field 5 (allocated processors): '2.5' is not a whole number"),
            std::string::npos)
      << frac;
  const std::string dup = error_reading("duplicate_id.swf");
  EXPECT_NE(dup.find(":2: field 1 (job number): job number 1 already used on line 1"),
            std::string::npos)
      << dup;
  const std::string over = error_reading("over_maxprocs.swf");
  EXPECT_NE(over.find(":2: field 5 (allocated processors): 16 processors is more than the "
                      "header's MaxProcs 8"),
            std::string::npos)
      << over;
  const std::string neg = error_reading("negative_time.swf");
  EXPECT_NE(neg.find(":1: field 2 (submit time): negative time -5"), std::string::npos) << neg;
}

TEST(TraceSwf, HostileInputIsAnErrorNamingThePlace) {
  const std::string bad = error_reading("bad_maxprocs.swf");
  EXPECT_NE(bad.find("bad_maxprocs.swf:1: MaxProcs: 0 is not 1..1000000"), std::string::npos)
      << bad;
  const Catalog& cat = Catalog::builtin();
  const ThroughputTable& speeds = ThroughputTable::builtin();
  TraceOptions opt;
  opt.format = "swf";
  // A NUL byte inside a number, and a 1 MiB field.
  std::string nul = "1 0 0 100 2 -1 -1 2 200 -1 1 1 1 1 1 -1 -1 -1\n";
  nul[6] = '\0';
  const std::string e1 = error_of([&] { read_trace_text(nul, "nul.swf", opt, cat, speeds); });
  EXPECT_NE(e1.find("nul.swf:1: field 4 (run time)"), std::string::npos) << e1;
  const std::string huge =
      "1 0 0 " + std::string(1 << 20, '9') + " 2 -1 -1 2 200 -1 1 1 1 1 1 -1 -1 -1\n";
  const std::string e2 = error_of([&] { read_trace_text(huge, "huge.swf", opt, cat, speeds); });
  EXPECT_NE(e2.find("huge.swf:1: field 4 (run time)"), std::string::npos) << e2.substr(0, 200);
  EXPECT_LT(e2.size(), 2'600u);  // the cell is cut, and says by how much
  EXPECT_NE(e2.find("more bytes)"), std::string::npos);
  // A --swf-type outside the catalog is refused, not shifted into a 64-bit mask.
  opt.swf_type = 1000;
  EXPECT_THROW(
      read_trace_text("1 0 0 100 2 -1 -1 2 200 -1 1 1 1 1 1 -1 -1 -1\n", "t.swf", opt, cat, speeds),
      InputError);
}

TEST(TraceSwf, SkipBadRowsCountsThem) {
  TraceOptions opt;
  opt.skip_bad_rows = true;
  const Trace t = read("bad_number.swf", opt);
  EXPECT_EQ(t.jobs.size(), 1u);
  EXPECT_EQ(t.skipped_rows, 1);
}

}  // namespace
}  // namespace zs
