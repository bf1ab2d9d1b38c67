#include "agent/node_lease.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace zs {
namespace {

constexpr std::size_t kMaxLeaseBytes = 256;

bool field(const char*& p, const char* end, std::string_view& out) {
  while (p < end && *p == ' ') ++p;
  const char* start = p;
  while (p < end && *p != ' ' && *p != '\n') ++p;
  out = std::string_view(start, static_cast<std::size_t>(p - start));
  return !out.empty();
}

bool integer(std::string_view s, std::int64_t& v) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && ptr == s.data() + s.size() && v >= 0;
}

}  // namespace

std::int64_t boot_clock_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

std::string write_node_lease(const std::string& path, const NodeLease& lease) {
  const std::string text = "zs-lease 1 " + lease.kernel_boot + " " +
                           std::to_string(lease.deadline_ms) + " " +
                           std::to_string(lease.grace_ms) + "\n";
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot write " + tmp + ": " + std::strerror(errno);
  // No fsync: a lease outlives neither a reboot nor the boot clock it counts in.
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int err = errno;
  ::close(fd);
  if (!ok) return "cannot write " + tmp + ": " + std::strerror(err);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return "cannot rename " + tmp + ": " + std::strerror(errno);
  return "";
}

std::optional<NodeLease> read_node_lease(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return std::nullopt;
  char buf[kMaxLeaseBytes];
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  if (n <= 0 || static_cast<std::size_t>(n) == sizeof buf) return std::nullopt;
  const char* p = buf;
  const char* end = buf + n;
  std::string_view magic, version, boot, deadline, grace;
  NodeLease lease;
  if (!field(p, end, magic) || magic != "zs-lease" || !field(p, end, version) || version != "1" ||
      !field(p, end, boot) || !field(p, end, deadline) || !field(p, end, grace) ||
      !integer(deadline, lease.deadline_ms) || !integer(grace, lease.grace_ms))
    return std::nullopt;
  lease.kernel_boot = std::string(boot);
  return lease;
}

}  // namespace zs
