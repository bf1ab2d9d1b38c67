#include "agent/record_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <system_error>

namespace zs {
namespace {

std::string errno_text(int err) {
  return std::system_category().message(err);
}

// "r<N>": the number, or nullopt for any other name.
std::optional<std::uint64_t> slot_number(const std::string& name) {
  if (name.size() < 2 || name[0] != 'r') return std::nullopt;
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(name.data() + 1, name.data() + name.size(), n);
  if (ec != std::errc() || p != name.data() + name.size()) return std::nullopt;
  return n;
}

bool write_all_at(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

RecordStore::RecordStore(std::string dir) : dir_(std::move(dir)) {
  ::mkdir(dir_.c_str(), 0700);
  ::chmod(dir_.c_str(), 0700);
}

std::vector<RecordStore::Found> RecordStore::load() {
  std::vector<Found> found;
  spares_.clear();
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return found;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  for (const auto& name : names) {
    const std::string path = dir_ + "/" + name;
    const auto n = slot_number(name);
    if (!n) {
      ::unlink(path.c_str());  // not ours (a temporary file, an older layout)
      continue;
    }
    next_ = std::max(next_, *n + 1);
    AttemptRecord rec = parse_attempt_record(read(path));
    if (rec.header) {
      found.push_back({path, std::move(rec)});
    } else {
      free(path);  // cut short before any task started, or already a spare
    }
  }
  return found;
}

int RecordStore::create(const std::string& header, std::string& path, std::string& error) {
  int fd = -1;
  while (fd < 0 && !spares_.empty()) {
    path = spares_.back();
    spares_.pop_back();
    fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  }
  if (fd < 0) {
    path = dir_ + "/r" + std::to_string(next_++);
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  }
  if (fd >= 0 && fd < 3) {  // an agent started with stdin closed: keep 0-2 free for the shim
    const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    ::close(fd);
    fd = moved;
  }
  // A spare holds one byte, "R": the header overwrites it; until its final '\n' is written
  // the file holds no attempt.
  if (fd < 0 || !write_all_at(fd, header) ||
      ::ftruncate(fd, static_cast<off_t>(header.size())) != 0 ||
      ::fcntl(fd, F_SETFL, O_APPEND) != 0) {
    error = "cannot write the attempt record " + path + ": " + errno_text(errno);
    if (fd >= 0) ::close(fd);
    ::unlink(path.c_str());
    return -1;
  }
  return fd;
}

void RecordStore::free(const std::string& path) {
  if (spares_.size() >= kMaxSpares || ::truncate(path.c_str(), 1) != 0) {
    ::unlink(path.c_str());
    return;
  }
  spares_.push_back(path);
}

std::string RecordStore::read(const std::string& path) const {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[8192];
  for (ssize_t n; out.size() < kMaxRecordBytes && (n = ::read(fd, buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

void RecordStore::append(const std::string& path, const std::string& line) const {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return;
  [[maybe_unused]] auto n = ::write(fd, line.data(), line.size());
  ::close(fd);
}

}  // namespace zs
