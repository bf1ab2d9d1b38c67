// Encoder and strict decoder of the live-cluster records: both walk the field lists in
// json_fields.h. The decoder turns every problem, including nlohmann's own exceptions, into an
// InputError naming the field's JSON path.
#include "api/json_codec.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "api/json_fields.h"
#include "core/input_error.h"

namespace zs {
namespace json_fields {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Encoding

class Encoder {
 public:
  explicit Encoder(json& out) : out_(out) {}

  void text(const char* name, const std::string& s, std::size_t) { out_[name] = s; }
  void strings(const char* name, const std::vector<std::string>& list) { out_[name] = list; }
  template <class T>
  void integer(const char* name, T x, IntBounds) {
    out_[name] = x;
  }
  template <class T>
  void integers(const char* name, const std::vector<T>& list, IntBounds) {
    out_[name] = list;
  }
  void number(const char* name, double x, double, double) { out_[name] = x; }
  void flag(const char* name, bool x) { out_[name] = x; }
  template <class E>
  void enumeration(const char* name, E e) {
    out_[name] = std::string(to_string(e));
  }
  template <class S>
  void object(const char* name, const S& sub) {
    out_[name] = encode(sub);
  }
  template <class S>
  void objects(const char* name, const std::vector<S>& list) {
    json a = json::array();
    for (const S& s : list) a.push_back(encode(s));
    out_[name] = std::move(a);
  }

  template <class S>
  static json encode(const S& record) {
    json out = json::object();
    Encoder e(out);
    visit(record, e);
    return out;
  }

 private:
  json& out_;
};

// ---------------------------------------------------------------------------------------------
// Decoding

[[noreturn]] void fail(const Path& p, const std::string& what) {
  throw InputError(p.str(), what);
}

void expect(const Path& p, const std::string& problem) {
  if (!problem.empty()) fail(p, problem);
}

std::string got(const json& v) {
  if (v.is_number()) return printable(v.dump(), 40);
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  return v.type_name();  // null, binary, discarded
}

template <class T>
T decode_integer(const json& v, const Path& p, IntBounds b) {
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    expect(p, uint_problem(u, b));
    return static_cast<T>(u);
  }
  if (v.is_number_integer()) {
    auto i = v.get<std::int64_t>();
    expect(p, int_problem(i, b));
    return static_cast<T>(i);
  }
  if (v.is_number_float()) {
    // An integral float ("1e3", a client's 1536.0) is accepted; fractions are not.
    double d = v.get<double>();
    if (!std::isfinite(d)) fail(p, "must be a finite number");
    if (d != std::trunc(d)) fail(p, "expected an integer, got " + got(v));
    // Convert only where the cast is defined; beyond, the bounds decide the message.
    if (d >= 0x1p63 && d < 0x1p64) {
      auto u = static_cast<std::uint64_t>(d);
      expect(p, uint_problem(u, b));
      return static_cast<T>(u);
    }
    if (d < -0x1p63 || d >= 0x1p63) {
      std::string bound = d < 0 ? int_problem(std::numeric_limits<std::int64_t>::min(), b)
                                : uint_problem(std::numeric_limits<std::uint64_t>::max(), b);
      if (bound.empty()) bound = "is out of range";
      fail(p, bound.substr(0, bound.rfind(", got ")) + ", got " + got(v));
    }
    auto i = static_cast<std::int64_t>(d);
    expect(p, int_problem(i, b));
    return static_cast<T>(i);
  }
  fail(p, "expected an integer, got " + got(v));
}

const json& decode_array(const json& v, const Path& p) {
  if (!v.is_array()) fail(p, "expected an array, got " + got(v));
  expect(p, list_problem(v.size()));
  return v;
}

std::string decode_text(const json& v, const Path& p, std::size_t max_bytes) {
  if (!v.is_string()) fail(p, "expected a string, got " + got(v));
  const auto& s = v.get_ref<const std::string&>();
  expect(p, text_problem(s, max_bytes));
  return s;
}

bool parse_enum(std::string_view s, JobState& e) {
  auto v = job_state_from_string(s);
  if (v) e = *v;
  return v.has_value();
}
bool parse_enum(std::string_view s, NodeStatus& e) {
  auto v = node_state_from_string(s);
  if (v) e = *v;
  return v.has_value();
}
bool parse_enum(std::string_view s, Role& e) {
  auto v = parse_role(s);
  if (v) e = *v;
  return v.has_value();
}
bool parse_enum(std::string_view s, TokenKind& e) {
  auto v = token_kind_from_string(s);
  if (v) e = *v;
  return v.has_value();
}

// Decodes the fields of one JSON object into a record; missing fields keep their values.
class Decoder {
 public:
  Decoder(const json& obj, const Path& path) : obj_(obj), path_(path) {
    if (!obj.is_object()) fail(path, "expected a JSON object");
  }

  void text(std::string_view name, std::string& s, std::size_t max_bytes) {
    if (const json* v = find(name)) s = decode_text(*v, Path(path_, name), max_bytes);
  }
  void strings(std::string_view name, std::vector<std::string>& list) {
    const json* v = find(name);
    if (!v) return;
    Path p(path_, name);
    const json& a = decode_array(*v, p);
    list.clear();
    list.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i)
      list.push_back(decode_text(a[i], Path(p, i), kMaxJsonStringBytes));
  }
  template <class T>
  void integer(std::string_view name, T& x, IntBounds b) {
    if (const json* v = find(name)) x = decode_integer<T>(*v, Path(path_, name), b);
  }
  template <class T>
  void integers(std::string_view name, std::vector<T>& list, IntBounds b) {
    const json* v = find(name);
    if (!v) return;
    Path p(path_, name);
    const json& a = decode_array(*v, p);
    list.clear();
    list.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i)
      list.push_back(decode_integer<T>(a[i], Path(p, i), b));
  }
  void number(std::string_view name, double& x, double lo, double hi) {
    const json* v = find(name);
    if (!v) return;
    Path p(path_, name);
    if (!v->is_number()) fail(p, "expected a number, got " + got(*v));
    double d = v->get<double>();
    expect(p, number_problem(d, lo, hi));
    x = d;
  }
  void flag(std::string_view name, bool& x) {
    const json* v = find(name);
    if (!v) return;
    if (!v->is_boolean()) fail(Path(path_, name), "expected true or false, got " + got(*v));
    x = v->get<bool>();
  }
  template <class E>
  void enumeration(std::string_view name, E& e) {
    const json* v = find(name);
    if (!v) return;
    Path p(path_, name);
    if (!v->is_string()) fail(p, "expected a string, got " + got(*v));
    const auto& s = v->get_ref<const std::string&>();
    if (!parse_enum(s, e))
      fail(p, "unknown value \"" + printable(s) + "\" (expected one of: " + choices(e) + ")");
  }
  template <class S>
  void object(std::string_view name, S& sub) {
    if (const json* v = find(name)) sub = decode<S>(*v, Path(path_, name));
  }
  template <class S>
  void objects(std::string_view name, std::vector<S>& list) {
    const json* v = find(name);
    if (!v) return;
    Path p(path_, name);
    const json& a = decode_array(*v, p);
    list.clear();
    list.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) list.push_back(decode<S>(a[i], Path(p, i)));
  }

  template <class S>
  static S decode(const json& j, const Path& path) {
    S record;
    Decoder d(j, path);
    visit(record, d);
    d.reject_unknown_fields();
    return record;
  }

 private:
  const json* find(std::string_view name) {
    known_.push_back(name);
    auto it = obj_.find(name);
    if (it == obj_.end()) return nullptr;
    ++found_;
    return &*it;
  }

  void reject_unknown_fields() const {
    if (found_ == obj_.size()) return;
    for (const auto& [key, value] : obj_.items()) {
      bool known = false;
      for (std::string_view k : known_) known = known || k == key;
      if (!known) fail(Path(path_, key), "unknown field");
    }
  }

  const json& obj_;
  const Path& path_;
  std::vector<std::string_view> known_;
  std::size_t found_ = 0;
};

// The public decoders: nlohmann's exceptions become InputErrors too (none are expected).
template <class S>
S decode_top(const json& j) {
  try {
    Path root;
    return Decoder::decode<S>(j, root);
  } catch (const json::exception& e) {
    throw InputError("", std::string("malformed JSON value: ") + e.what());
  }
}

}  // namespace
}  // namespace json_fields

using json_fields::decode_top;
using json_fields::Encoder;

nlohmann::json to_json(const JobSpec& spec) {
  return Encoder::encode(spec);
}
JobSpec job_spec_from_json(const nlohmann::json& j) {
  return decode_top<JobSpec>(j);
}

nlohmann::json to_json(const NodeAssignment& a) {
  return Encoder::encode(a);
}
nlohmann::json to_json(const JobRecord& job) {
  return Encoder::encode(job);
}
JobRecord job_record_from_api_json(nlohmann::json j) {
  if (j.is_object()) j.erase("estimated_start_ms");
  return job_record_from_json(j);
}

JobRecord job_record_from_json(const nlohmann::json& j) {
  return decode_top<JobRecord>(j);
}

nlohmann::json to_json(const NodeRecord& node) {
  return Encoder::encode(node);
}
NodeRecord node_record_from_json(const nlohmann::json& j) {
  return decode_top<NodeRecord>(j);
}

nlohmann::json to_json(const TenantRecord& tenant) {
  return Encoder::encode(tenant);
}
TenantRecord tenant_record_from_json(const nlohmann::json& j) {
  return decode_top<TenantRecord>(j);
}

nlohmann::json to_json(const UserRecord& user) {
  return Encoder::encode(user);
}
UserRecord user_record_from_json(const nlohmann::json& j) {
  return decode_top<UserRecord>(j);
}

nlohmann::json to_json(const TokenRecord& token) {
  return Encoder::encode(token);
}
TokenRecord token_record_from_json(const nlohmann::json& j) {
  return decode_top<TokenRecord>(j);
}

nlohmann::json to_json(const UsageRecord& usage) {
  return Encoder::encode(usage);
}
UsageRecord usage_record_from_json(const nlohmann::json& j) {
  return decode_top<UsageRecord>(j);
}

}  // namespace zs
