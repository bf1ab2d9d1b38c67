#include "sim/jobs_csv.h"

#include <fmt/format.h>

namespace zs {

namespace {

// Milliseconds as seconds with exactly 3 decimals (no rounding through a double).
std::string seconds_text(TimeMs ms) {
  const char* sign = ms < 0 ? "-" : "";
  const auto a =
      ms < 0 ? -static_cast<unsigned long long>(ms) : static_cast<unsigned long long>(ms);
  return fmt::format("{}{}.{:03}", sign, a / 1000, a % 1000);
}

// Start and end times: -1 means it did not happen.
std::string optional_seconds(TimeMs ms) {
  return ms < 0 ? std::string() : seconds_text(ms);
}

}  // namespace

std::string csv_field(std::string_view s) {
  const bool quote = s.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!s.empty() && (s.front() == ' ' || s.back() == ' '));
  if (!quote) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

void write_jobs_csv(std::ostream& out, const std::vector<SimResult>& results,
                    const Catalog& catalog) {
  out << kJobsCsvHeader << '\n';
  std::string line;
  for (const auto& r : results) {
    const std::string policy = csv_field(r.policy);
    for (const auto& j : r.jobs) {
      const bool ran = j.type >= 0 && static_cast<std::size_t>(j.type) < catalog.size();
      line = fmt::format(
          "{},{},{},{},{},{},{},{},{},{},{},{},{},{:.6f},{:.6f},{},{}\n", policy, j.id,
          csv_field(j.tenant), csv_field(j.user), seconds_text(j.submit),
          optional_seconds(j.first_start), optional_seconds(j.last_start), optional_seconds(j.end),
          ran ? csv_field(catalog.name(static_cast<TypeId>(j.type))) : "", j.accel_count, j.nodes,
          j.attempts, j.preemptions, j.accel_ms / 3.6e6, j.cost,
          j.rejected ? csv_field(j.reject_reason) : "", csv_field(j.partition));
      out << line;
    }
  }
}

}  // namespace zs
