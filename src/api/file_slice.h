// Reading part of a log file for the logs endpoint of the agents.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace zs {

inline constexpr std::size_t kMaxLogSlice = 4u << 20;  // bytes per answer; followers ask again

// Appends to `out` at most `max` bytes of `path` from `offset`. Only a regular file is read: a
// FIFO, a device or a directory is refused without blocking (it is opened non-blocking and
// checked before any read). Returns "" on success, also when there is nothing new, else why
// the file cannot be read ("no such file", "not a regular file").
std::string read_file_slice(const std::string& path, std::uint64_t offset, std::size_t max,
                            std::string& out);

}  // namespace zs
