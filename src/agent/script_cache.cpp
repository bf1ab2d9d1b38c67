#include "agent/script_cache.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>

namespace zs {
namespace {

// 64-bit FNV-1a: finds a file by its text, not a security boundary (the size is part of the key
// too, and the content is compared before a file is reused).
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

// 128 random bits in hex: a name no other user can guess. "" when there is no randomness.
std::string random_name() {
  unsigned char bytes[16];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return "";
    got += static_cast<std::size_t>(n);
  }
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
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
  // Passable for the users whose scripts are here, listable by no one but the agent.
  ::chmod(dir_.c_str(), 0711);
}

std::string ScriptCache::acquire(const std::string& text, std::string& error, ScriptOwner owner) {
  const Key key{owner.chown ? static_cast<long long>(owner.uid) : -1,
                owner.chown ? static_cast<long long>(owner.gid) : -1, fnv1a(text), text.size()};
  auto found = by_key_.find(key);
  if (found != by_key_.end() && !holds(found->second, text)) {
    // The file was changed behind our back (its owner may write it): never used again.
    const std::string stale = found->second;
    if (entries_[stale].users == 0) {
      idle_.erase(entries_[stale].idle_at);
      ::unlink(stale.c_str());
      entries_.erase(stale);
    } else {
      entries_[stale].indexed = false;  // deleted when its last attempt releases it
    }
    by_key_.erase(found);
    found = by_key_.end();
  }
  std::string path;
  if (found == by_key_.end()) {
    const std::string name = random_name();
    if (name.empty()) {
      error = "cannot name the job script: no random numbers";
      return "";
    }
    path = dir_ + "/" + name + ".sh";
    // Written under a temporary name and renamed, so no task ever sees half a script.
    const std::string tmp = dir_ + "/.tmp." + name;
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0700);
    bool ok = fd >= 0;
    for (std::size_t done = 0; ok && done < text.size();) {
      ssize_t w = ::write(fd, text.data() + done, text.size() - done);
      if (w < 0 && errno == EINTR) continue;
      ok = w > 0;
      if (ok) done += static_cast<std::size_t>(w);
    }
    // Its user's, and no one else's (the mode is set again: a umask may have taken bits).
    if (ok && owner.chown && ::fchown(fd, owner.uid, owner.gid) != 0) ok = false;
    if (ok && ::fchmod(fd, 0700) != 0) ok = false;
    if (fd >= 0 && ::close(fd) != 0) ok = false;
    if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) ok = false;
    if (!ok) {
      error = "cannot write the job script to " + path + ": " + std::strerror(errno);
      ::unlink(tmp.c_str());
      return "";
    }
    Entry& e = entries_[path];
    e.indexed = true;
    e.key = key;
    by_key_[key] = path;
  } else {
    path = found->second;
    if (entries_[path].users == 0) idle_.erase(entries_[path].idle_at);
  }
  ++entries_[path].users;
  return path;
}

void ScriptCache::forget(const std::string& path) {
  auto it = entries_.find(path);
  if (it == entries_.end()) return;
  if (it->second.indexed) by_key_.erase(it->second.key);
  ::unlink(path.c_str());
  entries_.erase(it);
}

void ScriptCache::release(const std::string& path) {
  auto it = entries_.find(path);
  if (it == entries_.end() || it->second.users == 0) return;
  if (--it->second.users > 0) return;
  if (!it->second.indexed) return forget(path);  // no one will ask for it again
  it->second.idle_at = idle_.insert(idle_.end(), path);
  while (idle_.size() > keep_idle_) {
    const std::string oldest = idle_.front();
    idle_.pop_front();
    forget(oldest);
  }
}

}  // namespace zs
