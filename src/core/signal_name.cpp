#include "core/signal_name.h"

#include <array>
#include <csignal>
#include <utility>

#include "core/text.h"

namespace zs {

namespace {

// Names without the "SIG" prefix, upper case; the first name of a number is the normalized one.
constexpr std::array<std::pair<std::string_view, int>, 31> kSignals = {{
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"BUS", SIGBUS},     {"FPE", SIGFPE},
    {"KILL", SIGKILL},     {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE},     {"ALRM", SIGALRM}, {"TERM", SIGTERM},   {"CHLD", SIGCHLD},
    {"CONT", SIGCONT},     {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU},     {"URG", SIGURG},   {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
#ifdef SIGPWR
    {"PWR", SIGPWR},
#else
    {"PWR", 30},
#endif
    {"SYS", SIGSYS},       {"IOT", SIGABRT},  {"CLD", SIGCHLD},
}};

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
  return signal != SIGKILL && signal != SIGSTOP;
}

}  // namespace zs
