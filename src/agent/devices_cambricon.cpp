// Cambricon MLUs, from the table `cnmon` prints with no arguments.
#include "agent/device_parsers.h"
#include "agent/devices.h"
#include "agent/table_text.h"
#include "agent/tool_runner.h"
#include "core/text.h"

namespace zs {

// A card is two table rows; the first reads
//   | 0     /   MLU370-X8    v1.1.6 |         0000:39:00.0 | 0%                N/A |
// (Card, VF, Name, Firmware | Bus-Id, or "Inited Driver" before v5 | Util, Ecc-Error).
Inventory parse_cnmon(std::string_view text, const Catalog& catalog) {
  Inventory inv;
  inv.source = "cnmon";
  std::string first_name;
  for (auto line : split(text, '\n')) {
    if (line.find("Processes:") != std::string_view::npos) break;  // the process table follows
    auto cells = table_cells(line);
    if (cells.size() == 1) {
      auto w = words(cells[0]);
      for (std::size_t i = 0; i + 1 < w.size(); ++i)
        if (w[i] == "CNMON") inv.source = "cnmon " + std::string(w[i + 1]);
      continue;
    }
    if (cells.size() < 3) continue;
    auto left = words(cells[0]);
    auto card = left.size() >= 3 ? parse_int(left[0]) : std::nullopt;
    if (!card || *card < 0 || left[1].find('/') == std::string_view::npos) continue;
    Device d;
    d.index = static_cast<int>(*card);
    auto middle = words(cells[1]);
    bool has_bus_id = !middle.empty() && middle.back().find(':') != std::string_view::npos;
    d.uuid = has_bus_id ? std::string(middle.back()) : "MLU" + std::to_string(d.index);
    auto right = words(cells[2]);
    if (auto ecc = right.empty() ? std::nullopt : parse_int(right.back()); ecc && *ecc > 0) {
      d.healthy = false;
      d.problem = "cnmon reports " + std::to_string(*ecc) + " ECC errors";
    }
    add_named_device(inv, first_name, left[2], std::move(d));
  }
  if (inv.devices.empty())
    inv.warnings.push_back("cnmon output has no card rows");
  else
    set_inventory_type(inv, first_name, "Cambricon", catalog);
  return inv;
}

std::unique_ptr<DeviceDiscovery> make_cambricon_discovery(const std::string& cnmon_path,
                                                          const Catalog& catalog,
                                                          std::string& error) {
  auto tool = find_tool("cnmon", cnmon_path,
                        {"/usr/bin", "/usr/local/bin", "/usr/local/neuware/bin"}, error);
  if (!tool) return nullptr;
  return make_tool_discovery({*tool}, parse_cnmon, catalog);
}

}  // namespace zs
