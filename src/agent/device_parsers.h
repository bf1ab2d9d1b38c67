// Pure text functions behind device discovery: no I/O, so each is unit-tested on captured text.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/devices.h"
#include "core/accelerator.h"

namespace zs {

// "8xMLU590" -> 8 devices of MLU590. "", "0" and "0xT" mean no accelerators (type unset).
// Throws InputError naming the spec: bad shape, count outside 0..64, unknown or ambiguous type.
struct FakeSpec {
  int count = 0;
  std::optional<TypeId> type;
};
FakeSpec parse_fake_spec(std::string_view spec, const Catalog& catalog);

// The fake health file: one "<device index> [problem text]" per line; '#' starts a comment line;
// blank lines are ignored. Malformed lines and indexes outside 0..device_count-1 become warnings
// ("fake-health:3: ..."), never exceptions. Two lines for one device join their texts with "; ".
struct HealthMarks {
  std::map<int, std::string> problems;  // device index -> problem text
  std::vector<std::string> warnings;
};
HealthMarks parse_health_file(std::string_view text, const std::string& source, int device_count);

// Maps a vendor's device name to a catalog type of that vendor (catalog `vendor` column):
// "NVIDIA A100-SXM4-80GB" -> A100-SXM4-80GB, "NVIDIA H100 80GB HBM3" -> H100-SXM5-80GB,
// "Tesla T4" -> T4, "MLU590-M9" -> MLU590, "910B3" -> Ascend 910B3, "310P3" -> 310P.
// Never guesses across memory sizes or form factors: "A100-PCIE-40GB" is unknown (nullopt).
std::optional<TypeId> match_catalog_type(std::string_view device_name, std::string_view vendor,
                                         const Catalog& catalog);

// Sets inv.accel_type/type from a vendor device name; an unknown name is kept raw, with a warning.
void set_inventory_type(Inventory& inv, std::string_view device_name, std::string_view vendor,
                        const Catalog& catalog);

// Appends a device whose vendor name is `name`. A node holds one accelerator type: the first
// device's name becomes `first_name`, and a device named otherwise is reported unhealthy.
void add_named_device(Inventory& inv, std::string& first_name, std::string_view name, Device d);

// `cnmon` (no arguments) table: one device per card row, index = the Card column, uuid = the
// Bus-Id column (or "MLU<card>" for versions without it), a non-zero Ecc-Error = unhealthy.
// Source = "cnmon vX.Y.Z" from the banner. Text with no card row gives no devices and a warning.
Inventory parse_cnmon(std::string_view text, const Catalog& catalog);

// `npu-smi info` table: one device per chip row. index = the Device column when the table has
// one (310P cards), else the chip's position in the listing (the logical id on 910 servers);
// uuid = "<bus-id>/<chip>"; Health OK is healthy, Warning healthy with a note, anything else
// (Alarm, Critical, ...) unhealthy. The process table after the device table is ignored.
Inventory parse_npu_smi(std::string_view text, const Catalog& catalog);

}  // namespace zs
