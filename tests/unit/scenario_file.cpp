#include "scenario_file.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include "core/accelerator.h"
#include "core/input_error.h"
#include "core/text.h"

namespace zs::test {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kSections = {"cluster", "policy", "options",
                                            "jobs",    "expect", "known-bug",
                                            "tenants", "live",   "live-known-bug"};
const std::vector<std::string> kOptions = {"preempt-cost-s", "walltime",       "seed",
                                           "load",           "las-thresholds", "las-promote",
                                           "starvation-h",   "min-run-s",      "recorded-on"};

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// "12" -> 12000 ms, "292.693" -> 292693 ms.
TimeMs parse_seconds(std::string_view text, const std::string& where) {
  auto v = parse_double(text);
  if (!v || *v < 0)
    throw InputError(where, "'" + std::string(text) + "' is not a time in seconds (>= 0)");
  return seconds_to_ms(*v);
}

std::string format_seconds(TimeMs ms) {
  if (ms % 1000 == 0) return std::to_string(ms / 1000);
  std::string s = std::to_string(ms / 1000) + ".";
  std::string frac = std::to_string(1000 + ms % 1000).substr(1);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return s + frac;
}

bool parse_yes_no(const std::string& v, const std::string& where) {
  if (v == "yes" || v == "true" || v == "1") return true;
  if (v == "no" || v == "false" || v == "0") return false;
  throw InputError(where, "'" + v + "' is not yes or no");
}

Expectation parse_expectation(std::string_view text, const std::string& where, int line) {
  Expectation e;
  e.line = line;
  const auto w = words(text);
  auto id = w.empty() ? std::nullopt : parse_int(w[0]);
  if (!id || *id < 0)
    throw InputError(where,
                     "expected '<job id> <start_s> <end_s> [key=value...]'"
                     " or '<job id> rejected: <reason>'");
  e.id = static_cast<JobId>(*id);
  const std::string_view rest = trim(text.substr(text.find(w[0]) + w[0].size()));
  if (rest.rfind("rejected", 0) == 0) {
    e.rejected = true;
    std::string_view reason = rest.substr(8);
    if (!reason.empty() && reason.front() == ':') reason.remove_prefix(1);
    e.reason = std::string(trim(reason));
    return e;
  }
  if (w.size() < 3) throw InputError(where, "expected '<job id> <start_s> <end_s> [key=value...]'");
  e.start = parse_seconds(w[1], where);
  e.end = parse_seconds(w[2], where);
  for (std::size_t i = 3; i < w.size(); ++i) {
    const auto eq = w[i].find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == w[i].size())
      throw InputError(where, "'" + w[i] + "' is not key=value");
    const std::string key = w[i].substr(0, eq), value = w[i].substr(eq + 1);
    if (key == "type") {
      e.type = value;
    } else if (key == "nodes") {
      std::vector<std::string> nodes;
      for (auto n : split(value, ',')) nodes.emplace_back(trim(n));
      e.nodes = nodes;
    } else if (key == "preempted") {
      auto n = parse_int(value);
      if (!n || *n < 0) throw InputError(where, "preempted: '" + value + "' is not a count");
      e.preemptions = static_cast<int>(*n);
    } else if (key == "run_s") {
      e.run = parse_seconds(value, where);
    } else if (key == "last_start") {
      e.last_start = parse_seconds(value, where);
    } else if (key == "backfilled") {
      e.backfilled = parse_yes_no(value, where);
    } else if (key == "killed") {
      e.killed = parse_yes_no(value, where);
    } else {
      throw InputError(
          where, "unknown key '" + key +
                     "' (known: type, nodes, preempted, run_s, last_start, backfilled, killed)");
    }
  }
  return e;
}

}  // namespace

fs::path scenario_dir() {
  return fs::path(ZS_SOURCE_DIR) / "tests" / "scenarios";
}

Scenario parse_scenario(std::string_view text, const std::string& source, const fs::path& dir) {
  Scenario sc;
  sc.source = source;
  sc.dir = dir;
  enum class Block { kNone, kYaml, kTenants, kJobs, kExpect } block = Block::kNone;
  bool seen_section = false, seen_jobs = false, seen_expect = false;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string where = source + ":" + std::to_string(line_no);
    // Every block keeps one output line per input line, so parsers downstream report the
    // scenario file's own line numbers.
    sc.cluster_yaml += '\n';
    sc.tenants_yaml += '\n';
    sc.jobs_csv += '\n';

    std::string key;
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && !line.empty() && line[0] != ' ' && line[0] != '#') {
      const std::string k(line.substr(0, colon));
      if (std::find(kSections.begin(), kSections.end(), k) != kSections.end()) key = k;
    }
    if (key.empty()) {
      const std::string_view t = trim(line);
      switch (block) {
        case Block::kNone:
          if (t.empty()) continue;
          if (t[0] == '#') {
            if (!seen_section) {
              std::string_view d = t.substr(1);
              if (!d.empty() && d[0] == ' ') d.remove_prefix(1);
              sc.description += std::string(d) + "\n";
            }
            continue;
          }
          throw InputError(where, "expected a section (" + join(kSections, ", ") + "), found '" +
                                      std::string(t) + "'");
        case Block::kYaml:
          sc.cluster_yaml.pop_back();
          sc.cluster_yaml += std::string(line) + "\n";
          continue;
        case Block::kTenants:
          sc.tenants_yaml.pop_back();
          sc.tenants_yaml += std::string(line) + "\n";
          continue;
        case Block::kJobs:
          if (!t.empty() && t[0] != '#') {
            sc.jobs_csv.pop_back();
            sc.jobs_csv += std::string(line) + "\n";
          }
          continue;
        case Block::kExpect: {
          std::string_view body = t;
          for (std::size_t h = 0; h < body.size(); ++h)
            if (body[h] == '#' && (h == 0 || body[h - 1] == ' ' || body[h - 1] == '\t')) {
              body = trim(body.substr(0, h));
              break;
            }
          if (body.empty()) continue;
          sc.expect.push_back(parse_expectation(body, where, line_no));
          continue;
        }
      }
    }
    seen_section = true;
    const std::string value(trim(line.substr(colon + 1)));
    block = Block::kNone;
    if (key == "cluster") {
      if (!sc.cluster.empty() || sc.cluster_yaml.find_first_not_of('\n') != std::string::npos)
        throw InputError(where, "cluster: given twice");
      if (value.empty())
        block = Block::kYaml;
      else
        sc.cluster = value;
    } else if (key == "tenants") {
      if (!value.empty())
        throw InputError(where, "tenants: the YAML block starts on the next line");
      block = Block::kTenants;
    } else if (key == "policy") {
      if (value.empty()) throw InputError(where, "policy: expected a policy name");
      sc.policy = value;
    } else if (key == "options") {
      for (const auto& w : words(value)) {
        const auto eq = w.find('=');
        const std::string k = w.substr(0, eq);
        if (eq == std::string::npos || eq + 1 == w.size() ||
            std::find(kOptions.begin(), kOptions.end(), k) == kOptions.end())
          throw InputError(where, "option '" + w + "': expected NAME=VALUE with NAME one of " +
                                      join(kOptions, ", "));
        sc.options.emplace_back(k, w.substr(eq + 1));
      }
    } else if (key == "known-bug" || key == "live-known-bug") {
      if (value.empty()) throw InputError(where, key + ": say what is wrong");
      (key == "known-bug" ? sc.known_bug : sc.live_known_bug) = value;
    } else if (key == "live") {
      if (value.rfind("skip ", 0) != 0 || trim(value.substr(5)).empty())
        throw InputError(where, "live: expected 'skip REASON'");
      sc.live_skip = std::string(trim(value.substr(5)));
    } else if (key == "jobs" || key == "expect") {
      if (!value.empty()) throw InputError(where, key + ": the block starts on the next line");
      if ((key == "jobs" && seen_jobs) || (key == "expect" && seen_expect))
        throw InputError(where, key + ": given twice");
      (key == "jobs" ? seen_jobs : seen_expect) = true;
      block = key == "jobs" ? Block::kJobs : Block::kExpect;
    }
  }
  const bool has_yaml = sc.cluster_yaml.find_first_not_of(" \t\n") != std::string::npos;
  if (sc.cluster.empty() && !has_yaml) throw InputError(source, "missing 'cluster:'");
  if (!has_yaml) sc.cluster_yaml.clear();
  if (sc.tenants_yaml.find_first_not_of(" \t\n") == std::string::npos) sc.tenants_yaml.clear();
  if (sc.policy.empty()) throw InputError(source, "missing 'policy:'");
  if (!seen_jobs) throw InputError(source, "missing 'jobs:'");
  if (!seen_expect || sc.expect.empty())
    throw InputError(source, "missing 'expect:' (one line per job)");
  return sc;
}

std::string read_scenario_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw InputError(p.string(), "cannot open scenario");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> scenario_files() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(scenario_dir(), ec))
    if (entry.is_regular_file() && entry.path().extension() == ".scn")
      files.push_back(entry.path().filename().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::string scenario_test_name(const std::string& file) {
  std::string name = fs::path(file).stem().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

Verdict compare_outcomes(const Scenario& sc, const std::vector<Outcome>& outcomes,
                         const std::string& runner) {
  const Catalog& catalog = Catalog::builtin();
  std::map<JobId, const Outcome*> outcome;
  for (const auto& o : outcomes) outcome[o.id] = &o;
  std::map<JobId, int> expected_ids;
  for (const auto& e : sc.expect) {
    if (!outcome.count(e.id))
      throw InputError(sc.source + ":" + std::to_string(e.line),
                       "expect: job " + std::to_string(e.id) + " is not in jobs:");
    if (!expected_ids.emplace(e.id, e.line).second)
      throw InputError(sc.source + ":" + std::to_string(e.line),
                       "expect: job " + std::to_string(e.id) + " is listed twice");
  }
  auto yes_no = [](bool b) { return b ? "yes" : "no"; };
  // The actual outcome written like an expectation line, with the keys `e` mentions (all of
  // them for a job `expect:` leaves out).
  auto render = [&](const Outcome& o, const Expectation* e) {
    std::string s = std::to_string(o.id);
    if (o.rejected) return s + " rejected: " + o.reject_reason;
    if (o.first_start < 0) return s + " never started";
    s += " " + format_seconds(o.first_start) + " " + format_seconds(o.end);
    if (!e || e->type) s += " type=" + (o.type.empty() ? std::string("?") : o.type);
    if (!e || e->nodes) s += " nodes=" + join(o.nodes, ",");
    if (!e || e->preemptions) s += " preempted=" + std::to_string(o.preemptions);
    if (e && e->run) s += " run_s=" + format_seconds(o.run_ms);
    if ((e && e->last_start) || (!e && o.last_start != o.first_start))
      s += " last_start=" + format_seconds(o.last_start);
    if ((!e && o.backfilled.value_or(false)) || (e && e->backfilled))
      s += std::string(" backfilled=") + (o.backfilled ? yes_no(*o.backfilled) : "?");
    if ((!e && o.killed) || (e && e->killed)) s += std::string(" killed=") + yes_no(o.killed);
    return s;
  };
  auto render_expected = [&](const Expectation& e) {
    std::string s = std::to_string(e.id);
    if (e.rejected) return s + " rejected: " + e.reason;
    s += " " + format_seconds(e.start) + " " + format_seconds(e.end);
    if (e.type) s += " type=" + *e.type;
    if (e.nodes) s += " nodes=" + join(*e.nodes, ",");
    if (e.preemptions) s += " preempted=" + std::to_string(*e.preemptions);
    if (e.run) s += " run_s=" + format_seconds(*e.run);
    if (e.last_start) s += " last_start=" + format_seconds(*e.last_start);
    if (e.backfilled) s += std::string(" backfilled=") + yes_no(*e.backfilled);
    if (e.killed) s += std::string(" killed=") + yes_no(*e.killed);
    return s;
  };
  auto matches = [&](const Expectation& e, const Outcome& o) {
    if (e.rejected) return o.rejected && o.reject_reason.find(e.reason) != std::string::npos;
    if (o.rejected || o.first_start != e.start || o.end != e.end) return false;
    if (e.type) {
      auto want = catalog.find(*e.type);
      if (!want || want != catalog.find(o.type)) return false;
    }
    if (e.nodes && *e.nodes != o.nodes) return false;
    if (e.preemptions && *e.preemptions != o.preemptions) return false;
    if (e.run && *e.run != o.run_ms) return false;
    if (e.last_start && *e.last_start != o.last_start) return false;
    if (e.backfilled && o.backfilled && *e.backfilled != *o.backfilled) return false;
    if (e.killed && *e.killed != o.killed) return false;
    return true;
  };

  struct Row {
    bool ok;
    std::string expected, actual;
  };
  std::vector<Row> rows;
  bool all_ok = true;
  for (const auto& e : sc.expect) {
    const Outcome& o = *outcome.at(e.id);
    const bool ok = matches(e, o);
    all_ok = all_ok && ok;
    rows.push_back({ok, render_expected(e), render(o, &e)});
  }
  for (const auto& o : outcomes)
    if (!expected_ids.count(o.id)) {
      all_ok = false;
      rows.push_back(
          {false, "(job " + std::to_string(o.id) + " missing from expect:)", render(o, nullptr)});
    }
  Verdict v;
  v.match = all_ok;
  if (all_ok) return v;
  std::size_t width = 8;
  for (const auto& r : rows) width = std::max(width, r.expected.size());
  std::ostringstream out;
  out << sc.source << ": the schedule differs from expect: (" << runner << ")\n";
  if (!sc.description.empty()) {
    std::istringstream d(sc.description);
    for (std::string l; std::getline(d, l);) out << "  #" << (l.empty() ? "" : " ") << l << "\n";
  }
  out << "    " << std::string("expected") << std::string(width - 8, ' ') << " | actual\n";
  for (const auto& r : rows)
    out << (r.ok ? "    " : "  ! ") << r.expected << std::string(width - r.expected.size(), ' ')
        << " | " << r.actual << "\n";
  v.report = out.str();
  return v;
}

}  // namespace zs::test
