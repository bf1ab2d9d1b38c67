// Socket writes shared by the HTTP listener and client.
#pragma once
#include <sys/uio.h>

namespace zs::http {

// Sends all of `iov` (e.g. head and body) with as few sendmsg calls as the kernel allows,
// usually one; never raises SIGPIPE. False with errno set when the connection failed.
bool send_all(int fd, iovec* iov, int count);

}  // namespace zs::http
