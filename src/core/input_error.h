// InputError: bad user input (a trace row, a cluster file, a catalog row, a flag value).
// Carries where the problem is ("file:line:column" or a flag name) separately from what is wrong,
// so the CLI can print "trace.csv:3: column duration_s: negative duration -5" and exit non-zero.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>

namespace zs {

// A message quotes what it rejects, and that may be a 1 MiB cell: longer parts are cut (on a
// UTF-8 boundary) and say how much was left out, so an error stays a line a person can read.
inline std::string clip_for_message(std::string_view s, std::size_t max = 2000) {
  if (s.size() <= max) return std::string(s);
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "... (" + std::to_string(s.size() - cut) + " more bytes)";
}

class InputError : public std::runtime_error {
 public:
  InputError(std::string where, const std::string& what)
      : InputError(clip_for_message(where, 500), clip_for_message(what), 0) {}
  const std::string& where() const { return where_; }
  const std::string& message() const { return message_; }  // without the where

 private:
  InputError(std::string where, std::string what, int)
      : std::runtime_error(where.empty() ? what : where + ": " + what),
        where_(std::move(where)),
        message_(std::move(what)) {}
  std::string where_;
  std::string message_;
};

}  // namespace zs
