// Bounded, deterministic fuzzing of every parser (run by ctest; the open-ended libFuzzer targets
// are in fuzz/). Each parser gets a few thousand inputs made from fixed seeds with zs::Rng:
// random bytes, mutations of valid inputs (byte flips, inserts/deletes, duplicated lines, huge,
// negative and non-finite numbers, empty fields, very long lines, NULs, unterminated quotes) and,
// for YAML, deep nesting and anchors/aliases. Every call must either succeed or throw
// zs::InputError naming where the problem is; anything else (another exception, a crash, a
// sanitizer report) fails. Whatever a parser accepts must also be a sane object.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <typeinfo>
#include <vector>

#include "core/accelerator.h"
#include "core/cluster.h"
#include "core/csv.h"
#include "core/identity_record.h"
#include "core/input_error.h"
#include "core/job_script.h"
#include "core/signal_name.h"
#include "core/slurm_values.h"
#include "core/tenant_shares.h"
#include "core/text.h"
#include "core/throughput.h"
#include "sim/cluster_file.h"
#include "sim/synthetic.h"
#include "sim/tenants_file.h"
#include "sim/trace.h"
#include "sim/workload_adjust.h"

namespace zs {
namespace {

// ---------------------------------------------------------------------------------------------
// Inputs

std::string read_source_file(const std::string& rel) {
  std::ifstream in(std::string(ZS_SOURCE_DIR) + "/" + rel, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << rel;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The first `n` lines (with their newlines) of `text`.
std::string head_lines(const std::string& text, int n) {
  std::size_t pos = 0;
  for (int i = 0; i < n && pos != std::string::npos; ++i) {
    pos = text.find('\n', pos);
    if (pos != std::string::npos) ++pos;
  }
  return pos == std::string::npos ? text : text.substr(0, pos);
}

// Printable form of an input for failure messages (bounded length, control bytes escaped).
std::string show(std::string_view s) {
  std::string out;
  const std::size_t limit = 400;
  for (std::size_t i = 0; i < s.size() && i < limit; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c >= 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > limit) out += "... (" + std::to_string(s.size()) + " bytes)";
  return "\"" + out + "\"";
}

const std::vector<std::string>& interesting_values() {
  static const std::vector<std::string> v = {"0",
                                             "-0",
                                             "-1",
                                             "1",
                                             "2",
                                             "3",
                                             "8",
                                             "64",
                                             "65",
                                             "255",
                                             "256",
                                             "1000001",
                                             "2147483647",
                                             "2147483648",
                                             "-2147483649",
                                             "4294967296",
                                             "9007199254740993",
                                             "9223372036854775807",
                                             "9223372036854775808",
                                             "-9223372036854775808",
                                             "18446744073709551616",
                                             "99999999999999999999999999999",
                                             "1e6",
                                             "1e10",
                                             "1e19",
                                             "1e300",
                                             "1e308",
                                             "1e309",
                                             "-1e308",
                                             "1e-400",
                                             "4.0",
                                             "4.5",
                                             "0.000001",
                                             "1.7976931348623157e308",
                                             "nan",
                                             "NaN",
                                             "-nan",
                                             "inf",
                                             "-inf",
                                             "+inf",
                                             "Infinity",
                                             "0x1F",
                                             "+",
                                             "-",
                                             "",
                                             " ",
                                             "\"",
                                             "\"\"",
                                             "\"a,b\"",
                                             "'",
                                             "~",
                                             "null",
                                             "x",
                                             "8x",
                                             "x8",
                                             "1-",
                                             "-1-00",
                                             "::",
                                             "99999999999:0:0",
                                             "0:0:9223372036854775807",
                                             "uniform:1-4",
                                             "A100",
                                             "V100",
                                             "any",
                                             "|",
                                             "\xEF\xBB\xBF",
                                             "\xff\xfe",
                                             std::string(1, '\0')};
  return v;
}

// Characters that mean something to at least one parser.
constexpr std::string_view kSpecial = ",\t\n\r\"':-x+|#&*!?[]{}%@`\\ .e0129";

std::size_t pick(Rng& rng, std::size_t n) {
  return static_cast<std::size_t>(rng.below(n));
}

std::string random_bytes(Rng& rng, std::size_t max_len) {
  std::string s(pick(rng, max_len + 1), '\0');
  for (char& c : s) c = static_cast<char>(rng.next() & 0xff);
  return s;
}

// Random text over the special characters, digits and letters: more likely than raw bytes to
// get past the first checks of a parser.
std::string random_text(Rng& rng, std::size_t max_len) {
  static const std::string alphabet =
      std::string(kSpecial) + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\n\n";
  std::string s(pick(rng, max_len + 1), ' ');
  for (char& c : s) c = alphabet[pick(rng, alphabet.size())];
  return s;
}

// Lines of `s` as [begin, end) offsets, each including its '\n'.
std::vector<std::pair<std::size_t, std::size_t>> line_spans(const std::string& s) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  std::size_t start = 0;
  while (start < s.size()) {
    std::size_t nl = s.find('\n', start);
    std::size_t end = nl == std::string::npos ? s.size() : nl + 1;
    spans.emplace_back(start, end);
    start = end;
  }
  return spans;
}

// One random edit of `s`; `other` is another seed for splicing.
void mutate_once(std::string& s, Rng& rng, const std::string& other) {
  const auto& values = interesting_values();
  const std::size_t n = s.size();
  switch (rng.below(17)) {
    case 0:  // flip a bit
      if (n) s[pick(rng, n)] ^= static_cast<char>(1u << rng.below(8));
      break;
    case 1:  // overwrite a byte
      if (n) s[pick(rng, n)] = static_cast<char>(rng.next() & 0xff);
      break;
    case 2: {  // insert special characters
      std::string ins;
      for (std::size_t k = 1 + pick(rng, 4); k > 0; --k)
        ins += kSpecial[pick(rng, kSpecial.size())];
      s.insert(pick(rng, n + 1), ins);
      break;
    }
    case 3: {  // delete a range
      if (!n) break;
      std::size_t at = pick(rng, n);
      s.erase(at, 1 + pick(rng, std::min<std::size_t>(n - at, 16)));
      break;
    }
    case 4: {  // duplicate a line
      auto spans = line_spans(s);
      if (spans.empty()) break;
      auto [b, e] = spans[pick(rng, spans.size())];
      std::string line = s.substr(b, e - b);
      if (line.empty() || line.back() != '\n') line += '\n';
      s.insert(spans[pick(rng, spans.size())].first, line);
      break;
    }
    case 5: {  // delete a line
      auto spans = line_spans(s);
      if (spans.empty()) break;
      auto [b, e] = spans[pick(rng, spans.size())];
      s.erase(b, e - b);
      break;
    }
    case 6:
    case 7: {  // replace a number (or a word) with an interesting value
      std::vector<std::pair<std::size_t, std::size_t>> tokens;
      for (std::size_t i = 0; i < n;) {
        auto is_tok = [&](char c) {
          return (c >= '0' && c <= '9') || c == '.' || (c >= 'a' && c <= 'z') ||
                 (c >= 'A' && c <= 'Z');
        };
        if (!is_tok(s[i])) {
          ++i;
          continue;
        }
        std::size_t j = i;
        while (j < n && is_tok(s[j])) ++j;
        tokens.emplace_back(i, j - i);
        i = j;
      }
      if (tokens.empty()) break;
      auto [at, len] = tokens[pick(rng, tokens.size())];
      s.replace(at, len, values[pick(rng, values.size())]);
      break;
    }
    case 8:  // insert an interesting value anywhere
      s.insert(pick(rng, n + 1), values[pick(rng, values.size())]);
      break;
    case 9:  // truncate
      s.resize(pick(rng, n + 1));
      break;
    case 10:  // embedded NUL
      s.insert(pick(rng, n + 1), 1, '\0');
      break;
    case 11:  // unterminated quote
      s.insert(pick(rng, n + 1), 1, '"');
      break;
    case 12: {  // a very long run inside a line
      static const char fill[] = {'a', '9', ',', ' ', '"', '\t', '-', 'x'};
      s.insert(pick(rng, n + 1), std::string(1000 + pick(rng, 60000), fill[pick(rng, 8)]));
      break;
    }
    case 13: {  // empty a field: drop the text up to the next separator
      if (!n) break;
      std::size_t at = pick(rng, n);
      std::size_t end = s.find_first_of(",\t\n:", at);
      s.erase(at, (end == std::string::npos ? n : end) - at);
      break;
    }
    case 14: {  // splice with another seed
      std::string head = s.substr(0, pick(rng, n + 1));
      s = head + other.substr(pick(rng, other.size() + 1));
      break;
    }
    case 15: {  // change the line endings
      const char* nl[] = {"\r\n", "\r", "\n\n", "\n\r"};
      const char* rep = nl[pick(rng, 4)];
      std::string out;
      for (char c : s)
        if (c == '\n')
          out += rep;
        else
          out += c;
      s = std::move(out);
      break;
    }
    default: {  // swap two lines
      auto spans = line_spans(s);
      if (spans.size() < 2) break;
      std::vector<std::string> lines;
      for (auto [b, e] : spans) lines.push_back(s.substr(b, e - b));
      std::swap(lines[pick(rng, lines.size())], lines[pick(rng, lines.size())]);
      s.clear();
      for (auto& l : lines) s += l;
      break;
    }
  }
}

// The i-th generated input from `seeds`: mostly mutated seeds, some random bytes or text.
std::string make_input(Rng& rng, const std::vector<std::string>& seeds) {
  const auto kind = rng.below(20);
  if (kind == 0) return random_bytes(rng, 512);
  if (kind == 1) return random_text(rng, 512);
  std::string s = seeds[pick(rng, seeds.size())];
  const std::string& other = seeds[pick(rng, seeds.size())];
  for (std::size_t k = 1 + pick(rng, 4); k > 0; --k) mutate_once(s, rng, other);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Outcome checks

struct Tally {
  int ok = 0, rejected = 0;
};

// Runs `call`. Success and InputError are fine (an InputError must say where: `where` starts
// with `source` when `source` is not empty); any other exception fails the test.
// No input of these sizes takes anywhere near this long, even a million-node cluster under ASan.
constexpr double kSlowInputSeconds = 5.0;

template <class F>
bool survives(const char* parser, std::string_view input, const std::string& source, Tally& t,
              F&& call) {
  const auto start = std::chrono::steady_clock::now();
  struct SlowCheck {
    const char* parser;
    std::string_view input;
    std::chrono::steady_clock::time_point start;
    ~SlowCheck() {
      const double s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      EXPECT_LT(s, kSlowInputSeconds) << parser << " is pathologically slow on " << show(input);
    }
  } slow_check{parser, input, start};
  try {
    call();
    ++t.ok;
    return true;
  } catch (const InputError& e) {
    ++t.rejected;
    EXPECT_FALSE(e.where().empty()) << parser << ": InputError without a location: " << e.what()
                                    << "\n  input: " << show(input);
    if (!source.empty()) {
      EXPECT_EQ(e.where().rfind(source, 0), 0u)
          << parser << ": location '" << e.where() << "' does not name " << source
          << "\n  input: " << show(input);
    }
    // what() is a C string: a NUL echoed from the input into `where` cuts it short (reported).
    if (e.where().find('\0') == std::string::npos) {
      EXPECT_GT(std::string_view(e.what()).size(), e.where().size() + 2)
          << parser << ": InputError says where but not what: " << e.what();
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << parser << " threw " << typeid(e).name()
                  << " (not zs::InputError): " << e.what() << "\n  input: " << show(input);
  } catch (...) {
    ADD_FAILURE() << parser << " threw a non-std exception\n  input: " << show(input);
  }
  return false;
}

// Whatever build_cluster returns must be internally consistent.
void expect_sane_cluster(const Cluster& c, const Catalog& cat, std::string_view input) {
  SCOPED_TRACE("input: " + show(input));
  ASSERT_FALSE(c.nodes.empty());
  ASSERT_FALSE(c.leaves.empty());
  ASSERT_FALSE(c.spines.empty());
  NodeId next_node = 0;
  for (std::size_t l = 0; l < c.leaves.size(); ++l) {
    const Leaf& leaf = c.leaves[l];
    ASSERT_EQ(leaf.first_node, next_node) << "leaf " << l << " is not contiguous";
    ASSERT_LT(leaf.first_node, leaf.end_node) << "leaf " << l << " is empty";
    ASSERT_LE(leaf.end_node, c.nodes.size());
    ASSERT_LT(leaf.spine, c.spines.size());
    for (NodeId n = leaf.first_node; n < leaf.end_node; ++n) ASSERT_EQ(c.nodes[n].leaf, l);
    next_node = leaf.end_node;
  }
  ASSERT_EQ(next_node, c.nodes.size()) << "leaves do not cover every node";
  std::uint32_t next_leaf = 0;
  for (std::size_t s = 0; s < c.spines.size(); ++s) {
    const Spine& sp = c.spines[s];
    ASSERT_EQ(sp.first_leaf, next_leaf) << "spine " << s << " is not contiguous";
    ASSERT_LT(sp.first_leaf, sp.end_leaf) << "spine " << s << " is empty";
    for (auto l = sp.first_leaf; l < sp.end_leaf; ++l) ASSERT_EQ(c.leaves[l].spine, s);
    next_leaf = sp.end_leaf;
  }
  ASSERT_EQ(next_leaf, c.leaves.size()) << "spines do not cover every leaf";
  long long total = 0;
  for (const Node& n : c.nodes) {
    ASSERT_GE(n.accel_count, 1);
    ASSERT_LE(n.accel_count, kMaxDevicesPerNode);
    ASSERT_GE(n.island_size, 1);
    ASSERT_EQ(n.accel_count % n.island_size, 0);
    ASSERT_LT(n.type, cat.size());
    ASSERT_GT(n.cpu_cores, 0u);
    ASSERT_TRUE(std::isfinite(n.memory_gib) && n.memory_gib > 0);
    ASSERT_FALSE(n.name.empty());
    total += n.accel_count;
  }
  ASSERT_EQ(total, c.total_accels());
  ASSERT_EQ(c.accels_of_type.size(), cat.size());
  long long by_type = 0;
  for (int a : c.accels_of_type) by_type += a;
  ASSERT_EQ(by_type, total);
}

void expect_sane_trace(const Trace& t, const Catalog& cat, const ThroughputTable& speeds,
                       std::string_view input) {
  SCOPED_TRACE("input: " + show(input));
  std::set<JobId> ids;
  for (const Job& j : t.jobs) {
    ASSERT_TRUE(ids.insert(j.id).second) << "job id " << j.id << " appears twice";
    ASSERT_GE(j.accel_count, 1);
    ASSERT_LE(j.accel_count, 1'000'000);
    ASSERT_GE(j.submit, 0);
    ASSERT_GE(j.duration, 0);
    ASSERT_GE(j.walltime, 0);
    ASSERT_GE(j.nodes, 0);
    ASSERT_GE(j.per_node, 0);
    ASSERT_TRUE(std::isfinite(j.cpu_per_accel) && j.cpu_per_accel >= 0);
    ASSERT_TRUE(std::isfinite(j.mem_gib_per_accel) && j.mem_gib_per_accel >= 0);
    ASSERT_GE(j.model, -1);
    ASSERT_LT(j.model, static_cast<int>(speeds.model_count()));
    ASSERT_GE(j.recorded_type, -1);
    ASSERT_LT(j.recorded_type, static_cast<int>(cat.size()));
  }
  ASSERT_GE(t.skipped_rows, 0);
}

// ---------------------------------------------------------------------------------------------
// Seeds

std::vector<std::string> catalog_seeds() {
  const std::string full = read_source_file("data/accelerators.csv");
  return {full, head_lines(full, 6),
          "vendor,model,visible_devices_env\nAcme,X1,ACME_VISIBLE_DEVICES\n",
          "vendor,model,visible_devices_env,aliases,year,memory_gib\n"
          "Acme,\"X1, rev 2\",ACME_VISIBLE_DEVICES,x1|x-one,2024,80\n"
          "Acme,X2,ACME_VISIBLE_DEVICES,,,\n"};
}

std::vector<std::string> throughput_seeds() {
  const std::string full = read_source_file("data/throughputs.csv");
  return {head_lines(full, 40), head_lines(full, 8),
          "model,accel_count,accel_type,throughput\nm,1,V100,2.5\nm,2,A100-80GB,0\n"
          "\"m (batch size 1)\",4,Ascend 910B3,1e3\n"};
}

std::vector<std::string> csv_seeds() {
  std::vector<std::string> s = catalog_seeds();
  for (auto& t : throughput_seeds()) s.push_back(t);
  s.push_back("a,b,c\n\"x\"\"y\",\"multi\nline\",3\r\n\n,,\n  \"q\" ,z\n");
  s.push_back(
      "\xEF\xBB\xBF"
      "h1\th2\n1\t2\n");
  return s;
}

std::vector<std::string> inline_seeds() {
  return {"256x8xMLU590",     "64x8xMLU590+32x8xA100-SXM4-80GB",
          "1x1xK80",          "2x64xH100-SXM",
          "3x4xAscend 910B3", "1000x8xV100 + 10x2xT4",
          "4x8xa100-80gb",    "1x16xMI250X+1x8xGaudi2+1x8xP800+1x8xMLU370-X8"};
}

std::vector<std::string> yaml_seeds() {
  std::vector<std::string> s = {
      "name: tiny\ngroups:\n  - nodes: 2\n    accelerators: 8xV100\n",
      "name: mixed\n"
      "description: |\n  two groups, defaults and every key\n"
      "defaults:\n  cpu_cores: 64\n  memory_gib: 512\n  leaves_per_spine: 4\n"
      "groups:\n"
      "  - name: mlu\n    nodes: 40\n    accelerators: 8xMLU590\n    islands: 2\n"
      "    nodes_per_leaf: 8\n"
      "  - name: a100\n    nodes: 10\n    accel_type: A100-SXM4-80GB\n    accel_per_node: 4\n"
      "    leaf_switches: 3\n    cpu_cores: 32\n    memory_gib: 256.5\n",
      "groups: [{nodes: 3, accelerators: 16xMI250X, islands: 4}, {nodes: 1, accelerators: "
      "1xT4}]\n",
      "name: &n anchored\n"
      "defaults: &d {islands: 2, cpu_cores: 48}\n"
      "groups:\n  - &g {nodes: 2, accelerators: 8xV100}\n  - *g\n"
      "  - {nodes: 1, accelerators: 4xA800, name: *n}\n",
  };
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(ZS_SOURCE_DIR) / "data" / "clusters";
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".yaml") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());  // fixed order: the inputs depend on it
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    // Mutating a huge cluster file costs seconds per thousand inputs: keep the test fast.
    if (parse_cluster_yaml(ss.str(), f, Catalog::builtin()).nodes.size() <= 2'000)
      s.push_back(ss.str());
  }
  return s;
}

// Text that stresses the YAML parser itself: deep nesting, aliases, tags, odd keys.
std::string yaml_stress(Rng& rng) {
  const int depth = 1 + static_cast<int>(rng.below(6000));
  switch (rng.below(9)) {
    case 0:
      return "groups: " + std::string(depth, '[') + std::string(pick(rng, depth + 1), ']');
    case 1: {
      std::string s = "groups:\n  - ";
      for (int i = 0; i < depth; ++i) s += "{a: ";
      s += "1";
      s += std::string(pick(rng, depth + 1), '}');
      return s;
    }
    case 2: {  // block-style nesting
      std::string s = "defaults:\n";
      for (int i = 0; i < std::min(depth, 400); ++i) s += std::string(i + 1, ' ') + "- \n";
      return s;
    }
    case 3: {  // many aliases of one anchor
      std::string s = "description: &a {nodes: 1, accelerators: 1xT4}\ngroups: [";
      for (int i = 0; i < std::min(depth, 300); ++i) s += (i ? ", *a" : "*a");
      return s + "]\n";
    }
    case 4:  // self-referencing and undefined aliases
      return rng.below(2) ? "groups: &a [*a]\n" : "defaults: &d {name: *d}\ngroups: [*zz]\n";
    case 5:  // alias used as a key, merge keys, tags
      return "description: &k nodes\ngroups:\n  - {*k : 2, accelerators: 8xV100, <<: {islands: "
             "2}}\n"
             "  - !!map {nodes: !!str 3, accelerators: !!binary aGVsbG8=}\n";
    case 6:  // complex keys and multiple documents
      return "? [a, b]\n: 1\n---\ngroups: []\n...\n--- !!set\n? a\n";
    case 7: {  // billion laughs
      std::string s = "description:\n  - &l0 [x, x, x, x, x, x, x, x, x, x]\n";
      for (int i = 1; i < 10; ++i) {
        s += "  - &l" + std::to_string(i) + " [";
        for (int k = 0; k < 10; ++k) s += (k ? ", *l" : "*l") + std::to_string(i - 1);
        s += "]\n";
      }
      return s + "groups: *l9\n";
    }
    default:
      return "groups:\n  - nodes: " + interesting_values()[pick(rng, interesting_values().size())] +
             "\n    accelerators: " + interesting_values()[pick(rng, interesting_values().size())] +
             "x" + std::string(depth % 3 == 0 ? "V100" : "A100") +
             "\n    islands: " + std::to_string(static_cast<int>(rng.below(70)) - 2) + "\n";
  }
}

// Tenants files (docs/tenants.md): the example, every key and form, aliases.
std::vector<std::string> tenants_seeds() {
  return {
      "tenants:\n"
      "  - name: vision\n"
      "    weight: 2\n"
      "    quota:\n"
      "      MLU590: {guaranteed: 64, borrow: 32}\n"
      "      A100-SXM4-80GB: {guaranteed: 0, borrow: 16}\n"
      "  - name: speech\n"
      "    quota:\n"
      "      MLU590: {guaranteed: 64, borrow: 0}\n"
      "default:\n"
      "  weight: 1\n"
      "  quota:\n"
      "    MLU590: {borrow: unlimited}\n"
      "prices:\n"
      "  MLU590: 8.5\n"
      "  A100-SXM4-80GB: 20\n"
      "fair_share: {half_life: 7d}\n"
      "preemption: {signal: SIGUSR1, grace: 120s, min_runtime: 10m}\n",
      "tenants: [{name: a, weight: 0.5, quota: {V100: {guaranteed: 3}, T4: {borrow: UNLIMITED}}},"
      " {name: b.c_d-9}]\n"
      "prices: {V100: 0, T4: 1e3}\n"
      "preemption: {signal: 12, grace: 1m30s, min_runtime: '0:10:00'}\n"
      "fair_share: {half_life: 1d12h}\n",
      "tenants:\n  - &q {name: x, quota: &m {910B3: {guaranteed: 1, borrow: 2}}}\n"
      "  - {name: y, quota: *m}\ndefault: {quota: {a100-80gb: {borrow: 4}}}\n",
  };
}

// YAML that stresses the parser in the shape of a tenants file.
std::string tenants_stress(Rng& rng) {
  const int depth = 1 + static_cast<int>(rng.below(6000));
  const auto value = [&] { return interesting_values()[pick(rng, interesting_values().size())]; };
  switch (rng.below(6)) {
    case 0:
      return "tenants: " + std::string(depth, '[') + std::string(pick(rng, depth + 1), ']');
    case 1: {
      std::string s = "tenants:\n  - name: a\n    quota: ";
      for (int i = 0; i < depth; ++i) s += "{a: ";
      return s + "1" + std::string(pick(rng, depth + 1), '}');
    }
    case 2: {  // many aliases of one tenant: a duplicate name at the second
      std::string s = "tenants: [&t {name: a, quota: {MLU590: {guaranteed: 1}}}";
      for (int i = 0; i < std::min(depth, 300); ++i) s += ", *t";
      return s + "]\n";
    }
    case 3: {  // billion laughs under default
      std::string s = "tenants:\n  - &l0 {name: z}\n";
      for (int i = 1; i < 10; ++i) {
        s += "  - &l" + std::to_string(i) + " [";
        for (int k = 0; k < 10; ++k) s += (k ? ", *l" : "*l") + std::to_string(i - 1);
        s += "]\n";
      }
      return s + "default: *l9\n";
    }
    case 4:
      return "preemption: {signal: " + value() + ", grace: " + value() +
             ", min_runtime: " + value() + "s}\nfair_share: {half_life: " + value() + "h}\n";
    default:
      return "tenants:\n  - name: t" + value() + "\n    weight: " + value() +
             "\n    quota: {MLU590: {guaranteed: " + value() + ", borrow: " + value() +
             "}}\nprices: {MLU590: " + value() + "}\n";
  }
}

// Whatever parse_tenants_yaml accepts keeps every rule of docs/tenants.md.
void expect_sane_shares(const TenantShares& s, const Catalog& cat, std::string_view input) {
  SCOPED_TRACE("input: " + show(input));
  const auto sane_share = [&](const TenantShare& t, bool is_default) {
    EXPECT_TRUE(std::isfinite(t.weight));
    EXPECT_GT(t.weight, 0);
    EXPECT_LE(t.weight, 1e6);
    ASSERT_EQ(t.quota.size(), cat.size());
    for (const TypeQuota& q : t.quota) {
      EXPECT_GE(q.guaranteed, 0);
      EXPECT_LE(q.guaranteed, is_default ? 0 : 1'000'000);
      EXPECT_TRUE(q.borrow == TypeQuota::kUnlimited || (q.borrow >= 0 && q.borrow <= 1'000'000))
          << q.borrow;
      EXPECT_GE(q.limit(), q.guaranteed);
    }
  };
  ASSERT_LE(s.tenants.size(), kMaxTenants);
  for (std::size_t i = 0; i < s.tenants.size(); ++i) {
    EXPECT_EQ(identity_name_problem(s.tenants[i].name), "") << s.tenants[i].name;
    EXPECT_EQ(s.find(s.tenants[i].name), static_cast<int>(i)) << "names must be unique";
    sane_share(s.tenants[i], false);
  }
  if (s.default_share) sane_share(*s.default_share, true);
  if (!s.price_per_hour.empty()) {
    ASSERT_EQ(s.price_per_hour.size(), cat.size());
    for (double p : s.price_per_hour) EXPECT_TRUE(p == -1.0 || (p >= 0 && p <= 1e9)) << p;
  }
  EXPECT_GT(s.half_life_ms, 0);
  EXPECT_LE(s.half_life_ms, 3650LL * 86'400'000);
  EXPECT_GE(s.preemption.grace_ms, 0);
  EXPECT_LE(s.preemption.grace_ms, 86'400'000);
  EXPECT_GE(s.preemption.min_runtime_ms, 0);
  EXPECT_LE(s.preemption.min_runtime_ms, 30LL * 86'400'000);
  EXPECT_TRUE(catchable_signal(s.preemption.signal));
  EXPECT_EQ(s.preemption.signal_name, signal_name(s.preemption.signal));
}

std::vector<std::string> trace_seeds(const std::string& format) {
  if (format == "canonical")
    return {
        "id,submit_s,duration_s,accel_count\n1,0,10,1\n2,5,3600,8\n",
        "id,submit_s,duration_s,accel_count,accel_types,nodes,per_node,walltime_s,tenant,user,"
        "priority,model,name,recorded_type,cpu_per_accel,mem_gib_per_accel\n"
        "1,0,3600,8,V100|A100-80GB,1,8,7200,vc1,alice,0,ResNet-50 (batch size 64),job-a,V100,4,"
        "32\n"
        "2,10.5,60,1,any,,,,,bob,5,,\"quoted, name\",,,\n"
        "3,20,1800,16,MLU590,2,8,,vc2,,-3,,,,,\n"
        "4,21,1.5,4.0,Ascend 910B3|nope,,,,,,,LM,,,0.5,\n",
    };
  if (format == "philly")
    return {head_lines(read_source_file("data/traces/philly/pollux_philly.csv"), 25),
            "timestamp,duration,num_gpus\n2017-10-09 07:01:55,66,1\n2017-10-09T06:13:03,1.5,8\n"};
  if (format == "elasticflow")
    return {head_lines(read_source_file("data/traces/philly_derived/elasticflow_philly_103959.csv"),
                       25)};
  if (format == "gavel")
    return {read_source_file("data/traces/gavel/msr_philly_vc_seed0/23dbec.trace")};
  if (format == "gavel-physical")
    return {read_source_file("data/traces/gavel/physical_cluster/small_test.trace")};
  if (format == "pollux")
    return {head_lines(read_source_file("data/traces/pollux_workloads/workload-1.csv"), 25)};
  if (format == "swf")
    return {read_source_file("tests/data/swf/basic.swf"),
            read_source_file("tests/data/swf/no_header.swf")};
  ADD_FAILURE() << "no seeds for " << format;
  return {};
}

// ---------------------------------------------------------------------------------------------
// The fuzz loops

constexpr int kInputs = 3000;  // per parser: the file stays well under 20 s with ASan

TEST(FuzzParsers, CsvReaderEitherParsesOrReportsUnterminatedQuote) {
  const auto seeds = csv_seeds();
  Rng rng(0xC5F);
  Tally t;
  for (int i = 0; i < kInputs; ++i) {
    const std::string input = make_input(rng, seeds);
    const char sep = rng.below(4) == 0 ? '\t' : ',';
    const std::size_t newlines =
        static_cast<std::size_t>(std::count(input.begin(), input.end(), '\n'));
    survives("CsvReader", input, "in.csv", t, [&] {
      CsvReader reader(input, "in.csv", sep);
      std::size_t last_line = 0, records = 0;
      while (auto rec = reader.next()) {
        ASSERT_GT(rec->line, last_line) << "record lines must increase; input " << show(input);
        ASSERT_LE(rec->line, newlines + 1) << show(input);
        ASSERT_FALSE(rec->fields.empty());
        last_line = rec->line;
        ASSERT_LE(++records, input.size()) << "more records than bytes: " << show(input);
      }
      EXPECT_FALSE(reader.next().has_value()) << "next() after the end must stay at the end";
    });
    if (HasFatalFailure() || HasFailure()) break;
  }
  EXPECT_GT(t.ok, kInputs / 4);
  EXPECT_GT(t.rejected, 0);  // unterminated quotes are generated, so some must be rejected
}

TEST(FuzzParsers, CatalogParseSucceedsOrThrowsInputError) {
  const auto seeds = catalog_seeds();
  Rng rng(0xCA7);
  Tally t;
  for (int i = 0; i < kInputs; ++i) {
    const std::string input = make_input(rng, seeds);
    survives("Catalog::parse", input, "cat.csv", t, [&] {
      Catalog c = Catalog::parse(input, "cat.csv");
      ASSERT_LE(c.size(), kMaxAcceleratorTypes);
      for (TypeId id = 0; id < c.size(); ++id) {
        ASSERT_FALSE(c.name(id).empty());
        ASSERT_EQ(c.find(c.name(id)), id) << "a model must resolve to itself: " << c.name(id);
      }
    });
    if (HasFailure()) break;
  }
  EXPECT_GT(t.ok, kInputs / 20);
  EXPECT_GT(t.rejected, kInputs / 4);
}

TEST(FuzzParsers, ThroughputTableParseSucceedsOrThrowsInputError) {
  const auto seeds = throughput_seeds();
  const Catalog& cat = Catalog::builtin();
  Rng rng(0x7E5);
  Tally t;
  for (int i = 0; i < kInputs; ++i) {
    const std::string input = make_input(rng, seeds);
    survives("ThroughputTable::parse", input, "tp.csv", t, [&] {
      ThroughputTable tt = ThroughputTable::parse(input, "tp.csv", cat);
      for (int m = 0; m < static_cast<int>(tt.model_count()); ++m) {
        ASSERT_EQ(tt.find_model(tt.model_name(m)), m);
        for (TypeId ty = 0; ty < cat.size(); ++ty)
          for (int n : {1, 2, 8, 1'000'000})
            if (auto v = tt.throughput(m, ty, n)) {
              ASSERT_TRUE(std::isfinite(*v) && *v > 0);
            }
      }
    });
    if (HasFailure()) break;
  }
  EXPECT_GT(t.ok, kInputs / 20);
  EXPECT_GT(t.rejected, kInputs / 4);
}

TEST(FuzzParsers, InlineClusterBuildsSaneClustersOrThrowsInputError) {
  const auto seeds = inline_seeds();
  const Catalog& cat = Catalog::builtin();
  Rng rng(0x1C1);
  Tally t;
  for (int i = 0; i < kInputs; ++i) {
    const std::string input = make_input(rng, seeds);
    survives("parse_inline_cluster/build_cluster", input, "", t, [&] {
      auto groups = parse_inline_cluster(input);
      ASSERT_FALSE(groups.empty());
      long long nodes = 0;
      for (const auto& g : groups) {
        ASSERT_GE(g.count, 1);
        ASSERT_GE(g.accel_count, 1);
        ASSERT_LE(g.accel_count, kMaxDevicesPerNode);
        ASSERT_FALSE(g.accel_type.empty());
        nodes += g.count;
      }
      // Million-node clusters are valid but slow under ASan; the boundary has its own test.
      if (nodes > 200'000) return;
      Cluster c = build_cluster(groups, cat, "inline");
      ASSERT_EQ(static_cast<long long>(c.nodes.size()), nodes);
      expect_sane_cluster(c, cat, input);
    });
    if (HasFailure()) break;
  }
  EXPECT_GT(t.ok, kInputs / 50);
  EXPECT_GT(t.rejected, kInputs / 4);
}

TEST(FuzzParsers, InlineClusterAtTheNodeLimit) {
  const Catalog& cat = Catalog::builtin();
  Cluster c = build_cluster(parse_inline_cluster("1000000x64xMLU590"), cat);
  EXPECT_EQ(c.nodes.size(), 1'000'000u);
  EXPECT_EQ(c.total_accels(), 64'000'000);
  EXPECT_THROW(parse_inline_cluster("1000001x8xMLU590"), InputError);
  EXPECT_THROW(build_cluster(parse_inline_cluster("500000x8xMLU590+500001x8xV100"), cat),
               InputError);
}

TEST(FuzzParsers, ClusterYamlBuildsSaneClustersOrThrowsInputError) {
  const auto seeds = yaml_seeds();
  const Catalog& cat = Catalog::builtin();
  Rng rng(0x9A1);
  Tally t;
  for (int i = 0; i < kInputs; ++i) {
    const std::string input = rng.below(8) == 0 ? yaml_stress(rng) : make_input(rng, seeds);
    survives("parse_cluster_yaml", input, "c.yaml", t, [&] {
      Cluster c = parse_cluster_yaml(input, "c.yaml", cat);
      expect_sane_cluster(c, cat, input);
    });
    if (HasFailure()) break;
  }
  EXPECT_GT(t.ok, kInputs / 20);
  EXPECT_GT(t.rejected, kInputs / 4);
}

TEST(FuzzParsers, ClusterYamlDeepNestingIsAnErrorNotAStackOverflow) {
  const Catalog& cat = Catalog::builtin();
  for (int depth : {100, 2000, 5000, 100'000}) {
    for (const std::string& input :
         {"groups: " + std::string(depth, '['), "groups: " + std::string(depth, '{'),
          "groups: " + std::string(depth, '[') + std::string(depth, ']')}) {
      EXPECT_THROW(parse_cluster_yaml(input, "deep.yaml", cat), InputError) << depth;
    }
  }
}

TEST(FuzzParsers, ClusterYamlWithThousandsOfGroupsStaysFast) {
  // 2000 groups that all default to the node-name prefix "t4": naming them must not take
  // quadratic or worse time (a 10 KB file; linear work is a few milliseconds).
  std::string text = "description: &a {nodes: 1, accelerators: 1xT4}\ngroups: [";
  for (int i = 0; i < 2000; ++i) text += i ? ", *a" : "*a";
  text += "]\n";
  const auto start = std::chrono::steady_clock::now();
  Cluster c = parse_cluster_yaml(text, "many.yaml", Catalog::builtin());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(c.nodes.size(), 2000u);
  std::set<std::string> names;
  for (const auto& n : c.nodes) names.insert(n.name);
  EXPECT_EQ(names.size(), 2000u) << "node names must be unique";
  EXPECT_LT(s, 2.0) << "building 2000 one-node groups took " << s << " s";
}

TEST(FuzzParsers, TenantsYamlParsesToSaneSharesOrThrowsInputError) {
  const auto seeds = tenants_seeds();
  const Catalog& cat = Catalog::builtin();
  Rng rng(0x7E4);
  Tally t;
  for (int i = 0; i < kInputs; ++i) {
    const std::string input = rng.below(8) == 0 ? tenants_stress(rng) : make_input(rng, seeds);
    survives("parse_tenants_yaml", input, "t.yaml", t, [&] {
      TenantShares s = parse_tenants_yaml(input, "t.yaml", cat);
      expect_sane_shares(s, cat, input);
    });
    if (HasFailure()) break;
  }
  // Every key of a tenants file is checked and there is no free text: most mutations are
  // errors (about 4% of the inputs parse).
  EXPECT_GT(t.ok, kInputs / 40);
  EXPECT_GT(t.rejected, kInputs / 4);
}

TEST(FuzzParsers, TenantsYamlDeepNestingIsAnErrorNotAStackOverflow) {
  const Catalog& cat = Catalog::builtin();
  for (int depth : {100, 2000, 5000, 100'000}) {
    for (const std::string& input :
         {"tenants: " + std::string(depth, '['), "default: " + std::string(depth, '{'),
          "tenants: " + std::string(depth, '[') + std::string(depth, ']')}) {
      EXPECT_THROW(parse_tenants_yaml(input, "deep.yaml", cat), InputError) << depth;
    }
  }
}

class FuzzTrace : public ::testing::TestWithParam<std::string> {};

TEST_P(FuzzTrace, ReadTraceTextSucceedsOrThrowsInputError) {
  const std::string format = GetParam();
  std::vector<std::string> seeds = trace_seeds(format);
  const std::size_t own = seeds.size();
  // The other formats' seeds too, fewer of them: a reader must cope with foreign files.
  for (const auto& f : trace_formats())
    if (f != format) seeds.push_back(trace_seeds(f).front());
  const Catalog& cat = Catalog::builtin();
  const ThroughputTable& speeds = ThroughputTable::builtin();
  const auto& formats = trace_formats();
  Rng rng(0x7ACE + static_cast<std::uint64_t>(std::find(formats.begin(), formats.end(), format) -
                                              formats.begin()));
  Tally t;
  const int inputs = kInputs * 2 / 3;
  for (int i = 0; i < inputs; ++i) {
    std::string input;
    if (rng.below(4) != 0) {
      std::vector<std::string> mine(seeds.begin(), seeds.begin() + static_cast<long>(own));
      input = make_input(rng, mine);
    } else {
      input = make_input(rng, seeds);
    }
    TraceOptions opt;
    opt.format = rng.below(10) == 0 ? "auto" : format;
    opt.skip_bad_rows = rng.below(3) == 0;
    if (rng.below(4) == 0) opt.recorded_type = static_cast<int>(rng.below(cat.size()));
    if (rng.below(3) == 0) opt.swf_per_node = static_cast<int>(rng.below(9));
    if (rng.below(4) == 0) opt.swf_type = static_cast<int>(rng.below(cat.size()));
    survives("read_trace_text", input, "t.trace", t, [&] {
      Trace tr = read_trace_text(input, "t.trace", opt, cat, speeds);
      ASSERT_FALSE(tr.format.empty());
      expect_sane_trace(tr, cat, speeds, input);
    });
    if (HasFailure()) break;
  }
  // A reader that is still a stub rejects everything; a real one must accept some mutants.
  TraceOptions plain;
  plain.format = format;
  bool pending = false;
  try {
    read_trace_text(seeds.front(), "seed", plain, cat, speeds);
  } catch (const InputError& e) {
    pending = std::string(e.what()).find("pending") != std::string::npos;
  }
  if (!pending) {
    EXPECT_GT(t.ok, inputs / 20) << format;
  }
  EXPECT_GT(t.rejected, inputs / 10) << format;
}

INSTANTIATE_TEST_SUITE_P(Formats, FuzzTrace,
                         ::testing::Values("canonical", "philly", "elasticflow", "gavel",
                                           "gavel-physical", "pollux", "swf"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

std::vector<std::string> duration_seeds() {
  return {"90",
          "90s",
          "15m",
          "2h",
          "3d",
          "1.5h",
          "1-12:00:00",
          "2-00",
          "12:30:00",
          "30:00",
          "0",
          " 7 ",
          "1-0:0",
          "4h",
          "exact",
          "2x",
          "1.5x",
          "uniform:1-4",
          "uniform:1.5-2.5",
          "none",
          "1-00:00",
          "1000x",
          "uniform:1-1000"};
}

TEST(FuzzParsers, DurationParserNeverCrashesAndStaysInRange) {
  const auto seeds = duration_seeds();
  Rng rng(0xD0);
  int ok = 0;
  for (int i = 0; i < kInputs * 2; ++i) {
    std::string input = make_input(rng, seeds);
    if (input.size() > 200 && rng.below(2)) input.resize(200);
    try {
      auto v = parse_duration_s(input);
      if (v) {
        ++ok;
        ASSERT_GE(*v, 0) << show(input);
        // Callers multiply by 1000: anything accepted must fit in milliseconds.
        ASSERT_LE(*v, std::numeric_limits<std::int64_t>::max() / 1000) << show(input);
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "parse_duration_s threw " << e.what() << " on " << show(input);
      break;
    }
  }
  EXPECT_GT(ok, kInputs / 10);
}

TEST(FuzzParsers, WalltimeRuleSucceedsOrThrowsInputError) {
  const auto seeds = duration_seeds();
  Rng rng(0x3A1);
  Tally t;
  for (int i = 0; i < kInputs * 2; ++i) {
    std::string input = make_input(rng, seeds);
    if (input.size() > 200 && rng.below(2)) input.resize(200);
    survives("parse_walltime_rule", input, "--walltime", t, [&] {
      WalltimeRule r = parse_walltime_rule(input);
      using K = WalltimeRule::Kind;
      switch (r.kind) {
        case K::kFactor:
        case K::kUniform:
          ASSERT_TRUE(r.lo >= 1 && r.lo <= r.hi && r.hi <= 1000) << show(input);
          break;
        case K::kFixed:
          ASSERT_GT(r.fixed, 0) << show(input);
          break;
        case K::kExact:
        case K::kNone:
          break;
      }
      // Applying the rule must give every job a sane limit.
      std::vector<Job> jobs(3);
      for (int k = 0; k < 3; ++k) {
        jobs[k].id = static_cast<JobId>(k + 1);
        jobs[k].duration = k == 0 ? 0 : (k == 1 ? 1500 : 1'000'000'000'000);
      }
      WorkloadAdjust adj;
      adj.walltime = r;
      adj.seed = rng.next();
      adjust_workload(jobs, adj);
      for (const Job& j : jobs) {
        if (r.kind == K::kNone) {
          ASSERT_EQ(j.walltime, 0);
        } else {
          ASSERT_GT(j.walltime, 0) << show(input);
        }
      }
    });
    if (HasFailure()) break;
  }
  EXPECT_GT(t.ok, kInputs / 10);
  EXPECT_GT(t.rejected, kInputs / 4);
}

std::vector<std::string> job_script_seeds() {
  return {
      "#!/bin/bash\n#SBATCH --job-name=ft --nodes=2 --ntasks-per-node=8\n#SBATCH --gres=gpu:8\n"
      "#SBATCH --time=2-00:00:00 --mem=480G -o logs/%x-%j.out\n#SBATCH --requeue "
      "--mail-type=END\nsrun python train.py\n",
      "#!/bin/sh\n# comment\n#SBATCH -J \"my job\" -N2 -t 90 -c4\n#ZS --accel 'Ascend 910B3:16' "
      "--retries=2\n#SBATCH --export=ALL,A=1,HOME -d afterok:12:13,afterok:14\n#ZS "
      "--priority=-5 --mem-per-gpu=32G # trailing\n\npython run.py\n#SBATCH -N 4\n",
      "#SBATCH --array=0-15:4,20%2 -n 8 --gpus-per-task=1 --mem-per-cpu=2G\n#SBATCH -t 1-12:30 "
      "--no-requeue -p debug -D /scratch -HQ -vv\necho\n",
      "#!/bin/bash\r\n#SBATCH --gpus=16 --gpus-per-node=8 -n 16 -N 2-4\r\n#SBATCH -G v100:8\r\n"};
}

TEST(FuzzParsers, JobScriptSucceedsOrThrowsInputError) {
  const auto seeds = job_script_seeds();
  Rng rng(0x5BA7);
  Tally t;
  for (int i = 0; i < kInputs; ++i) {
    const std::string input = make_input(rng, seeds);
    survives("parse_job_script", input, "job.sh", t, [&] {
      const JobSpec s =
          parse_job_script(input, "job.sh", {}, rng.below(2) ? &Catalog::builtin : nullptr).spec;
      ASSERT_EQ(s.script, input);
      ASSERT_TRUE(s.nodes >= 0 && s.nodes <= kMaxJobNodes) << show(input);
      ASSERT_TRUE(s.accel_count >= 0 && s.accel_count <= kMaxJobAccels) << show(input);
      ASSERT_TRUE(s.accel_per_node >= 0 && s.accel_per_node <= kMaxDevicesPerNode) << show(input);
      if (s.nodes > 0 && s.accel_count > 0) {
        ASSERT_EQ(std::int64_t{s.nodes} * s.accel_per_node, s.accel_count) << show(input);
      }
      ASSERT_GE(s.tasks_per_node, 1);
      ASSERT_TRUE(s.mem_mib >= 0 && s.mem_mib <= kMaxMemMib) << show(input);
      ASSERT_GE(s.walltime, 0);
      ASSERT_TRUE(std::isfinite(s.cpus_per_task) && s.cpus_per_task >= 0);
    });
    if (HasFailure()) break;
  }
  EXPECT_GT(t.ok, kInputs / 20);
  EXPECT_GT(t.rejected, kInputs / 10);
}

TEST(FuzzParsers, SlurmValuesSucceedOrThrowInputError) {
  const std::vector<std::string> seeds = {"90",   "1-02:03:04", "0-15:4,20%2", "4G",
                                          "512M", "gpu:a100:4", "afterok:1:2", "ALL,A=1",
                                          "5-3",  "UNLIMITED",  "1,3,5-7",     "100K"};
  Rng rng(0x51C);
  Tally t;
  for (int i = 0; i < kInputs; ++i) {
    std::string input = make_input(rng, seeds);
    if (input.size() > 200) input.resize(200);
    survives("parse_slurm_time", input, "--time", t,
             [&] { ASSERT_GE(parse_slurm_time(input), 0); });
    survives("parse_array_spec", input, "--array", t, [&] {
      const ArraySpec a = parse_array_spec(input);
      ASSERT_TRUE(!a.indices.empty() && a.indices.size() <= kMaxArrayTasks) << show(input);
      ASSERT_TRUE(std::is_sorted(a.indices.begin(), a.indices.end()));
    });
    survives("parse_slurm_memory_mib", input, "--mem", t, [&] {
      const auto m = parse_slurm_memory_mib(input);
      ASSERT_TRUE(m >= 0 && m <= kMaxMemMib) << show(input);
    });
    survives("parse_gres", input, "--gres", t, [&] { parse_gres(input, 64, "--gres"); });
    survives("parse_dependency", input, "--dependency", t,
             [&] { parse_dependency(input, "--dependency"); });
    survives("parse_export", input, "--export", t, [&] { parse_export(input, "--export"); });
    survives("parse_slurm_signal", input, "--signal", t, [&] {
      const SignalRequest s = parse_slurm_signal(input);
      ASSERT_TRUE(s.signal >= 1 && s.signal <= kMaxSignalNumber && catchable_signal(s.signal))
          << show(input);
      ASSERT_TRUE(s.time_s >= 0 && s.time_s <= kMaxSignalTimeS) << show(input);
    });
    if (HasFailure()) break;
  }
  EXPECT_GT(t.ok, kInputs / 10);
  EXPECT_GT(t.rejected, kInputs);
}

// ---------------------------------------------------------------------------------------------
// The unmutated seeds must parse, into what they say.

TEST(FuzzParsers, ValidSeedsParseToSaneObjects) {
  const Catalog& cat = Catalog::builtin();
  const ThroughputTable& speeds = ThroughputTable::builtin();

  for (const auto& s : csv_seeds()) {
    CsvReader r(s, "seed.csv");
    int records = 0;
    while (r.next()) ++records;
    EXPECT_GE(records, 2) << show(s);
  }
  EXPECT_EQ(Catalog::parse(catalog_seeds().front(), "accelerators.csv").size(), 28u);
  for (const auto& s : catalog_seeds()) EXPECT_GE(Catalog::parse(s, "seed.csv").size(), 1u);
  for (const auto& s : throughput_seeds()) {
    ThroughputTable tt = ThroughputTable::parse(s, "seed.csv", cat);
    EXPECT_GE(tt.model_count(), 1u) << show(s);
  }
  for (const auto& s : inline_seeds()) {
    auto groups = parse_inline_cluster(s);
    int nodes = 0;
    for (const auto& g : groups) nodes += g.count;
    Cluster c = build_cluster(groups, cat);
    EXPECT_EQ(static_cast<int>(c.nodes.size()), nodes) << s;
    expect_sane_cluster(c, cat, s);
  }
  for (const auto& s : yaml_seeds()) {
    Cluster c = parse_cluster_yaml(s, "seed.yaml", cat);
    expect_sane_cluster(c, cat, s);
  }
  for (const auto& s : tenants_seeds()) {
    TenantShares shares = parse_tenants_yaml(s, "seed.yaml", cat);
    EXPECT_GE(shares.tenants.size(), 1u) << show(s);
    expect_sane_shares(shares, cat, s);
  }
  for (const auto& f : trace_formats()) {
    for (const auto& s : trace_seeds(f)) {
      TraceOptions opt;
      opt.format = f;
      try {
        Trace tr = read_trace_text(s, "seed", opt, cat, speeds);
        EXPECT_GE(tr.jobs.size(), 2u) << f;
        EXPECT_EQ(tr.skipped_rows, 0) << f;
        expect_sane_trace(tr, cat, speeds, s);
        // Detection must agree with the format the seed is in.
        opt.format = "auto";
        EXPECT_EQ(read_trace_text(s, "seed", opt, cat, speeds).format, f);
      } catch (const InputError& e) {
        if (std::string(e.what()).find("pending") == std::string::npos)
          ADD_FAILURE() << f << " seed rejected: " << e.what();
      }
    }
  }
  for (const auto& s : duration_seeds()) {
    if (s.find_first_of("xenu") != std::string::npos) continue;  // walltime-only forms
    EXPECT_TRUE(parse_duration_s(s).has_value()) << s;
  }
  for (const auto& s : duration_seeds())
    if (s != "0") {
      EXPECT_NO_THROW(parse_walltime_rule(s)) << s;
    }
  EXPECT_THROW(parse_walltime_rule("0"), InputError);
}

// ---------------------------------------------------------------------------------------------
// Inputs the fuzzers found: each must be rejected cleanly, without undefined behaviour.

TEST(FuzzParsers, HugeClockDurationsAreRejected) {
  // parse_clock multiplies by 60 without a bound: signed overflow.
  EXPECT_FALSE(parse_duration_s("9223372036854775807:0").has_value());
  EXPECT_FALSE(parse_duration_s("99999999999999:0:0").has_value());
  // Below 2^63 s but beyond the 2^40 s the other forms allow.
  EXPECT_FALSE(parse_duration_s("0:0:9223372036854775807").has_value());
  EXPECT_FALSE(parse_duration_s("0:00:077777777777777777").has_value());  // fuzz/crashes/
}

TEST(FuzzParsers, HugeFixedWalltimeIsRejectedNotOverflowed) {
  // parse_walltime_rule multiplies the seconds by 1000.
  EXPECT_THROW(parse_walltime_rule("0:0:9223372036854775807"), InputError);
  EXPECT_THROW(parse_walltime_rule("0:0:9223372036854776"), InputError);
}

TEST(FuzzParsers, PhillyHugeDurationIsRejected) {
  // seconds_to_ms(1e300) does not fit in an int64: the reader must bound the duration (the
  // other readers stop at 1e10 s) instead of producing a negative or undefined duration.
  const std::string text = "timestamp,duration,num_gpus\n2017-10-09 07:01:55,1e300,1\n";
  TraceOptions opt;
  opt.format = "philly";
  try {
    Trace t = read_trace_text(text, "p.csv", opt, Catalog::builtin(), ThroughputTable::builtin());
    ASSERT_EQ(t.jobs.size(), 1u);
    ADD_FAILURE() << "accepted a 1e300 s job; its duration became " << t.jobs[0].duration;
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("p.csv:2: column duration:", 0), 0u) << e.what();
  }
}

TEST(FuzzParsers, JobScriptTotalThatCannotFitANodeIsRejected) {
  // fuzz_job_script: --accel 136 -N 2 made 68 accelerators per node, beyond any node's 64.
  try {
    parse_job_script("#ZS --accel 136 -N 2\n", "job.sh");
    ADD_FAILURE() << "accepted 68 accelerators per node";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "job.sh:1");
  }
}

TEST(FuzzParsers, CatalogHugeYearIsRejected) {
  // static_cast<int>(1e300) is undefined behaviour (UBSan: float-cast-overflow).
  const std::string header = "vendor,model,visible_devices_env,year,pcie_gen\n";
  for (const char* row : {"Acme,X1,A,1e300,\n", "Acme,X1,A,,3e9\n"}) {
    try {
      Catalog c = Catalog::parse(header + row, "cat.csv");
      ADD_FAILURE() << "accepted " << row;
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("cat.csv:2: column ", 0), 0u) << e.what();
    }
  }
}

}  // namespace
}  // namespace zs
