#include "api/http_listener.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "api/socket_io.h"

namespace zs::http {
namespace {

void set_timeout_ms(int fd, int option, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

void set_timeout(int fd, int option, int seconds) {
  set_timeout_ms(fd, option, seconds * 1000);
}

using Clock = std::chrono::steady_clock;

}  // namespace

Listener::Listener(ListenerOptions options, Handler handler, ErrorResponder on_error)
    : options_(std::move(options)), handler_(std::move(handler)), on_error_(std::move(on_error)) {
  if (pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) != 0)
    throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0)
    throw std::runtime_error(std::string("cannot create an epoll set: ") + std::strerror(errno));
  options_.park_after_ms = std::max(1, options_.park_after_ms);
}

Listener::~Listener() {
  stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  for (const auto& [fd, p] : parked_) close(fd);
  close(epoll_fd_);
  close(wake_pipe_[0]);
  close(wake_pipe_[1]);
}

int Listener::bind() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options_.port);
  const std::string where = options_.host + ":" + port;
  if (int rc = getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &found); rc != 0)
    throw std::runtime_error("cannot listen on " + where + ": " + gai_strerror(rc));
  std::string why = "no address";
  for (addrinfo* a = found; a; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    // SO_REUSEADDR so a restart may reuse a port in TIME_WAIT. Not SO_REUSEPORT: a second
    // controller must not be able to bind the same port and steal half the requests.
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0) {
      listen_fd_ = fd;
      break;
    }
    why = std::strerror(errno);
    close(fd);
  }
  freeaddrinfo(found);
  if (listen_fd_ < 0) throw std::runtime_error("cannot listen on " + where + ": " + why);
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  options_.port = addr.ss_family == AF_INET6
                      ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                      : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return options_.port;
}

void Listener::serve() {
  if (listen_fd_ < 0) bind();
  for (int fd : {listen_fd_, wake_pipe_[0]}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
  bool stop_seen = false;
  auto next_scan = Clock::now();
  while (!stop_seen) {
    epoll_event events[64];
    int timeout;
    {
      std::lock_guard lock(mu_);
      timeout = parked_.empty() ? -1 : 1000;  // idle parked connections are closed by the second
    }
    const int n = epoll_wait(epoll_fd_, events, 64, timeout);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_pipe_[0]) {
        // stop(), or a first connection parked: the epoll timeout must be worked out again.
        char drain[64];
        while (read(wake_pipe_[0], drain, sizeof drain) > 0) {
        }
        std::lock_guard lock(mu_);
        stop_seen = stopping_;
      } else if (fd != listen_fd_) {
        wake_parked(fd);
      } else {
        int conn = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn < 0) {
          if (errno == EMFILE || errno == ENFILE) poll(nullptr, 0, 10);  // let connections close
          continue;
        }
        int yes = 1;
        setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
        // Reads wait at most park_after_ms, so a silent connection notices it is idle without
        // a poll before every request; writes may take up to the idle timeout.
        set_timeout_ms(conn, SO_RCVTIMEO, options_.park_after_ms);
        set_timeout(conn, SO_SNDTIMEO, options_.idle_timeout_s);
        std::lock_guard lock(mu_);
        if (stopping_) {
          close(conn);
          stop_seen = true;
        } else {
          dispatch(Conn{conn});
        }
      }
    }
    // Deadlines are kept to the second; scanning on every event would cost O(parked) each.
    if (const auto now = Clock::now(); now >= next_scan) {
      close_idle_parked();
      next_scan = now + std::chrono::seconds(1);
    }
  }
  stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  std::lock_guard lock(mu_);
  for (const Conn& c : queue_) close(c.fd);
  queue_.clear();
  for (const auto& [fd, p] : parked_) close(fd);
  parked_.clear();
}

void Listener::dispatch(Conn conn) {
  queue_.push_back(std::move(conn));
  // Idle threads are counted until they take a connection, so compare with the queue.
  if (static_cast<int>(queue_.size()) > idle_ &&
      static_cast<int>(threads_.size()) < options_.max_threads)
    threads_.emplace_back([this] { worker(); });
  cv_.notify_one();
}

void Listener::wake_parked(int fd) {
  std::lock_guard lock(mu_);
  auto it = parked_.find(fd);
  if (it == parked_.end()) return;
  Conn conn = std::move(it->second.conn);
  parked_.erase(it);
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  if (stopping_)
    close(fd);
  else
    dispatch(std::move(conn));
}

void Listener::close_idle_parked() {
  std::lock_guard lock(mu_);
  const auto now = Clock::now();
  for (auto it = parked_.begin(); it != parked_.end();) {
    if (it->second.close_at > now) {
      ++it;
      continue;
    }
    const int fd = it->first;
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    if (!it->second.conn.buffer.empty()) {
      // Half a request head, and its time is up. The answer fits the socket's send buffer, so
      // it is written without blocking this thread.
      Response res;
      on_error_(408, head_timeout_message(), res);
      set_timeout_ms(fd, SO_SNDTIMEO, 100);
      send_response(fd, res, false);
    }
    close(fd);
    it = parked_.erase(it);
  }
}

void Listener::stop() {
  std::lock_guard lock(mu_);
  if (stopping_) return;
  stopping_ = true;
  for (int fd : open_) shutdown(fd, SHUT_RDWR);  // wakes threads blocked reading
  cv_.notify_all();
  char byte = 1;
  [[maybe_unused]] auto n = write(wake_pipe_[1], &byte, 1);
}

void Listener::worker() {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    --idle_;
    if (stopping_) return;
    Conn conn = std::move(queue_.front());
    queue_.pop_front();
    const int fd = conn.fd;
    open_.insert(fd);
    lock.unlock();
    const After after = serve_connection(conn);
    lock.lock();
    open_.erase(fd);
    if (after == After::requeue && !stopping_) {
      queue_.push_back(std::move(conn));
      continue;
    }
    // Under the lock, so stop() never shuts down a reused descriptor number and the acceptor
    // finds the parked entry when an event for it comes.
    if (after == After::park && !stopping_) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
      ev.data.fd = fd;
      const bool first = parked_.empty();
      // Closed after the idle timeout, or at its head's deadline when it sent half a head.
      const auto close_at = conn.buffer.empty()
                                ? Clock::now() + std::chrono::seconds(options_.idle_timeout_s)
                                : conn.head_deadline;
      parked_[fd] = Parked{close_at, std::move(conn)};
      if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0) {
        // The acceptor sleeps without a timeout while nothing is parked; wake it to set one.
        if (first) {
          char byte = 0;
          [[maybe_unused]] auto n = write(wake_pipe_[1], &byte, 1);
        }
        continue;
      }
      parked_.erase(fd);
    }
    close(fd);
  }
}

// Appends what the socket has (at most max_chunk bytes). `silent` when nothing came within
// park_after_ms (SO_RCVTIMEO); `closed` on end of stream or an error.
Listener::Read Listener::read_more(int fd, std::string& buffer, std::size_t max_chunk) {
  const std::size_t old = buffer.size();
  buffer.resize(old + max_chunk);
  for (;;) {
    ssize_t n = recv(fd, buffer.data() + old, max_chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    buffer.resize(old + (n > 0 ? static_cast<std::size_t>(n) : 0));
    if (n > 0) return Read::data;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? Read::silent : Read::closed;
  }
}

Listener::After Listener::serve_connection(Conn& conn) {
  const int fd = conn.fd;
  std::string& buffer = conn.buffer;
  const Limits& limits = options_.limits;
  const auto head_timeout = std::chrono::seconds(options_.head_timeout_s);
  const auto idle_timeout = std::chrono::seconds(options_.idle_timeout_s);
  for (;;) {
    std::size_t head_end;
    while ((head_end = find_head_end(buffer)) == std::string::npos) {
      if (buffer.size() > limits.max_head_bytes) {
        refuse(
            fd, 431,
            "the request head is larger than " + std::to_string(limits.max_head_bytes) + " bytes");
        return After::close;
      }
      if (!buffer.empty() && conn.head_deadline == Clock::time_point::max())
        conn.head_deadline = Clock::now() + head_timeout;  // from the head's first byte
      if (Clock::now() >= conn.head_deadline) {
        refuse(fd, 408, head_timeout_message());
        return After::close;
      }
      const Read r = read_more(fd, buffer, 16 * 1024);
      if (r == Read::closed) return After::close;
      // Silent for park_after_ms, between requests or in the middle of a head: the thread goes
      // back to the pool and the connection waits in the epoll set (with what it sent so far).
      if (r == Read::silent) return After::park;
    }
    conn.head_deadline = Clock::time_point::max();
    RequestParse parsed = parse_request_head(std::string_view(buffer).substr(0, head_end), limits);
    if (parsed.error) {
      refuse(fd, parsed.error->status, parsed.error->message);
      return After::close;
    }
    RequestHead& head = *parsed.head;
    const std::size_t need = head_end + head.content_length;
    if (buffer.size() < need) {
      if (head.expect_continue) {
        static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (send(fd, kContinue, sizeof kContinue - 1, MSG_NOSIGNAL) < 0) return After::close;
      }
      buffer.reserve(need);
      auto last_data = Clock::now();
      while (buffer.size() < need) {
        const Read r = read_more(fd, buffer, std::min<std::size_t>(need - buffer.size(), 1u << 20));
        if (r == Read::closed) return After::close;
        if (r == Read::data)
          last_data = Clock::now();
        else if (Clock::now() - last_data >= idle_timeout)
          return After::close;  // a body that stopped coming
      }
    }
    Request& req = head.request;
    req.body.assign(buffer, head_end, head.content_length);
    buffer.erase(0, need);
    Response res;
    handler_(req, res);
    if (!send_response(fd, res, head.keep_alive) || !head.keep_alive) return After::close;
    if (others_waiting()) return After::requeue;
  }
}

std::string Listener::head_timeout_message() const {
  return "the request head did not arrive within " + std::to_string(options_.head_timeout_s) + " s";
}

bool Listener::others_waiting() {
  std::lock_guard lock(mu_);
  return !queue_.empty() && idle_ == 0 && static_cast<int>(threads_.size()) >= options_.max_threads;
}

bool Listener::send_response(int fd, const Response& res, bool keep_alive) {
  std::string head = "HTTP/1.1 " + std::to_string(res.status) + " " + reason_phrase(res.status) +
                     "\r\nContent-Length: " + std::to_string(res.body.size()) + "\r\n";
  if (!res.content_type.empty()) head += "Content-Type: " + res.content_type + "\r\n";
  if (!keep_alive) head += "Connection: close\r\n";
  for (const auto& [name, value] : res.headers) head += name + ": " + value + "\r\n";
  head += "\r\n";
  iovec iov[2] = {{head.data(), head.size()},
                  {const_cast<char*>(res.body.data()), res.body.size()}};
  return send_all(fd, iov, res.body.empty() ? 1 : 2);
}

// Answers a request that cannot be read further, then closes gently: the client may still be
// sending a body we will not read, and closing at once would reset the connection before it
// sees the answer.
void Listener::refuse(int fd, int status, const std::string& message) {
  Response res;
  on_error_(status, message, res);
  if (!send_response(fd, res, false)) return;
  shutdown(fd, SHUT_WR);
  set_timeout(fd, SO_RCVTIMEO, 1);
  char sink[64 * 1024];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline && recv(fd, sink, sizeof sink, 0) > 0) {
  }
}

}  // namespace zs::http
