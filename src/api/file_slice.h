// Reading part of a log file for the logs endpoints (the controller's and the agent's).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace zs {

inline constexpr std::size_t kMaxLogSlice = 4u << 20;  // bytes per answer; followers ask again

// Appends to `out` at most `max` bytes of `path` from `offset`. False when the file cannot be
// opened (missing, or not visible here); true otherwise, also when there is nothing new.
bool read_file_slice(const std::string& path, std::uint64_t offset, std::size_t max,
                     std::string& out);

}  // namespace zs
