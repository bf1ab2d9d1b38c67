#include "core/hostlist.h"

#include <cstdint>
#include <set>

#include "core/input_error.h"
#include "core/slurm_values.h"

namespace zs {
namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}
bool digit(char c) {
  return c >= '0' && c <= '9';
}

// One bracket group's values, as text of the right width.
std::vector<std::string> expand_group(std::string_view body, std::string_view entry,
                                      const std::string& where) {
  auto bad = [&](const std::string& why) {
    return InputError(where, "bad hostlist entry " + quote_value(entry) + ": " + why);
  };
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    std::size_t comma = body.find(',', pos);
    if (comma == std::string_view::npos) comma = body.size();
    const std::string_view part = body.substr(pos, comma - pos);
    pos = comma + 1;
    const auto dash = part.find('-');
    const std::string_view lo_text = part.substr(0, dash);
    const std::string_view hi_text =
        dash == std::string_view::npos ? lo_text : part.substr(dash + 1);
    for (std::string_view t : {lo_text, hi_text}) {
      if (t.empty() || t.size() > 9)
        throw bad("expected numbers or ranges A-B (at most 9 digits) inside [ ]");
      for (char c : t)
        if (!digit(c)) throw bad("expected numbers or ranges A-B inside [ ]");
    }
    const std::int64_t lo = std::stoll(std::string(lo_text));
    const std::int64_t hi = std::stoll(std::string(hi_text));
    if (hi < lo) throw bad("the range " + std::string(part) + " goes down");
    if (hi - lo + 1 + static_cast<std::int64_t>(out.size()) >
        static_cast<std::int64_t>(kMaxHostlistNames))
      throw bad("more than " + std::to_string(kMaxHostlistNames) + " names");
    const std::size_t width = lo_text.size() > 1 && lo_text[0] == '0' ? lo_text.size() : 0;
    for (std::int64_t v = lo; v <= hi; ++v) {
      std::string n = std::to_string(v);
      if (n.size() < width) n.insert(0, width - n.size(), '0');
      out.push_back(std::move(n));
    }
  }
  return out;
}

// One top-level entry: literal text and bracket groups, every combination.
void expand_entry(std::string_view entry, const std::string& where, std::vector<std::string>& out) {
  auto bad = [&](const std::string& why) {
    return InputError(where, "bad hostlist entry " + quote_value(entry) + ": " + why);
  };
  std::vector<std::string> names{""};
  std::size_t pos = 0;
  while (pos < entry.size()) {
    if (entry[pos] == '[') {
      const auto close = entry.find(']', pos);
      if (close == std::string_view::npos) throw bad("'[' without ']'");
      const auto values = expand_group(entry.substr(pos + 1, close - pos - 1), entry, where);
      if (names.size() * values.size() > kMaxHostlistNames)
        throw bad("more than " + std::to_string(kMaxHostlistNames) + " names");
      std::vector<std::string> next;
      next.reserve(names.size() * values.size());
      for (const auto& n : names)
        for (const auto& v : values) next.push_back(n + v);
      names = std::move(next);
      pos = close + 1;
    } else {
      const char c = entry[pos];
      if (c == ']') throw bad("']' without '['");
      if (!name_char(c))
        throw bad("node names hold only letters, digits, '-', '_' and '.', not " +
                  quote_value(std::string_view(&entry[pos], 1)));
      for (auto& n : names) n += c;
      ++pos;
    }
  }
  for (auto& n : names) {
    if (!valid_node_name(n)) throw bad(quote_value(n) + " is not a node name");
    out.push_back(std::move(n));
  }
}

}  // namespace

bool valid_node_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNodeNameBytes) return false;
  if (name[0] == '-' || name[0] == '.' || name[0] == '_') return false;
  for (char c : name)
    if (!name_char(c)) return false;
  return true;
}

std::vector<std::string> parse_hostlist(std::string_view text, const std::string& where) {
  if (text.find('/') != std::string_view::npos)
    throw InputError(
        where, "expected a hostlist such as node[1-3,5], not a file (" + quote_value(text) + ")");
  std::vector<std::string> all;
  std::size_t start = 0;
  int depth = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] == '[') ++depth;
    if (i < text.size() && text[i] == ']') --depth;
    if (i < text.size() && (text[i] != ',' || depth > 0)) continue;
    const std::string_view entry = text.substr(start, i - start);
    if (entry.empty()) throw InputError(where, "empty entry in the hostlist " + quote_value(text));
    expand_entry(entry, where, all);
    if (all.size() > kMaxHostlistNames)
      throw InputError(where, "the hostlist " + quote_value(text) + " names more than " +
                                  std::to_string(kMaxHostlistNames) + " nodes");
    start = i + 1;
  }
  std::vector<std::string> out;
  std::set<std::string_view> seen;
  out.reserve(all.size());
  for (const auto& n : all)
    if (seen.insert(n).second) out.push_back(n);
  return out;
}

std::string format_hostlist(const std::vector<std::string>& names) {
  // Split each name into prefix + trailing digits; fold runs of the same prefix and width.
  struct Split {
    std::string prefix, digits;
  };
  auto split_name = [](const std::string& n) {
    std::size_t d = n.size();
    while (d > 0 && digit(n[d - 1])) --d;
    if (n.size() - d > 9) d = n.size() - 9;  // keep the value in range
    return Split{n.substr(0, d), n.substr(d)};
  };
  std::string out;
  for (std::size_t i = 0; i < names.size();) {
    const Split first = split_name(names[i]);
    std::size_t j = i + 1;
    if (!first.digits.empty())
      while (j < names.size()) {
        const Split s = split_name(names[j]);
        if (s.prefix != first.prefix || s.digits.empty() ||
            (s.digits.size() != first.digits.size() &&
             (s.digits[0] == '0' || first.digits[0] == '0')))
          break;
        ++j;
      }
    if (!out.empty()) out += ',';
    if (j - i == 1) {
      out += names[i];
      i = j;
      continue;
    }
    // names[i..j) share a prefix: fold consecutive numbers into ranges.
    out += first.prefix + "[";
    for (std::size_t k = i; k < j;) {
      const Split a = split_name(names[k]);
      std::int64_t lo = std::stoll(a.digits), hi = lo;
      std::size_t m = k + 1;
      while (m < j) {
        const Split b = split_name(names[m]);
        if (b.digits.size() != a.digits.size() && (a.digits[0] == '0' || b.digits[0] == '0')) break;
        if (std::stoll(b.digits) != hi + 1) break;
        ++hi;
        ++m;
      }
      if (k != i) out += ',';
      std::string hi_text = std::to_string(hi);
      if (hi_text.size() < a.digits.size() && a.digits[0] == '0')
        hi_text.insert(0, a.digits.size() - hi_text.size(), '0');
      out += a.digits + (hi > lo ? "-" + hi_text : "");
      k = m;
    }
    out += "]";
    i = j;
  }
  return out;
}

}  // namespace zs
