#include "api/http_client_connection.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "api/http_parser.h"
#include "api/socket_io.h"
#include "api/tls_socket.h"

namespace zs::http {
namespace {

constexpr std::size_t kMaxHead = 64 * 1024;
constexpr std::size_t kMaxBody = std::size_t{1} << 30;

void apply_timeouts(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Connects within `ms`; -1 with errno set on failure.
int connect_within(const addrinfo* a, int ms) {
  int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
  if (fd < 0) return -1;
  if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      int e = errno;
      close(fd);
      errno = e;
      return -1;
    }
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    int ready = poll(&p, 1, ms);
    if (ready <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      close(fd);
      errno = ready == 0 ? ETIMEDOUT : err ? err : errno;
      return -1;
    }
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  int yes = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  apply_timeouts(fd, ms);
  return fd;
}

}  // namespace

ClientConnection::ClientConnection(std::string host, std::string port, int timeout_ms, bool tls)
    : host_(std::move(host)), port_(std::move(port)), timeout_ms_(timeout_ms), tls_(tls) {}

ClientConnection::~ClientConnection() {
  close_socket();
}

void ClientConnection::close_socket() {
  session_.reset();
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

void ClientConnection::set_timeout_ms(int ms) {
  timeout_ms_ = ms;
  if (fd_ >= 0) apply_timeouts(fd_, ms);
}

void ClientConnection::open() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host_.c_str(), port_.c_str(), &hints, &found); rc != 0)
    throw ClientFailure(ClientFailure::connect, gai_strerror(rc));
  int err = ECONNREFUSED;
  for (addrinfo* a = found; a && fd_ < 0; a = a->ai_next) {
    fd_ = connect_within(a, timeout_ms_);
    if (fd_ < 0) err = errno;
  }
  freeaddrinfo(found);
  if (fd_ < 0)
    throw ClientFailure(err == ECONNREFUSED ? ClientFailure::refused : ClientFailure::connect,
                        std::strerror(err));
  if (!tls_) return;
  // The handshake on the blocking socket, bounded by its timeouts.
  std::string error;
  try {
    session_ = tls::Session::client(*tls::default_client_context(), fd_, host_, error);
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  tls::Session::Step step = session_ ? session_->handshake() : tls::Session::Step::failed;
  if (step == tls::Session::Step::done) return;
  if (session_ && step != tls::Session::Step::failed)
    error = "timed out during the TLS handshake";
  else if (session_)
    error = session_->error();
  close_socket();
  throw ClientFailure(ClientFailure::tls, error);
}

bool ClientConnection::send_request(iovec* iov, int count) {
  if (!session_) return send_all(fd_, iov, count);
  for (int i = 0; i < count; ++i) {
    const char* at = static_cast<const char*>(iov[i].iov_base);
    std::size_t left = iov[i].iov_len;
    while (left > 0) {
      const ssize_t n = session_->write(at, left);
      if (n < 0) {
        if (errno == EAGAIN) errno = ETIMEDOUT;
        return false;
      }
      at += n;
      left -= static_cast<std::size_t>(n);
    }
  }
  return true;
}

ssize_t ClientConnection::receive(char* buf, std::size_t n) {
  if (session_) {
    const ssize_t r = session_->read(buf, n);
    if (r < 0 && errno == ETIMEDOUT) errno = EAGAIN;  // the socket's timeout, as for recv
    return r;
  }
  ssize_t r;
  do {
    r = recv(fd_, buf, n, 0);
  } while (r < 0 && errno == EINTR);
  return r;
}

ClientResponse ClientConnection::request(std::string_view method, std::string_view target,
                                         std::string_view content_type, std::string_view body) {
  ClientResponse out;
  // A kept-alive connection the server has closed meanwhile (idle timeout, restart) is noticed
  // before sending, not retried after: a request the server may have acted on is never sent
  // twice.
  if (fd_ >= 0) {
    char byte;
    ssize_t n = recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) close_socket();
    // Over TLS the server sends nothing unasked (no session tickets) but its close_notify.
    else if (n > 0 && session_)
      close_socket();
  }
  if (fd_ < 0) open();
  if (exchange(method, target, content_type, body, out)) return out;
  close_socket();
  throw ClientFailure(ClientFailure::read, "the connection was closed before an answer came");
}

bool ClientConnection::exchange(std::string_view method, std::string_view target,
                                std::string_view content_type, std::string_view body,
                                ClientResponse& out) {
  std::string head;
  head.reserve(128 + target.size());
  head.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ");
  head.append(host_).append(":").append(port_).append("\r\n");
  if (!authorization_.empty()) head.append("Authorization: ").append(authorization_).append("\r\n");
  if (!body.empty() || method == "POST" || method == "PUT") {
    if (!content_type.empty()) head.append("Content-Type: ").append(content_type).append("\r\n");
    head.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  head.append("\r\n");
  iovec iov[2] = {{head.data(), head.size()}, {const_cast<char*>(body.data()), body.size()}};
  int count = body.empty() ? 1 : 2;
  if (!send_request(iov, count)) throw ClientFailure(ClientFailure::write, std::strerror(errno));

  std::string buffer;
  auto read_some = [&](std::size_t chunk) {  // false at the end of the stream
    const std::size_t old = buffer.size();
    buffer.resize(old + chunk);
    const ssize_t n = receive(buffer.data() + old, chunk);
    buffer.resize(old + (n > 0 ? static_cast<std::size_t>(n) : 0));
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      throw ClientFailure(ClientFailure::read, "timed out waiting for the answer");
    if (n < 0 && errno != ECONNRESET)
      throw ClientFailure(ClientFailure::read, session_ && !session_->error().empty()
                                                   ? session_->error()
                                                   : std::string(std::strerror(errno)));
    return n > 0;
  };
  std::optional<ResponseHead> parsed;
  std::size_t head_end;
  for (;;) {
    while ((head_end = find_head_end(buffer)) == std::string::npos) {
      if (buffer.size() > kMaxHead)
        throw ClientFailure(ClientFailure::read, "the answer's head is too large");
      if (!read_some(16 * 1024)) {
        if (buffer.empty()) return false;
        throw ClientFailure(ClientFailure::read, "the connection closed mid-answer");
      }
    }
    parsed = parse_response_head(std::string_view(buffer).substr(0, head_end));
    if (!parsed) throw ClientFailure(ClientFailure::read, "a malformed HTTP answer");
    if (parsed->status >= 200) break;
    buffer.erase(0, head_end);  // 1xx: another head follows
  }
  if (parsed->content_length) {
    if (*parsed->content_length > kMaxBody)
      throw ClientFailure(ClientFailure::read, "the answer is too large");
    const std::size_t need = head_end + *parsed->content_length;
    buffer.reserve(need);
    while (buffer.size() < need)
      if (!read_some(std::min<std::size_t>(need - buffer.size(), 1u << 20)))
        throw ClientFailure(ClientFailure::read, "the connection closed mid-answer");
    out.body.assign(buffer, head_end, *parsed->content_length);
  } else {
    while (read_some(64 * 1024))
      if (buffer.size() > head_end + kMaxBody)
        throw ClientFailure(ClientFailure::read, "the answer is too large");
    out.body.assign(buffer, head_end);
  }
  out.status = parsed->status;
  out.headers = std::move(parsed->headers);
  if (!parsed->keep_alive) close_socket();
  return true;
}

}  // namespace zs::http
