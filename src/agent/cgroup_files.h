// File-system steps shared by the agent's two cgroup users (cgroup_limits.h: cpu/memory limits;
// cgroup_tracker.h: a tracking cgroup per attempt). Each works on a real cgroup tree and on the
// fake tree tests use (plain directories and files).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace zs::cgroup_files {

std::string errno_text(int err);
bool exists(const std::string& path);
// True for a cgroup v1 or v2 file system.
bool is_cgroup_fs(const std::string& dir);
// At most 1 MiB of a control file; "" when it cannot be read.
std::string read_small(const std::string& path);
// Writes a control file ("" = done, else why not). A real cgroup has every control file
// already; a fake tree gets it created when `create`.
std::string write_control(const std::string& path, std::string_view value, bool create);
// mkdir 0755; an existing directory is fine. On failure errno is kept for the caller.
std::string make_dir(const std::string& path);
// The non-empty parts of a relative path.
std::vector<std::string> components(std::string_view rel);
// A fake tree's directories hold plain files that rmdir would refuse to remove.
void delete_plain_files(const std::string& dir);

}  // namespace zs::cgroup_files
