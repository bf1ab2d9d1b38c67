#include "agent/cgroup_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "core/text.h"

namespace zs::cgroup_files {

std::string errno_text(int err) {
  return std::system_category().message(err);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool is_cgroup_fs(const std::string& dir) {
  struct statfs s {};
  if (::statfs(dir.c_str(), &s) != 0) return false;
  return s.f_type == CGROUP_SUPER_MAGIC || s.f_type == CGROUP2_SUPER_MAGIC;
}

std::string read_small(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0 && out.size() < (1u << 20);)
    out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

std::string write_control(const std::string& path, std::string_view value, bool create) {
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
  if (fd < 0) return "cannot open " + path + ": " + errno_text(errno);
  ssize_t n = ::write(fd, value.data(), value.size());
  int err = n < 0 ? errno : EIO;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size()))
    return "cannot write '" + std::string(value) + "' to " + path + ": " + errno_text(err);
  return "";
}

std::string make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) == 0) return "";
  int err = errno;
  struct stat st {};
  if (err == EEXIST && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return "";
  std::string why = "cannot create " + path + ": " + errno_text(err);
  errno = err;
  return why;
}

std::vector<std::string> components(std::string_view rel) {
  std::vector<std::string> out;
  for (auto part : split(rel, '/'))
    if (!part.empty()) out.emplace_back(part);
  return out;
}

void delete_plain_files(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    std::string path = dir + "/" + e->d_name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) ::unlink(path.c_str());
  }
  ::closedir(d);
}

}  // namespace zs::cgroup_files
