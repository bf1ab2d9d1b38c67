#include "agent/script_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>

namespace zs {
namespace {

// 64-bit FNV-1a: a file name, not a security boundary (the size is part of the name too, and
// the content is compared before a file is reused).
std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

bool holds(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string got(text.size() + 1, '\0');
  std::size_t n = 0;
  for (ssize_t r; n < got.size() && (r = ::read(fd, got.data() + n, got.size() - n)) > 0;)
    n += static_cast<std::size_t>(r);
  ::close(fd);
  return n == text.size() && got.compare(0, n, text) == 0;
}

}  // namespace

ScriptCache::ScriptCache(std::string dir, std::size_t keep_idle,
                         const std::vector<std::string>& in_use)
    : dir_(std::move(dir)), keep_idle_(keep_idle) {
  std::error_code ec;
  for (const auto& path : in_use)
    if (path.size() > dir_.size() && path.compare(0, dir_.size() + 1, dir_ + "/") == 0 &&
        std::filesystem::is_regular_file(path, ec))
      ++entries_[path].users;
  if (entries_.empty()) {
    std::filesystem::remove_all(dir_, ec);
  } else {
    for (auto it = std::filesystem::directory_iterator(dir_, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
      if (!entries_.count(it->path().string())) std::filesystem::remove_all(it->path(), ec);
  }
  std::filesystem::create_directories(dir_, ec);
}

std::string ScriptCache::acquire(const std::string& text, std::string& error) {
  char name[64];
  std::snprintf(name, sizeof name, "/%016llx-%zu.sh", static_cast<unsigned long long>(fnv1a(text)),
                text.size());
  std::string path = dir_ + name;
  auto it = entries_.find(path);
  if (it != entries_.end() && !holds(path, text)) {
    // A collision, or the file was changed behind our back: give this text its own file.
    path += "." + std::to_string(++next_tmp_);
    it = entries_.end();
  }
  if (it == entries_.end()) {
    // Written under a temporary name and renamed, so no task ever sees half a script.
    const std::string tmp = dir_ + "/.tmp." + std::to_string(++next_tmp_);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
    bool ok = fd >= 0;
    for (std::size_t done = 0; ok && done < text.size();) {
      ssize_t w = ::write(fd, text.data() + done, text.size() - done);
      if (w < 0 && errno == EINTR) continue;
      ok = w > 0;
      if (ok) done += static_cast<std::size_t>(w);
    }
    if (fd >= 0 && ::close(fd) != 0) ok = false;
    if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) ok = false;
    if (!ok) {
      error = "cannot write the job script to " + path + ": " + std::strerror(errno);
      ::unlink(tmp.c_str());
      return "";
    }
    it = entries_.emplace(path, Entry{}).first;
  } else if (it->second.users == 0) {
    idle_.erase(it->second.idle_at);
  }
  ++it->second.users;
  return path;
}

void ScriptCache::release(const std::string& path) {
  auto it = entries_.find(path);
  if (it == entries_.end() || it->second.users == 0) return;
  if (--it->second.users > 0) return;
  it->second.idle_at = idle_.insert(idle_.end(), path);
  while (idle_.size() > keep_idle_) {
    ::unlink(idle_.front().c_str());
    entries_.erase(idle_.front());
    idle_.pop_front();
  }
}

}  // namespace zs
