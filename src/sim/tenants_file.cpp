#include "sim/tenants_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/identity_record.h"
#include "core/input_error.h"
#include "core/signal_name.h"
#include "core/text.h"

namespace zs {

namespace {

constexpr int kMaxDevices = 1'000'000;  // guaranteed and borrow, per tenant and type
constexpr double kMaxWeight = 1e6;
constexpr double kMaxPrice = 1e9;
constexpr TimeMs kSecond = 1000, kMinute = 60 * kSecond, kHour = 60 * kMinute, kDay = 24 * kHour;
constexpr TimeMs kMaxHalfLifeMs = 3650 * kDay;
constexpr TimeMs kMaxGraceMs = kDay;
constexpr TimeMs kMaxMinRuntimeMs = 30 * kDay;
constexpr double kMaxDurationMs = 100.0 * 365 * kDay;  // anything longer is a typo

// The user's text in a message: printable, and not a screenful.
std::string echoed(std::string_view s) {
  constexpr std::size_t kMax = 80;
  std::string out = terminal_safe(s.substr(0, kMax));
  if (s.size() > kMax) out += "...";
  return "'" + out + "'";
}

// "7d", "120s", "10m", "2h", "500ms", "1h30m", "1.5h", a plain number of seconds, or Slurm's
// "D-HH:MM:SS" and "HH:MM:SS" forms -> milliseconds. nullopt when it is none of those, negative
// or absurdly long.
std::optional<TimeMs> parse_duration_ms(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  if (s.find(':') != std::string_view::npos || s.find('-') != std::string_view::npos) {
    const auto v = parse_duration_s(s);
    if (!v || static_cast<double>(*v) * kSecond > kMaxDurationMs) return std::nullopt;
    return *v * kSecond;
  }
  if (const auto v = parse_double(s)) {
    if (*v < 0 || *v * kSecond > kMaxDurationMs) return std::nullopt;
    return static_cast<TimeMs>(std::llround(*v * kSecond));
  }
  // NUMBER UNIT pairs, largest unit first, each unit at most once.
  static constexpr std::pair<std::string_view, TimeMs> kUnits[] = {
      {"d", kDay}, {"h", kHour}, {"m", kMinute}, {"s", kSecond}, {"ms", 1}};
  constexpr int kUnitCount = static_cast<int>(std::size(kUnits));
  double total = 0;
  int next_unit = 0;  // units before this one were used already (or would be out of order)
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.')) ++j;
    std::size_t k = j;
    while (k < s.size() && s[k] >= 'a' && s[k] <= 'z') ++k;
    if (j == i || k == j) return std::nullopt;
    const auto number = parse_double(s.substr(i, j - i));
    if (!number) return std::nullopt;
    const std::string_view unit = s.substr(j, k - j);
    int u = next_unit;
    while (u < kUnitCount && kUnits[u].first != unit) ++u;
    if (u == kUnitCount) return std::nullopt;
    total += *number * static_cast<double>(kUnits[u].second);
    if (total > kMaxDurationMs) return std::nullopt;
    next_unit = u + 1;
    i = k;
  }
  return static_cast<TimeMs>(std::llround(total));
}

std::string duration_text(TimeMs ms) {
  if (ms % kDay == 0) return std::to_string(ms / kDay) + "d";
  if (ms % kHour == 0) return std::to_string(ms / kHour) + "h";
  if (ms % kMinute == 0) return std::to_string(ms / kMinute) + "m";
  if (ms % kSecond == 0) return std::to_string(ms / kSecond) + "s";
  return std::to_string(ms) + "ms";
}

// 1000000, 8.5, 1e-07: whole numbers without a decimal point.
std::string number_text(double x) {
  if (std::floor(x) == x && std::fabs(x) < 1e15) return std::to_string(static_cast<long long>(x));
  std::ostringstream out;
  out << x;
  return out.str();
}

std::string join(std::initializer_list<std::string_view> words) {
  std::string out;
  for (std::string_view w : words) (out += out.empty() ? "" : ", ") += w;
  return out;
}

class Reader {
 public:
  Reader(const std::string& source, const Catalog& catalog) : source_(source), catalog_(catalog) {}

  std::string at(const YAML::Node& n) const {
    const YAML::Mark m = n.Mark();
    if (m.is_null()) return source_;
    return source_ + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
  }
  static int line_of(const YAML::Node& n) { return n.Mark().is_null() ? 0 : n.Mark().line + 1; }

  // Calls fn(key, key_node, value) for each entry of the mapping `map`, after checking the key:
  // a plain word, one of `known`, not given twice. `what` names the mapping in messages.
  template <class F>
  void for_each_key(const YAML::Node& map, std::initializer_list<std::string_view> known,
                    const std::string& what, F&& fn) const {
    std::vector<std::pair<std::string, int>> seen;
    for (const auto& kv : map) {
      const std::string key = key_text(kv.first, what);
      bool is_known = false;
      for (std::string_view k : known) is_known = is_known || k == key;
      if (!is_known)
        throw InputError(at(kv.first), "unknown key " + echoed(key) + " in " + what +
                                           " (known: " + join(known) + ")");
      for (const auto& [k, line] : seen)
        if (k == key)
          throw InputError(at(kv.first), what + ": " + echoed(key) +
                                             " is given twice (first on line " +
                                             std::to_string(line) + ")");
      seen.emplace_back(key, line_of(kv.first));
      fn(key, kv.first, kv.second);
    }
  }

  // A mapping, or nothing (a key without a value): false when there is nothing to read.
  bool is_map(const YAML::Node& n, const std::string& what, const std::string& example) const {
    if (n.IsNull()) return false;
    if (!n.IsMap()) throw InputError(at(n), what + ": expected a mapping, e.g. " + example);
    return true;
  }

  std::string key_text(const YAML::Node& key, const std::string& what) const {
    if (!key.IsScalar()) throw InputError(at(key), what + ": expected a plain key");
    return key.Scalar();
  }

  int get_count(const YAML::Node& n, const std::string& what) const {
    if (!n.IsScalar()) throw InputError(at(n), what + ": expected a whole number");
    const auto v = parse_int(n.Scalar());
    if (!v) throw InputError(at(n), what + ": " + echoed(n.Scalar()) + " is not a whole number");
    if (*v < 0 || *v > kMaxDevices)
      throw InputError(at(n), what + ": " + std::to_string(*v) + " is out of range 0.." +
                                  std::to_string(kMaxDevices));
    return static_cast<int>(*v);
  }

  double get_number(const YAML::Node& n, const std::string& what, double lo, bool lo_included,
                    double hi) const {
    if (!n.IsScalar()) throw InputError(at(n), what + ": expected a number");
    const auto v = parse_double(n.Scalar());
    if (!v) throw InputError(at(n), what + ": " + echoed(n.Scalar()) + " is not a number");
    if (*v < lo || (!lo_included && *v == lo) || *v > hi) {
      throw InputError(at(n), what + ": " + echoed(n.Scalar()) + " must be " +
                                  (lo_included ? "at least " : "more than ") + number_text(lo) +
                                  " and at most " + number_text(hi));
    }
    return *v;
  }

  TimeMs get_duration(const YAML::Node& n, const std::string& what, TimeMs lo, TimeMs hi) const {
    if (!n.IsScalar())
      throw InputError(at(n), what + ": expected a duration such as 120s, 10m, 2h or 7d");
    const auto v = parse_duration_ms(n.Scalar());
    if (!v)
      throw InputError(at(n), what + ": " + echoed(n.Scalar()) +
                                  " is not a duration (e.g. 120s, 10m, 2h, 7d, 1h30m, or a "
                                  "number of seconds)");
    if (*v < lo)  // lo is 0 or 1 ms: negative durations do not parse
      throw InputError(at(n), what + ": " + echoed(n.Scalar()) + " must be more than 0");
    if (*v > hi)
      throw InputError(at(n), what + ": " + echoed(n.Scalar()) + " is longer than the allowed " +
                                  duration_text(hi));
    return *v;
  }

  // `quota:` of a tenant or of the default entry: type -> {guaranteed, borrow}.
  std::vector<TypeQuota> read_quota(const YAML::Node& n, const std::string& owner,
                                    bool is_default) const {
    std::vector<TypeQuota> quota(catalog_.size());
    const std::string what = owner + " quota";
    if (!is_map(n, what, "{MLU590: {guaranteed: 64, borrow: 32}}")) return quota;
    std::vector<int> first_line(catalog_.size(), 0);
    for (const auto& kv : n) {
      const std::string type_name = key_text(kv.first, what);
      const TypeId t = catalog_.resolve(type_name, at(kv.first));
      if (first_line[t] != 0)
        throw InputError(at(kv.first), what + ": " + echoed(type_name) + " is " + catalog_.name(t) +
                                           ", given already on line " +
                                           std::to_string(first_line[t]));
      first_line[t] = std::max(1, line_of(kv.first));
      const std::string of_type = what + " of " + catalog_.name(t);
      const YAML::Node& v = kv.second;
      if (!v.IsMap()) throw InputError(at(v), of_type + ": expected {guaranteed: N, borrow: M}");
      TypeQuota& q = quota[t];
      for_each_key(v, {"guaranteed", "borrow"}, of_type,
                   [&](const std::string& key, const YAML::Node&, const YAML::Node& value) {
                     if (key == "guaranteed") {
                       q.guaranteed = get_count(value, "guaranteed");
                       if (is_default && q.guaranteed > 0)
                         throw InputError(
                             at(value),
                             "the default entry cannot guarantee devices: every tenant not "
                             "listed would be promised them; give it 'borrow' only, or list "
                             "the tenant under 'tenants'");
                     } else if (value.IsScalar() && to_lower(value.Scalar()) == "unlimited") {
                       q.borrow = TypeQuota::kUnlimited;
                     } else {
                       if (value.IsScalar() && !parse_int(value.Scalar()))
                         throw InputError(at(value), "borrow: " + echoed(value.Scalar()) +
                                                         " is neither a whole number nor "
                                                         "'unlimited'");
                       q.borrow = get_count(value, "borrow");
                     }
                   });
    }
    return quota;
  }

  // One entry of `tenants:` (or the `default:` entry when is_default).
  TenantShare read_share(const YAML::Node& n, bool is_default) const {
    TenantShare s;
    s.quota.assign(catalog_.size(), TypeQuota{});
    const std::string what = is_default ? "the default entry" : "a tenant";
    bool named = false;
    auto field = [&](const std::string& key, const YAML::Node&, const YAML::Node& value) {
      if (key == "name") {
        if (!value.IsScalar()) throw InputError(at(value), "name: expected the tenant's name");
        const std::string problem = identity_name_problem(value.Scalar());
        if (!problem.empty())
          throw InputError(at(value), "name: " + echoed(value.Scalar()) + ": " + problem);
        s.name = value.Scalar();
        named = true;
      } else if (key == "weight") {
        s.weight = get_number(value, "weight", 0, false, kMaxWeight);
      } else {
        s.quota = read_quota(value,
                             is_default ? std::string("default")
                             : named    ? "tenant " + echoed(s.name)
                                        : std::string("tenant"),
                             is_default);
      }
    };
    if (is_default)
      for_each_key(n, {"weight", "quota"}, what, field);
    else
      for_each_key(n, {"name", "weight", "quota"}, what, field);
    if (!is_default && !named) throw InputError(at(n), "a tenant needs a 'name'");
    return s;
  }

  void read_tenants(const YAML::Node& n, TenantShares& out) const {
    if (n.IsNull()) return;
    if (!n.IsSequence())
      throw InputError(at(n),
                       "tenants: expected a list of tenants, e.g. - {name: vision, quota: "
                       "{MLU590: {guaranteed: 64}}}");
    if (n.size() > kMaxTenants)
      throw InputError(at(n), "tenants: " + std::to_string(n.size()) + " tenants, at most " +
                                  std::to_string(kMaxTenants) + " are allowed");
    out.tenants.reserve(n.size());
    std::unordered_map<std::string, int> first_line;
    for (const auto& entry : n) {
      if (!entry.IsMap())
        throw InputError(at(entry), "each tenant is a mapping with 'name', 'weight' and 'quota'");
      TenantShare s = read_share(entry, false);
      const auto [it, fresh] = first_line.emplace(s.name, line_of(entry));
      if (!fresh)
        throw InputError(at(entry["name"]), "tenant " + echoed(s.name) +
                                                " is listed twice (first on line " +
                                                std::to_string(it->second) + ")");
      out.tenants.push_back(std::move(s));
    }
  }

  std::vector<double> read_prices(const YAML::Node& n) const {
    if (!is_map(n, "prices", "{MLU590: 8.5, A100-SXM4-80GB: 20}")) return {};
    std::vector<double> prices(catalog_.size(), -1.0);
    std::vector<int> first_line(catalog_.size(), 0);
    for (const auto& kv : n) {
      const std::string type_name = key_text(kv.first, "prices");
      const TypeId t = catalog_.resolve(type_name, at(kv.first));
      if (first_line[t] != 0)
        throw InputError(at(kv.first), "prices: " + echoed(type_name) + " is " + catalog_.name(t) +
                                           ", priced already on line " +
                                           std::to_string(first_line[t]));
      first_line[t] = std::max(1, line_of(kv.first));
      prices[t] = get_number(kv.second, "price of " + catalog_.name(t), 0, true, kMaxPrice);
    }
    return prices;
  }

  void read_fair_share(const YAML::Node& n, TenantShares& out) const {
    if (!is_map(n, "fair_share", "{half_life: 7d}")) return;
    for_each_key(n, {"half_life"}, "fair_share",
                 [&](const std::string&, const YAML::Node&, const YAML::Node& value) {
                   out.half_life_ms = get_duration(value, "half_life", 1, kMaxHalfLifeMs);
                   out.half_life_set = true;
                 });
  }

  void read_preemption(const YAML::Node& n, PreemptionSettings& p) const {
    if (!is_map(n, "preemption", "{signal: SIGUSR1, grace: 120s, min_runtime: 10m}")) return;
    for_each_key(
        n, {"signal", "grace", "min_runtime", "checkpoint"}, "preemption",
        [&](const std::string& key, const YAML::Node&, const YAML::Node& value) {
          if (key == "signal") {
            if (!value.IsScalar())
              throw InputError(at(value), "signal: expected a signal name or number, e.g. SIGUSR1");
            const auto sig = parse_signal(value.Scalar());
            if (!sig)
              throw InputError(at(value), "signal: " + echoed(value.Scalar()) +
                                              " is not a signal (e.g. SIGUSR1, USR2, SIGTERM or a "
                                              "number 1..64)");
            if (!catchable_signal(*sig))
              throw InputError(at(value), "signal: " + signal_name(*sig) +
                                              " cannot be caught, so a job cannot checkpoint on "
                                              "it (use e.g. SIGUSR1 or SIGTERM; SIGKILL follows "
                                              "the grace period anyway)");
            p.signal = *sig;
            p.signal_name = signal_name(*sig);
            p.signal_set = true;
          } else if (key == "checkpoint") {
            const std::string v = value.IsScalar() ? to_lower(value.Scalar()) : "";
            if (v != "all" && v != "none")
              throw InputError(at(value),
                               "checkpoint: expected 'all' (jobs checkpoint on the signal and "
                               "resume) or 'none' (a reclaimed job restarts from zero)");
            p.checkpoint_all = v == "all";
            p.checkpoint_set = true;
          } else if (key == "grace") {
            p.grace_ms = get_duration(value, "grace", 0, kMaxGraceMs);
            p.grace_set = true;
          } else {
            p.min_runtime_ms = get_duration(value, "min_runtime", 0, kMaxMinRuntimeMs);
            p.min_runtime_set = true;
          }
        });
  }

  TenantShares read(const YAML::Node& root) const {
    TenantShares out;
    if (root.IsNull()) return out;
    if (!root.IsMap())
      throw InputError(at(root),
                       "expected a mapping with 'tenants' (and optionally default, prices, "
                       "fair_share, preemption; see docs/tenants.md)");
    for_each_key(root, {"tenants", "default", "prices", "fair_share", "preemption"}, "the file",
                 [&](const std::string& key, const YAML::Node&, const YAML::Node& value) {
                   if (key == "tenants") {
                     read_tenants(value, out);
                   } else if (key == "default") {
                     // `default:` without a value is the same as no default entry.
                     if (is_map(value, "default", "{weight: 1, quota: {MLU590: {borrow: 8}}}"))
                       out.default_share = read_share(value, true);
                   } else if (key == "prices") {
                     out.price_per_hour = read_prices(value);
                   } else if (key == "fair_share") {
                     read_fair_share(value, out);
                   } else {
                     read_preemption(value, out.preemption);
                   }
                 });
    return out;
  }

 private:
  const std::string& source_;
  const Catalog& catalog_;
};

std::string mark_text(const std::string& source, const YAML::Mark& m) {
  if (m.is_null()) return source;
  return source + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

}  // namespace

namespace {

// A double that reads back as the same double.
std::string exact_number(double x) {
  if (std::floor(x) == x && std::fabs(x) < 1e15) return std::to_string(static_cast<long long>(x));
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

// A YAML double-quoted scalar.
std::string yaml_quoted(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string quota_text(const TenantShare& s, const Catalog& catalog) {
  std::string out;
  for (TypeId t = 0; t < s.quota.size() && t < catalog.size(); ++t) {
    const TypeQuota& q = s.quota[t];
    if (q == TypeQuota{}) continue;
    out +=
        (out.empty() ? "" : ", ") + yaml_quoted(catalog.name(t)) +
        ": {guaranteed: " + std::to_string(q.guaranteed) + ", borrow: " +
        (q.borrow == TypeQuota::kUnlimited ? std::string("unlimited") : std::to_string(q.borrow)) +
        "}";
  }
  return "{" + out + "}";
}

}  // namespace

std::string tenants_yaml(const TenantShares& shares, const Catalog& catalog) {
  std::string out = "tenants:\n";
  if (shares.tenants.empty()) out = "tenants: []\n";
  for (const TenantShare& s : shares.tenants)
    out += "  - name: " + yaml_quoted(s.name) + "\n    weight: " + exact_number(s.weight) +
           "\n    quota: " + quota_text(s, catalog) + "\n";
  if (shares.default_share)
    out += "default: {weight: " + exact_number(shares.default_share->weight) +
           ", quota: " + quota_text(*shares.default_share, catalog) + "}\n";
  if (!shares.price_per_hour.empty()) {
    std::string prices;
    for (TypeId t = 0; t < shares.price_per_hour.size() && t < catalog.size(); ++t)
      if (shares.price_per_hour[t] >= 0)
        prices += (prices.empty() ? "" : ", ") + yaml_quoted(catalog.name(t)) + ": " +
                  exact_number(shares.price_per_hour[t]);
    out += "prices: {" + prices + "}\n";
  }
  if (shares.half_life_set)
    out += "fair_share: {half_life: " + duration_text(shares.half_life_ms) + "}\n";
  const PreemptionSettings& p = shares.preemption;
  std::string pre;
  auto add = [&](const std::string& kv) { pre += (pre.empty() ? "" : ", ") + kv; };
  if (p.signal_set) add("signal: " + p.signal_name);
  if (p.grace_set) add("grace: " + duration_text(p.grace_ms));
  if (p.min_runtime_set) add("min_runtime: " + duration_text(p.min_runtime_ms));
  if (p.checkpoint_set) add(std::string("checkpoint: ") + (p.checkpoint_all ? "all" : "none"));
  if (!pre.empty()) out += "preemption: {" + pre + "}\n";
  return out;
}

TenantShares parse_tenants_yaml(std::string_view text, const std::string& source,
                                const Catalog& catalog) {
  if (text.size() > kMaxTenantsFileBytes)
    throw InputError(source, "the file has " + std::to_string(text.size()) +
                                 " bytes, more than a tenants file may have (" +
                                 std::to_string(kMaxTenantsFileBytes >> 20) + " MiB)");
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw InputError(mark_text(source, e.mark), "invalid YAML: " + e.msg);
  }
  try {
    TenantShares out = Reader(source, catalog).read(root);
    out.index();
    return out;
  } catch (const YAML::Exception& e) {
    throw InputError(mark_text(source, e.mark), e.msg);
  }
}

TenantShares load_tenants_file(const std::string& path, const Catalog& catalog) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw InputError(path, "is a directory, not a tenants file");
  // A FIFO or a device would block the read (or never end): only regular files are read.
  if (const auto st = fs::status(path, ec); !ec && !fs::is_regular_file(st))
    throw InputError(path, "is not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open the tenants file");
  std::string text;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxTenantsFileBytes)
      throw InputError(path, "the tenants file is larger than " +
                                 std::to_string(kMaxTenantsFileBytes >> 20) + " MiB");
  }
  if (in.bad()) throw InputError(path, "cannot read the tenants file");
  return parse_tenants_yaml(text, path, catalog);
}

void check_tenants_against(const TenantShares& shares, const Cluster& cluster,
                           const Catalog& catalog, const std::string& source) {
  std::string problems;
  const auto short_types = shares.shortfalls(cluster, catalog);
  if (!short_types.empty()) {
    problems = "the guarantees do not fit the cluster: ";
    for (std::size_t i = 0; i < short_types.size(); ++i)
      (problems += i ? "; " : "") += short_types[i];
  }
  const auto unpriced = shares.unpriced_types(cluster, catalog);
  if (!unpriced.empty()) {
    if (!problems.empty()) problems += ". Also, ";
    problems += "prices: no price for ";
    for (std::size_t i = 0; i < unpriced.size(); ++i) (problems += i ? ", " : "") += unpriced[i];
    problems += " (the cluster has " + std::string(unpriced.size() == 1 ? "it" : "them") +
                "; give every type a price, 0 if it is free)";
  }
  if (!problems.empty()) throw InputError(source, problems);
}

}  // namespace zs
