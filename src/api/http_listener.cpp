#include "api/http_listener.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "api/socket_io.h"

namespace zs::http {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kListenId = 0, kWakeId = 1;
constexpr std::size_t kHeadChunk = 16 * 1024;         // a read while the head is incomplete
constexpr std::size_t kBodyChunk = 1u << 20;          // at most, while a body comes
constexpr std::size_t kMaxReadPerEvent = 4u << 20;    // then other connections get their turn
constexpr auto kDrainFor = std::chrono::seconds(5);   // a refused request's rest is read so long
constexpr auto kScanEvery = std::chrono::seconds(1);  // deadlines of parked connections

void set_timeout_ms(int fd, int option, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

std::string response_head(const Response& res, bool keep_alive) {
  std::string head = "HTTP/1.1 " + std::to_string(res.status) + " " + reason_phrase(res.status) +
                     "\r\nContent-Length: " + std::to_string(res.body.size()) + "\r\n";
  if (!res.content_type.empty()) head += "Content-Type: " + res.content_type + "\r\n";
  if (!keep_alive) head += "Connection: close\r\n";
  for (const auto& [name, value] : res.headers) head += name + ": " + value + "\r\n";
  head += "\r\n";
  return head;
}

// Reads what the connection has for its request with `read(at, n)` (recv, or TLS): its result.
// Memory follows what the client has really sent: a read goes straight into the request buffer
// (up to as much as the client has sent already, so reads grow geometrically), else through a
// small stack buffer. A connection that announces 48 MiB and sends one byte costs one byte.
template <typename Read>
ssize_t receive_with(RequestBuffer& in, Read read) {
  constexpr std::size_t kStackChunk = 16 * 1024;
  const std::size_t missing = in.missing();
  std::size_t want = missing ? std::min(missing, kBodyChunk) : kHeadChunk;
  want = std::min(want, std::max(kStackChunk, in.size()));
  ssize_t n;
  if (want > kStackChunk) {
    char* at = in.space(want);
    n = read(at, want);
    in.commit(n > 0 ? static_cast<std::size_t>(n) : 0);
    return n;
  }
  char chunk[kStackChunk];
  n = read(chunk, std::min(want, kStackChunk));
  if (n > 0) in.append(std::string_view(chunk, static_cast<std::size_t>(n)));
  return n;
}

// Time allowed to write an answer of `bytes` to a client: the idle timeout, plus a second a MiB.
Clock::duration write_time(int idle_timeout_s, std::size_t bytes) {
  return std::chrono::seconds(idle_timeout_s + static_cast<long long>(bytes >> 20));
}

}  // namespace

struct Listener::Conn {
  int fd = -1;
  std::uint64_t id = 0;
  std::string peer;       // PeerCounts key
  std::string peer_text;  // the same, printable (Request::peer)
  RequestBuffer in;
  enum class State { handshake, reading, writing, draining } state = State::reading;
  std::unique_ptr<tls::Session> tls;  // HTTPS: every byte goes through it
  std::uint32_t events = 0;           // what epoll watches for it while parked
  Clock::time_point idle_since;  // reading, nothing of a request yet: closed after idle_timeout
  Clock::time_point deadline;    // handshake, writing or draining: closed then
  // An answer the socket did not take whole, written by the event loop.
  std::string out_head, out_body;
  std::size_t out_sent = 0;
  bool close_after_write = false;
  // A long poll while it waits, and what its request asked.
  std::shared_ptr<Deferred> deferred;
  bool deferred_keep_alive = false;
  Clock::time_point deferred_until;
  Pool pool = general;
};

Listener::Listener(ListenerOptions options, Handler handler, ErrorResponder on_error)
    : options_(std::move(options)), handler_(std::move(handler)), on_error_(std::move(on_error)) {
  if (pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) != 0)
    throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0)
    throw std::runtime_error(std::string("cannot create an epoll set: ") + std::strerror(errno));
  options_.park_after_ms = std::max(1, options_.park_after_ms);
  options_.request_timeout_s = std::max(1, options_.request_timeout_s);
  options_.max_connections_per_peer = std::max(1, options_.max_connections_per_peer);
  if (options_.max_connections <= 0) {
    // Leave room for what else the process opens (the store, connections to agents).
    rlimit nofile{};
    getrlimit(RLIMIT_NOFILE, &nofile);
    const auto soft = nofile.rlim_cur == RLIM_INFINITY ? rlim_t{1} << 20 : nofile.rlim_cur;
    options_.max_connections = static_cast<int>(std::max<rlim_t>(64, soft > 320 ? soft - 256 : 64));
  }
  timeouts_.whole = std::chrono::seconds(options_.request_timeout_s);
  max_threads_[general] = std::max(1, options_.max_threads);
  max_threads_[reserved] = options_.reserved_prefix.empty() ? 0 : options_.reserved_threads;
  wake_sink_->set([this](std::uint64_t id) { wake_deferred(id); });
}

Listener::~Listener() {
  stop();
  wake_sink_->set(nullptr);  // no wake() of a long poll reaches this listener any more
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  for (auto& q : queue_)
    for (const auto& c : q) close(c->fd);
  for (const auto& [id, c] : parked_) close(c->fd);
  for (const auto& [id, c] : deferred_) close(c->fd);
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
    // Non-blocking: the event loop accepts until the backlog is empty.
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
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

// ---- event loop -------------------------------------------------------------------------------

void Listener::serve() {
  if (listen_fd_ < 0) bind();
  for (auto [fd, id] : {std::pair{listen_fd_, kListenId}, std::pair{wake_pipe_[0], kWakeId}}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = id;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
  auto next_scan = Clock::now() + kScanEvery;
  for (;;) {
    int timeout = -1;
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
      // Parked connections have deadlines to the second; long polls to the millisecond.
      auto until = parked_.empty() ? Clock::time_point::max() : next_scan;
      if (!deferred_until_.empty()) until = std::min(until, deferred_until_.begin()->first);
      loop_wakes_at_ = until;
      if (!tls_pending_.empty()) {
        timeout = 0;
      } else if (until != Clock::time_point::max()) {
        const auto left = until - Clock::now();
        timeout = static_cast<int>(std::clamp<long long>(
            std::chrono::ceil<std::chrono::milliseconds>(left).count(), 0, 1000));
      }
    }
    epoll_event events[128];
    const int n = epoll_wait(epoll_fd_, events, 128, timeout);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      const std::uint64_t id = events[i].data.u64;
      if (id == kWakeId) {
        char drain[64];
        while (read(wake_pipe_[0], drain, sizeof drain) > 0) {
        }
      } else if (id == kListenId) {
        accept_ready();
      } else {
        on_event(id, events[i].events);
      }
    }
    if (!tls_pending_.empty()) {
      std::vector<std::uint64_t> again;
      again.swap(tls_pending_);
      for (std::uint64_t id : again) on_event(id, EPOLLIN);
    }
    const auto now = Clock::now();
    expire_deferred(now);
    if (now >= next_scan) {
      scan_parked(now);
      next_scan = now + kScanEvery;
    }
  }
  stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  std::lock_guard lock(mu_);
  for (auto& q : queue_) {
    for (auto& c : q) close_conn(std::move(c));
    q.clear();
  }
  for (auto& [id, c] : parked_) close_conn(std::move(c));
  parked_.clear();
  for (auto& [id, c] : deferred_) close_conn(std::move(c));
  deferred_.clear();
  deferred_until_.clear();
}

void Listener::accept_ready() {
  for (int i = 0; i < 256; ++i) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno == EMFILE || errno == ENFILE) poll(nullptr, 0, 10);  // let connections close
      return;
    }
    const std::string peer = PeerCounts::key_of(addr);
    std::string why;
    auto c = std::make_unique<Conn>();
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        close(fd);
        return;
      }
      if (peers_.total() >= options_.max_connections) {
        why = "the controller has " + std::to_string(peers_.total()) +
              " connections open, its limit: try again later";
      } else if (!peers_.admit(peer, options_.max_connections_per_peer)) {
        why = "too many connections from " + PeerCounts::describe(peer) + " (limit " +
              std::to_string(options_.max_connections_per_peer) + ")";
      } else {
        c->fd = fd;
        c->id = next_id_++;
        c->peer = peer;
        c->peer_text = PeerCounts::describe(peer);
      }
      if (!why.empty()) ++refused_;
    }
    if (!why.empty() && options_.tls) {
      close(fd);  // a TLS client would not understand a plain 503
      continue;
    }
    if (!why.empty()) {
      // Over a limit: answered at once, without a thread and without reading the request. What
      // it sent already is read first, so that closing does not reset the connection before the
      // client sees the 503.
      Response res;
      on_error_(503, why, res);
      res.set_header("Retry-After", "1");
      std::string head = response_head(res, false);
      iovec iov[2] = {{head.data(), head.size()}, {res.body.data(), res.body.size()}};
      send_available(fd, iov, 2);
      char sink[4096];
      while (recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
      }
      shutdown(fd, SHUT_WR);
      close(fd);
      continue;
    }
    int yes = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    if (options_.tls) {
      // Non-blocking throughout: OpenSSL's reads and writes never wait, the event loop does.
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
      std::string error;
      c->tls = tls::Session::server(*options_.tls, fd, error);
      if (!c->tls) {
        std::lock_guard lock(mu_);
        close_conn(std::move(c));
        continue;
      }
      c->state = Conn::State::handshake;
      c->deadline = Clock::now() + std::chrono::seconds(options_.request_timeout_s);
    }
    // A worker's wait for the next request on its connection (blocking recv) ends after this.
    set_timeout_ms(fd, SO_RCVTIMEO, options_.park_after_ms);
    std::lock_guard lock(mu_);
    park(std::move(c));  // its first request usually is there already: the event comes at once
  }
}

void Listener::on_event(std::uint64_t id, std::uint32_t events) {
  Conn* c = nullptr;
  {
    std::lock_guard lock(mu_);
    auto it = parked_.find(id);
    if (it == parked_.end()) return;  // closed meanwhile
    c = it->second.get();
  }
  // Only this thread takes connections out of parked_: `c` stays valid without the lock.
  using State = Conn::State;
  if (c->state == State::handshake && !handshake_step(*c)) return;  // `c` may be gone
  if (c->state == State::draining) {
    // At most 1 MiB per event, so one client's body cannot hold the loop; the rest at the next
    // event. The drain ends when the client closes, or at its deadline (kDrainFor): closing
    // while it still sends would reset the connection, and the client would lose the answer.
    char sink[16 * 1024];
    for (int i = 0; i < 64; ++i) {
      const ssize_t n = recv(c->fd, sink, sizeof sink, MSG_DONTWAIT);
      if (n > 0) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
      unpark_and_close(id);  // the client closed (or the connection failed)
      return;
    }
    return;
  }
  if (c->state == State::writing) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && !c->tls) return;
    const Sent s = write_pending(*c);
    if (s == Sent::partial) {
      // OpenSSL may need to read before it can write (never in practice without renegotiation).
      if (c->tls) watch(*c, c->tls->want_write() ? EPOLLOUT : EPOLLIN);
      return;
    }
    if (s == Sent::failed || c->close_after_write) {
      unpark_and_close(id);
      return;
    }
    c->state = State::reading;
    c->idle_since = Clock::now();
    watch(*c, EPOLLIN | EPOLLRDHUP);
    // A next request may have been read already (pipelined): it is looked at below.
  }
  bool closed = false;
  std::size_t got = 0;
  RequestBuffer::Status st = advance(*c, Clock::now());
  while (st != RequestBuffer::Status::ready && st != RequestBuffer::Status::failed &&
         got < kMaxReadPerEvent) {
    const ssize_t n = receive(*c, false);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
      closed = true;
      break;
    }
    if (n < 0) {
      if (c->tls)
        watch(*c, EPOLLIN | EPOLLRDHUP | (c->tls->want_write() ? std::uint32_t{EPOLLOUT} : 0u));
      break;
    }
    got += static_cast<std::size_t>(n);
    st = advance(*c, Clock::now());
  }
  if (st == RequestBuffer::Status::failed) {
    refuse(*c, c->in.error().status, c->in.error().message);
    if (closed) unpark_and_close(id);
    return;
  }
  if (st == RequestBuffer::Status::ready) {
    // A whole request, even from a client that has closed its side: it gets its answer.
    std::lock_guard lock(mu_);
    auto it = parked_.find(id);
    ConnPtr conn = std::move(it->second);
    parked_.erase(it);
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, conn->fd, nullptr);
    const Pool pool = pool_of(*conn);
    dispatch(std::move(conn), pool);
    return;
  }
  if (closed)
    unpark_and_close(id);
  else if (c->tls && c->tls->pending())
    tls_pending_.push_back(id);  // stopped at kMaxReadPerEvent: epoll would not say so again
}

// The TLS handshake of a parked connection, as far as the socket allows now.
bool Listener::handshake_step(Conn& c) {
  // Plain HTTP to the HTTPS port: told so in plain text, never served. A request starts with an
  // upper-case method; a TLS record with a byte from 20 to 23.
  char first = 0;
  if (recv(c.fd, &first, 1, MSG_PEEK | MSG_DONTWAIT) == 1 && first >= 'A' && first <= 'Z') {
    {
      std::lock_guard lock(mu_);
      ++tls_failed_;
    }
    c.tls.reset();
    c.state = Conn::State::reading;
    refuse(c, 400, "this port serves HTTPS only: use https://");
    watch(c, EPOLLIN | EPOLLRDHUP);
    return false;
  }
  switch (c.tls->handshake()) {
    case tls::Session::Step::done:
      c.state = Conn::State::reading;
      c.idle_since = Clock::now();
      watch(c, EPOLLIN | EPOLLRDHUP);
      return true;  // application data may have come with the handshake's end
    case tls::Session::Step::want_read:
      watch(c, EPOLLIN | EPOLLRDHUP);
      return false;
    case tls::Session::Step::want_write:
      watch(c, EPOLLOUT);
      return false;
    case tls::Session::Step::failed:
      break;
  }
  {
    std::lock_guard lock(mu_);
    ++tls_failed_;
  }
  unpark_and_close(c.id);
  return false;
}

void Listener::watch(Conn& c, std::uint32_t events) {
  if (c.events == events) return;
  c.events = events;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = c.id;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void Listener::scan_parked(Clock::time_point now) {
  using State = Conn::State;
  std::vector<std::uint64_t> to_close;
  std::vector<Conn*> late;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, c] : parked_) {
      if (c->state != State::reading) {
        if (now >= c->deadline) {
          to_close.push_back(id);
          if (c->state == State::handshake) ++tls_failed_;  // too slow: closed, no thread held
        }
      } else if (c->in.empty()) {
        if (now - c->idle_since >= std::chrono::seconds(options_.idle_timeout_s))
          to_close.push_back(id);
      } else if (now >= c->in.deadline()) {
        late.push_back(c.get());
      }
    }
    timed_out_ += late.size();
  }
  // A request that has not arrived whole in its time (slowloris, a body that stopped): 408.
  for (Conn* c : late) refuse(*c, 408, timeout_message());
  for (std::uint64_t id : to_close) unpark_and_close(id);
}

void Listener::expire_deferred(Clock::time_point now) {
  std::lock_guard lock(mu_);
  while (!deferred_until_.empty() && deferred_until_.begin()->first <= now)
    resume_deferred(deferred_until_.begin()->second);
}

void Listener::unpark_and_close(std::uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = parked_.find(id);
  if (it == parked_.end()) return;
  ConnPtr c = std::move(it->second);
  parked_.erase(it);
  close_conn(std::move(c));  // closing the descriptor takes it out of the epoll set
}

// ---- workers ----------------------------------------------------------------------------------

void Listener::worker(Pool pool) {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_[pool];
    cv_[pool].wait(lock, [&] { return stopping_ || !queue_[pool].empty(); });
    --idle_[pool];
    if (stopping_) return;
    ConnPtr c = std::move(queue_[pool].front());
    queue_[pool].pop_front();
    ++busy_[pool];
    open_.insert(c->fd);
    lock.unlock();
    const Outcome out = serve_connection(*c, pool);
    lock.lock();
    --busy_[pool];
    // Under the lock, so stop() never shuts down a reused descriptor number.
    open_.erase(c->fd);
    if (stopping_) {
      close_conn(std::move(c));
      continue;
    }
    switch (out) {
      case Outcome::close:
        close_conn(std::move(c));
        break;
      case Outcome::park:
        park(std::move(c));
        break;
      case Outcome::to_general:
        dispatch(std::move(c), general);
        break;
      case Outcome::to_reserved:
        dispatch(std::move(c), reserved);
        break;
      case Outcome::defer: {
        // The long poll waits here without a thread until wake() or its timeout.
        const std::uint64_t id = c->id;
        if (c->deferred->bind(wake_sink_, id)) {  // woken already
          const Pool to = c->pool;
          dispatch(std::move(c), to);
          break;
        }
        c->deferred_until = Clock::now() + c->deferred->timeout();
        deferred_until_.emplace(c->deferred_until, id);
        if (c->deferred_until < loop_wakes_at_) wake_loop();
        deferred_.emplace(id, std::move(c));
        break;
      }
    }
  }
}

Listener::Outcome Listener::serve_connection(Conn& c, Pool pool) {
  bool keep_alive = true;
  Response res;
  if (c.deferred) {
    // A long poll whose answer is due (woken, or its timeout passed).
    std::shared_ptr<Deferred> d = std::move(c.deferred);
    keep_alive = c.deferred_keep_alive;
    try {
      d->finish(res);
    } catch (const std::exception& e) {
      res = Response{};
      on_error_(500, e.what(), res);
    }
  } else {
    Request req = c.in.take(keep_alive);
    req.peer = c.peer_text;
    handler_(req, res);
  }
  for (;;) {
    if (res.deferred) {
      c.deferred = std::move(res.deferred);
      c.deferred_keep_alive = keep_alive;
      c.pool = pool;
      return Outcome::defer;
    }
    switch (send_answer(c, res, keep_alive)) {
      case Sent::failed:
        return Outcome::close;
      case Sent::partial:
        return Outcome::park;  // the event loop writes the rest
      case Sent::done:
        break;
    }
    if (!keep_alive) return Outcome::close;
    Outcome out;
    if (!next_request(c, pool, out)) return out;
    Request req = c.in.take(keep_alive);
    req.peer = c.peer_text;
    res = Response{};
    handler_(req, res);
  }
}

// The next request on a connection a worker has just answered on. It is served on this thread
// when it is whole already or comes whole within park_after_ms; otherwise the connection goes
// back to the event loop. A worker never waits for the rest of a request that has started.
bool Listener::next_request(Conn& c, Pool pool, Outcome& out) {
  using Status = RequestBuffer::Status;
  Status st = advance(c, Clock::now());
  bool waited = false;
  while (st == Status::empty || st == Status::partial) {
    const bool wait = st == Status::empty && !waited && !others_waiting(pool);
    waited = waited || wait;
    const ssize_t n = receive(c, wait);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
      out = Outcome::close;
      return false;
    }
    if (n < 0) {  // nothing more for now
      c.idle_since = Clock::now();
      out = Outcome::park;
      return false;
    }
    st = advance(c, Clock::now());
  }
  if (st == Status::failed) {
    refuse(c, c.in.error().status, c.in.error().message);
    out = Outcome::park;
    return false;
  }
  const Pool wanted = pool_of(c);
  if (pool == reserved && wanted == general) {
    out = Outcome::to_general;  // the reserved workers serve only their routes
    return false;
  }
  if (others_waiting(pool)) {
    out = pool == reserved ? Outcome::to_reserved : Outcome::to_general;  // take turns
    return false;
  }
  return true;
}

// ---- shared -----------------------------------------------------------------------------------

RequestBuffer::Status Listener::advance(Conn& c, Clock::time_point now) {
  const RequestBuffer::Status st = c.in.check(options_.limits, timeouts_, now);
  if (st == RequestBuffer::Status::partial && c.in.take_continue()) {
    // The head asked before sending its body. 25 bytes into an empty send buffer never block.
    static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    iovec iov{const_cast<char*>(kContinue), sizeof kContinue - 1};
    send_now(c, &iov, 1);
  }
  return st;
}

Listener::Pool Listener::pool_of(const Conn& c) const {
  const RequestHead* head = c.in.head();
  if (max_threads_[reserved] <= 0 || !head) return general;
  return head->request.path.starts_with(options_.reserved_prefix) ? reserved : general;
}

ssize_t Listener::receive(Conn& c, bool wait) {
  if (!c.tls) {
    return receive_with(c.in, [&](char* at, std::size_t n) {
      ssize_t r;
      do {
        r = recv(c.fd, at, n, wait ? 0 : MSG_DONTWAIT);  // waits up to SO_RCVTIMEO
      } while (r < 0 && errno == EINTR);
      return r;
    });
  }
  // A TLS socket is non-blocking: wait with poll, unless OpenSSL holds decrypted bytes.
  if (wait && !c.tls->pending()) {
    pollfd p{c.fd, POLLIN, 0};
    int r;
    do {
      r = poll(&p, 1, options_.park_after_ms);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
      errno = EAGAIN;
      return -1;
    }
  }
  return receive_with(c.in, [&](char* at, std::size_t n) { return c.tls->read(at, n); });
}

long Listener::send_now(Conn& c, iovec* iov, int count) {
  if (!c.tls) return send_available(c.fd, iov, count);
  // Each call starts where the last stopped, with the same bytes: what OpenSSL requires of a
  // write repeated after WANT_WRITE.
  long total = 0;
  for (int i = 0; i < count; ++i) {
    const char* at = static_cast<const char*>(iov[i].iov_base);
    std::size_t left = iov[i].iov_len;
    while (left > 0) {
      const ssize_t n = c.tls->write(at, left);
      if (n < 0) return errno == EAGAIN ? total : -1;
      total += n;
      at += n;
      left -= static_cast<std::size_t>(n);
    }
  }
  return total;
}

Listener::Sent Listener::send_answer(Conn& c, Response& res, bool keep_alive) {
  std::string head = response_head(res, keep_alive);
  if (c.tls && res.body.size() <= 64 * 1024) {
    head += res.body;  // one TLS record rather than two
    res.body.clear();
  }
  iovec iov[2] = {{head.data(), head.size()}, {res.body.data(), res.body.size()}};
  const long sent = send_now(c, iov, 2);
  if (sent < 0) return Sent::failed;
  const std::size_t total = head.size() + res.body.size();
  if (static_cast<std::size_t>(sent) == total) return Sent::done;
  // The client reads slowly (or the answer is large): the event loop writes the rest, so the
  // thread is free for others.
  c.out_head = std::move(head);
  c.out_body = std::move(res.body);
  c.out_sent = static_cast<std::size_t>(sent);
  c.close_after_write = !keep_alive;
  c.state = Conn::State::writing;
  c.deadline = Clock::now() + write_time(options_.idle_timeout_s, total);
  return Sent::partial;
}

Listener::Sent Listener::write_pending(Conn& c) {
  const std::size_t head = c.out_head.size();
  iovec iov[2];
  int count = 0;
  if (c.out_sent < head) iov[count++] = {c.out_head.data() + c.out_sent, head - c.out_sent};
  const std::size_t body_from = c.out_sent > head ? c.out_sent - head : 0;
  iov[count++] = {c.out_body.data() + body_from, c.out_body.size() - body_from};
  const long sent = send_now(c, iov, count);
  if (sent < 0) return Sent::failed;
  c.out_sent += static_cast<std::size_t>(sent);
  if (c.out_sent < head + c.out_body.size()) return Sent::partial;
  c.out_head.clear();
  c.out_body = std::string();
  c.out_sent = 0;
  return Sent::done;
}

// Answers a request that will not be read further (malformed, over a limit, too slow) and keeps
// the connection in the event loop, reading and dropping what the client still sends, until it
// closes or kDrainFor passes: closing at once would reset the connection before the client sees
// the answer. The answer is small: it goes into the empty send buffer without waiting.
void Listener::refuse(Conn& c, int status, const std::string& message) {
  Response res;
  on_error_(status, message, res);
  std::string head = response_head(res, false);
  iovec iov[2] = {{head.data(), head.size()}, {res.body.data(), res.body.size()}};
  send_now(c, iov, 2);
  if (c.tls) c.tls->close_notify();
  shutdown(c.fd, SHUT_WR);
  c.state = Conn::State::draining;
  c.deadline = Clock::now() + kDrainFor;
}

std::string Listener::timeout_message() const {
  return "the request did not arrive whole within " + std::to_string(options_.request_timeout_s) +
         " s";
}

void Listener::wake_loop() {
  char byte = 0;
  [[maybe_unused]] auto n = write(wake_pipe_[1], &byte, 1);
}

void Listener::wake_deferred(std::uint64_t id) {
  std::lock_guard lock(mu_);
  resume_deferred(id);
}

void Listener::stop() {
  std::lock_guard lock(mu_);
  if (stopping_) return;
  stopping_ = true;
  for (int fd : open_) shutdown(fd, SHUT_RDWR);  // wakes workers waiting for a next request
  for (auto& cv : cv_) cv.notify_all();
  wake_loop();
}

ListenerStats Listener::stats() const {
  std::lock_guard lock(mu_);
  ListenerStats s;
  s.connections = peers_.total();
  s.parked = static_cast<int>(parked_.size());
  s.deferred = static_cast<int>(deferred_.size());
  s.busy = busy_[general];
  s.busy_reserved = busy_[reserved];
  s.threads = started_[general];
  s.threads_reserved = started_[reserved];
  s.refused = refused_;
  s.timed_out = timed_out_;
  s.tls_failed = tls_failed_;
  return s;
}

// ---- under mu_ --------------------------------------------------------------------------------

void Listener::dispatch(ConnPtr c, Pool pool) {
  if (max_threads_[pool] <= 0) pool = general;
  queue_[pool].push_back(std::move(c));
  // Idle workers are counted until they take a connection, so compare with the queue.
  if (static_cast<int>(queue_[pool].size()) > idle_[pool] && started_[pool] < max_threads_[pool]) {
    try {
      threads_.emplace_back([this, pool] { worker(pool); });
      ++started_[pool];
    } catch (const std::system_error&) {
      // No thread to be had now: the workers there are take it in turn.
    }
  }
  cv_[pool].notify_one();
}

void Listener::park(ConnPtr c) {
  epoll_event ev{};
  ev.events = c->state == Conn::State::writing ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
  c->events = ev.events;
  ev.data.u64 = c->id;
  if (c->state == Conn::State::reading && c->in.empty()) c->idle_since = Clock::now();
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
    close_conn(std::move(c));
    return;
  }
  const std::uint64_t id = c->id;
  parked_.emplace(id, std::move(c));
  // The loop sleeps without a timeout while nothing is parked; it must now scan deadlines.
  if (loop_wakes_at_ == Clock::time_point::max()) {
    loop_wakes_at_ = Clock::now() + kScanEvery;
    wake_loop();
  }
}

void Listener::close_conn(ConnPtr c) {
  if (!c || c->fd < 0) return;
  if (c->tls) {
    if (c->state == Conn::State::reading) c->tls->close_notify();
    c->tls.reset();
  }
  close(c->fd);
  peers_.release(c->peer);
}

void Listener::resume_deferred(std::uint64_t id) {
  auto it = deferred_.find(id);
  if (it == deferred_.end()) return;  // answered already (woken and timed out both)
  ConnPtr c = std::move(it->second);
  deferred_.erase(it);
  for (auto [b, e] = deferred_until_.equal_range(c->deferred_until); b != e; ++b) {
    if (b->second == id) {
      deferred_until_.erase(b);
      break;
    }
  }
  if (stopping_) {
    close_conn(std::move(c));
    return;
  }
  const Pool pool = c->pool;
  dispatch(std::move(c), pool);
}

bool Listener::others_waiting(Pool pool) const {
  std::lock_guard lock(mu_);
  return !queue_[pool].empty() && idle_[pool] == 0 && started_[pool] >= max_threads_[pool];
}

}  // namespace zs::http
