// InputError: bad user input (a trace row, a cluster file, a catalog row, a flag value).
// Carries where the problem is ("file:line:column" or a flag name) separately from what is wrong,
// so the CLI can print "trace.csv:3: column duration_s: negative duration -5" and exit non-zero.
#pragma once
#include <stdexcept>
#include <string>

namespace zs {

class InputError : public std::runtime_error {
 public:
  InputError(std::string where, const std::string& what)
      : std::runtime_error(where.empty() ? what : where + ": " + what),
        where_(std::move(where)),
        message_(what) {}
  const std::string& where() const { return where_; }
  const std::string& message() const { return message_; }  // without the where

 private:
  std::string where_;
  std::string message_;
};

}  // namespace zs
