// A response that a handler gives later: the long poll of the agents' sync waits for orders
// without holding a thread. The handler makes a Deferred, hands wake() to whoever will have the
// answer, calls answer_with() and sets Response::deferred. The listener then keeps the connection
// aside, with no thread, and runs `finish` once on one of its threads — as soon as wake() is
// called, or when the timeout has passed, whichever comes first — and sends what it fills in.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "api/http_message.h"

namespace zs::http {

// Where wake() of a bound Deferred goes: the listener holding its connection, until the listener
// goes away (set(nullptr) waits for a delivery in progress; later ones are dropped).
class WakeSink {
 public:
  void set(std::function<void(std::uint64_t id)> deliver);
  void deliver(std::uint64_t id);

 private:
  std::mutex mu_;
  std::function<void(std::uint64_t)> deliver_;
};

class Deferred {
 public:
  // `finish` fills the response; it runs exactly once, on a listener thread, and must not throw.
  void answer_with(std::chrono::milliseconds timeout, std::function<void(Response&)> finish);

  // The answer is ready: from any thread, any number of times, also before the listener has
  // taken the connection. It only schedules `finish` (queues the connection for a listener
  // thread), so it may be called under the caller's own locks.
  void wake();

  // The listener's side. bind(): later wake() calls deliver `id` to `sink`; true if wake() was
  // called already (nothing is delivered for that one: the listener resumes it itself).
  std::chrono::milliseconds timeout() const { return timeout_; }
  bool bind(std::shared_ptr<WakeSink> sink, std::uint64_t id);
  void finish(Response& res);

 private:
  std::chrono::milliseconds timeout_{0};
  std::function<void(Response&)> finish_;
  std::mutex mu_;  // never held while taking another lock
  bool woken_ = false;
  std::shared_ptr<WakeSink> sink_;
  std::uint64_t id_ = 0;
};

}  // namespace zs::http
