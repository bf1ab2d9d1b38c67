#include "agent/attempt_record.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "agent/shim.h"
#include "api/json_fields.h"
#include "core/text.h"

namespace zs {
namespace {

using nlohmann::json;

// Paths come from the controller as valid UTF-8; anything else is replaced rather than refused,
// so a record can always be written.
std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

template <typename T>
bool number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Readers that never throw and never convert out of range: a damaged record yields defaults.
template <typename T>
T integer(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return fallback;
  if (it->is_number_unsigned()) {
    const auto v = it->get<std::uint64_t>();
    return v <= static_cast<std::uint64_t>(std::numeric_limits<T>::max()) ? static_cast<T>(v)
                                                                          : fallback;
  }
  const auto v = it->get<std::int64_t>();
  if constexpr (std::is_unsigned_v<T>) {
    return v >= 0 ? static_cast<T>(v) : fallback;
  } else {
    return v >= std::numeric_limits<T>::min() && v <= std::numeric_limits<T>::max()
               ? static_cast<T>(v)
               : fallback;
  }
}

std::vector<int> int_list(const json& j, const char* key) {
  std::vector<int> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    const json one{{"v", v}};
    out.push_back(integer<int>(one, "v", -1));
  }
  return out;
}

std::string string_at(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> text_list(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

std::optional<AttemptHeader> header_from(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  AttemptHeader h;
  h.key.job = integer<JobId>(j, "job", 0);
  h.key.attempt = integer<int>(j, "attempt", -1);
  if (h.key.job == 0 || h.key.attempt < 0) return std::nullopt;
  h.node_rank = integer<int>(j, "node_rank", 0);
  h.ranks = int_list(j, "ranks");
  h.devices = int_list(j, "devices");
  h.deadline_ms = std::max<TimeMs>(0, integer<TimeMs>(j, "deadline_ms", 0));
  h.kernel_boot = string_at(j, "kernel_boot");
  h.tracking = string_at(j, "tracking");
  h.limit_dirs = text_list(j, "limit_dirs");
  h.cgroup_procs = text_list(j, "cgroup_procs");
  h.stdout_path = string_at(j, "stdout");
  h.stderr_path = string_at(j, "stderr");
  h.stdout_id = {integer<std::uint64_t>(j, "stdout_dev", 0),
                 integer<std::uint64_t>(j, "stdout_ino", 0)};
  h.stderr_id = {integer<std::uint64_t>(j, "stderr_dev", 0),
                 integer<std::uint64_t>(j, "stderr_ino", 0)};
  h.script = string_at(j, "script");
  h.program = string_at(j, "program");
  h.cwd = string_at(j, "cwd");
  // Records written before --signal have none of these: no signal.
  h.signal = integer<int>(j, "signal", 0);
  if (h.signal < 0 || h.signal > 64) h.signal = 0;
  if (auto b = j.find("signal_batch"); b != j.end() && b->is_boolean())
    h.signal_batch = b->get<bool>();
  h.signal_ms = std::max<TimeMs>(0, integer<TimeMs>(j, "signal_ms", 0));
  for (int r : h.ranks)
    if (r < 0) return std::nullopt;
  if (h.ranks.empty()) return std::nullopt;
  for (int d : h.devices)
    if (d < 0 || d > 63) return std::nullopt;
  return h;
}

// "S <rank> <pid> <start>" / "E <rank> <code> <signal> <end> <step> <detail>": the numbers.
std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  for (auto f : split(line, ' '))
    if (!f.empty()) out.push_back(f);
  return out;
}

}  // namespace

std::string bounded_text(std::string_view s, std::size_t max_bytes) {
  return json_fields::printable(s, max_bytes);
}

std::string record_header_line(const AttemptHeader& h) {
  json j{{"job", h.key.job},
         {"attempt", h.key.attempt},
         {"node_rank", h.node_rank},
         {"ranks", h.ranks},
         {"devices", h.devices},
         {"deadline_ms", h.deadline_ms},
         {"kernel_boot", h.kernel_boot},
         {"tracking", h.tracking},
         {"limit_dirs", h.limit_dirs},
         {"cgroup_procs", h.cgroup_procs},
         {"stdout", h.stdout_path},
         {"stderr", h.stderr_path},
         {"stdout_dev", h.stdout_id.dev},
         {"stdout_ino", h.stdout_id.ino},
         {"stderr_dev", h.stderr_id.dev},
         {"stderr_ino", h.stderr_id.ino},
         {"script", h.script},
         {"program", h.program},
         {"cwd", h.cwd},
         {"signal", h.signal},
         {"signal_batch", h.signal_batch},
         {"signal_ms", h.signal_ms}};
  return "R " + dump(j) + "\n";
}

std::string record_failed_line(int rank, std::string_view reason, TimeMs at) {
  return "F " + dump(json{{"rank", rank}, {"reason", bounded_text(reason)}, {"at", at}}) + "\n";
}

std::string record_stop_line(std::string_view reason, TimeMs at) {
  return "T " + dump(json{{"reason", bounded_text(reason)}, {"at", at}}) + "\n";
}

AttemptRecord parse_attempt_record(std::string_view text, const AttemptHeader* known) {
  AttemptRecord rec;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) break;  // cut short: not written yet, or never will be
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (line.size() < 2 || line[1] != ' ') continue;
    const std::string_view body = line.substr(2);
    const char tag = line[0];
    if (tag == 'R') {
      if (!rec.header)
        if ((rec.header = known ? std::optional<AttemptHeader>(*known) : header_from(body)))
          for (int r : rec.header->ranks) rec.ranks[r];
      continue;
    }
    if (!rec.header) continue;  // nothing counts before the header
    if (tag == 'S' || tag == 'E') {
      auto f = fields(body);
      AttemptKey key;
      int rank = 0;
      if (f.size() < 3 || !number(f[0], key.job) || !number(f[1], key.attempt) ||
          !number(f[2], rank) || key != rec.header->key)
        continue;
      auto it = rec.ranks.find(rank);
      if (it == rec.ranks.end()) continue;
      RankRecord& r = it->second;
      if (tag == 'S' && f.size() == 7 && !r.started) {
        pid_t pid = 0, shim = 0;
        if (!number(f[3], pid) || pid <= 1 || !number(f[5], shim) || shim <= 1) continue;
        r.started = true;
        r.task_pid = pid;
        r.task_start = std::string(f[4]);
        r.shim_pid = shim;
        r.shim_start = std::string(f[6]);
      } else if (tag == 'E' && f.size() == 8 && !r.ended) {
        RankRecord e;
        if (number(f[3], e.exit_code) && number(f[4], e.signal) && number(f[5], e.end_ms) &&
            number(f[6], e.step) && number(f[7], e.detail)) {
          r.ended = true;
          r.exit_code = std::clamp(e.exit_code, -1, 1000);
          r.signal = e.signal;
          r.end_ms = std::max<TimeMs>(0, e.end_ms);
          r.step = e.step;
          r.detail = e.detail;
        }
      }
      continue;
    }
    if (tag == 'F' || tag == 'T') {
      json j = json::parse(body, nullptr, false);
      if (!j.is_object()) continue;
      const std::string reason = bounded_text(string_at(j, "reason"));
      const TimeMs at = std::max<TimeMs>(0, integer<TimeMs>(j, "at", 0));
      if (tag == 'T') {
        if (!rec.stopped) {
          rec.stopped = true;
          rec.stop_reason = reason;
          rec.stop_ms = at;
        }
        continue;
      }
      auto it = rec.ranks.find(integer<int>(j, "rank", -1));
      if (it != rec.ranks.end() && it->second.failed.empty() && !reason.empty()) {
        it->second.failed = reason;
        it->second.failed_ms = at;
      }
    }
  }
  return rec;
}

std::optional<RankOutcome> outcome_of(const RankRecord& r, const AttemptHeader& h) {
  RankOutcome o;
  if (!r.failed.empty()) {
    o.kind = RankOutcome::launch_failed;
    o.exit_code = 127;
    o.end_ms = r.failed_ms;
    o.reason = r.failed;
    return o;
  }
  if (!r.ended) return std::nullopt;
  o.end_ms = r.end_ms;
  o.exit_code = r.exit_code;
  if (r.step == kShimLeaseStop) {
    o.kind = RankOutcome::lost;
    o.reason = kLeaseStopMessage;
  } else if (r.step != kShimStarted) {
    o.kind = RankOutcome::launch_failed;
    o.exit_code = 127;
    o.reason = shim_step_message(r.step, r.detail, h.program, h.cwd, h.cgroup_procs);
  }
  return o;
}

NodeExit node_exit_of(const AttemptKey& key, const std::map<int, RankOutcome>& outcomes,
                      const std::string& stop_reason, std::int64_t stopped_ms) {
  NodeExit e;
  e.key = key;
  const RankOutcome* first_failure = nullptr;
  const RankOutcome* first_stopped = nullptr;  // ended by the signal of our own stop
  const RankOutcome* first_launch = nullptr;
  const RankOutcome* first_lost = nullptr;
  auto earlier = [](const RankOutcome* a, const RankOutcome& b) {
    return !a || b.end_ms < a->end_ms;  // ranks come in order: ties keep the lower rank
  };
  for (const auto& [rank, o] : outcomes) {
    e.end_ms = std::max(e.end_ms, o.end_ms);
    if (o.kind == RankOutcome::launch_failed && earlier(first_launch, o)) first_launch = &o;
    if (o.kind == RankOutcome::lost && earlier(first_lost, o)) first_lost = &o;
    const bool by_our_stop = stopped_ms > 0 && o.exit_code > 128 && o.end_ms >= stopped_ms;
    if (o.exit_code != 0 && by_our_stop && earlier(first_stopped, o)) first_stopped = &o;
    if (o.exit_code != 0 && !by_our_stop && earlier(first_failure, o)) first_failure = &o;
  }
  if (!first_failure) first_failure = first_stopped;
  if (first_failure) e.exit_code = first_failure->exit_code;
  if (!stop_reason.empty())
    e.reason = stop_reason;
  else if (first_launch)
    e.reason = "launch failed: " + first_launch->reason;
  else if (first_lost)
    e.reason = "lost: " + first_lost->reason;
  e.reason = bounded_text(e.reason);
  return e;
}

}  // namespace zs
