// A stand-in for libnvidia-ml.so.1, for the NVML loader tests: the symbols the agent resolves,
// with C linkage, and a few devices whose names and faults the test sets through environment
// variables (read on every call, so one loaded copy serves every test):
//   ZS_FAKE_NVML_DEVICES    device count (default 4)
//   ZS_FAKE_NVML_NAME       every device's name (default "NVIDIA A100-SXM4-80GB")
//   ZS_FAKE_NVML_LAST_NAME  the last device's name, to make a mixed node
//   ZS_FAKE_NVML_RETIRED    index of a device with retired pages pending (default 2; -1 none)
//   ZS_FAKE_NVML_ECC        index of a device with uncorrectable ECC errors (default none)
//   ZS_FAKE_NVML_LOST       index of a device whose handle reports "GPU is lost"
//   ZS_FAKE_NVML_INIT_RC    what nvmlInit_v2 returns (default 0, success)
//   ZS_FAKE_NVML_COUNT_RC   what nvmlDeviceGetCount_v2 returns (default 0)
// Built twice: ZS_FAKE_NVML_NO_HEALTH leaves out the optional health symbols.
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr int kSuccess = 0, kUninitialized = 1, kInvalidArgument = 2, kInsufficientSize = 7,
              kGpuIsLost = 15;

struct Handle {
  unsigned index;
};
Handle g_handles[64];
int g_init_count = 0;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

unsigned device_count() {
  int n = env_int("ZS_FAKE_NVML_DEVICES", 4);
  return n < 0 ? 0u : n > 64 ? 64u : static_cast<unsigned>(n);
}

const Handle* valid(const void* device) {
  for (const Handle& h : g_handles)
    if (&h == device && h.index < device_count()) return &h;
  return nullptr;
}

int copy_out(const char* text, char* out, unsigned length) {
  if (!out) return kInvalidArgument;
  if (std::strlen(text) + 1 > length) return kInsufficientSize;
  std::strcpy(out, text);
  return kSuccess;
}

}  // namespace

extern "C" {

struct nvmlDevice_st;

int nvmlInit_v2() {
  int rc = env_int("ZS_FAKE_NVML_INIT_RC", 0);
  if (rc == kSuccess) ++g_init_count;
  return rc;
}

int nvmlShutdown() {
  if (g_init_count == 0) return kUninitialized;
  --g_init_count;
  return kSuccess;
}

const char* nvmlErrorString(int rc) {
  switch (rc) {
    case kSuccess:
      return "Success";
    case kUninitialized:
      return "Uninitialized";
    case kInvalidArgument:
      return "Invalid Argument";
    case 9:
      return "Driver Not Loaded";
    case kGpuIsLost:
      return "GPU is lost";
    default:
      return "Unknown Error";
  }
}

int nvmlSystemGetNVMLVersion(char* version, unsigned length) {
  return copy_out("12.535.104.05", version, length);
}

int nvmlDeviceGetCount_v2(unsigned* count) {
  if (g_init_count == 0) return kUninitialized;
  if (int rc = env_int("ZS_FAKE_NVML_COUNT_RC", 0); rc != kSuccess) return rc;
  if (!count) return kInvalidArgument;
  *count = device_count();
  return kSuccess;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned index, nvmlDevice_st** device) {
  if (g_init_count == 0) return kUninitialized;
  if (!device || index >= device_count()) return kInvalidArgument;
  if (static_cast<int>(index) == env_int("ZS_FAKE_NVML_LOST", -1)) return kGpuIsLost;
  g_handles[index].index = index;
  *device = reinterpret_cast<nvmlDevice_st*>(&g_handles[index]);
  return kSuccess;
}

int nvmlDeviceGetName(nvmlDevice_st* device, char* name, unsigned length) {
  const Handle* h = valid(device);
  if (!h) return kInvalidArgument;
  const char* last = std::getenv("ZS_FAKE_NVML_LAST_NAME");
  const char* all = std::getenv("ZS_FAKE_NVML_NAME");
  if (last && *last && h->index + 1 == device_count()) return copy_out(last, name, length);
  return copy_out(all && *all ? all : "NVIDIA A100-SXM4-80GB", name, length);
}

int nvmlDeviceGetUUID(nvmlDevice_st* device, char* uuid, unsigned length) {
  const Handle* h = valid(device);
  if (!h) return kInvalidArgument;
  char text[64];
  std::snprintf(text, sizeof text, "GPU-fake0000-0000-0000-0000-%012u", h->index);
  return copy_out(text, uuid, length);
}

#ifndef ZS_FAKE_NVML_NO_HEALTH
int nvmlDeviceGetRetiredPagesPendingStatus(nvmlDevice_st* device, int* is_pending) {
  const Handle* h = valid(device);
  if (!h || !is_pending) return kInvalidArgument;
  *is_pending = static_cast<int>(h->index) == env_int("ZS_FAKE_NVML_RETIRED", 2) ? 1 : 0;
  return kSuccess;
}

int nvmlDeviceGetTotalEccErrors(nvmlDevice_st* device, int error_type, int counter_type,
                                unsigned long long* count) {
  const Handle* h = valid(device);
  if (!h || !count || error_type != 1 || counter_type != 0) return kInvalidArgument;
  *count = static_cast<int>(h->index) == env_int("ZS_FAKE_NVML_ECC", -1) ? 3 : 0;
  return kSuccess;
}
#endif

}  // extern "C"
