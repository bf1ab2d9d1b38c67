#include "core/job_record.h"

#include <array>

namespace zs {
namespace {
constexpr std::array<std::string_view, 7> kJobStates = {
    "pending", "running", "completed", "failed", "cancelled", "timeout", "node_fail"};
constexpr std::array<std::string_view, 3> kNodeStates = {"up", "drained", "down"};
}  // namespace

std::string_view to_string(JobState s) {
  return kJobStates[static_cast<std::size_t>(s)];
}

std::optional<JobState> job_state_from_string(std::string_view s) {
  for (std::size_t i = 0; i < kJobStates.size(); ++i)
    if (kJobStates[i] == s) return static_cast<JobState>(i);
  return std::nullopt;
}

std::string_view to_string(NodeStatus s) {
  return kNodeStates[static_cast<std::size_t>(s)];
}

std::optional<NodeStatus> node_state_from_string(std::string_view s) {
  for (std::size_t i = 0; i < kNodeStates.size(); ++i)
    if (kNodeStates[i] == s) return static_cast<NodeStatus>(i);
  return std::nullopt;
}

}  // namespace zs
