// Huawei Ascend NPUs, from the table `npu-smi info` prints.
#include "agent/device_parsers.h"
#include "agent/devices.h"
#include "agent/table_text.h"
#include "agent/tool_runner.h"
#include "core/text.h"

namespace zs {

namespace {
bool all_numbers(const std::vector<std::string_view>& w) {
  for (auto s : w)
    if (!parse_int(s)) return false;
  return !w.empty();
}
}  // namespace

// Each NPU is a row "| <npu> <name> | <health> | ..." followed by one row per chip,
// "| <chip> [<device or phy-id>] | <bus-id> | ...". The second header row says which: "Chip
// Device" (310P cards: the logical device id) or "Chip Phy-ID" / "Chip" (910: position order).
Inventory parse_npu_smi(std::string_view text, const Catalog& catalog) {
  Inventory inv;
  inv.source = "npu-smi";
  std::string first_name, name, health;
  bool device_column = false;
  int position = 0;
  for (auto line : split(text, '\n')) {
    auto cells = table_cells(line);
    if (cells.empty()) continue;
    auto left = words(cells[0]);
    if (cells.size() == 1) {
      if (left.size() >= 2 && left[0] == "npu-smi") inv.source = "npu-smi " + std::string(left[1]);
      continue;
    }
    if (cells[1].find("Process") != std::string_view::npos) break;  // the process table
    if (!left.empty() && left[0] == "Chip") {
      device_column = left.size() >= 2 && left[1] == "Device";
      continue;
    }
    const bool bus_id = cells[1].find(':') != std::string_view::npos;
    if (!bus_id && left.size() >= 2 && parse_int(left[0])) {  // an NPU row
      name = std::string(left[1]);
      health = std::string(cells[1]);
      continue;
    }
    if (!bus_id || name.empty() || left.size() > 2 || !all_numbers(left)) continue;
    Device d;  // a chip row
    d.index = device_column && left.size() == 2 ? static_cast<int>(*parse_int(left[1])) : position;
    ++position;
    d.uuid = std::string(cells[1]) + "/" + std::string(left[0]);
    if (health != "OK") {
      d.healthy = health == "Warning";
      d.problem = "npu-smi health " + health;
    }
    add_named_device(inv, first_name, name, std::move(d));
  }
  if (inv.devices.empty())
    inv.warnings.push_back("npu-smi output has no NPU chip rows");
  else
    set_inventory_type(inv, first_name, "Huawei", catalog);
  return inv;
}

std::unique_ptr<DeviceDiscovery> make_ascend_discovery(const std::string& npu_smi_path,
                                                       const Catalog& catalog, std::string& error) {
  auto tool = find_tool("npu-smi", npu_smi_path,
                        {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin"}, error);
  if (!tool) return nullptr;
  return make_tool_discovery({*tool, "info"}, parse_npu_smi, catalog);
}

}  // namespace zs
