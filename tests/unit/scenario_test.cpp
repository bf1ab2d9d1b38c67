// Golden scenario tests: every tests/scenarios/*.scn file is a small, commented schedule that is
// replayed through the same code path as `zs sim` (cluster loader, canonical trace reader,
// workload adjustments, make_policy, simulate) and must match its `expect:` block exactly.
// The file format is described in tests/scenarios/README.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "core/input_error.h"
#include "core/text.h"
#include "sim/cluster_file.h"
#include "sim/simulator.h"
#include "sim/tenants_file.h"
#include "sim/trace.h"
#include "sim/workload_adjust.h"

namespace zs {
namespace {

namespace fs = std::filesystem;

fs::path scenario_dir() {
  return fs::path(ZS_SOURCE_DIR) / "tests" / "scenarios";
}

// One line of the `expect:` block.
struct Expectation {
  int line = 0;
  JobId id = 0;
  bool rejected = false;
  std::string reason;  // a substring of the rejection reason
  TimeMs start = 0, end = 0;
  std::optional<std::string> type;
  std::optional<std::vector<std::string>> nodes;
  std::optional<int> preemptions;
  std::optional<TimeMs> run, last_start;  // run_s: time holding devices, all runs (grace included)
  std::optional<bool> backfilled, killed;
};

struct Scenario {
  std::string source;  // file name, for messages
  fs::path dir;        // where sibling files (cluster YAML) are looked up
  std::string description;
  std::string cluster;       // inline spec or a YAML file next to the scenario
  std::string cluster_yaml;  // or an inline YAML block (padded: YAML line numbers are the file's)
  std::string tenants_yaml;  // a tenants file (docs/tenants.md), padded the same way
  std::string policy;
  std::vector<std::pair<std::string, std::string>> options;
  std::string jobs_csv;  // padded with blank lines: CSV line numbers are the file's
  std::vector<Expectation> expect;
  std::string known_bug;
};

const std::vector<std::string> kSections = {"cluster", "policy",    "options", "jobs",
                                            "expect",  "known-bug", "tenants"};
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
    } else if (key == "known-bug") {
      if (value.empty()) throw InputError(where, "known-bug: say what is wrong");
      sc.known_bug = value;
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

// Wraps the real policy and remembers where each job was last started (the simulator's
// outcome has no placement); the decisions pass through unchanged.
class RecordingPolicy : public Policy {
 public:
  explicit RecordingPolicy(std::unique_ptr<Policy> inner) : inner_(std::move(inner)) {}
  std::string_view name() const override { return inner_->name(); }
  bool needs_oracle() const override { return inner_->needs_oracle(); }
  bool preemptive() const override { return inner_->preemptive(); }
  Decisions decide(const Snapshot& s, TimeMs now) const override {
    Decisions d = inner_->decide(s, now);
    for (const auto& st : d.starts) last_placement_[st.job] = st.placement;
    return d;
  }
  const Placement* placement(JobId id) const {
    auto it = last_placement_.find(id);
    return it == last_placement_.end() ? nullptr : &it->second;
  }

 private:
  std::unique_ptr<Policy> inner_;
  mutable std::map<JobId, Placement> last_placement_;
};

struct Verdict {
  bool match = false;
  std::string report;  // a readable diff when !match
};

Verdict run_scenario(const Scenario& sc) {
  const Catalog& catalog = Catalog::builtin();
  const ThroughputTable& speeds = ThroughputTable::builtin();

  Cluster cluster;
  if (!sc.cluster_yaml.empty())
    cluster = parse_cluster_yaml(sc.cluster_yaml, sc.source, catalog);
  else if (fs::exists(sc.dir / sc.cluster))
    cluster = load_cluster((sc.dir / sc.cluster).string(), catalog);
  else
    cluster = load_cluster(sc.cluster, catalog);

  TraceOptions topt;
  topt.format = "canonical";
  WorkloadAdjust adj;
  SimOptions opt;
  bool min_run_given = false;
  for (const auto& [k, v] : sc.options) {
    const std::string where = sc.source + ": option " + k;
    auto number = [&] {
      auto d = parse_double(v);
      if (!d || *d < 0) throw InputError(where, "'" + v + "' is not a non-negative number");
      return *d;
    };
    if (k == "preempt-cost-s") {
      opt.preempt_cost_ms = seconds_to_ms(number());
    } else if (k == "walltime") {
      adj.walltime = parse_walltime_rule(v);
    } else if (k == "seed") {
      adj.seed = static_cast<std::uint64_t>(number());
    } else if (k == "load") {
      adj.load = number();
    } else if (k == "las-thresholds") {
      opt.sched.las_thresholds_accel_s.clear();
      for (auto p : split(v, ',')) {
        auto d = parse_double(p);
        if (!d || *d <= 0) throw InputError(where, "'" + std::string(p) + "' is not > 0");
        opt.sched.las_thresholds_accel_s.push_back(*d);
      }
    } else if (k == "las-promote") {
      opt.sched.las_promote_factor = number();
      if (opt.sched.las_promote_factor <= 0) throw InputError(where, "must be > 0");
    } else if (k == "starvation-h") {
      const double h = number();
      if (h <= 0) throw InputError(where, "must be > 0");
      opt.sched.starvation_ms = seconds_to_ms(h * 3600);
    } else if (k == "min-run-s") {
      opt.sched.min_run_ms = seconds_to_ms(number());
      min_run_given = true;
    } else if (k == "recorded-on") {
      topt.recorded_type = catalog.resolve(v, where);
    }
  }
  Trace trace = read_trace_text(sc.jobs_csv, sc.source, topt, catalog, speeds);
  adjust_workload(trace.jobs, adj);
  TenantShares shares;
  if (!sc.tenants_yaml.empty()) {
    shares = parse_tenants_yaml(sc.tenants_yaml, sc.source, catalog);
    check_tenants_against(shares, cluster, catalog, sc.source);
    opt.use_shares(shares, min_run_given);
  }
  RecordingPolicy policy(make_policy(sc.policy));
  const SimResult result = simulate(cluster, catalog, &speeds, trace.jobs, policy, opt);

  std::map<JobId, const JobOutcome*> outcome;
  for (const auto& o : result.jobs) outcome[o.id] = &o;
  std::map<JobId, int> expected_ids;
  for (const auto& e : sc.expect) {
    if (!outcome.count(e.id))
      throw InputError(sc.source + ":" + std::to_string(e.line),
                       "expect: job " + std::to_string(e.id) + " is not in jobs:");
    if (!expected_ids.emplace(e.id, e.line).second)
      throw InputError(sc.source + ":" + std::to_string(e.line),
                       "expect: job " + std::to_string(e.id) + " is listed twice");
  }

  auto node_names = [&](JobId id) {
    std::vector<std::string> names;
    if (const Placement* p = policy.placement(id))
      for (const Slot& s : *p) names.push_back(cluster.nodes[s.node].name);
    return names;
  };
  // The actual outcome written like an expectation line, with the keys `e` mentions (all of
  // them for a job `expect:` leaves out).
  auto render = [&](const JobOutcome& o, const Expectation* e) {
    std::string s = std::to_string(o.id);
    if (o.rejected) return s + " rejected: " + o.reject_reason;
    if (o.first_start < 0) return s + " never started";
    s += " " + format_seconds(o.first_start) + " " + format_seconds(o.end);
    if (!e || e->type) s += " type=" + (o.type >= 0 ? catalog.name(o.type) : std::string("?"));
    if (!e || e->nodes) s += " nodes=" + join(node_names(o.id), ",");
    if (!e || e->preemptions) s += " preempted=" + std::to_string(o.preemptions);
    if (e && e->run) s += " run_s=" + format_seconds(o.run_ms);
    if ((e && e->last_start) || (!e && o.last_start != o.first_start))
      s += " last_start=" + format_seconds(o.last_start);
    if ((!e && o.backfilled) || (e && e->backfilled))
      s += std::string(" backfilled=") + (o.backfilled ? "yes" : "no");
    if ((!e && o.killed_at_walltime) || (e && e->killed))
      s += std::string(" killed=") + (o.killed_at_walltime ? "yes" : "no");
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
    if (e.backfilled) s += std::string(" backfilled=") + (*e.backfilled ? "yes" : "no");
    if (e.killed) s += std::string(" killed=") + (*e.killed ? "yes" : "no");
    return s;
  };
  auto matches = [&](const Expectation& e, const JobOutcome& o) {
    if (e.rejected) return o.rejected && o.reject_reason.find(e.reason) != std::string::npos;
    if (o.rejected || o.first_start != e.start || o.end != e.end) return false;
    if (e.type) {
      auto t = catalog.find(*e.type);
      if (!t || static_cast<int>(*t) != o.type) return false;
    }
    if (e.nodes && *e.nodes != node_names(o.id)) return false;
    if (e.preemptions && *e.preemptions != o.preemptions) return false;
    if (e.run && *e.run != o.run_ms) return false;
    if (e.last_start && *e.last_start != o.last_start) return false;
    if (e.backfilled && *e.backfilled != o.backfilled) return false;
    if (e.killed && *e.killed != o.killed_at_walltime) return false;
    return true;
  };

  struct Row {
    bool ok;
    std::string expected, actual;
  };
  std::vector<Row> rows;
  bool all_ok = true;
  for (const auto& e : sc.expect) {
    const JobOutcome& o = *outcome.at(e.id);
    const bool ok = matches(e, o);
    all_ok = all_ok && ok;
    rows.push_back({ok, render_expected(e), render(o, &e)});
  }
  for (const auto& o : result.jobs)
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
  out << sc.source << ": the schedule differs from expect: (policy " << sc.policy << ")\n";
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

std::string read_text(const fs::path& p) {
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

class ScenarioTest : public testing::TestWithParam<std::string> {};

TEST_P(ScenarioTest, ScheduleMatchesExpect) {
  const fs::path path = scenario_dir() / GetParam();
  const std::string source = "tests/scenarios/" + GetParam();
  Scenario sc;
  Verdict v;
  try {
    sc = parse_scenario(read_text(path), source, path.parent_path());
    v = run_scenario(sc);
  } catch (const std::exception& e) {
    FAIL() << source << ": " << e.what();
  }
  if (!sc.known_bug.empty()) {
    if (v.match)
      FAIL() << source << " is marked 'known-bug:' but now matches its expectation: the bug "
             << "looks fixed, remove the known-bug line.";
    GTEST_SKIP() << "KNOWN BUG in " << source << ": " << sc.known_bug << "\n" << v.report;
  }
  EXPECT_TRUE(v.match) << v.report;
}

INSTANTIATE_TEST_SUITE_P(Scenario, ScenarioTest, testing::ValuesIn(scenario_files()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = fs::path(info.param).stem().string();
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

// --- The runner itself: it must be able to fail, and say why. ---

const char* kTwoJobs = R"(# Two jobs on one node, one after the other.
cluster: 1x8xV100
policy: fifo
jobs:
id,submit_s,duration_s,accel_count
1,0,100,8
2,0,50,8
expect:
)";

TEST(ScenarioRunner, MatchingScheduleIsAccepted) {
  const std::string text = std::string(kTwoJobs) +
                           "1 0 100 type=V100 nodes=v100-0 preempted=0  # first\n"
                           "2 100 150 backfilled=no\n";
  auto v = run_scenario(parse_scenario(text, "inline.scn", "."));
  EXPECT_TRUE(v.match) << v.report;
}

TEST(ScenarioRunner, WrongTimeIsReportedAsReadableDiff) {
  const std::string text = std::string(kTwoJobs) + "1 0 100\n2 100 151\n";
  auto v = run_scenario(parse_scenario(text, "inline.scn", "."));
  EXPECT_FALSE(v.match);
  EXPECT_NE(v.report.find("inline.scn: the schedule differs"), std::string::npos) << v.report;
  EXPECT_NE(v.report.find("  ! 2 100 151 | 2 100 150"), std::string::npos) << v.report;
  EXPECT_NE(v.report.find("    1 0 100   | 1 0 100"), std::string::npos) << v.report;
  EXPECT_NE(v.report.find("# Two jobs on one node"), std::string::npos) << v.report;
}

TEST(ScenarioRunner, WrongTypeNodesOrRejectionAreMismatches) {
  for (const char* bad : {"1 0 100 type=K80\n2 100 150\n", "1 0 100 nodes=v100-1\n2 100 150\n",
                          "1 0 100 preempted=1\n2 100 150\n", "1 0 100\n2 rejected: needs\n",
                          "1 0 100 backfilled=yes\n2 100 150\n"}) {
    auto v = run_scenario(parse_scenario(std::string(kTwoJobs) + bad, "inline.scn", "."));
    EXPECT_FALSE(v.match) << bad;
  }
}

TEST(ScenarioRunner, EveryJobMustBeListed) {
  auto v = run_scenario(parse_scenario(std::string(kTwoJobs) + "1 0 100\n", "inline.scn", "."));
  EXPECT_FALSE(v.match);
  EXPECT_NE(v.report.find("(job 2 missing from expect:)"), std::string::npos) << v.report;
  EXPECT_NE(v.report.find("2 100 150 type=V100-SXM2-32GB nodes=v100-0 preempted=0"),
            std::string::npos)
      << v.report;
}

TEST(ScenarioRunner, RejectionMatchesBySubstring) {
  const std::string text = R"(cluster: 1x8xV100
policy: easy
jobs:
id,submit_s,duration_s,accel_count
1,0,10,9
expect:
1 rejected: needs 9 x V100-SXM2-32GB but the cluster has only 8
)";
  auto v = run_scenario(parse_scenario(text, "inline.scn", "."));
  EXPECT_TRUE(v.match) << v.report;
}

TEST(ScenarioRunner, InlineYamlClusterAndFileLineNumbers) {
  const std::string text = R"(cluster:
  groups:
    - name: gpu
      nodes: 2
      accelerators: 4xV100
policy: fifo
jobs:
id,submit_s,duration_s,accel_count
# a comment inside the CSV
1,0,10,4
2,0,ten,4
expect:
1 0 10
)";
  try {
    run_scenario(parse_scenario(text, "inline.scn", "."));
    FAIL() << "a bad trace row must be reported";
  } catch (const InputError& e) {
    // The trace reader's line number is the scenario file's line number.
    EXPECT_NE(std::string(e.what()).find("inline.scn:11"), std::string::npos) << e.what();
  }
  const std::string good = R"(cluster:
  groups:
    - name: gpu
      nodes: 2
      accelerators: 4xV100
policy: fifo
jobs:
id,submit_s,duration_s,accel_count
1,0,10,4
2,0,10,4
expect:
1 0 10 nodes=gpu-0
2 0 10 nodes=gpu-1
)";
  auto v = run_scenario(parse_scenario(good, "inline.scn", "."));
  EXPECT_TRUE(v.match) << v.report;
}

TEST(ScenarioRunner, MalformedScenariosNameTheLine) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"cluster: 1x8xV100\npolicy: fifo\nbogus: 1\n", "inline.scn:3: expected a section"},
      {"cluster: 1x8xV100\npolicy: fifo\noptions: speed=2\n", "inline.scn:3: option 'speed=2'"},
      {"cluster: 1x8xV100\npolicy: fifo\njobs:\nid,submit_s,duration_s,accel_count\n1,0,1,1\n"
       "expect:\n1 0\n",
       "inline.scn:7: expected"},
      {"cluster: 1x8xV100\npolicy: fifo\njobs:\nid,submit_s,duration_s,accel_count\n1,0,1,1\n"
       "expect:\n1 0 1 color=red\n",
       "inline.scn:7: unknown key 'color'"},
      {"cluster: 1x8xV100\npolicy: fifo\njobs:\nid,submit_s,duration_s,accel_count\n1,0,1,1\n",
       "missing 'expect:'"},
      {"cluster: 1x8xV100\njobs:\nid,submit_s,duration_s,accel_count\n1,0,1,1\nexpect:\n1 0 1\n",
       "missing 'policy:'"},
  };
  for (const auto& c : cases) {
    try {
      parse_scenario(c.text, "inline.scn", ".");
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos)
          << e.what() << " (wanted: " << c.message << ")";
    }
  }
}

TEST(ScenarioRunner, JobInExpectButNotInJobsIsAnError) {
  const std::string text = std::string(kTwoJobs) + "1 0 100\n2 100 150\n3 0 1\n";
  EXPECT_THROW(run_scenario(parse_scenario(text, "inline.scn", ".")), InputError);
}

TEST(ScenarioFiles, AtLeastTenScenariosAllParse) {
  const auto files = scenario_files();
  EXPECT_GE(files.size(), 10u) << "in " << scenario_dir();
  for (const auto& f : files) {
    const fs::path path = scenario_dir() / f;
    EXPECT_NO_THROW(parse_scenario(read_text(path), f, path.parent_path())) << f;
  }
}

}  // namespace
}  // namespace zs
