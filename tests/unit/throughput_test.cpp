// The per-model throughput table: model lookup, lookup by gang size, duration factors between
// accelerator types, and the parser's errors.
#include <gtest/gtest.h>

#include <string>

#include "core/input_error.h"
#include "core/throughput.h"
#include "test_util.h"

namespace zs {
namespace {

using test::cat;
using test::error_of;
using test::type_of;

ThroughputTable table(const std::string& rows) {
  return ThroughputTable::parse("model,accel_count,accel_type,throughput\n" + rows, "tp.csv",
                                cat());
}

TEST(ThroughputTable, BuiltinTableHasGavelModels) {
  const ThroughputTable& t = ThroughputTable::builtin();
  EXPECT_EQ(&t, &ThroughputTable::builtin());
  EXPECT_EQ(t.model_count(), 26u);  // Gavel's 26 job types
  for (const char* m : {"A3C", "CycleGAN", "LM (batch size 10)", "ResNet-50 (batch size 64)",
                        "Transformer (batch size 256)", "Recommendation (batch size 8192)"}) {
    auto id = t.find_model(m);
    ASSERT_TRUE(id) << m;
    EXPECT_EQ(t.model_name(*id), m);
    // Gavel measured every job type on K80, P100 and V100.
    for (const char* type : {"K80", "P100", "V100"})
      EXPECT_TRUE(t.throughput(*id, type_of(type), 1)) << m << " on " << type;
    EXPECT_FALSE(t.throughput(*id, type_of("MLU590"), 1)) << m;
  }
}

TEST(ThroughputTable, FindModelExactCaseInsensitiveAndUniquePrefix) {
  const ThroughputTable& t = ThroughputTable::builtin();
  auto r50 = t.find_model("ResNet-50 (batch size 64)");
  ASSERT_TRUE(r50);
  EXPECT_EQ(t.find_model("resnet-50 (BATCH SIZE 64)"), r50);
  EXPECT_EQ(t.find_model("  ResNet-50 (batch size 64) "), r50);
  // "ResNet-50" starts four models (batch sizes 16, 32, 64, 128): ambiguous.
  EXPECT_FALSE(t.find_model("ResNet-50"));
  EXPECT_FALSE(t.find_model("LM"));
  EXPECT_FALSE(t.find_model("ResNet"));  // a prefix must be followed by " ("
  EXPECT_FALSE(t.find_model("vgg16"));
  EXPECT_FALSE(t.find_model(""));
  EXPECT_EQ(t.model_name(*t.find_model("a3c")), "A3C");

  ThroughputTable one = table("Foo (batch size 8),1,V100,2\nFoobar,1,V100,3\n");
  ASSERT_EQ(one.model_count(), 2u);
  EXPECT_EQ(one.model_name(*one.find_model("Foo")), "Foo (batch size 8)");
  EXPECT_EQ(one.model_name(*one.find_model("foo")), "Foo (batch size 8)");
  EXPECT_EQ(one.model_name(*one.find_model("Foobar")), "Foobar");
  EXPECT_FALSE(one.find_model("Fo"));
  EXPECT_FALSE(one.find_model("Foo (batch"));
}

TEST(ThroughputTable, ExactNameWinsOverCaseInsensitive) {
  ThroughputTable t = table("m,1,V100,1\nM,1,V100,2\n");
  ASSERT_EQ(t.model_count(), 2u);
  EXPECT_EQ(t.model_name(*t.find_model("M")), "M");
  EXPECT_EQ(t.model_name(*t.find_model("m")), "m");
}

TEST(ThroughputTable, LookupUsesTheLargestMeasuredCountNotAbove) {
  ThroughputTable t = table(
      "m,4,V100,30\nm,1,V100,10\nm,8,V100,50\n"  // out of order on purpose
      "m,4,K80,3\n");
  const int m = *t.find_model("m");
  const TypeId v100 = type_of("V100"), k80 = type_of("K80");
  EXPECT_EQ(t.throughput(m, v100, 1), 10.0);
  EXPECT_EQ(t.throughput(m, v100, 2), 10.0);
  EXPECT_EQ(t.throughput(m, v100, 3), 10.0);
  EXPECT_EQ(t.throughput(m, v100, 4), 30.0);
  EXPECT_EQ(t.throughput(m, v100, 7), 30.0);
  EXPECT_EQ(t.throughput(m, v100, 8), 50.0);
  EXPECT_EQ(t.throughput(m, v100, 1000), 50.0);
  // Nothing at or below the count: the smallest measured one.
  EXPECT_EQ(t.throughput(m, k80, 1), 3.0);
  EXPECT_EQ(t.throughput(m, k80, 16), 3.0);
  EXPECT_FALSE(t.throughput(m, type_of("P100"), 4));
  EXPECT_FALSE(t.throughput(-1, v100, 4));
  EXPECT_FALSE(t.throughput(7, v100, 4));
}

TEST(ThroughputTable, BuiltinLookupByCount) {
  const ThroughputTable& t = ThroughputTable::builtin();
  const int m = *t.find_model("ResNet-18 (batch size 128)");
  const TypeId v100 = type_of("V100");
  EXPECT_DOUBLE_EQ(*t.throughput(m, v100, 1), 17.994906225052176);
  EXPECT_DOUBLE_EQ(*t.throughput(m, v100, 2), 23.985353059276264);
  EXPECT_DOUBLE_EQ(*t.throughput(m, v100, 3), 23.985353059276264);
  EXPECT_DOUBLE_EQ(*t.throughput(m, v100, 8), 162.09160717942794);
  EXPECT_DOUBLE_EQ(*t.throughput(m, v100, 64), 162.09160717942794);
}

TEST(ThroughputTable, DurationFactorIsTheThroughputRatio) {
  const ThroughputTable& t = ThroughputTable::builtin();
  const int m = *t.find_model("ResNet-18 (batch size 128)");
  const TypeId v100 = type_of("V100"), k80 = type_of("K80"), p100 = type_of("P100");
  // A job recorded on a V100 runs ~10x longer on a K80 (17.99 vs 1.81 steps/s).
  const double f = t.duration_factor(m, v100, k80, 1);
  EXPECT_DOUBLE_EQ(f, 17.994906225052176 / 1.8065297880422846);
  EXPECT_GT(f, 9.9);
  EXPECT_LT(f, 10.0);
  // And faster the other way round, by exactly the inverse.
  EXPECT_DOUBLE_EQ(t.duration_factor(m, k80, v100, 1) * f, 1.0);
  // Per gang size: 8 GPUs use the 8-GPU rows.
  EXPECT_DOUBLE_EQ(t.duration_factor(m, v100, k80, 8), 162.09160717942794 / 13.663632559853195);
  EXPECT_DOUBLE_EQ(t.duration_factor(m, v100, p100, 1),
                   *t.throughput(m, v100, 1) / *t.throughput(m, p100, 1));
}

TEST(ThroughputTable, DurationFactorIsOneWhenUnknown) {
  const ThroughputTable& t = ThroughputTable::builtin();
  const int m = *t.find_model("A3C");
  const TypeId v100 = type_of("V100"), mlu = type_of("MLU590");
  EXPECT_EQ(t.duration_factor(m, v100, mlu, 1), 1.0);              // never measured on the target
  EXPECT_EQ(t.duration_factor(m, mlu, v100, 1), 1.0);              // nor on the source
  EXPECT_EQ(t.duration_factor(-1, v100, type_of("K80"), 1), 1.0);  // unknown model
  EXPECT_EQ(t.duration_factor(m, -1, type_of("K80"), 1), 1.0);     // unknown recorded type
  EXPECT_EQ(t.duration_factor(m, v100, v100, 1), 1.0);
  EXPECT_NE(t.duration_factor(m, v100, type_of("K80"), 1), 1.0);
}

TEST(ThroughputTable, NonPositiveThroughputLeavesTheEntryUnknown) {
  ThroughputTable t = table("m,1,V100,0\nm,1,K80,-2\nm,1,P100,4\n");
  const int m = *t.find_model("m");
  EXPECT_FALSE(t.throughput(m, type_of("V100"), 1));
  EXPECT_FALSE(t.throughput(m, type_of("K80"), 1));
  EXPECT_EQ(t.throughput(m, type_of("P100"), 1), 4.0);
  // A model whose every row is infeasible is known, with no usable throughput.
  ThroughputTable z = table("z,1,V100,0\n");
  ASSERT_TRUE(z.find_model("z"));
  EXPECT_FALSE(z.throughput(*z.find_model("z"), type_of("V100"), 1));
}

TEST(ThroughputTable, InfeasibleGangSizeDoesNotFallBackToASmallerOne) {
  // Measured 4.0 on 1 GPU but infeasible (0) on 8: an 8-GPU gang has no throughput there,
  // rather than borrowing the 1-GPU figure.
  ThroughputTable t = table("m,1,K80,4\nm,8,K80,0\n");
  const int m = *t.find_model("m");
  EXPECT_EQ(t.throughput(m, type_of("K80"), 1), 4.0);
  EXPECT_FALSE(t.throughput(m, type_of("K80"), 8));
  EXPECT_FALSE(t.throughput(m, type_of("K80"), 16));
}

TEST(ThroughputTable, RepeatedEntryKeepsTheFirstRow) {
  ThroughputTable t = table("m,2,V100,5\nm,2,V100-SXM2-32GB,9\n");
  EXPECT_EQ(t.throughput(*t.find_model("m"), type_of("V100"), 2), 5.0);
}

TEST(ThroughputTable, RepeatedEntryKeepsTheFirstRowInALargeTable) {
  // Enough rows that std::sort stops using insertion sort: "first" must still mean first.
  std::string rows;
  for (int i = 1; i <= 200; ++i)
    rows += "m" + std::to_string(i % 7) + ",1,V100," + std::to_string(i) + "\n";
  ThroughputTable t = table(rows);
  ASSERT_EQ(t.model_count(), 7u);
  for (int k = 0; k < 7; ++k) {
    const int first = k == 0 ? 7 : k;  // the first row of model "m<k>"
    EXPECT_EQ(t.throughput(*t.find_model("m" + std::to_string(k)), type_of("V100"), 1),
              static_cast<double>(first))
        << "m" << k;
  }
}

TEST(ThroughputTable, AcceptsTheSourceColumnAndQuotedNames) {
  ThroughputTable t = ThroughputTable::parse(
      "Model,Accel_Count,Accel_Type,Throughput,Source\n\"LM, tiny\",1,910B3,2.5,\"a, b\"\n",
      "tp.csv", cat());
  ASSERT_EQ(t.model_count(), 1u);
  EXPECT_EQ(t.model_name(0), "LM, tiny");
  EXPECT_EQ(t.throughput(0, type_of("Ascend 910B3"), 1), 2.5);
}

TEST(ThroughputTable, BadRowsNameLineAndColumn) {
  std::string msg = error_of([] { table("m,1,V100,1\nm,zero,V100,1\n"); });
  EXPECT_EQ(msg, "tp.csv:3: column accel_count: 'zero' is not a positive integer");
  msg = error_of([] { table("m,0,V100,1\n"); });
  EXPECT_EQ(msg, "tp.csv:2: column accel_count: '0' is not a positive integer");
  msg = error_of([] { table("m,1,V100,fast\n"); });
  EXPECT_EQ(msg, "tp.csv:2: column throughput: 'fast' is not a number");
  msg = error_of([] { table("m,1,V100,inf\n"); });
  EXPECT_EQ(msg, "tp.csv:2: column throughput: 'inf' is not a number");
  msg = error_of([] { table("m,1,Z9000,1\n"); });
  EXPECT_EQ(msg.rfind("tp.csv:2: column accel_type: unknown accelerator type 'Z9000'", 0), 0u)
      << msg;
  msg = error_of([] { table("m,1,A100,1\n"); });
  EXPECT_EQ(msg.rfind("tp.csv:2: column accel_type: ambiguous accelerator type 'A100'", 0), 0u)
      << msg;
  msg = error_of([] { table(" ,1,V100,1\n"); });
  EXPECT_EQ(msg, "tp.csv:2: column model: empty");
  msg = error_of([] { table("m,1,V100\n"); });
  EXPECT_EQ(msg, "tp.csv:2: expected 4 fields, found 3");
  msg = error_of([] { ThroughputTable::parse("model,accel_type,throughput\n", "tp.csv", cat()); });
  EXPECT_EQ(msg, "tp.csv:1: missing required column 'accel_count'");
  msg = error_of([] { ThroughputTable::parse("", "tp.csv", cat()); });
  EXPECT_EQ(msg.rfind("tp.csv: empty throughput table", 0), 0u) << msg;
}

}  // namespace
}  // namespace zs
