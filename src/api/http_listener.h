// A small HTTP/1.1 server: keep-alive connections, each served by one thread from a pool that
// grows up to a limit (long-polling agents hold a thread each). A connection that stays silent
// between requests gives its thread back and waits in an epoll set, so idle clients cannot
// starve the pool; a request head must arrive whole within a deadline. Every response leaves
// in one write. Why not cpp-httplib: it polls before every read and write, asks the socket for both
// addresses on every request and writes headers and body separately — four times the system
// calls of the durable submit path itself on this machine (docs/benchmarks.md).
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/http_message.h"
#include "api/http_parser.h"

namespace zs::http {

struct ListenerOptions {
  std::string host = "127.0.0.1";
  int port = 7070;  // 0 = any free port
  Limits limits;
  int max_threads = 256;    // started as needed; connections beyond this take turns
  int idle_timeout_s = 30;  // a keep-alive connection silent this long is closed
  int park_after_ms = 200;  // silent this long between requests: the thread is given back
  int head_timeout_s = 10;  // a request head that starts must be whole within this (else 408)
};

// Fills `res` for a request; must not throw (the caller turns exceptions into JSON already).
using Handler = std::function<void(Request& req, Response& res)>;
// The body of an answer the listener gives itself (malformed request, over a limit).
using ErrorResponder = std::function<void(int status, const std::string& message, Response& res)>;

class Listener {
 public:
  Listener(ListenerOptions options, Handler handler, ErrorResponder on_error);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  int bind();    // returns the port; throws std::runtime_error
  void serve();  // accepts until stop(), then waits for the connection threads
  void stop();   // from any thread; idempotent

 private:
  // What to do with a connection a worker lets go of. `requeue`: every thread is busy and
  // others wait, so it goes to the back of the queue (a full pool rotates, never starves).
  enum class After { close, park, requeue };
  enum class Read { data, closed, silent };
  // What a connection carries between workers while it is parked: the start of a request
  // head that has not arrived whole, and when it must have.
  struct Conn {
    int fd = -1;
    std::string buffer;
    std::chrono::steady_clock::time_point head_deadline =
        std::chrono::steady_clock::time_point::max();
  };
  struct Parked {
    std::chrono::steady_clock::time_point close_at;
    Conn conn;
  };

  void worker();
  void dispatch(Conn conn);                  // to a worker thread; expects mu_ held
  bool others_waiting();                     // every thread busy and connections queued
  std::string head_timeout_message() const;  // the 408's text
  void wake_parked(int fd);                  // readable again (acceptor thread)
  void close_idle_parked();                  // past idle_timeout_s (acceptor thread)
  After serve_connection(Conn& conn);
  Read read_more(int fd, std::string& buffer, std::size_t max_chunk);
  bool send_response(int fd, const Response& res, bool keep_alive);
  void refuse(int fd, int status, const std::string& message);

  ListenerOptions options_;
  Handler handler_;
  ErrorResponder on_error_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;  // the listening socket, the wake pipe and the parked connections
  int wake_pipe_[2] = {-1, -1};

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Conn> queue_;        // accepted or woken, waiting for a thread
  std::set<int> open_;            // being served (shut down on stop)
  std::map<int, Parked> parked_;  // waiting in the epoll set, by descriptor
  std::vector<std::thread> threads_;
  int idle_ = 0;
  bool stopping_ = false;
};

}  // namespace zs::http
