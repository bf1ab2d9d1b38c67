// Device discovery: the fake backend and its health file, vendor-name to catalog mapping, the
// cnmon and npu-smi parsers on sample output, the tool runner against stand-in scripts, and the
// NVML loader against the fake libnvidia-ml built with the tests.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <string>

#include "agent/device_parsers.h"
#include "agent/devices.h"
#include "agent/tool_runner.h"
#include "core/input_error.h"
#include "scratch_dir.h"
#include "test_util.h"

namespace zs {
namespace {

using namespace std::chrono_literals;
using test::cat;
using test::error_of;
using test::ScratchDir;
using test::type_of;
using test::write_text;

// ---- the fake backend ----------------------------------------------------------------------

TEST(FakeSpec, CountAndCatalogType) {
  FakeSpec s = parse_fake_spec("8xMLU590", cat());
  EXPECT_EQ(s.count, 8);
  EXPECT_EQ(s.type, type_of("MLU590"));
  s = parse_fake_spec(" 4xA100-SXM4-80GB ", cat());
  EXPECT_EQ(s.count, 4);
  EXPECT_EQ(s.type, type_of("A100-SXM4-80GB"));
  EXPECT_EQ(parse_fake_spec("2xmlu370_x8", cat()).type, type_of("MLU370-X8"));
  for (const char* none : {"", "0", "0xT4"}) {
    EXPECT_EQ(parse_fake_spec(none, cat()).count, 0) << none;
    EXPECT_FALSE(parse_fake_spec(none, cat()).type.has_value()) << none;
  }
}

TEST(FakeSpec, BadSpecsSayWhatIsWrong) {
  auto err = [](const char* spec) { return error_of([&] { parse_fake_spec(spec, cat()); }); };
  EXPECT_EQ(err("8"), "fake devices '8': expected COUNTxTYPE, e.g. 8xMLU590, or 0 for none");
  EXPECT_EQ(err("MLU590"),
            "fake devices 'MLU590': expected COUNTxTYPE, e.g. 8xMLU590, or 0 for none");
  EXPECT_EQ(err("8x"), "fake devices '8x': expected COUNTxTYPE, e.g. 8xMLU590, or 0 for none");
  EXPECT_EQ(err("65xMLU590"),
            "fake devices '65xMLU590': device count '65' is not a number in 0..64");
  EXPECT_EQ(err("-1xT4"), "fake devices '-1xT4': device count '-1' is not a number in 0..64");
  EXPECT_EQ(err("eightxT4"),
            "fake devices 'eightxT4': device count 'eight' is not a number in 0..64");
  EXPECT_EQ(err("8xA100"),
            "fake devices '8xA100': ambiguous accelerator type 'A100': it could be A100-SXM4-40GB, "
            "A100-SXM4-80GB");
  EXPECT_EQ(err("8xB200"),
            "fake devices '8xB200': unknown accelerator type 'B200' (not in the accelerator "
            "catalog; `zs catalog` lists the known types)");
}

TEST(HealthFile, LinesCommentsAndWarnings) {
  HealthMarks m = parse_health_file(
      "# devices to fail\n"
      "\n"
      "3 ecc error\n"
      "  5\t xid 79: fell off the bus  \n"
      "3 overheating\n"
      "seven broken\n"
      "9 out of range\n"
      "-1\n",
      "fake-health", 8);
  ASSERT_EQ(m.problems.size(), 2u);
  EXPECT_EQ(m.problems[3], "ecc error; overheating");
  EXPECT_EQ(m.problems[5], "xid 79: fell off the bus");
  ASSERT_EQ(m.warnings.size(), 3u);
  EXPECT_EQ(m.warnings[0],
            "fake-health:6: expected '<device index> [problem]', got 'seven broken'");
  EXPECT_EQ(m.warnings[1], "fake-health:7: no device 9 (devices are 0..7)");
  EXPECT_EQ(m.warnings[2], "fake-health:8: no device -1 (devices are 0..7)");
  EXPECT_EQ(parse_health_file("2\n", "h", 4).problems.at(2), "marked unhealthy in h");
}

TEST(FakeDiscovery, ReReadsTheHealthFileOnEveryDiscover) {
  ScratchDir dir;
  const std::string health = dir / "fake-health";
  auto d = make_fake_discovery("8xMLU590", health, cat());
  Inventory inv = d->discover();
  EXPECT_EQ(inv.accel_type, "MLU590");
  EXPECT_EQ(inv.type, type_of("MLU590"));
  EXPECT_EQ(inv.source, "fake 8xMLU590");
  ASSERT_EQ(inv.devices.size(), 8u);
  EXPECT_EQ(inv.healthy_count(), 8);
  EXPECT_EQ(inv.devices[7].index, 7);
  EXPECT_EQ(inv.devices[7].uuid, "FAKE-MLU590-7");
  EXPECT_TRUE(inv.warnings.empty());

  write_text(health, "3 ecc error\nbogus\n");
  inv = d->discover();
  EXPECT_EQ(inv.healthy_count(), 7);
  EXPECT_FALSE(inv.devices[3].healthy);
  EXPECT_EQ(inv.devices[3].problem, "ecc error");
  ASSERT_EQ(inv.warnings.size(), 1u);
  EXPECT_EQ(inv.warnings[0], health + ":2: expected '<device index> [problem]', got 'bogus'");

  std::filesystem::remove(health);
  EXPECT_EQ(d->discover().healthy_count(), 8) << "removing the file heals every device";

  std::filesystem::create_directory(health);
  inv = d->discover();
  EXPECT_EQ(inv.healthy_count(), 8);
  ASSERT_EQ(inv.warnings.size(), 1u);
  EXPECT_EQ(inv.warnings[0], "cannot read health file " + health);
}

TEST(MakeDiscovery, FakeNoneAndUnknownKinds) {
  DiscoveryOptions o;
  o.fake_spec = "0";
  std::string error;
  auto d = make_discovery("fake", o, error);
  ASSERT_TRUE(d);
  Inventory inv = d->discover();
  EXPECT_TRUE(inv.devices.empty());
  EXPECT_EQ(inv.accel_type, "");
  EXPECT_EQ(inv.source, "fake (no accelerators)");
  o.fake_spec = "8xA100";
  EXPECT_NE(error_of([&] { make_discovery("fake", o, error); }).find("ambiguous"),
            std::string::npos);
  EXPECT_EQ(error_of([&] { make_discovery("gpu", o, error); }),
            "discovery: unknown discovery kind 'gpu' (expected fake, nvidia, cambricon, ascend or "
            "auto)");
}

// ---- vendor names -> catalog ---------------------------------------------------------------

TEST(MatchCatalogType, VendorNamesMapToCatalogModels) {
  struct Case {
    const char* name;
    const char* vendor;
    const char* model;  // nullptr = not in the catalog
  } cases[] = {
      {"NVIDIA A100-SXM4-80GB", "NVIDIA", "A100-SXM4-80GB"},
      {"NVIDIA A100-SXM4-40GB", "NVIDIA", "A100-SXM4-40GB"},
      {"NVIDIA H100 80GB HBM3", "NVIDIA", "H100-SXM5-80GB"},
      {"NVIDIA H100 PCIe", "NVIDIA", "H100-PCIe-80GB"},
      {"NVIDIA H800", "NVIDIA", "H800-SXM5-80GB"},
      {"NVIDIA H20", "NVIDIA", "H20"},
      {"NVIDIA A800-SXM4-80GB", "NVIDIA", "A800-SXM4-80GB"},
      {"NVIDIA L40S", "NVIDIA", "L40S"},
      {"Tesla T4", "NVIDIA", "T4"},
      {"Tesla V100-SXM2-32GB", "NVIDIA", "V100-SXM2-32GB"},
      {"Tesla P100-PCIE-16GB", "NVIDIA", "P100-PCIe-16GB"},
      {"Tesla V100-SXM2-16GB", "NVIDIA", nullptr},   // never guess across memory sizes
      {"NVIDIA A100-PCIE-40GB", "NVIDIA", nullptr},  // nor form factors
      {"NVIDIA A100 80GB PCIe", "NVIDIA", nullptr},
      {"NVIDIA H100 NVL", "NVIDIA", nullptr},
      {"NVIDIA L40", "NVIDIA", nullptr},
      {"MLU370-X8", "Cambricon", "MLU370-X8"},
      {"MLU370-X4", "Cambricon", "MLU370-X4"},
      {"MLU590-M9", "Cambricon", "MLU590"},
      {"MLU590-M9DG", "Cambricon", "MLU590"},
      {"MLU290-M5", "Cambricon", "MLU290-M5"},
      {"MLU370", "Cambricon", nullptr},  // which 370?
      {"910B3", "Huawei", "Ascend 910B3"},
      {"910B4", "Huawei", "Ascend 910B4"},
      {"Ascend910B3", "Huawei", "Ascend 910B3"},
      {"310P3", "Huawei", "Ascend 310P (Atlas 300I Pro)"},
      {"910A", "Huawei", "Ascend 910 (910A)"},
      {"910B", "Huawei", nullptr},  // 910B3 or 910B4?
      {"Ascend910", "Huawei", nullptr},
      {"MLU590", "NVIDIA", nullptr},  // the vendor must match
  };
  for (const Case& c : cases) {
    auto id = match_catalog_type(c.name, c.vendor, cat());
    if (c.model) {
      ASSERT_TRUE(id.has_value()) << c.name;
      EXPECT_EQ(cat().name(*id), c.model) << c.name;
    } else {
      EXPECT_FALSE(id.has_value()) << c.name << " -> " << cat().name(id.value_or(0));
    }
  }
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// ---- cnmon ---------------------------------------------------------------------------------

// Layout of `cnmon` from driver 5.x on (Bus-Id column); two MLU370-X8 cards.
const char* const kCnmonV5 = R"(Mon Mar  3 09:15:02 2025
+------------------------------------------------------------------------------+
| CNMON v5.10.22                                               Driver v5.10.22 |
+-------------------------------+----------------------+-----------------------+
| Card  VF  Name       Firmware |               Bus-Id | Util        Ecc-Error |
| Fan   Temp      Pwr:Usage/Cap |         Memory-Usage | SR-IOV   Compute-Mode |
|===============================+======================+=======================|
| 0     /   MLU370-X8    v1.1.6 |         0000:1A:00.0 | 3%                N/A |
|  0%   35C        102 W/ 250 W |   512 MiB/ 23374 MiB | N/A           Default |
+-------------------------------+----------------------+-----------------------+
| 1     /   MLU370-X8    v1.1.6 |         0000:1E:00.0 | 0%                  0 |
|  0%   37C         98 W/ 250 W |     0 MiB/ 23374 MiB | N/A           Default |
+-------------------------------+----------------------+-----------------------+

+------------------------------------------------------------------------------+
| Processes:                                                                   |
|  Card  MI  PID     Command Line                             MLU Memory Usage |
|==============================================================================|
|  0     /   4242    python train.py                                   512 MiB |
+------------------------------------------------------------------------------+
)";

// Layout of `cnmon` 4.x (Inited/Driver column, no bus id); card 2 counts ECC errors.
const char* const kCnmonV4 =
    R"(+------------------------------------------------------------------------------+
| CNMON v4.20.11                                                               |
+-------------------------------+----------------------+-----------------------+
| Card  VF  Name       Firmware | Inited        Driver | Util        Ecc-Error |
| Fan   Temp      Pwr:Usage/Cap |         Memory-Usage |         vMemory-Usage |
|===============================+======================+=======================|
| 0     /   MLU370-X4    v1.1.4 | On          v4.20.11 | 0%          N/A       |
|  0%   31C         29 W/ 150 W |     0 MiB/ 23308 MiB | 10240 MiB/1048576 MiB |
+-------------------------------+----------------------+-----------------------+
| 1     /   MLU370-X4    v1.1.4 | On          v4.20.11 | 0%          0         |
|  0%   33C         27 W/ 150 W |     0 MiB/ 23308 MiB | 10240 MiB/1048576 MiB |
+-------------------------------+----------------------+-----------------------+
| 2     /   MLU370-X4    v1.1.4 | On          v4.20.11 | 0%          2         |
|  0%   32C         28 W/ 150 W |     0 MiB/ 23308 MiB | 10240 MiB/1048576 MiB |
+-------------------------------+----------------------+-----------------------+
)";

TEST(ParseCnmon, BusIdLayout) {
  Inventory inv = parse_cnmon(kCnmonV5, cat());
  EXPECT_EQ(inv.source, "cnmon v5.10.22");
  EXPECT_EQ(inv.accel_type, "MLU370-X8");
  EXPECT_EQ(inv.type, type_of("MLU370-X8"));
  ASSERT_EQ(inv.devices.size(), 2u) << "the process table adds no devices";
  EXPECT_EQ(inv.devices[0].index, 0);
  EXPECT_EQ(inv.devices[0].uuid, "0000:1A:00.0");
  EXPECT_EQ(inv.devices[1].uuid, "0000:1E:00.0");
  EXPECT_EQ(inv.healthy_count(), 2);
  EXPECT_TRUE(inv.warnings.empty());
}

TEST(ParseCnmon, OlderLayoutAndEccErrors) {
  Inventory inv = parse_cnmon(kCnmonV4, cat());
  EXPECT_EQ(inv.source, "cnmon v4.20.11");
  EXPECT_EQ(inv.accel_type, "MLU370-X4");
  ASSERT_EQ(inv.devices.size(), 3u);
  EXPECT_EQ(inv.devices[2].uuid, "MLU2");
  EXPECT_EQ(inv.healthy_count(), 2);
  EXPECT_FALSE(inv.devices[2].healthy);
  EXPECT_EQ(inv.devices[2].problem, "cnmon reports 2 ECC errors");
}

TEST(ParseCnmon, BoardVariantMixedNodeAndNoise) {
  std::string text = replace_all(kCnmonV5, "MLU370-X8 ", "MLU590-M9 ");
  Inventory inv = parse_cnmon(text, cat());
  EXPECT_EQ(inv.accel_type, "MLU590");
  text.replace(text.rfind("MLU590-M9 "), 10, "MLU370-S4 ");
  inv = parse_cnmon(text, cat());
  ASSERT_EQ(inv.devices.size(), 2u);
  EXPECT_TRUE(inv.devices[0].healthy);
  EXPECT_EQ(inv.devices[1].problem, "device is a MLU370-S4, the node's devices are MLU590-M9");
  inv = parse_cnmon("cnmon: command failed\n", cat());
  EXPECT_TRUE(inv.devices.empty());
  EXPECT_EQ(inv.warnings, std::vector<std::string>{"cnmon output has no card rows"});
}

// ---- npu-smi -------------------------------------------------------------------------------

// Layout of `npu-smi info` on a 910B server (one chip per NPU); NPU 1 raises an alarm.
const char* const kNpuSmi910B =
    R"(+------------------------------------------------------------------------------------------------+
| npu-smi 23.0.rc3                 Version: 23.0.rc3                                             |
+---------------------------+---------------+----------------------------------------------------+
| NPU   Name                | Health        | Power(W)    Temp(C)           Hugepages-Usage(page)|
| Chip                      | Bus-Id        | AICore(%)   Memory-Usage(MB)  HBM-Usage(MB)        |
+===========================+===============+====================================================+
| 0     910B3               | OK            | 91.2        38                0    / 0             |
| 0                         | 0000:C1:00.0  | 0           0    / 0          3385 / 65536         |
+===========================+===============+====================================================+
| 1     910B3               | Alarm         | 88.0        40                0    / 0             |
| 0                         | 0000:C2:00.0  | 0           0    / 0          3390 / 65536         |
+===========================+===============+====================================================+
| 2     910B3               | Warning       | 90.5        39                0    / 0             |
| 0                         | 0000:81:00.0  | 0           0    / 0          3387 / 65536         |
+===========================+===============+====================================================+
+---------------------------+---------------+----------------------------------------------------+
| NPU     Chip              | Process id    | Process name             | Process memory(MB)      |
+===========================+===============+====================================================+
| No running processes found in NPU 0                                                            |
+===========================+===============+====================================================+
)";

// Layout on Atlas 300I Duo cards: two 310P3 chips per NPU, with their logical Device ids.
const char* const kNpuSmi310P =
    R"(+--------------------------------------------------------------------------------------------------------+
| npu-smi 23.0.0                                   Version: 23.0.0                                       |
+-------------------------------+-----------------+------------------------------------------------------+
| NPU     Name                  | Health          | Power(W)     Temp(C)           Hugepages-Usage(page) |
| Chip    Device                | Bus-Id          | AICore(%)    Memory-Usage(MB)                        |
+===============================+=================+======================================================+
| 1       310P3                 | OK              | NA           45                0     / 0             |
| 0       0                     | 0000:01:00.0    | 0            1650 / 44280                            |
| 1       1                     | 0000:01:00.0    | 0            1621 / 43740                            |
+===============================+=================+======================================================+
| 2       310P3                 | Critical        | NA           47                0     / 0             |
| 0       2                     | 0000:02:00.0    | 0            1640 / 44280                            |
| 1       3                     | 0000:02:00.0    | 0            1622 / 43740                            |
+===============================+=================+======================================================+
)";

TEST(ParseNpuSmi, NineTenBServer) {
  Inventory inv = parse_npu_smi(kNpuSmi910B, cat());
  EXPECT_EQ(inv.source, "npu-smi 23.0.rc3");
  EXPECT_EQ(inv.accel_type, "Ascend 910B3");
  EXPECT_EQ(inv.type, type_of("Ascend 910B3"));
  ASSERT_EQ(inv.devices.size(), 3u) << "the process table adds no devices";
  EXPECT_EQ(inv.devices[1].index, 1);
  EXPECT_EQ(inv.devices[0].uuid, "0000:C1:00.0/0");
  EXPECT_TRUE(inv.devices[0].healthy);
  EXPECT_FALSE(inv.devices[1].healthy);
  EXPECT_EQ(inv.devices[1].problem, "npu-smi health Alarm");
  EXPECT_TRUE(inv.devices[2].healthy) << "Warning is usable";
  EXPECT_EQ(inv.devices[2].problem, "npu-smi health Warning");
}

TEST(ParseNpuSmi, TwoChipsPerCardUseTheDeviceColumn) {
  Inventory inv = parse_npu_smi(kNpuSmi310P, cat());
  EXPECT_EQ(inv.source, "npu-smi 23.0.0");
  EXPECT_EQ(inv.accel_type, "Ascend 310P (Atlas 300I Pro)");
  ASSERT_EQ(inv.devices.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(inv.devices[i].index, i);
  EXPECT_EQ(inv.devices[3].uuid, "0000:02:00.0/1");
  EXPECT_EQ(inv.healthy_count(), 2);
  EXPECT_EQ(inv.devices[2].problem, "npu-smi health Critical");
}

TEST(ParseNpuSmi, UnknownNameIsKeptWithAWarning) {
  std::string text = replace_all(kNpuSmi910B, "910B3    ", "Ascend910");
  Inventory inv = parse_npu_smi(text, cat());
  EXPECT_EQ(inv.accel_type, "Ascend910");
  EXPECT_FALSE(inv.type.has_value());
  ASSERT_EQ(inv.warnings.size(), 1u);
  EXPECT_EQ(inv.warnings[0],
            "Huawei device name 'Ascend910' is not in the accelerator catalog; reported as is");
  EXPECT_TRUE(parse_npu_smi("", cat()).devices.empty());
}

// ---- tool-based backends, run for real against stand-in scripts ----------------------------

std::string script(const ScratchDir& dir, const std::string& name, const std::string& body) {
  const std::string path = dir / name;
  write_text(path, "#!/bin/sh\n" + body);
  ::chmod(path.c_str(), 0755);
  return path;
}

TEST(ToolDiscovery, RunsTheToolAndKeepsDevicesWhenItFails) {
  ScratchDir dir;
  write_text(dir / "table", kCnmonV5);
  write_text(dir / "mode", "ok");
  const std::string cnmon =
      script(dir, "cnmon",
             "if [ \"$(cat " + dir / "mode" + ")\" = ok ]; then cat " + dir / "table" +
                 "; else echo 'driver gone' >&2; exit 3; fi\n");
  std::string error;
  auto d = make_cambricon_discovery(cnmon, cat(), error);
  ASSERT_TRUE(d) << error;
  Inventory inv = d->discover();
  EXPECT_EQ(inv.source, "cnmon v5.10.22");
  EXPECT_EQ(inv.healthy_count(), 2);
  write_text(dir / "mode", "broken");
  inv = d->discover();
  ASSERT_EQ(inv.devices.size(), 2u) << "the last known devices stay listed";
  EXPECT_EQ(inv.healthy_count(), 0);
  EXPECT_EQ(inv.devices[0].problem, cnmon + " failed: exited with status 3: driver gone");
  write_text(dir / "mode", "ok");
  EXPECT_EQ(d->discover().healthy_count(), 2) << "and recover";
}

TEST(ToolDiscovery, AscendRunsNpuSmiInfo) {
  ScratchDir dir;
  write_text(dir / "table", kNpuSmi910B);
  const std::string npu_smi =
      script(dir, "npu-smi", "[ \"$1\" = info ] || exit 9\ncat " + dir / "table" + "\n");
  std::string error;
  auto d = make_ascend_discovery(npu_smi, cat(), error);
  ASSERT_TRUE(d) << error;
  EXPECT_EQ(d->discover().devices.size(), 3u);
}

TEST(RunTool, CapturesOutputAndExitCode) {
  ToolOutput o = run_tool({"/bin/sh", "-c", "echo out; echo err >&2; exit 5"}, 10s);
  EXPECT_EQ(o.error, "");
  EXPECT_EQ(o.exit_code, 5);
  EXPECT_EQ(o.out, "out\n");
  EXPECT_EQ(o.err, "err\n");
  EXPECT_EQ(run_tool({"/bin/sh", "-c", "echo $LC_ALL"}, 10s).out, "C\n");
  EXPECT_EQ(run_tool({"/no/such/tool"}, 10s).error,
            "cannot run /no/such/tool: No such file or directory");
}

TEST(RunTool, HungToolsAreKilledAtTheDeadline) {
  auto start = std::chrono::steady_clock::now();
  ToolOutput o = run_tool({"/bin/sh", "-c", "echo partial; sleep 30"}, 300ms);
  EXPECT_EQ(o.error, "/bin/sh timed out after 300 ms");
  EXPECT_EQ(o.exit_code, -1);
  // Output closed, process still running: still killed at the deadline.
  o = run_tool({"/bin/sh", "-c", "exec >&- 2>&-; sleep 30"}, 300ms);
  EXPECT_EQ(o.error, "/bin/sh timed out after 300 ms");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(ToolDiscovery, MissingToolIsAnError) {
  std::string error;
  EXPECT_FALSE(make_cambricon_discovery("/no/such/cnmon", cat(), error));
  EXPECT_EQ(error, "program '/no/such/cnmon': No such file or directory");
  EXPECT_FALSE(make_ascend_discovery("/no/such/npu-smi", cat(), error));
  EXPECT_EQ(error, "program '/no/such/npu-smi': No such file or directory");
}

// ---- NVML, against tests/fake_nvml ---------------------------------------------------------

// Sets an environment variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

std::unique_ptr<DeviceDiscovery> fake_nvml(std::string& error,
                                           const char* path = ZS_FAKE_NVML_PATH) {
  return make_nvidia_discovery(path, cat(), error);
}

TEST(NvmlDiscovery, FourA100sOneWithRetiredPagesPending) {
  std::string error;
  auto d = fake_nvml(error);
  ASSERT_TRUE(d) << error;
  Inventory inv = d->discover();
  EXPECT_EQ(inv.source, "nvml 12.535.104.05");
  EXPECT_EQ(inv.accel_type, "A100-SXM4-80GB");
  EXPECT_EQ(inv.type, type_of("A100-SXM4-80GB"));
  ASSERT_EQ(inv.devices.size(), 4u);
  EXPECT_EQ(inv.devices[3].index, 3);
  EXPECT_EQ(inv.devices[3].uuid, "GPU-fake0000-0000-0000-0000-000000000003");
  EXPECT_EQ(inv.healthy_count(), 3);
  EXPECT_FALSE(inv.devices[2].healthy);
  EXPECT_EQ(inv.devices[2].problem, "retired memory pages pending (reboot needed)");
  EXPECT_TRUE(inv.warnings.empty());
}

TEST(NvmlDiscovery, EccErrorsLostGpusAndMixedNames) {
  ScopedEnv ecc("ZS_FAKE_NVML_ECC", "1"), lost("ZS_FAKE_NVML_LOST", "0"),
      last("ZS_FAKE_NVML_LAST_NAME", "NVIDIA H100 80GB HBM3"),
      retired("ZS_FAKE_NVML_RETIRED", "-1");
  std::string error;
  auto d = fake_nvml(error);
  ASSERT_TRUE(d) << error;
  Inventory inv = d->discover();
  ASSERT_EQ(inv.devices.size(), 4u);
  EXPECT_EQ(inv.accel_type, "A100-SXM4-80GB") << "named by the first readable device";
  EXPECT_EQ(inv.devices[0].problem, "NVML cannot read GPU 0: GPU is lost");
  EXPECT_EQ(inv.devices[1].problem, "3 uncorrectable ECC errors since driver load");
  EXPECT_TRUE(inv.devices[2].healthy);
  EXPECT_EQ(inv.devices[3].problem,
            "device is a NVIDIA H100 80GB HBM3, the node's devices are NVIDIA A100-SXM4-80GB");
  EXPECT_EQ(inv.healthy_count(), 1);
}

TEST(NvmlDiscovery, UnknownNameIsReportedRaw) {
  ScopedEnv name("ZS_FAKE_NVML_NAME", "NVIDIA A100-PCIE-40GB");
  std::string error;
  auto d = fake_nvml(error);
  ASSERT_TRUE(d) << error;
  Inventory inv = d->discover();
  EXPECT_EQ(inv.accel_type, "NVIDIA A100-PCIE-40GB");
  EXPECT_FALSE(inv.type.has_value());
  EXPECT_EQ(inv.warnings, std::vector<std::string>{"NVIDIA device name 'NVIDIA A100-PCIE-40GB' "
                                                   "is not in the accelerator catalog; reported "
                                                   "as is"});
}

TEST(NvmlDiscovery, MissingOptionalHealthSymbolsMeanHealthy) {
  std::string error;
  auto d = fake_nvml(error, ZS_FAKE_NVML_NOHEALTH_PATH);
  ASSERT_TRUE(d) << error;
  EXPECT_EQ(d->discover().healthy_count(), 4);
}

TEST(NvmlDiscovery, CountFailureKeepsTheLastDevicesUnhealthy) {
  std::string error;
  auto d = fake_nvml(error);
  ASSERT_TRUE(d) << error;
  ASSERT_EQ(d->discover().devices.size(), 4u);
  ScopedEnv fail("ZS_FAKE_NVML_COUNT_RC", "999");
  Inventory inv = d->discover();
  ASSERT_EQ(inv.devices.size(), 4u);
  EXPECT_EQ(inv.healthy_count(), 0);
  EXPECT_EQ(inv.devices[0].problem, "nvmlDeviceGetCount_v2: Unknown Error");
}

TEST(NvmlDiscovery, UnavailableNvmlIsAnErrorNotACrash) {
  std::string error;
  EXPECT_FALSE(make_nvidia_discovery("/no/such/libnvidia-ml.so.1", cat(), error));
  EXPECT_EQ(error,
            "NVML not available: /no/such/libnvidia-ml.so.1: cannot open shared object file: No "
            "such file or directory");
  EXPECT_FALSE(make_nvidia_discovery("libm.so.6", cat(), error));
  EXPECT_EQ(error, "libm.so.6 lacks nvmlInit_v2 (not an NVML library, or too old)");
  ScopedEnv init("ZS_FAKE_NVML_INIT_RC", "9");
  EXPECT_FALSE(fake_nvml(error));
  EXPECT_EQ(error, "nvmlInit_v2 failed: Driver Not Loaded");
}

TEST(MakeDiscovery, AutoPicksTheFirstBackendWithDevices) {
  DiscoveryOptions o;
  o.nvml_library = "/no/such/libnvidia-ml.so.1";
  o.cnmon_path = "/no/such/cnmon";
  o.npu_smi_path = "/no/such/npu-smi";
  std::string error;
  auto d = make_discovery("auto", o, error);
  ASSERT_TRUE(d);
  Inventory inv = d->discover();
  EXPECT_TRUE(inv.devices.empty());
  EXPECT_EQ(inv.source,
            "auto: no accelerators found (nvidia: NVML not available: /no/such/libnvidia-ml.so.1: "
            "cannot open shared object file: No such file or directory; cambricon: program "
            "'/no/such/cnmon': No such file or directory; ascend: program '/no/such/npu-smi': No "
            "such file or directory)");

  ScratchDir dir;
  write_text(dir / "table", kNpuSmi910B);
  o.npu_smi_path = script(dir, "npu-smi", "cat " + dir / "table" + "\n");
  EXPECT_EQ(make_discovery("auto", o, error)->discover().accel_type, "Ascend 910B3");
  o.nvml_library = ZS_FAKE_NVML_PATH;
  EXPECT_EQ(make_discovery("auto", o, error)->discover().accel_type, "A100-SXM4-80GB");
}

}  // namespace
}  // namespace zs
