// The node lease, on the agent's side: a file in the work directory that says until when this
// node may keep running its tasks without having heard from the controller.
//
// The agent rewrites it after every answer from the controller: deadline = when the answered
// request was sent + the controller's lease_ms (AgentOrders). Both the agent and every shim on
// the work directory read it, so the tasks are stopped when it runs out even while the agent is
// frozen, dead or being upgraded (a shim outlives its agent), and a restarted agent that renews
// the lease renews it for the tasks of earlier shims too. Times are CLOCK_BOOTTIME
// milliseconds: one clock for every process of the machine, which counts a suspended machine's
// sleep (its controller saw the silence).
//
//   zs-lease 1 <kernel boot id> <deadline ms> <kill grace ms>
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace zs {

struct NodeLease {
  std::string kernel_boot;  // deadlines mean nothing after a reboot
  std::int64_t deadline_ms = 0;
  std::int64_t grace_ms = 0;  // SIGTERM to SIGKILL when it runs out
};

std::int64_t boot_clock_ms();  // CLOCK_BOOTTIME

// Atomically (a new file renamed over the old). "" or why not.
std::string write_node_lease(const std::string& path, const NodeLease& lease);
// nullopt when the file is missing or is not a lease. Plain system calls only: shims call it.
std::optional<NodeLease> read_node_lease(const std::string& path);

}  // namespace zs
