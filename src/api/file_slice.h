// Reading part of a log file for the logs endpoint of the agents.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace zs {

inline constexpr std::size_t kMaxLogSlice = 4u << 20;  // bytes per answer; followers ask again

// Which file a path named when it was opened: a log is served only while its path still names
// the file the attempt wrote, so a user who swaps their output file for a link to another file
// cannot make the agent (root) read that one.
struct FileIdentity {
  std::uint64_t dev = 0, ino = 0;
  bool known() const { return ino != 0; }
  bool operator==(const FileIdentity&) const = default;
};

// Appends to `out` at most `max` bytes of `path` from `offset`. Only a regular file is read: a
// FIFO, a device or a directory is refused without blocking (it is opened non-blocking and
// checked before any read). Returns "" on success, also when there is nothing new, else why
// the file cannot be read ("no such file", "not a regular file").
// With `expect`, the file must be that one ("not the file this attempt wrote" otherwise).
std::string read_file_slice(const std::string& path, std::uint64_t offset, std::size_t max,
                            std::string& out, const FileIdentity* expect = nullptr);

}  // namespace zs
