// Slows down guessing (issue 15): a client address that sends more than `burst` bad
// credentials within one window is answered 429 for the rest of the window, without its
// credentials being looked at. Memory is bounded: at most `max_peers` addresses are tracked;
// past that, the oldest windows are forgotten first.
#pragma once
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include "core/time.h"

namespace zs {

class AuthFailures {
 public:
  explicit AuthFailures(int burst = 20, TimeMs window_ms = 1000, std::size_t max_peers = 10'000)
      : burst_(burst), window_ms_(window_ms), max_peers_(max_peers) {}
  // True while `peer` is over its budget of failures (answer 429, Retry-After).
  bool throttled(const std::string& peer, TimeMs now) const;
  void failed(const std::string& peer, TimeMs now);
  std::size_t tracked() const;

 private:
  struct Window {
    TimeMs start = 0;
    int failures = 0;
  };
  void forget_old(TimeMs now);
  int burst_;
  TimeMs window_ms_;
  std::size_t max_peers_;
  mutable std::mutex mu_;
  std::map<std::string, Window> peers_;
};

}  // namespace zs
