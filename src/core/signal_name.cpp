#include "core/signal_name.h"

#include <array>
#include <utility>

#include "core/text.h"

namespace zs {

namespace {

// Linux's numbers (x86-64 and arm64 alike), written out: the core is pure and includes no
// <csignal> (tests/cli/purity_check.sh); tenants_file_test checks them against it.
// Names without the "SIG" prefix, upper case; the first name of a number is the normalized one.
constexpr std::array<std::pair<std::string_view, int>, 31> kSignals = {{
    {"HUP", 1},     {"INT", 2},   {"QUIT", 3},   {"ILL", 4},   {"TRAP", 5},  {"ABRT", 6},
    {"BUS", 7},     {"FPE", 8},   {"KILL", 9},   {"USR1", 10}, {"SEGV", 11}, {"USR2", 12},
    {"PIPE", 13},   {"ALRM", 14}, {"TERM", 15},  {"CHLD", 17}, {"CONT", 18}, {"STOP", 19},
    {"TSTP", 20},   {"TTIN", 21}, {"TTOU", 22},  {"URG", 23},  {"XCPU", 24}, {"XFSZ", 25},
    {"VTALRM", 26}, {"PROF", 27}, {"WINCH", 28}, {"PWR", 30},  {"SYS", 31},  {"IOT", 6},
    {"CLD", 17},
}};
constexpr int kSigKill = 9, kSigStop = 19;

}  // namespace

std::optional<int> parse_signal(std::string_view text) {
  text = trim(text);
  if (text.empty() || text.size() > 16) return std::nullopt;
  if (text.front() >= '0' && text.front() <= '9') {
    const auto n = parse_int(text);
    if (!n || *n < 1 || *n > kMaxSignalNumber) return std::nullopt;
    return static_cast<int>(*n);
  }
  std::string upper;
  for (char c : text) upper += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  std::string_view name = upper;
  if (name.size() > 3 && name.substr(0, 3) == "SIG") name.remove_prefix(3);
  for (const auto& [n, number] : kSignals)
    if (n == name) return number;
  return std::nullopt;
}

std::string signal_name(int signal) {
  for (const auto& [n, number] : kSignals)
    if (number == signal) return "SIG" + std::string(n);
  return std::to_string(signal);
}

bool catchable_signal(int signal) {
  return signal != kSigKill && signal != kSigStop;
}

}  // namespace zs
