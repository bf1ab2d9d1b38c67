// The discovery factory, and the mapping from vendor device names to catalog types.
#include <utility>

#include "agent/device_parsers.h"
#include "agent/devices.h"
#include "core/input_error.h"
#include "core/text.h"

namespace zs {

DeviceDiscovery::~DeviceDiscovery() = default;

int Inventory::healthy_count() const {
  int n = 0;
  for (const Device& d : devices) n += d.healthy ? 1 : 0;
  return n;
}

namespace {

std::string strip_prefix(std::string s, std::string_view prefix) {
  if (s.size() > prefix.size() && to_lower(s.substr(0, prefix.size())) == to_lower(prefix))
    return std::string(trim(s.substr(prefix.size())));
  return s;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// NVML names that leave out the form factor the catalog's model names carry.
const std::pair<const char*, const char*> kNvmlNames[] = {
    {"H100 80GB HBM3", "H100-SXM5-80GB"},  // the PCIe H100 has HBM2e and reports "H100 PCIe"
    {"H100 PCIe", "H100-PCIe-80GB"},
    {"H800 80GB HBM3", "H800-SXM5-80GB"},
};

// Names to look up, most specific first.
std::vector<std::string> candidate_names(std::string name, std::string_view vendor) {
  for (auto prefix : {"NVIDIA ", "Tesla ", "Cambricon ", "Huawei "})
    name = strip_prefix(name, prefix);
  std::vector<std::string> names;
  for (auto [nvml, model] : kNvmlNames)
    if (normalize_name(nvml) == normalize_name(name)) names.push_back(model);
  names.push_back(name);
  const std::string v = to_lower(vendor);
  if (v == "cambricon") {
    // Board variants extend the chip's name: "MLU590-M9", "MLU590-M9DG" are MLU590.
    for (auto dash = name.rfind('-'); dash != std::string::npos && dash > 0;
         dash = name.rfind('-')) {
      name.resize(dash);
      names.push_back(name);
    }
  } else if (v == "huawei") {
    // "Ascend910B3" is "910B3". Not "Ascend " + name: its unique-prefix lookup would turn the
    // A3 servers' "Ascend910" into the original 910A.
    std::string bare = strip_prefix(name, "Ascend");
    names.push_back(bare);
    // npu-smi prints the chip bin: "310P3" is a 310P.
    if (bare.size() >= 3 && is_digit(bare.back()) && is_alpha(bare[bare.size() - 2]))
      names.push_back(bare.substr(0, bare.size() - 1));
  }
  return names;
}

class NoDevices : public DeviceDiscovery {
 public:
  explicit NoDevices(std::string source) : source_(std::move(source)) {}
  Inventory discover() override {
    Inventory inv;
    inv.source = source_;
    return inv;
  }

 private:
  std::string source_;
};

}  // namespace

std::optional<TypeId> match_catalog_type(std::string_view device_name, std::string_view vendor,
                                         const Catalog& catalog) {
  for (const std::string& name : candidate_names(std::string(trim(device_name)), vendor)) {
    auto id = catalog.find(name);
    if (id && to_lower(catalog.type(*id).vendor) == to_lower(vendor)) return id;
  }
  return std::nullopt;
}

void set_inventory_type(Inventory& inv, std::string_view device_name, std::string_view vendor,
                        const Catalog& catalog) {
  if (auto id = match_catalog_type(device_name, vendor, catalog)) {
    inv.type = id;
    inv.accel_type = catalog.name(*id);
    return;
  }
  inv.type.reset();
  inv.accel_type = std::string(trim(device_name));
  inv.warnings.push_back(std::string(vendor) + " device name '" + inv.accel_type +
                         "' is not in the accelerator catalog; reported as is");
}

void add_named_device(Inventory& inv, std::string& first_name, std::string_view name, Device d) {
  if (first_name.empty()) first_name = std::string(name);
  if (name != first_name) {
    const std::string why =
        "device is a " + std::string(name) + ", the node's devices are " + first_name;
    d.healthy = false;
    d.problem = d.problem.empty() ? why : d.problem + "; " + why;
  }
  inv.devices.push_back(std::move(d));
}

std::unique_ptr<DeviceDiscovery> make_discovery(std::string_view kind,
                                                const DiscoveryOptions& options,
                                                std::string& error) {
  const Catalog& catalog = options.catalog ? *options.catalog : Catalog::builtin();
  error.clear();
  if (kind == "fake")
    return make_fake_discovery(options.fake_spec, options.fake_health_file, catalog);
  if (kind == "nvidia") return make_nvidia_discovery(options.nvml_library, catalog, error);
  if (kind == "cambricon") return make_cambricon_discovery(options.cnmon_path, catalog, error);
  if (kind == "ascend") return make_ascend_discovery(options.npu_smi_path, catalog, error);
  if (kind != "auto")
    throw InputError("discovery", "unknown discovery kind '" + std::string(kind) +
                                      "' (expected fake, nvidia, cambricon, ascend or auto)");
  // auto: the first backend that loads and sees at least one device.
  std::string tried;
  auto attempt = [&](const char* name, std::unique_ptr<DeviceDiscovery> d,
                     const std::string& why) -> std::unique_ptr<DeviceDiscovery> {
    std::string outcome = why;
    if (d) {
      Inventory inv = d->discover();
      if (!inv.devices.empty()) return d;
      outcome = "no devices (" + inv.source + ")";
    }
    tried += std::string(tried.empty() ? "" : "; ") + name + ": " + outcome;
    return nullptr;
  };
  std::string why;
  if (auto d = attempt("nvidia", make_nvidia_discovery(options.nvml_library, catalog, why), why))
    return d;
  if (auto d =
          attempt("cambricon", make_cambricon_discovery(options.cnmon_path, catalog, why), why))
    return d;
  if (auto d = attempt("ascend", make_ascend_discovery(options.npu_smi_path, catalog, why), why))
    return d;
  return std::make_unique<NoDevices>("auto: no accelerators found (" + tried + ")");
}

}  // namespace zs
