#include "core/slurm_values.h"

#include <algorithm>
#include <cmath>

#include "core/input_error.h"
#include "core/signal_name.h"
#include "core/text.h"

namespace zs {

namespace {

constexpr std::int64_t kSaturated = std::int64_t{1} << 62;

// Plain decimal digits only (no sign, space or exponent): Slurm's numbers. Values too large to
// matter saturate at kSaturated, so callers report "too large" rather than "not a number".
std::optional<std::int64_t> parse_digits(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v >= kSaturated / 10 ? kSaturated : v * 10 + (c - '0');
  }
  return v;
}

bool is_env_name(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
}

constexpr const char* kTimeForms =
    "use MINUTES, MINUTES:SECONDS, HOURS:MINUTES:SECONDS, DAYS-HOURS, DAYS-HOURS:MINUTES or "
    "DAYS-HOURS:MINUTES:SECONDS (or UNLIMITED)";

}  // namespace

std::string quote_value(std::string_view s) {
  constexpr std::size_t kLimit = 60;
  static const char* hex = "0123456789abcdef";
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < kLimit; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kLimit) out += "...";
  return out + "'";
}

TimeMs parse_slurm_time(std::string_view s, const std::string& where) {
  const std::string_view t = trim(s);
  const std::string lower = to_lower(t);
  if (lower == "unlimited" || lower == "infinite") return 0;
  auto bad = [&] {
    return InputError(where, "bad time limit " + quote_value(s) + ": " + kTimeForms);
  };
  std::int64_t days = 0;
  std::string_view clock = t;
  const auto dash = t.find('-');
  if (dash != std::string_view::npos) {
    auto d = parse_digits(t.substr(0, dash));
    if (!d) throw bad();
    days = *d;
    clock = t.substr(dash + 1);
  }
  const auto parts = split(clock, ':');
  if (parts.size() > 3) throw bad();
  std::int64_t field[3] = {0, 0, 0};
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto v = parse_digits(parts[i]);
    if (!v) throw bad();
    field[i] = std::min(*v, kMaxTimeS + 1);  // keeps the sum below from overflowing
  }
  days = std::min(days, kMaxTimeS);
  // Which unit each field has depends on the form: with days the fields are H[:M[:S]]; without,
  // one field is minutes, two are M:S and three are H:M:S.
  static constexpr std::int64_t kWithDays[3] = {3600, 60, 1};
  static constexpr std::int64_t kClock[3][3] = {{60, 0, 0}, {60, 1, 0}, {3600, 60, 1}};
  const std::int64_t* unit = dash != std::string_view::npos ? kWithDays : kClock[parts.size() - 1];
  std::int64_t total = days * 86400;
  for (std::size_t i = 0; i < parts.size(); ++i) total += field[i] * unit[i];
  if (total > kMaxTimeS)
    throw InputError(where, "time limit " + quote_value(s) + " is too long (at most " +
                                std::to_string(kMaxTimeS / 86400) + " days)");
  return total * kMsPerSecond;
}

ArraySpec parse_array_spec(std::string_view s, const std::string& where) {
  std::string_view t = trim(s);
  auto bad = [&](const std::string& why) {
    return InputError(where, "bad --array " + quote_value(s) + ": " + why +
                                 " (use e.g. 0-15, 1,3,5-7, 0-15:4 or 0-15%4)");
  };
  if (t.empty()) throw bad("no indices");
  ArraySpec spec;
  if (const auto pct = t.find('%'); pct != std::string_view::npos) {
    auto n = parse_digits(t.substr(pct + 1));
    if (!n || *n < 1) throw bad("%N needs a positive number of tasks to run at once");
    if (*n > kMaxArrayTasks) throw bad("%N is at most " + std::to_string(kMaxArrayTasks));
    spec.max_concurrent = static_cast<int>(*n);
    t = t.substr(0, pct);
  }
  // Bounded before deduplication too, so "0-4000000,0-4000000,..." cannot exhaust memory.
  const std::int64_t max_generated = std::int64_t{10} * kMaxArrayTasks;
  std::int64_t generated = 0;
  for (std::string_view item : split(t, ',')) {
    if (item.empty()) throw bad("empty element");
    if (item.front() == '-') throw bad("negative index in " + quote_value(item));
    std::int64_t step = 1;
    if (const auto colon = item.find(':'); colon != std::string_view::npos) {
      auto st = parse_digits(item.substr(colon + 1));
      if (!st || *st < 1) throw bad("step must be a positive number in " + quote_value(item));
      step = *st;
      item = item.substr(0, colon);
      if (item.find('-') == std::string_view::npos)
        throw bad("a step needs a range (A-B:STEP) in " + quote_value(item));
    }
    const auto dash = item.find('-');
    auto lo = parse_digits(item.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : parse_digits(item.substr(dash + 1));
    if (!lo || !hi) throw bad("not an index or range: " + quote_value(item));
    if (*lo > kMaxArrayIndex || *hi > kMaxArrayIndex)
      throw bad("indices are at most " + std::to_string(kMaxArrayIndex));
    if (*hi < *lo) throw bad("reversed range " + quote_value(item));
    generated += (*hi - *lo) / step + 1;
    if (generated > max_generated)
      throw bad("more than " + std::to_string(kMaxArrayTasks) + " tasks");
    for (std::int64_t i = *lo; i <= *hi; i += step) spec.indices.push_back(static_cast<int>(i));
  }
  std::sort(spec.indices.begin(), spec.indices.end());
  spec.indices.erase(std::unique(spec.indices.begin(), spec.indices.end()), spec.indices.end());
  if (spec.indices.size() > static_cast<std::size_t>(kMaxArrayTasks))
    throw bad("more than " + std::to_string(kMaxArrayTasks) + " tasks");
  return spec;
}

std::int64_t parse_slurm_memory_mib(std::string_view s, const std::string& where) {
  std::string_view t = trim(s);
  auto bad = [&] {
    return InputError(where, "bad memory size " + quote_value(s) +
                                 ": use MiB (4096) or a number with K, M, G or T (512M, 4G, 1T)");
  };
  auto is_unit = [](char c) {
    return std::string_view("kKmMgGtT").find(c) != std::string_view::npos;
  };
  if (t.size() >= 2 && (t.back() == 'b' || t.back() == 'B') && is_unit(t[t.size() - 2]))
    t.remove_suffix(1);
  double unit_mib = 1;
  if (!t.empty() && is_unit(t.back())) {
    switch (t.back()) {
      case 'k':
      case 'K':
        unit_mib = 1.0 / 1024;
        break;
      case 'g':
      case 'G':
        unit_mib = 1024;
        break;
      case 't':
      case 'T':
        unit_mib = 1024.0 * 1024;
        break;
      default:
        break;
    }
    t.remove_suffix(1);
  }
  // Digits with at most one '.', nothing else: no sign, exponent, inf or nan.
  if (t.empty() || t == "." || std::count(t.begin(), t.end(), '.') > 1 ||
      !std::all_of(t.begin(), t.end(), [](char c) { return c == '.' || (c >= '0' && c <= '9'); }))
    throw bad();
  auto v = parse_double(t);
  if (!v) throw bad();
  const double mib = std::ceil(*v * unit_mib);
  if (mib > static_cast<double>(kMaxMemMib))
    throw InputError(where, "memory size " + quote_value(s) + " is too large (at most " +
                                std::to_string(kMaxMemMib / (1024 * 1024)) + "T)");
  return static_cast<std::int64_t>(mib);
}

bool is_accelerator_gres(std::string_view name) {
  const std::string n = to_lower(name);
  for (const char* g : {"gpu", "mlu", "npu", "xpu", "dcu", "hpu", "accel"})
    if (n == g) return true;
  return false;
}

AccelRequest parse_accel_count(std::string_view s, int max_count, const std::string& where) {
  const std::string_view t = trim(s);
  const auto colon = t.rfind(':');
  AccelRequest r;
  const std::string_view num = colon == std::string_view::npos ? t : t.substr(colon + 1);
  auto n = parse_digits(num);
  if (!n) throw InputError(where, "bad accelerator count " + quote_value(s) + ": use N or TYPE:N");
  if (*n > max_count)
    throw InputError(where, "accelerator count " + quote_value(num) + " is too large (at most " +
                                std::to_string(max_count) + ")");
  r.count = static_cast<int>(*n);
  if (colon != std::string_view::npos) {
    const std::string_view type = trim(t.substr(0, colon));
    if (type.empty()) throw InputError(where, "empty accelerator type in " + quote_value(s));
    if (!is_accelerator_gres(type)) r.type = std::string(type);
  }
  return r;
}

GresRequest parse_gres(std::string_view s, int max_per_node, const std::string& where) {
  const std::string_view t = trim(s);
  auto bad = [&](const std::string& why) {
    return InputError(where, "bad --gres " + quote_value(s) + ": " + why +
                                 " (use NAME[:TYPE][:COUNT], e.g. gpu:4 or gpu:a100:4)");
  };
  GresRequest g;
  if (t.empty()) throw bad("empty");
  if (to_lower(t) == "none") return g;
  for (std::string_view entry : split(t, ',')) {
    if (entry.empty()) throw bad("empty entry");
    const auto fields = split(entry, ':');
    if (fields[0].empty()) throw bad("entry without a name: " + quote_value(entry));
    if (!is_accelerator_gres(fields[0])) {
      g.ignored.emplace_back(entry);
      continue;
    }
    if (fields.size() > 3) throw bad("too many fields in " + quote_value(entry));
    AccelRequest r;
    std::optional<std::int64_t> count = std::int64_t{1};
    if (fields.size() == 3) {
      r.type = std::string(fields[1]);
      count = parse_digits(fields[2]);
    } else if (fields.size() == 2) {
      count = parse_digits(fields[1]);
      if (!count) {  // NAME:TYPE means one device of that type
        r.type = std::string(fields[1]);
        count = 1;
      }
    }
    if (!count) throw bad("bad count in " + quote_value(entry));
    if (fields.size() == 3 && fields[1].empty()) throw bad("empty type in " + quote_value(entry));
    if (*count > max_per_node)
      throw bad(quote_value(entry) + " asks for more than " + std::to_string(max_per_node) +
                " devices per node");
    if (is_accelerator_gres(r.type)) r.type.clear();
    r.count = static_cast<int>(*count);
    if (g.accel) throw bad("more than one accelerator entry; a job asks for one kind of device");
    g.accel = r;
  }
  return g;
}

std::vector<JobId> parse_dependency(std::string_view s, const std::string& where) {
  const std::string_view t = trim(s);
  const std::string usage = " (use afterok:ID[:ID...], several joined by ',')";
  if (t.empty()) throw InputError(where, "empty --dependency" + usage);
  if (t.find('?') != std::string_view::npos)
    throw InputError(where, "'?' (any-of) dependencies are not supported: only afterok" + usage);
  std::vector<JobId> ids;
  for (std::string_view item : split(t, ',')) {
    if (item.empty()) throw InputError(where, "empty entry in --dependency" + usage);
    const auto fields = split(item, ':');
    const std::string type = to_lower(fields[0]);
    if (type != "afterok")
      throw InputError(where, "dependency type " + quote_value(fields[0]) +
                                  " is not supported: only afterok" + usage);
    if (fields.size() < 2) throw InputError(where, "afterok needs a job id" + usage);
    for (std::size_t i = 1; i < fields.size(); ++i) {
      auto id = parse_digits(fields[i]);
      if (!id || *id < 1 || *id >= kSaturated)
        throw InputError(where,
                         "bad job id " + quote_value(fields[i]) + " in --dependency" + usage);
      ids.push_back(static_cast<JobId>(*id));
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

ExportRequest parse_export(std::string_view s, const std::string& where) {
  const std::string_view t = trim(s);
  const std::string usage = " (use ALL, NONE or a list of NAME and NAME=VALUE)";
  if (t.empty()) throw InputError(where, "empty --export" + usage);
  ExportRequest r;
  r.all = false;
  bool none = false;
  for (std::string_view item : split(t, ',')) {
    const std::string lower = to_lower(item);
    if (lower == "all") {
      r.all = true;
    } else if (lower == "none") {
      none = true;
    } else {
      const auto eq = item.find('=');
      const std::string_view name = item.substr(0, eq);
      if (!is_env_name(name))
        throw InputError(where, "bad variable name " + quote_value(name) + " in --export" + usage);
      if (eq == std::string_view::npos)
        r.names.emplace_back(name);
      else
        r.env.emplace_back(item);
    }
  }
  if (r.all && none) throw InputError(where, "--export lists both ALL and NONE");
  return r;
}

SignalRequest parse_slurm_signal(std::string_view s, const std::string& where) {
  const std::string usage = " (use [B:]SIG[@TIME], e.g. USR1, B:USR1@90 or 10@120)";
  std::string_view t = trim(s);
  if (t.empty()) throw InputError(where, "empty --signal" + usage);
  SignalRequest r;
  // The flags before ':' ("B", "R", "RB"): a signal name or number never holds a ':'.
  if (const auto colon = t.find(':'); colon != std::string_view::npos) {
    const std::string_view flags = t.substr(0, colon);
    if (flags.empty())
      throw InputError(where, "--signal " + quote_value(s) + ": nothing before ':'" + usage);
    for (char c : flags) {
      if (c == 'B' || c == 'b') {
        r.batch_only = true;
      } else if (c == 'R' || c == 'r') {
        r.reservation = true;
      } else {
        throw InputError(where, "--signal " + quote_value(s) + ": unknown flag " +
                                    quote_value(flags) +
                                    " before ':' (B: signals only the batch shell; R: is "
                                    "accepted and ignored)");
      }
    }
    t.remove_prefix(colon + 1);
  }
  std::string_view name = t, time;
  const auto at = t.find('@');
  if (at != std::string_view::npos) {
    name = t.substr(0, at);
    time = t.substr(at + 1);
  }
  const auto sig = parse_signal(name);
  if (!sig)
    throw InputError(where, "--signal " + quote_value(s) + ": " + quote_value(name) +
                                " is not a signal name or a number from 1 to " +
                                std::to_string(kMaxSignalNumber) + usage);
  if (!catchable_signal(*sig))
    throw InputError(where, "--signal " + quote_value(s) + ": " + signal_name(*sig) +
                                " cannot be caught, so it cannot ask the job to checkpoint; use "
                                "one the job traps, such as USR1");
  r.signal = *sig;
  r.time_s = kDefaultSignalTimeS;
  if (at != std::string_view::npos) {
    const auto v = parse_digits(time);
    if (!v || *v > kMaxSignalTimeS)
      throw InputError(where, "--signal " + quote_value(s) +
                                  ": the time after '@' must be whole "
                                  "seconds from 0 to " +
                                  std::to_string(kMaxSignalTimeS) + ", not " + quote_value(time));
    r.time_s = static_cast<int>(*v);
  }
  return r;
}

}  // namespace zs
