// NVIDIA GPUs through NVML, loaded with dlopen: the agent links without the CUDA toolkit and
// runs on nodes without the driver (the factory then says why and returns nullptr).
#include <dlfcn.h>

#include "agent/device_parsers.h"
#include "agent/devices.h"

namespace zs {
namespace {

// The few NVML declarations used, from the NVML API reference (nvml.h is not needed). NVML's
// enums are C enums, passed as int.
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
constexpr nvmlReturn_t kSuccess = 0;
constexpr nvmlReturn_t kGpuIsLost = 15;      // NVML_ERROR_GPU_IS_LOST
constexpr nvmlReturn_t kResetRequired = 16;  // NVML_ERROR_RESET_REQUIRED
constexpr unsigned kNameSize = 96;           // NVML_DEVICE_NAME_V2_BUFFER_SIZE
constexpr unsigned kUuidSize = 96;           // NVML_DEVICE_UUID_V2_BUFFER_SIZE
constexpr unsigned kVersionSize = 80;        // NVML_SYSTEM_NVML_VERSION_BUFFER_SIZE
constexpr int kFeatureEnabled = 1;           // NVML_FEATURE_ENABLED
constexpr int kUncorrected = 1;              // NVML_MEMORY_ERROR_TYPE_UNCORRECTED
constexpr int kVolatileEcc = 0;              // NVML_VOLATILE_ECC: since the driver loaded

struct NvmlApi {
  nvmlReturn_t (*init)() = nullptr;
  nvmlReturn_t (*shutdown)() = nullptr;
  nvmlReturn_t (*count)(unsigned*) = nullptr;
  nvmlReturn_t (*handle)(unsigned, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*name)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*uuid)(nvmlDevice_t, char*, unsigned) = nullptr;
  const char* (*error_string)(nvmlReturn_t) = nullptr;
  // Optional: older drivers or GPUs lack them; a missing one means that check passes.
  nvmlReturn_t (*nvml_version)(char*, unsigned) = nullptr;
  nvmlReturn_t (*retired_pages_pending)(nvmlDevice_t, int*) = nullptr;
  nvmlReturn_t (*remapped_rows)(nvmlDevice_t, unsigned*, unsigned*, unsigned*, unsigned*) = nullptr;
  nvmlReturn_t (*total_ecc_errors)(nvmlDevice_t, int, int, unsigned long long*) = nullptr;
};

template <class F>
bool resolve(void* lib, const char* symbol, F& out) {
  out = reinterpret_cast<F>(::dlsym(lib, symbol));
  return out != nullptr;
}

class NvmlDiscovery : public DeviceDiscovery {
 public:
  NvmlDiscovery(void* lib, NvmlApi api, std::string source, const Catalog& catalog)
      : lib_(lib), api_(api), source_(std::move(source)), catalog_(catalog) {}
  ~NvmlDiscovery() override {
    api_.shutdown();
    ::dlclose(lib_);
  }

  Inventory discover() override {
    unsigned count = 0;
    if (nvmlReturn_t rc = api_.count(&count); rc != kSuccess) {
      Inventory inv = last_;  // keep the known devices, none usable
      const std::string problem = "nvmlDeviceGetCount_v2: " + error_text(rc);
      for (Device& d : inv.devices) d.healthy = false, d.problem = problem;
      inv.warnings = {problem};
      return inv;
    }
    Inventory inv;
    inv.source = source_;
    std::string first_name;
    for (unsigned i = 0; i < count; ++i) {
      Device d;
      d.index = static_cast<int>(i);
      nvmlDevice_t h = nullptr;
      char name[kNameSize] = {}, uuid[kUuidSize] = {};
      nvmlReturn_t rc = api_.handle(i, &h);
      if (rc == kSuccess) rc = api_.name(h, name, kNameSize);
      if (rc == kSuccess) rc = api_.uuid(h, uuid, kUuidSize);
      if (rc != kSuccess) {  // unreadable: listed, unusable
        d.healthy = false;
        d.problem = "NVML cannot read GPU " + std::to_string(i) + ": " + error_text(rc);
        inv.devices.push_back(std::move(d));
        continue;
      }
      d.uuid = uuid;
      check_health(h, d);
      add_named_device(inv, first_name, name, std::move(d));
    }
    if (!first_name.empty()) set_inventory_type(inv, first_name, "NVIDIA", catalog_);
    last_ = inv;
    return inv;
  }

 private:
  std::string error_text(nvmlReturn_t rc) const {
    const char* s = api_.error_string(rc);
    return s ? s : "NVML error " + std::to_string(rc);
  }

  // Only definite failures count: "not supported" on a GPU without the feature is healthy.
  void check_health(nvmlDevice_t h, Device& d) const {
    std::vector<std::string> problems;
    auto lost = [&](nvmlReturn_t rc) {
      if (rc == kGpuIsLost || rc == kResetRequired) problems.push_back(error_text(rc));
    };
    if (api_.retired_pages_pending) {
      int pending = 0;
      nvmlReturn_t rc = api_.retired_pages_pending(h, &pending);
      if (rc == kSuccess && pending == kFeatureEnabled)
        problems.push_back("retired memory pages pending (reboot needed)");
      lost(rc);
    }
    if (api_.remapped_rows) {
      unsigned corrected = 0, uncorrected = 0, pending = 0, failed = 0;
      nvmlReturn_t rc = api_.remapped_rows(h, &corrected, &uncorrected, &pending, &failed);
      if (rc == kSuccess && failed) problems.push_back("memory row remapping failed");
      if (rc == kSuccess && pending)
        problems.push_back("memory row remapping pending (reset needed)");
      lost(rc);
    }
    if (api_.total_ecc_errors) {
      unsigned long long errors = 0;
      nvmlReturn_t rc = api_.total_ecc_errors(h, kUncorrected, kVolatileEcc, &errors);
      if (rc == kSuccess && errors > 0)
        problems.push_back(std::to_string(errors) + " uncorrectable ECC errors since driver load");
      lost(rc);
    }
    for (const auto& p : problems) {
      d.healthy = false;
      d.problem += (d.problem.empty() ? "" : "; ") + p;
    }
  }

  void* lib_;
  NvmlApi api_;
  std::string source_;
  const Catalog& catalog_;
  Inventory last_;
};

}  // namespace

std::unique_ptr<DeviceDiscovery> make_nvidia_discovery(const std::string& library,
                                                       const Catalog& catalog, std::string& error) {
  void* lib = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = ::dlerror();
    error = "NVML not available: " + std::string(why ? why : library);
    return nullptr;
  }
  NvmlApi api;
  const char* missing = nullptr;
  if (!resolve(lib, "nvmlInit_v2", api.init))
    missing = "nvmlInit_v2";
  else if (!resolve(lib, "nvmlShutdown", api.shutdown))
    missing = "nvmlShutdown";
  else if (!resolve(lib, "nvmlDeviceGetCount_v2", api.count))
    missing = "nvmlDeviceGetCount_v2";
  else if (!resolve(lib, "nvmlDeviceGetHandleByIndex_v2", api.handle))
    missing = "nvmlDeviceGetHandleByIndex_v2";
  else if (!resolve(lib, "nvmlDeviceGetName", api.name))
    missing = "nvmlDeviceGetName";
  else if (!resolve(lib, "nvmlDeviceGetUUID", api.uuid))
    missing = "nvmlDeviceGetUUID";
  else if (!resolve(lib, "nvmlErrorString", api.error_string))
    missing = "nvmlErrorString";
  if (missing) {
    error = library + " lacks " + missing + " (not an NVML library, or too old)";
    ::dlclose(lib);
    return nullptr;
  }
  resolve(lib, "nvmlSystemGetNVMLVersion", api.nvml_version);
  resolve(lib, "nvmlDeviceGetRetiredPagesPendingStatus", api.retired_pages_pending);
  resolve(lib, "nvmlDeviceGetRemappedRows", api.remapped_rows);
  resolve(lib, "nvmlDeviceGetTotalEccErrors", api.total_ecc_errors);
  if (nvmlReturn_t rc = api.init(); rc != kSuccess) {
    const char* why = api.error_string(rc);
    error = "nvmlInit_v2 failed: " + (why ? std::string(why) : "NVML error " + std::to_string(rc));
    ::dlclose(lib);
    return nullptr;
  }
  std::string source = "nvml";
  char version[kVersionSize] = {};
  if (api.nvml_version && api.nvml_version(version, kVersionSize) == kSuccess)
    source += " " + std::string(version);
  return std::make_unique<NvmlDiscovery>(lib, api, std::move(source), catalog);
}

}  // namespace zs
