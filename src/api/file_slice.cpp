#include "api/file_slice.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace zs {

std::string read_file_slice(const std::string& path, std::uint64_t offset, std::size_t max,
                            std::string& out, const FileIdentity* expect) {
  if (path.empty() || path.find('\0') != std::string::npos) return "no such file";
  // O_NONBLOCK: opening a FIFO for reading must not wait for a writer.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return std::system_category().message(errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return std::system_category().message(errno);
  if (!S_ISREG(st.st_mode)) return "not a regular file";
  if (expect && !(FileIdentity{static_cast<std::uint64_t>(st.st_dev),
                               static_cast<std::uint64_t>(st.st_ino)} == *expect))
    return "not the file this attempt wrote (it was replaced)";
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (offset >= size) return "";
  const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size - offset, max));
  const std::size_t old = out.size();
  out.resize(old + want);
  std::size_t got = 0;
  while (got < want) {
    const ssize_t n =
        ::pread(fd, out.data() + old + got, want - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // truncated meanwhile, or an error: what was read is the answer
    got += static_cast<std::size_t>(n);
  }
  out.resize(old + got);
  return "";
}

}  // namespace zs
