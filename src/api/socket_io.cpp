#include "api/socket_io.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstddef>

namespace zs::http {

namespace {

// Steps `iov` past `n` sent bytes; returns how many entries are left.
int advance(iovec*& iov, int count, std::size_t n) {
  while (count > 0 && n >= iov->iov_len) {
    n -= iov->iov_len;
    ++iov;
    --count;
  }
  if (count > 0) {
    iov->iov_base = static_cast<char*>(iov->iov_base) + n;
    iov->iov_len -= n;
  }
  return count;
}

}  // namespace

bool send_all(int fd, iovec* iov, int count) {
  while (count > 0) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(count);
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    count = advance(iov, count, static_cast<std::size_t>(n));
  }
  return true;
}

long send_available(int fd, iovec* iov, int count) {
  long total = 0;
  while (count > 0) {
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(count);
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return -1;
    }
    total += n;
    count = advance(iov, count, static_cast<std::size_t>(n));
  }
  return total;
}

}  // namespace zs::http
