// The problem messages shared by the decoder and the limit checker, and the checker itself: a
// walk of a record's fields (json_fields.h) that applies the decoder's bounds to C++ values.
#include "api/json_limits.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

#include "api/json_fields.h"
#include "core/input_error.h"

namespace zs {
namespace json_fields {
namespace {

// Length of the well-formed UTF-8 sequence at s[i] (Unicode table 3-7: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 when the bytes there are not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = at(i);
  if (c < 0x80) return 1;
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k)
    if (at(i + k) < 0x80 || at(i + k) > 0xBF) return 0;
  return len;
}

std::string size_name(std::size_t bytes) {
  return bytes % (1 << 20) == 0 ? std::to_string(bytes >> 20) + " MiB"
                                : std::to_string(bytes) + " bytes";
}

}  // namespace

std::string choices(JobState) {
  std::string out;
  for (int i = 0; i <= static_cast<int>(JobState::node_fail); ++i)
    out += (i ? ", " : "") + std::string(to_string(static_cast<JobState>(i)));
  return out;
}

std::string choices(NodeStatus) {
  std::string out;
  for (int i = 0; i <= static_cast<int>(NodeStatus::down); ++i)
    out += (i ? ", " : "") + std::string(to_string(static_cast<NodeStatus>(i)));
  return out;
}

std::string choices(Role) {
  return std::string(kRoleNames);
}

std::string choices(TokenKind) {
  return "user, node";
}

std::string int_problem(std::int64_t x, IntBounds b) {
  if (x < b.lo)
    return (b.lo == 0 ? std::string("must not be negative")
                      : "must be at least " + std::to_string(b.lo)) +
           ", got " + std::to_string(x);
  if (std::cmp_greater(x, b.hi))
    return "must be at most " + std::to_string(b.hi) + ", got " + std::to_string(x);
  return "";
}

std::string uint_problem(std::uint64_t x, IntBounds b) {
  if (x > b.hi) return "must be at most " + std::to_string(b.hi) + ", got " + std::to_string(x);
  return "";  // b.lo <= 0 for every field
}

std::string number_problem(double x, double lo, double hi) {
  auto show = [](double d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", d);
    return std::string(buf);
  };
  if (!std::isfinite(x)) return "must be a finite number";
  if (x < lo)
    return (lo == 0 ? std::string("must not be negative") : "must be at least " + show(lo)) +
           ", got " + show(x);
  if (x > hi) return "must be at most " + show(hi) + ", got " + show(x);
  return "";
}

std::string text_problem(std::string_view s, std::size_t max_bytes) {
  if (s.size() > max_bytes)
    return "is longer than the limit of " + size_name(max_bytes) + " (" + std::to_string(s.size()) +
           " bytes)";
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] == '\0') return "contains a NUL byte at offset " + std::to_string(i);
    std::size_t n = utf8_sequence(s, i);
    if (n == 0) return "is not valid UTF-8 (at byte offset " + std::to_string(i) + ")";
    i += n;
  }
  return "";
}

std::string list_problem(std::size_t entries) {
  if (entries > kMaxJsonListEntries)
    return "has " + std::to_string(entries) + " entries, more than the limit of " +
           std::to_string(kMaxJsonListEntries);
  return "";
}

std::string printable(std::string_view s, std::size_t max_bytes) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = utf8_sequence(s, i);
    bool control = n == 1 && static_cast<unsigned char>(s[i]) < 0x20;
    if (out.size() + std::max<std::size_t>(n, 1) > max_bytes) return out + "...";
    if (n == 0 || control) {
      out += '?';
      i += 1;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string Path::str() const {
  std::string head = parent_ ? parent_->str() : std::string();
  if (is_index_) return head + "[" + std::to_string(index_) + "]";
  if (key_.empty() && !parent_) return head;
  return (head.empty() ? "" : head + ".") + printable(key_);
}

namespace {

// Applies the decoder's bounds to the fields of a C++ record.
class Checker {
 public:
  explicit Checker(const Path& path) : path_(path) {}

  void text(std::string_view name, const std::string& s, std::size_t max_bytes) {
    check(Path(path_, name), text_problem(s, max_bytes));
  }
  void strings(std::string_view name, const std::vector<std::string>& list) {
    Path p(path_, name);
    check(p, list_problem(list.size()));
    for (std::size_t i = 0; i < list.size(); ++i)
      check(Path(p, i), text_problem(list[i], kMaxJsonStringBytes));
  }
  template <class T>
  void integer(std::string_view name, const T& x, IntBounds b) {
    check(Path(path_, name), one_int(x, b));
  }
  template <class T>
  void integers(std::string_view name, const std::vector<T>& list, IntBounds b) {
    Path p(path_, name);
    check(p, list_problem(list.size()));
    for (std::size_t i = 0; i < list.size(); ++i) check(Path(p, i), one_int(list[i], b));
  }
  void number(std::string_view name, double x, double lo, double hi) {
    check(Path(path_, name), number_problem(x, lo, hi));
  }
  void flag(std::string_view, bool) {}  // any bool is valid
  template <class E>
  void enumeration(std::string_view name, E e) {
    if (static_cast<int>(e) > static_cast<int>(last(e)))
      check(Path(path_, name),
            "holds no valid state (" + std::to_string(static_cast<int>(e)) + ")");
  }
  template <class S>
  void object(std::string_view name, const S& sub) {
    Path p(path_, name);
    Checker c(p);
    visit(sub, c);
  }
  template <class S>
  void objects(std::string_view name, const std::vector<S>& list) {
    Path p(path_, name);
    check(p, list_problem(list.size()));
    for (std::size_t i = 0; i < list.size(); ++i) {
      Path at(p, i);
      Checker c(at);
      visit(list[i], c);
    }
  }

 private:
  static JobState last(JobState) { return JobState::node_fail; }
  static NodeStatus last(NodeStatus) { return NodeStatus::down; }
  template <class T>
  static std::string one_int(T x, IntBounds b) {
    if constexpr (std::is_signed_v<T>)
      return int_problem(x, b);
    else
      return uint_problem(x, b);
  }
  static void check(const Path& p, const std::string& problem) {
    if (!problem.empty()) throw InputError(p.str(), problem);
  }
  const Path& path_;
};

template <class R>
void check_all(const R& record) {
  Path root;
  Checker c(root);
  visit(record, c);
}

}  // namespace
}  // namespace json_fields

void check_codec_limits(const JobSpec& spec) {
  json_fields::check_all(spec);
}
void check_codec_limits(const JobRecord& job) {
  json_fields::check_all(job);
}
void check_codec_limits(const NodeRecord& node) {
  json_fields::check_all(node);
}
void check_codec_limits(const UsageRecord& usage) {
  json_fields::check_all(usage);
}

}  // namespace zs
