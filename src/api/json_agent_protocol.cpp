// JSON form of the agent protocol. Agents are trusted less than they seem (a stale or broken
// agent must not crash the controller), so decoding checks types and ranges like the user API.
#include <algorithm>
#include <cctype>
#include <string>
#include <type_traits>

#include "api/agent_protocol.h"
#include "api/json_fields.h"
#include "api/json_limits.h"
#include "core/input_error.h"
#include "core/signal_name.h"

namespace zs {
namespace {

using nlohmann::json;

// Running attempts and unacknowledged exits: an agent that could not reach the controller for
// a while may have many exits to report.
constexpr std::size_t kMaxAgentListEntries = 1'000'000;

std::string path_of(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

const json& object_at(const json& j, const std::string& where) {
  if (!j.is_object()) throw InputError(where, "expected a JSON object");
  return j;
}

// A number of type T within [lo, hi] (long double holds every int64/uint64 bound exactly).
template <typename T>
T number(const json& j, const std::string& where, long double lo, long double hi) {
  if (!j.is_number()) throw InputError(where, "expected a number");
  long double v;
  if constexpr (std::is_integral_v<T>) {
    if (!j.is_number_integer()) throw InputError(where, "expected an integer");
    v = j.is_number_unsigned() ? static_cast<long double>(j.get<std::uint64_t>())
                               : static_cast<long double>(j.get<std::int64_t>());
  } else {
    v = j.get<double>();
  }
  if (!(v >= lo && v <= hi)) throw InputError(where, "out of range");
  if constexpr (std::is_integral_v<T>)
    return j.is_number_unsigned() ? static_cast<T>(j.get<std::uint64_t>())
                                  : static_cast<T>(j.get<std::int64_t>());
  else
    return static_cast<T>(v);
}

// Strings obey the user API's rules (no NUL, valid UTF-8, bounded): what an agent says may be
// stored, and a record the store refuses must never get that far.
std::string text(const json& j, const std::string& where) {
  if (!j.is_string()) throw InputError(where, "expected a string");
  const auto& s = j.get_ref<const std::string&>();
  const std::size_t limit = where == "script" ? kMaxJsonScriptBytes : json_fields::kText;
  if (std::string problem = json_fields::text_problem(s, limit); !problem.empty())
    throw InputError(where, problem);
  return s;
}

// A message the agent reports (an exit reason, a device problem, how it found its devices):
// shown and stored, so bounded and printable — but never a reason to refuse the whole report,
// which would leave the node down for as long as the agent repeats it.
std::string message(const json& j, const std::string& where) {
  if (!j.is_string()) throw InputError(where, "expected a string");
  return json_fields::printable(j.get_ref<const std::string&>(), kMaxReasonBytes);
}

std::vector<std::string> messages(const json& j, const std::string& where) {
  if (!j.is_array()) throw InputError(where, "expected an array of strings");
  if (j.size() > 64) throw InputError(where, "more than 64 entries");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < j.size(); ++i)
    out.push_back(message(j[i], where + "[" + std::to_string(i) + "]"));
  return out;
}

// An identifier the agent reports (boot id, address, type): short, or the report is wrong.
std::string short_text(const json& j, const std::string& where) {
  std::string s = text(j, where);
  if (s.size() > 256) throw InputError(where, "more than 256 bytes");
  return s;
}

// A switch name: what node names allow ("" = the default switch), at most 64 characters.
std::string switch_name(const json& j, const std::string& where) {
  std::string s = text(j, where);
  if (s.size() > 64) throw InputError(where, "a switch name has at most 64 characters");
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      throw InputError(where, "switch names use letters, digits, '-', '_' and '.' only");
  return s;
}

// The controller connects to it: http(s)://HOST:PORT and nothing else (no path, no spaces).
std::string logs_url(const json& j, const std::string& where) {
  std::string s = text(j, where);
  if (s.empty()) return s;
  const std::size_t from = s.rfind("https://", 0) == 0 ? 8 : s.rfind("http://", 0) == 0 ? 7 : 0;
  const bool shaped = s.size() <= 256 && from > 0 && s.size() > from &&
                      s.find_first_of("/ ?#@", from) == std::string::npos &&
                      s.find(':', from) != std::string::npos;
  if (!shaped)
    throw InputError(
        where, "expected http://HOST:PORT or https://HOST:PORT, got '" + s.substr(0, 80) + "'");
  return s;
}

// One word of printable ASCII: it goes into an Authorization header.
std::string logs_key(const json& j, const std::string& where) {
  std::string s = text(j, where);
  if (s.size() > 128 ||
      std::any_of(s.begin(), s.end(), [](unsigned char c) { return c <= 0x20 || c >= 0x7f; }))
    throw InputError(where, "expected at most 128 printable characters without spaces");
  return s;
}

std::vector<std::string> texts(const json& j, const std::string& where) {
  if (!j.is_array()) throw InputError(where, "expected an array of strings");
  if (j.size() > kMaxJsonListEntries) throw InputError(where, "too many entries");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < j.size(); ++i)
    out.push_back(text(j[i], where + "[" + std::to_string(i) + "]"));
  return out;
}

AttemptKey key_from(const json& j, const std::string& where) {
  object_at(j, where);
  AttemptKey k;
  for (auto& [name, v] : j.items()) {
    if (name == "job")
      k.job = number<JobId>(v, path_of(where, name), 0, 9.0e18L);
    else if (name == "attempt")
      k.attempt = number<int>(v, path_of(where, name), 0, 1 << 30);
  }
  return k;
}

json key_json(const AttemptKey& k) {
  return json{{"job", k.job}, {"attempt", k.attempt}};
}

template <typename T, typename F>
std::vector<T> list_of(const json& j, const std::string& where, F&& one) {
  if (!j.is_array()) throw InputError(where, "expected an array");
  if (j.size() > kMaxAgentListEntries) throw InputError(where, "too many entries");
  std::vector<T> out;
  out.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i)
    out.push_back(one(j[i], where + "[" + std::to_string(i) + "]"));
  return out;
}

std::vector<int> device_list(const json& j, const std::string& where) {
  return list_of<int>(j, where,
                      [](const json& v, const std::string& w) { return number<int>(v, w, 0, 63); });
}

RunningAttempt running_from(const json& j, const std::string& where) {
  RunningAttempt r;
  r.key = key_from(j, where);
  if (j.contains("devices")) r.devices = device_list(j["devices"], path_of(where, "devices"));
  return r;
}

NodeExit exit_from(const json& j, const std::string& where) {
  object_at(j, where);
  NodeExit e;
  e.key = key_from(j, where);
  for (auto& [name, v] : j.items()) {
    std::string w = path_of(where, name);
    if (name == "exit_code")
      e.exit_code = number<int>(v, w, -1000, 1000);
    else if (name == "reason")
      e.reason = message(v, w);
    else if (name == "end_ms")
      e.end_ms = number<TimeMs>(v, w, 0, static_cast<long double>(kNever));
  }
  return e;
}

TaskLaunch task_from(const json& j, const std::string& where) {
  object_at(j, where);
  TaskLaunch t;
  for (auto& [name, v] : j.items()) {
    std::string w = path_of(where, name);
    if (name == "rank")
      t.rank = number<int>(v, w, 0, 1 << 24);
    else if (name == "local_rank")
      t.local_rank = number<int>(v, w, 0, 1 << 24);
    else if (name == "devices")
      t.devices = device_list(v, w);
  }
  return t;
}

bool flag(const json& j, const std::string& where) {
  if (!j.is_boolean()) throw InputError(where, "expected true or false");
  return j.get<bool>();
}

// A signal the job can catch: SIGKILL or SIGSTOP instead of SIGTERM would skip the grace.
int checkpoint_signal(const json& j, const std::string& where) {
  const int sig = number<int>(j, where, 0, kMaxSignalNumber);
  if (sig != 0 && !catchable_signal(sig)) throw InputError(where, "not a catchable signal");
  return sig;
}

NodeLaunch launch_from(const json& j, const std::string& where) {
  object_at(j, where);
  NodeLaunch l;
  l.key = key_from(j, where);
  for (auto& [name, v] : j.items()) {
    std::string w = path_of(where, name);
    if (name == "node_rank")
      l.node_rank = number<int>(v, w, 0, 1 << 24);
    else if (name == "tasks")
      l.tasks = list_of<TaskLaunch>(v, w, task_from);
    else if (name == "argv")
      l.argv = texts(v, w);
    else if (name == "script")
      l.script = text(v, w);
    else if (name == "work_dir")
      l.work_dir = text(v, w);
    else if (name == "unix_user")
      l.unix_user = text(v, w);
    else if (name == "env")
      l.env = texts(v, w);
    else if (name == "visible_devices_env")
      l.visible_devices_env = text(v, w);
    else if (name == "stdout_path")
      l.stdout_path = text(v, w);
    else if (name == "stderr_path")
      l.stderr_path = text(v, w);
    else if (name == "walltime_ms")
      l.walltime_ms = number<TimeMs>(v, w, 0, static_cast<long double>(kNever));
    else if (name == "cpus")
      l.cpus = number<double>(v, w, 0, 1e6);
    else if (name == "mem_mib")
      l.mem_mib = number<std::int64_t>(v, w, 0, std::int64_t{1} << 40);
    else if (name == "signal")
      l.signal = checkpoint_signal(v, w);
    else if (name == "signal_time")
      l.signal_time_s = number<int>(v, w, 0, kMaxSignalTimeS);
    else if (name == "signal_batch")
      l.signal_batch = flag(v, w);
  }
  return l;
}

}  // namespace

json to_json(const AgentReport& r) {
  json running = json::array(), exits = json::array();
  for (const auto& a : r.running) {
    json x = key_json(a.key);
    x["devices"] = a.devices;
    running.push_back(std::move(x));
  }
  for (const auto& e : r.exits) {
    json x = key_json(e.key);
    x["exit_code"] = e.exit_code;
    x["reason"] = e.reason;
    x["end_ms"] = e.end_ms;
    exits.push_back(std::move(x));
  }
  return json{{"boot_id", r.boot_id},
              {"address", r.address},
              {"leaf", r.leaf},
              {"spine", r.spine},
              {"logs_url", r.logs_url},
              {"logs_key", r.logs_key},
              {"accel_type", r.accel_type},
              {"accel_count", r.accel_count},
              {"unhealthy", r.unhealthy},
              {"device_problems", r.device_problems},
              {"cpus", r.cpus},
              {"mem_mib", r.mem_mib},
              {"discovery", r.discovery},
              {"running", running},
              {"exits", exits},
              {"wait_ms", r.wait_ms}};
}

AgentReport agent_report_from_json(const json& j) {
  object_at(j, "");
  AgentReport r;
  for (auto& [name, v] : j.items()) {
    const std::string& w = name;
    if (name == "boot_id")
      r.boot_id = short_text(v, w);
    else if (name == "address")
      r.address = short_text(v, w);
    else if (name == "leaf")
      r.leaf = switch_name(v, w);
    else if (name == "spine")
      r.spine = switch_name(v, w);
    else if (name == "logs_url")
      r.logs_url = logs_url(v, w);
    else if (name == "logs_key")
      r.logs_key = logs_key(v, w);
    else if (name == "accel_type")
      r.accel_type = short_text(v, w);
    else if (name == "accel_count")
      r.accel_count = number<int>(v, w, 0, 64);
    else if (name == "unhealthy")
      r.unhealthy = number<std::uint64_t>(v, w, 0, 18446744073709551615.0L);
    else if (name == "device_problems")
      r.device_problems = messages(v, w);
    else if (name == "cpus")
      r.cpus = number<double>(v, w, 0, 1e6);
    else if (name == "mem_mib")
      r.mem_mib = number<std::int64_t>(v, w, 0, std::int64_t{1} << 40);
    else if (name == "discovery")
      r.discovery = message(v, w);
    else if (name == "running")
      r.running = list_of<RunningAttempt>(v, w, running_from);
    else if (name == "exits")
      r.exits = list_of<NodeExit>(v, w, exit_from);
    else if (name == "wait_ms")
      r.wait_ms = number<TimeMs>(v, w, 0, 3'600'000);
    else
      throw InputError(w, "unknown field");
  }
  return r;
}

json to_json(const AgentOrders& o) {
  json launches = json::array(), kills = json::array(), acked = json::array();
  for (const auto& l : o.launches) {
    json tasks = json::array();
    for (const auto& t : l.tasks)
      tasks.push_back({{"rank", t.rank}, {"local_rank", t.local_rank}, {"devices", t.devices}});
    json x = key_json(l.key);
    x.update(json{{"node_rank", l.node_rank},
                  {"tasks", std::move(tasks)},
                  {"argv", l.argv},
                  {"script", l.script},
                  {"work_dir", l.work_dir},
                  {"unix_user", l.unix_user},
                  {"env", l.env},
                  {"visible_devices_env", l.visible_devices_env},
                  {"stdout_path", l.stdout_path},
                  {"stderr_path", l.stderr_path},
                  {"walltime_ms", l.walltime_ms},
                  {"cpus", l.cpus},
                  {"mem_mib", l.mem_mib}});
    if (l.signal) {
      x["signal"] = l.signal;
      x["signal_time"] = l.signal_time_s;
      x["signal_batch"] = l.signal_batch;
    }
    launches.push_back(std::move(x));
  }
  for (const auto& k : o.kills) {
    json x = key_json(k.key);
    x["reason"] = k.reason;
    if (k.checkpoint) x["checkpoint"] = true;
    kills.push_back(std::move(x));
  }
  for (const auto& k : o.acked) acked.push_back(key_json(k));
  return json{{"launches", launches},
              {"kills", kills},
              {"acked", acked},
              {"heartbeat_ms", o.heartbeat_ms},
              {"kill_grace_ms", o.kill_grace_ms},
              {"lease_ms", o.lease_ms}};
}

AgentOrders agent_orders_from_json(const json& j) {
  object_at(j, "");
  AgentOrders o;
  for (auto& [name, v] : j.items()) {
    const std::string& w = name;
    if (name == "launches")
      o.launches = list_of<NodeLaunch>(v, w, launch_from);
    else if (name == "kills")
      o.kills = list_of<KillOrder>(v, w, [](const json& x, const std::string& wk) {
        KillOrder k{key_from(x, wk), {}, false};
        if (x.contains("reason")) k.reason = text(x["reason"], wk + ".reason");
        if (x.contains("checkpoint")) k.checkpoint = flag(x["checkpoint"], wk + ".checkpoint");
        return k;
      });
    else if (name == "acked")
      o.acked = list_of<AttemptKey>(v, w, key_from);
    else if (name == "heartbeat_ms")
      o.heartbeat_ms = number<TimeMs>(v, w, 1, 3'600'000);
    else if (name == "kill_grace_ms")
      o.kill_grace_ms = number<TimeMs>(v, w, 0, 3'600'000);
    else if (name == "lease_ms")
      o.lease_ms = number<TimeMs>(v, w, 0, 36'000'000);
  }
  return o;
}

}  // namespace zs
