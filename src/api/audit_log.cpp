#include "api/audit_log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "api/json_fields.h"

namespace zs {
namespace {

std::mutex audit_mu;

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

void emit(const std::string& line) {
  std::fprintf(stderr, "zs audit: %s %s\n", utc_now().c_str(), line.c_str());
}

}  // namespace

void audit(const Principal& who, std::string_view what) {
  std::string line = who.kind == Principal::Kind::node
                         ? "node " + who.name
                         : "user " + who.name + " (" + std::string(to_string(who.role)) + ")";
  line += ": " + json_fields::printable(std::string(what), 1024);
  std::lock_guard lock(audit_mu);
  emit(line);
}

void audit_denial(std::string_view peer, std::string_view method, std::string_view path, int status,
                  std::string_view why) {
  static std::int64_t second = 0;
  static int lines = 0;
  static std::uint64_t suppressed = 0;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
  std::lock_guard lock(audit_mu);
  if (now != second) {
    second = now;
    lines = 0;
  }
  if (++lines > 50) {
    ++suppressed;
    return;
  }
  std::string line = "denied " + std::to_string(status) + " " +
                     json_fields::printable(std::string(method), 16) + " " +
                     json_fields::printable(std::string(path), 256) + " from " + std::string(peer) +
                     ": " + json_fields::printable(std::string(why), 512);
  if (suppressed) {
    line += " (and " + std::to_string(suppressed) + " denials not logged)";
    suppressed = 0;
  }
  emit(line);
}

}  // namespace zs
