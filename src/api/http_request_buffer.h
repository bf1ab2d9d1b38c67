// The bytes of one connection's next request as they arrive, and whether they make a whole
// request yet. The listener keeps one per connection: a request that has not arrived whole waits
// in the event loop, never on a thread (a slow client must not hold what other clients need).
// Pure: no sockets, and the time is passed in, so tests and the fuzzer drive it directly.
#pragma once
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "api/http_parser.h"

namespace zs::http {

// How long a request may take to arrive, from its first byte: `whole`, plus one second for each
// `bytes_per_extra_second` its Content-Length announces (a large batch over a slow link is not
// cut off; a small body that trickles is).
struct RequestTimeouts {
  std::chrono::milliseconds whole{10'000};
  std::size_t bytes_per_extra_second = 1u << 20;
};

class RequestBuffer {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Status { empty, partial, ready, failed };

  // Room for `n` more bytes at the end; commit(k) keeps the first k of them (what recv wrote).
  // Between the two nothing else may touch the buffer.
  char* space(std::size_t n);
  void commit(std::size_t k);
  void append(std::string_view bytes);

  // Where the request stands, parsing its head once it is whole. `now` starts the clock at the
  // first byte. `failed` is final: error() says what to answer.
  Status check(const Limits& limits, const RequestTimeouts& timeouts, Clock::time_point now);

  bool empty() const { return buf_.empty(); }
  std::size_t size() const { return buf_.size(); }
  // Bytes still missing from a request whose head has been parsed; 0 when unknown (or none).
  std::size_t missing() const;
  const RequestHead* head() const { return head_ ? &*head_ : nullptr; }
  const ParseError& error() const { return *error_; }
  // When a started request is out of time; max() while nothing of a request has come.
  Clock::time_point deadline() const { return deadline_; }
  // True once per request whose head asked for 100-continue while its body has not all come.
  bool take_continue();
  // After `ready`: the request (with its body) and whether the connection stays open after it.
  // What follows it in the buffer (a pipelined request) stays.
  Request take(bool& keep_alive);

 private:
  std::string buf_;
  std::size_t filled_ = 0;    // size before space()
  std::size_t scanned_ = 0;   // bytes searched for the end of the head
  std::size_t head_end_ = 0;  // once parsed
  std::size_t need_ = 0;      // head + body
  std::optional<RequestHead> head_;
  std::optional<ParseError> error_;
  Clock::time_point first_byte_ = Clock::time_point::max();
  Clock::time_point deadline_ = Clock::time_point::max();
  bool continue_due_ = false;
};

}  // namespace zs::http
