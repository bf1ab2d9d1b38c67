#include "agent/work_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <system_error>

#include "core/input_error.h"
#include "core/text.h"

namespace zs {
namespace {

std::string errno_text(int err) {
  return std::system_category().message(err);
}

std::string read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return std::string(trim(line));
}

}  // namespace

WorkDirLock::WorkDirLock(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw InputError("--work-dir", "cannot create " + dir + ": " + ec.message());
  // Scripts, environments and records live here: only the agent's user may read them. An agent
  // running as root runs tasks as other users, who must reach their own scripts (scripts/,
  // script_cache.h) and our srun (bin/): they may pass through (0711), never list; every file
  // here but those is root's alone (0600, 0700).
  const mode_t mode = ::geteuid() == 0 ? 0711 : 0700;
  if (::chmod(dir.c_str(), mode) != 0)
    throw InputError("--work-dir", "cannot set the mode of " + dir + ": " + errno_text(errno));
  const std::string path = dir + "/agent.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw InputError("--work-dir", "cannot open " + path + ": " + errno_text(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder = read_line(path);
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      throw InputError("--work-dir", "work directory " + dir + " is in use by another zs agent" +
                                         (holder.empty() ? "" : " (pid " + holder + ")") +
                                         ": two agents must not share one");
    throw InputError("--work-dir", "cannot lock " + path + ": " + errno_text(err));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] auto n = ::pwrite(fd_, pid.data(), pid.size(), 0);
  }
}

WorkDirLock::~WorkDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

std::string random_hex_id() {
  std::random_device rd;
  const auto now =
      static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  std::uint64_t a = (std::uint64_t{rd()} << 32) ^ rd();
  std::uint64_t b = now ^ (std::uint64_t{rd()} << 20);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%08llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b & 0xffffffffu));
  return buf;
}

std::string work_dir_instance_id(const std::string& dir) {
  const std::string path = dir + "/instance-id";
  std::string id = read_line(path);
  const bool valid = id.size() >= 8 && id.size() <= 64 &&
                     id.find_first_not_of("0123456789abcdef") == std::string::npos;
  if (valid) return id;
  id = random_hex_id();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << id << "\n";
    if (!out) return id;  // unwritable: this run's id is still unique
  }
  ::chmod(tmp.c_str(), 0600);
  ::rename(tmp.c_str(), path.c_str());
  return id;
}

std::string work_dir_tag(const std::string& dir) {
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a
  for (unsigned char c : dir) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[12];
  std::snprintf(buf, sizeof buf, "%08llx",
                static_cast<unsigned long long>((h >> 32) ^ h) & 0xffffffffull);
  return buf;
}

std::string kernel_boot_id() {
  return read_line("/proc/sys/kernel/random/boot_id");
}

}  // namespace zs
