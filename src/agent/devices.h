// Device discovery for the node agent: which accelerators this node has, and which are healthy.
//
// One interface, one backend per vendor:
//   fake      a declared spec ("8xMLU590") plus a health file the operator (or a test) edits;
//   nvidia    NVML, loaded with dlopen so the binary runs where the driver is absent;
//   cambricon the `cnmon` tool's table;
//   ascend    the `npu-smi info` tool's table;
//   auto      nvidia, then cambricon, then ascend; none found = an inventory with no devices.
// discover() is called at start and then periodically; it does not throw for hardware trouble:
// a device that cannot be read is reported unhealthy with the reason, and when the whole backend
// fails (NVML call, tool exit) the last known devices are returned, all unhealthy.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/accelerator.h"

namespace zs {

struct Device {
  int index = 0;     // the number the vendor's *_VISIBLE_DEVICES variable takes
  std::string uuid;  // vendor UUID; Ascend and older cnmon show none: the PCI bus id
  bool healthy = true;
  std::string problem;  // why it is unhealthy (may also note a warning on a healthy device)
};

struct Inventory {
  std::string accel_type;      // catalog model name; the raw vendor name when not in the catalog
  std::optional<TypeId> type;  // set when accel_type is in the catalog
  std::vector<Device> devices;
  std::string source;                 // "fake 8xMLU590", "nvml 12.535.104.05", "cnmon v5.10.13"
  std::vector<std::string> warnings;  // unknown type, malformed health-file lines, tool errors

  int healthy_count() const;
};

class DeviceDiscovery {
 public:
  virtual Inventory discover() = 0;
  virtual ~DeviceDiscovery();
};

struct DiscoveryOptions {
  std::string fake_spec;         // kind "fake": "8xMLU590", "4xA100-SXM4-80GB"; "" or "0" = none
  std::string fake_health_file;  // kind "fake": re-read on every discover(); absent = all healthy
  std::string nvml_library = "libnvidia-ml.so.1";
  std::string cnmon_path;            // "" = search PATH, then /usr/bin, /usr/local/bin, ...
  std::string npu_smi_path;          // "" = search PATH, then /usr/local/sbin, /usr/local/bin, ...
  const Catalog* catalog = nullptr;  // nullptr = Catalog::builtin()
};

// kind: fake | nvidia | cambricon | ascend | auto. Returns nullptr and sets `error` when the
// backend is unavailable here (no NVML, no tool); throws InputError for an unknown kind or a bad
// fake spec. "auto" never returns nullptr: when nothing is found its inventory is empty and its
// source says what was tried.
std::unique_ptr<DeviceDiscovery> make_discovery(std::string_view kind,
                                                const DiscoveryOptions& options,
                                                std::string& error);

// The backends, for callers that want one directly. nullptr + error when unavailable.
std::unique_ptr<DeviceDiscovery> make_fake_discovery(std::string_view spec, std::string health_file,
                                                     const Catalog& catalog);  // may throw
std::unique_ptr<DeviceDiscovery> make_nvidia_discovery(const std::string& library,
                                                       const Catalog& catalog, std::string& error);
std::unique_ptr<DeviceDiscovery> make_cambricon_discovery(const std::string& cnmon_path,
                                                          const Catalog& catalog,
                                                          std::string& error);
std::unique_ptr<DeviceDiscovery> make_ascend_discovery(const std::string& npu_smi_path,
                                                       const Catalog& catalog, std::string& error);

}  // namespace zs
