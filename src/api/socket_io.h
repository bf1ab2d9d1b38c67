// Socket writes shared by the HTTP listener and client.
#pragma once
#include <sys/uio.h>

namespace zs::http {

// Sends all of `iov` (e.g. head and body) with as few sendmsg calls as the kernel allows,
// usually one; never raises SIGPIPE. False with errno set when the connection failed.
bool send_all(int fd, iovec* iov, int count);

// Sends what the socket takes now without waiting (MSG_DONTWAIT), advancing `iov` past it: the
// number of bytes sent, or -1 when the connection failed. Never raises SIGPIPE.
long send_available(int fd, iovec* iov, int count);

}  // namespace zs::http
