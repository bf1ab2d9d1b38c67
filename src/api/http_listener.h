// A small HTTP/1.1 server for a controller that some clients will attack (issue 10: 4,300
// connections each sending a POST head and one body byte took every thread, agent syncs starved
// and nodes were declared lost).
//
// One event-loop thread (serve()) holds every connection that is not being served: new ones,
// idle keep-alive ones, ones whose request has not arrived whole (slow heads and slow bodies),
// ones whose answer the client reads slowly, and long polls (Deferred). A connection takes a
// worker thread only when a whole request is ready, so a slow client costs a descriptor and its
// bytes, never a thread; a request must arrive whole within request_timeout_s (408). A worker
// that has answered waits up to park_after_ms for the next request on the same connection, so
// a client sending request after request is served without a trip through the event loop —
// unless others wait for a thread.
//
// Capacity is split: requests under `reserved_prefix` (the agents' routes) have their own
// workers, which other traffic cannot take. Connections per client address and in all are
// bounded; a connection over a bound is answered 503 and closed at once.
//
// Every response leaves in one write when the socket takes it; what it does not take is written
// by the event loop. Why not cpp-httplib: it polls before every read and write, asks the socket
// for both addresses on every request and writes headers and body separately — four times the
// system calls of the durable submit path itself on this machine (docs/benchmarks.md).
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <sys/types.h>
#include <sys/uio.h>

#include "api/http_deferred.h"
#include "api/http_message.h"
#include "api/http_parser.h"
#include "api/http_request_buffer.h"
#include "api/peer_counts.h"
#include "api/tls_socket.h"

namespace zs::http {

struct ListenerOptions {
  std::string host = "127.0.0.1";
  int port = 7070;  // 0 = any free port
  Limits limits;
  int max_threads = 256;               // workers for ordinary requests, started as needed
  int reserved_threads = 16;           // workers that serve only requests under reserved_prefix
  std::string reserved_prefix;         // e.g. "/api/v1/agents/"; "" = one pool for everything
  int max_connections = 0;             // open connections in all; 0 = what RLIMIT_NOFILE allows
  int max_connections_per_peer = 512;  // from one client address
  int idle_timeout_s = 30;             // a keep-alive connection silent this long is closed
  int park_after_ms = 200;     // a worker waits this long for the next request on its connection
  int request_timeout_s = 10;  // a request must arrive whole within this from its first byte
                               // (plus 1 s per MiB of announced body), else 408
  // Serve HTTPS only, with this certificate (tls::Context::server); nullptr = plain HTTP. The
  // handshake is driven by the event loop and must end within request_timeout_s.
  std::shared_ptr<tls::Context> tls;
};

// Fills `res` for a request; must not throw (the caller turns exceptions into JSON already).
// To answer later, set res.deferred (see http_deferred.h).
using Handler = std::function<void(Request& req, Response& res)>;
// The body of an answer the listener gives itself (malformed request, over a limit).
using ErrorResponder = std::function<void(int status, const std::string& message, Response& res)>;

// A moment's counts, for /metrics and tests.
struct ListenerStats {
  int connections = 0;  // open
  int parked = 0;       // in the event loop: idle, partly received, or answer being written
  int deferred = 0;     // long polls waiting for their answer
  int busy = 0, busy_reserved = 0;        // workers serving a connection
  int threads = 0, threads_reserved = 0;  // workers started
  std::uint64_t refused = 0;              // connections refused over a limit
  std::uint64_t timed_out = 0;            // requests answered 408
  std::uint64_t tls_failed = 0;           // TLS handshakes that failed or timed out
};

class Listener {
 public:
  Listener(ListenerOptions options, Handler handler, ErrorResponder on_error);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  int bind();    // returns the port; throws std::runtime_error
  void serve();  // runs the event loop until stop(), then waits for the workers
  void stop();   // from any thread; idempotent
  ListenerStats stats() const;
  const ListenerOptions& options() const { return options_; }

 private:
  using Clock = std::chrono::steady_clock;
  enum Pool { general = 0, reserved = 1 };
  // What becomes of a connection a worker lets go of.
  enum class Outcome { close, park, defer, to_general, to_reserved };
  struct Conn;
  using ConnPtr = std::unique_ptr<Conn>;

  // Event-loop thread.
  void accept_ready();
  void on_event(std::uint64_t id, std::uint32_t events);
  void scan_parked(Clock::time_point now);  // closes idle ones, 408s late requests
  void expire_deferred(Clock::time_point now);
  void unpark_and_close(std::uint64_t id);
  bool handshake_step(Conn& c);  // true: established, read on
  void watch(Conn& c, std::uint32_t events);
  // Worker threads.
  void worker(Pool pool);
  Outcome serve_connection(Conn& c, Pool pool);
  bool next_request(Conn& c, Pool pool, Outcome& out);  // true: serve it on this thread
  // Either thread, no lock held.
  RequestBuffer::Status advance(Conn& c, Clock::time_point now);
  // recv/send through TLS when the connection has it. receive() waits up to park_after_ms when
  // `wait`, else takes what is there (-1 with EAGAIN when nothing).
  ssize_t receive(Conn& c, bool wait);
  long send_now(Conn& c, iovec* iov, int count);
  Pool pool_of(const Conn& c) const;
  enum class Sent { done, partial, failed };
  Sent send_answer(Conn& c, Response& res, bool keep_alive);
  Sent write_pending(Conn& c);
  void refuse(Conn& c, int status, const std::string& message);  // answer, then drain
  std::string timeout_message() const;
  void wake_loop();
  void wake_deferred(std::uint64_t id);
  // Expect mu_ held.
  void dispatch(ConnPtr c, Pool pool);
  void park(ConnPtr c);
  void close_conn(ConnPtr c);
  void resume_deferred(std::uint64_t id);
  bool others_waiting(Pool pool) const;

  ListenerOptions options_;
  RequestTimeouts timeouts_;
  Handler handler_;
  ErrorResponder on_error_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;  // the listening socket, the wake pipe and the parked connections
  int wake_pipe_[2] = {-1, -1};
  std::shared_ptr<WakeSink> wake_sink_ = std::make_shared<WakeSink>();

  mutable std::mutex mu_;
  std::condition_variable cv_[2];
  std::deque<ConnPtr> queue_[2];  // a whole request ready (or a long poll woken), by pool
  std::set<int> open_;            // being served (shut down on stop)
  std::unordered_map<std::uint64_t, ConnPtr> parked_;    // in the epoll set, by id
  std::unordered_map<std::uint64_t, ConnPtr> deferred_;  // long polls, by id
  std::multimap<Clock::time_point, std::uint64_t> deferred_until_;
  PeerCounts peers_;
  std::vector<std::thread> threads_;
  int max_threads_[2] = {0, 0};
  int started_[2] = {0, 0};
  int idle_[2] = {0, 0};
  int busy_[2] = {0, 0};
  std::uint64_t next_id_ = 2;  // 0 and 1 mark the listening socket and the wake pipe
  std::uint64_t refused_ = 0, timed_out_ = 0, tls_failed_ = 0;
  // TLS connections with decrypted bytes still in OpenSSL, which epoll will not report: the
  // event loop's own list (no lock).
  std::vector<std::uint64_t> tls_pending_;
  Clock::time_point loop_wakes_at_ = Clock::time_point::max();
  bool stopping_ = false;
};

}  // namespace zs::http
