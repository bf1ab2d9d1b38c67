// Running a vendor command-line tool (cnmon, npu-smi) and turning its output into an Inventory.
// The parsing is pure (device_parsers.h); this is the part that touches processes.
#pragma once
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/devices.h"
#include "core/accelerator.h"

namespace zs {

struct ToolOutput {
  int exit_code = -1;  // -1 when it did not start, timed out or its status was reaped elsewhere
  std::string out, err;
  std::string error;  // "" when it ran to completion (whatever its exit code)
};

// Runs argv (argv[0] a path) with the agent's environment plus LC_ALL=C and stdin from
// /dev/null, capturing stdout and stderr; kills its process group after `timeout`. It waits
// for its own pid only, but a reap_children() on another thread can take that exit status:
// then exit_code stays -1 with no error, and the output is still returned.

ToolOutput run_tool(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

// The tool to run: `configured` when set (it must be executable), else `name` in $PATH, then in
// `extra_dirs` (vendor tools often live in sbin directories outside a daemon's PATH).
std::optional<std::string> find_tool(const std::string& name, const std::string& configured,
                                     const std::vector<std::string>& extra_dirs,
                                     std::string& error);

// A backend that runs `argv` on every discover() and parses the output with `parse`. When the
// tool fails, the last devices it saw are returned, all unhealthy with the reason.
using ToolParser = Inventory (*)(std::string_view text, const Catalog& catalog);
std::unique_ptr<DeviceDiscovery> make_tool_discovery(std::vector<std::string> argv,
                                                     ToolParser parse, const Catalog& catalog);

}  // namespace zs
