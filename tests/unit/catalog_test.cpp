// The accelerator catalog: the built-in data, name resolution and the CSV parser's errors.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "core/accelerator.h"
#include "core/input_error.h"
#include "test_util.h"

namespace zs {
namespace {

using test::cat;
using test::error_of;
using test::type_of;

const std::string kHeader =
    "vendor,model,arch,year,memory_gib,memory_bw_gbs,fp32_tflops,tf32_tflops,bf16_tflops,"
    "fp16_tflops,int8_tops,tdp_w,interconnect,interconnect_bw_gbs,pcie_gen,visible_devices_env,"
    "aliases,source\n";

TEST(Catalog, BuiltinHasTheTwentyEightTypes) {
  const Catalog& c = Catalog::builtin();
  EXPECT_EQ(c.size(), 28u);
  EXPECT_EQ(&c, &Catalog::builtin()) << "parsed once";
  std::map<std::string, int> per_vendor;
  for (TypeId id = 0; id < c.size(); ++id) {
    EXPECT_FALSE(c.name(id).empty());
    EXPECT_EQ(c.find(c.name(id)), id) << c.name(id);
    ++per_vendor[c.type(id).vendor];
  }
  EXPECT_EQ(per_vendor["NVIDIA"], 13);
  EXPECT_EQ(per_vendor["Cambricon"], 5);
  EXPECT_EQ(per_vendor["Huawei"], 5);
  EXPECT_EQ(per_vendor["Baidu Kunlunxin"], 2);
  EXPECT_EQ(per_vendor["AMD"], 2);
  EXPECT_EQ(per_vendor["Intel"], 1);
}

TEST(Catalog, VisibleDevicesVariableFollowsTheVendor) {
  const std::map<std::string, std::string> expected = {
      {"NVIDIA", "CUDA_VISIBLE_DEVICES"},      {"Cambricon", "MLU_VISIBLE_DEVICES"},
      {"Huawei", "ASCEND_RT_VISIBLE_DEVICES"}, {"Baidu Kunlunxin", "XPU_VISIBLE_DEVICES"},
      {"AMD", "ROCR_VISIBLE_DEVICES"},         {"Intel", "HABANA_VISIBLE_MODULES"},
  };
  const Catalog& c = Catalog::builtin();
  for (TypeId id = 0; id < c.size(); ++id) {
    const auto& t = c.type(id);
    auto it = expected.find(t.vendor);
    ASSERT_NE(it, expected.end()) << "unexpected vendor " << t.vendor;
    EXPECT_EQ(t.visible_devices_env, it->second) << t.model;
  }
  EXPECT_EQ(c.type(c.resolve("MLU590", "t")).visible_devices_env, "MLU_VISIBLE_DEVICES");
  EXPECT_EQ(c.type(c.resolve("910B3", "t")).visible_devices_env, "ASCEND_RT_VISIBLE_DEVICES");
  EXPECT_EQ(c.type(c.resolve("H100-SXM", "t")).visible_devices_env, "CUDA_VISIBLE_DEVICES");
}

TEST(Catalog, ResolvesExactAndCaseInsensitiveModelNames) {
  const Catalog& c = Catalog::builtin();
  auto v100 = c.find("V100-SXM2-32GB");
  ASSERT_TRUE(v100);
  EXPECT_EQ(c.name(*v100), "V100-SXM2-32GB");
  EXPECT_EQ(c.find("v100-sxm2-32gb"), v100);
  EXPECT_EQ(c.find("  V100_SXM2_32GB "), v100);
  auto k80 = c.find("K80");
  ASSERT_TRUE(k80);
  EXPECT_EQ(c.name(*k80), "K80");
  EXPECT_EQ(c.name(*c.find("Ascend 910B3")), "Ascend 910B3");
  EXPECT_EQ(c.find("ascend-910b3"), c.find("Ascend 910B3"));
  EXPECT_EQ(c.find("ASCEND_910B3"), c.find("Ascend 910B3"));
  // "L4" is a model of its own, not a prefix of L40S (the next character is not '-').
  EXPECT_EQ(c.name(*c.find("L4")), "L4");
}

TEST(Catalog, ResolvesAliases) {
  const Catalog& c = Catalog::builtin();
  EXPECT_EQ(c.name(*c.find("V100")), "V100-SXM2-32GB");
  EXPECT_EQ(c.name(*c.find("910B3")), "Ascend 910B3");
  EXPECT_EQ(c.name(*c.find("910b4")), "Ascend 910B4");
  EXPECT_EQ(c.name(*c.find("A100-80GB")), "A100-SXM4-80GB");
  EXPECT_EQ(c.name(*c.find("a100_40gb")), "A100-SXM4-40GB");
  EXPECT_EQ(c.name(*c.find("MLU290")), "MLU290-M5");
  EXPECT_EQ(c.name(*c.find("Gaudi2")), "Gaudi2 (HL-225H)");
  EXPECT_EQ(c.name(*c.find("Atlas 300I Duo")), "Ascend 310P x2 (Atlas 300I Duo card)");
  const auto& ascend910 = c.type(*c.find("910A"));
  EXPECT_EQ(ascend910.model, "Ascend 910 (910A)");
  EXPECT_EQ(ascend910.aliases, (std::vector<std::string>{"910A", "Ascend-910A"}));
}

TEST(Catalog, ResolvesAUniquePrefixEndingAtADash) {
  const Catalog& c = Catalog::builtin();
  EXPECT_EQ(c.name(*c.find("P100-PCIe")), "P100-PCIe-16GB");
  EXPECT_EQ(c.name(*c.find("h800-sxm5")), "H800-SXM5-80GB");
  // "ascend-910" is followed by '-' only in "ascend-910-(910a)" ("ascend-910b3" has a 'b').
  EXPECT_EQ(c.name(*c.find("Ascend 910")), "Ascend 910 (910A)");
  // Not at a '-' boundary: no match.
  EXPECT_FALSE(c.find("V10"));
  EXPECT_FALSE(c.find("P100-PCI"));
  EXPECT_FALSE(c.find("MLU37"));
  // Several models share the prefix: ambiguous, so find() gives nothing.
  EXPECT_FALSE(c.find("A100"));
  EXPECT_FALSE(c.find("H100"));
  EXPECT_FALSE(c.find("MLU370"));
  EXPECT_FALSE(c.find("A100-SXM4"));
  EXPECT_FALSE(c.find("Ascend"));
  EXPECT_FALSE(c.find(""));
  EXPECT_FALSE(c.find("   "));
}

TEST(Catalog, AmbiguousNameErrorListsEveryCandidate) {
  const Catalog& c = Catalog::builtin();
  try {
    c.resolve("A100", "cluster.yaml:4:5");
    FAIL() << "A100 must be ambiguous";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.where(), "cluster.yaml:4:5");
    EXPECT_NE(msg.find("ambiguous accelerator type 'A100'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("A100-SXM4-40GB"), std::string::npos) << msg;
    EXPECT_NE(msg.find("A100-SXM4-80GB"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("A800"), std::string::npos) << msg;
  }
  const std::string msg = error_of([&] { c.resolve("910B", "--cluster"); });
  EXPECT_NE(msg.find("Ascend 910B3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Ascend 910B4"), std::string::npos) << msg;
}

TEST(Catalog, UnknownNameErrorSaysSoAndSuggests) {
  const Catalog& c = Catalog::builtin();
  std::string msg = error_of([&] { c.resolve("Z9000", "--cluster"); });
  EXPECT_EQ(msg.rfind("--cluster: unknown accelerator type 'Z9000'", 0), 0u) << msg;
  EXPECT_NE(msg.find("zs catalog"), std::string::npos) << msg;
  msg = error_of([&] { c.resolve("PCIe-16GB", "x"); });
  EXPECT_NE(msg.find("unknown accelerator type 'PCIe-16GB'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean P100-PCIe-16GB?"), std::string::npos) << msg;
  EXPECT_EQ(c.resolve("V100", "x"), *c.find("V100-SXM2-32GB"));
}

TEST(Catalog, EmptyCellsStayEmptyNotZero) {
  const Catalog& c = Catalog::builtin();
  const auto& mlu590 = c.type(*c.find("MLU590"));
  EXPECT_EQ(mlu590.vendor, "Cambricon");
  EXPECT_FALSE(mlu590.year);
  EXPECT_FALSE(mlu590.memory_gib);
  EXPECT_FALSE(mlu590.fp32_tflops);
  EXPECT_FALSE(mlu590.pcie_gen);
  EXPECT_EQ(mlu590.interconnect, "MLU-Link");
  EXPECT_TRUE(mlu590.aliases.empty());
  const auto& k80 = c.type(*c.find("K80"));
  EXPECT_EQ(k80.year, 2014);
  EXPECT_EQ(k80.memory_gib, 24.0);
  EXPECT_EQ(k80.fp32_tflops, 8.73);
  EXPECT_FALSE(k80.tf32_tflops);
  EXPECT_FALSE(k80.fp16_tflops);
  EXPECT_FALSE(k80.interconnect_bw_gbs);
  EXPECT_EQ(k80.pcie_gen, 3);

  Catalog small = Catalog::parse(kHeader +
                                     "Acme,Z1,,,0,,,,,,,,,,,ACME_VISIBLE_DEVICES,,\n"
                                     "Acme,Z2,,2020,,,,,,,,,,,,ACME_VISIBLE_DEVICES,,\n",
                                 "small.csv");
  ASSERT_EQ(small.size(), 2u);
  EXPECT_EQ(small.type(0).memory_gib, 0.0) << "a written 0 is a value";
  EXPECT_FALSE(small.type(0).year);
  EXPECT_FALSE(small.type(1).memory_gib);
  EXPECT_EQ(small.type(1).year, 2020);
}

TEST(Catalog, QuotedCellsAndOptionalColumns) {
  const Catalog& c = Catalog::builtin();
  const auto& p310 = c.type(*c.find("310P"));
  EXPECT_NE(p310.source.find("Atlas 300I Pro spec"), std::string::npos);
  EXPECT_NE(p310.source.find(", "), std::string::npos) << "the quoted comma is kept";

  Catalog minimal = Catalog::parse(
      "model,vendor,visible_devices_env\nX1,Acme,ACME_VISIBLE_DEVICES\n\n\r\n", "min.csv");
  ASSERT_EQ(minimal.size(), 1u);
  EXPECT_EQ(minimal.name(0), "X1");
  EXPECT_EQ(minimal.type(0).vendor, "Acme");
  EXPECT_TRUE(minimal.type(0).arch.empty());
}

TEST(Catalog, MalformedRowsNameLineAndColumn) {
  auto parse = [](const std::string& body) { return Catalog::parse(kHeader + body, "cat.csv"); };
  const std::string ok = "Acme,X1,,2020,80,,,,,,,,,,,ACME_VISIBLE_DEVICES,,\n";

  std::string msg = error_of([&] { parse(ok + "Acme,X2,,abc,80,,,,,,,,,,,A,,\n"); });
  EXPECT_EQ(msg.rfind("cat.csv:3: column year: 'abc' is not a non-negative number", 0), 0u) << msg;
  msg = error_of([&] { parse("Acme,X2,,,-8,,,,,,,,,,,A,,\n"); });
  EXPECT_EQ(msg.rfind("cat.csv:2: column memory_gib:", 0), 0u) << msg;
  msg = error_of([&] { parse("Acme,X2,,,,,,,,,,nan,,,,A,,\n"); });
  EXPECT_EQ(msg.rfind("cat.csv:2: column tdp_w:", 0), 0u) << msg;
  msg = error_of([&] { parse(ok + ok); });
  EXPECT_EQ(msg.rfind("cat.csv:3: model 'X1' is already defined", 0), 0u) << msg;
  msg = error_of([&] { parse(ok + "Acme,X2,,2020\n"); });
  EXPECT_EQ(msg.rfind("cat.csv:3: expected 18 fields, found 4", 0), 0u) << msg;
  msg = error_of([&] { parse("Acme,  ,,,,,,,,,,,,,,A,,\n"); });
  EXPECT_EQ(msg.rfind("cat.csv:2: column model: empty model name", 0), 0u) << msg;
  msg = error_of([&] { parse(ok + "Acme,X2,,,,,,,,,,,,,,A,X1,\n"); });
  EXPECT_EQ(msg.rfind("cat.csv:3: alias 'X1' already names X1", 0), 0u) << msg;
  msg = error_of([&] { parse(ok + "Acme,\"X2,,,,,,,,,,,,,,A,,\n"); });
  EXPECT_EQ(msg.rfind("cat.csv:3: unterminated quoted field", 0), 0u) << msg;
}

TEST(Catalog, HeaderProblemsAreReported) {
  std::string msg = error_of([] { Catalog::parse("", "cat.csv"); });
  EXPECT_EQ(msg.rfind("cat.csv: empty catalog", 0), 0u) << msg;
  msg = error_of([] { Catalog::parse("vendor,model\nA,B\n", "cat.csv"); });
  EXPECT_EQ(msg, "cat.csv:1: missing required column 'visible_devices_env'");
  msg = error_of([] { Catalog::parse("vendor,model,visible_devices_env,colour\n", "cat.csv"); });
  EXPECT_EQ(msg.rfind("cat.csv:1: unknown column colour (known columns: vendor, model", 0), 0u)
      << msg;
  msg = error_of([] { Catalog::parse("vendor,model,model,visible_devices_env\n", "cat.csv"); });
  EXPECT_EQ(msg, "cat.csv:1: column 'model' appears twice in the header");
}

TEST(Catalog, AtMostSixtyFourTypes) {
  std::string csv = "vendor,model,visible_devices_env\n";
  for (int i = 0; i < 64; ++i) csv += "Acme,T" + std::to_string(i) + "x,A\n";
  EXPECT_EQ(Catalog::parse(csv, "c.csv").size(), 64u);
  csv += "Acme,T64x,A\n";
  const std::string msg = error_of([&] { Catalog::parse(csv, "c.csv"); });
  EXPECT_EQ(msg, "c.csv:66: too many accelerator types (at most 64)");
}

}  // namespace
}  // namespace zs
