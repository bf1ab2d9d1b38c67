#include "api/token_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/input_error.h"

namespace zs {
namespace {

constexpr std::size_t kMaxTokenFileBytes = 4096;

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

std::string read_token_file(const std::string& path, const std::string& where) {
  if (path.empty() || path.size() >= 4096 || path.find('\0') != std::string::npos)
    throw InputError(where, "expected the path of a token file");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) throw InputError(where, "cannot read " + path + ": " + std::strerror(errno));
  struct stat st {};
  std::string text;
  std::string problem;
  if (::fstat(fd, &st) != 0) {
    problem = "cannot read " + path + ": " + std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    problem = path + " is not a regular file";
  } else if (st.st_uid != ::geteuid() && st.st_uid != 0) {
    problem = path + " belongs to another user (uid " + std::to_string(st.st_uid) +
              "): a credential file must be your own";
  } else if ((st.st_mode & 077) != 0) {
    problem = path + " is " + ((st.st_mode & 044) != 0 ? "readable" : "writable") +
              " by other users (mode " + octal_mode(st.st_mode) + "): chmod 600 " + path;
  } else if (st.st_size > static_cast<off_t>(kMaxTokenFileBytes)) {
    problem = path + " is too large for a token file (" + std::to_string(st.st_size) + " bytes)";
  } else {
    char buf[kMaxTokenFileBytes + 1];
    std::size_t got = 0;
    while (got < sizeof buf) {
      const ssize_t n = ::read(fd, buf + got, sizeof buf - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) problem = "cannot read " + path + ": " + std::strerror(errno);
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    if (got > kMaxTokenFileBytes) problem = path + " is too large for a token file";
    text.assign(buf, problem.empty() ? std::min(got, kMaxTokenFileBytes) : 0);
  }
  ::close(fd);
  if (!problem.empty()) throw InputError(where, problem);
  const auto first = text.find_first_not_of(" \t\r\n");
  const auto last = text.find_last_not_of(" \t\r\n");
  text = first == std::string::npos ? "" : text.substr(first, last - first + 1);
  if (text.empty()) throw InputError(where, path + " is empty: expected a token");
  for (char c : text)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      throw InputError(where, path + " does not hold a token (one line of printable characters)");
  return text;
}

void write_token_file(const std::string& path, const std::string& token, const std::string& where) {
  if (path.empty() || path.size() >= 4096 || path.find('\0') != std::string::npos)
    throw InputError(where, "expected the path of a token file");
  auto fail = [&](const std::string& what) {
    throw InputError(where, "cannot write " + path + ": " + what + ": " + std::strerror(errno));
  };
  // Missing parents, private (as ~/.config/zs).
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) fail("creating " + dir);
  }
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) fail("creating " + tmp);
  const std::string line = token + "\n";
  bool ok = ::fchmod(fd, 0600) == 0 &&
            ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    errno = saved;
    fail("writing");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    errno = e;
    fail("renaming " + tmp);
  }
  const std::string dir =
      path.rfind('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  if (const int dfd = ::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace zs
