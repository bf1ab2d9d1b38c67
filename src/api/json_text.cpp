// A JSON text writer walking the field lists of json_fields.h. A field is left out when its value
// writes the same text as the field of a default-constructed record (recorded once per type by
// the same writer), so no default value is repeated here.
#include "api/json_text.h"

#include <charconv>
#include <string_view>
#include <vector>

#include "api/json_fields.h"

namespace zs {
namespace json_fields {
namespace {

void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s, start, i - start);
    start = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(s, start, s.size() - start);
  out += '"';
}

template <class T>
void append_number(std::string& out, T x) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, x);  // shortest text that reads back exactly
  out.append(buf, r.ptr);
}

using Defaults = std::vector<std::string>;  // the text of each field's default value, in order

class TextWriter {
 public:
  // Leaves out fields whose text equals `skip`'s entry; records each field's text into `record`.
  TextWriter(std::string& out, const Defaults* skip, Defaults* record)
      : out_(out), skip_(skip), record_(record) {}

  void text(std::string_view name, const std::string& s, std::size_t) {
    field(name, [&] { append_string(out_, s); });
  }
  void strings(std::string_view name, const std::vector<std::string>& list) {
    field(name, [&] { array(list, [&](const std::string& s) { append_string(out_, s); }); });
  }
  template <class T>
  void integer(std::string_view name, T x, IntBounds) {
    field(name, [&] { append_number(out_, x); });
  }
  template <class T>
  void integers(std::string_view name, const std::vector<T>& list, IntBounds) {
    field(name, [&] { array(list, [&](T x) { append_number(out_, x); }); });
  }
  void number(std::string_view name, double x, double, double) {
    field(name, [&] { append_number(out_, x); });
  }
  void flag(std::string_view name, bool x) {
    field(name, [&] { out_ += x ? "true" : "false"; });
  }
  template <class E>
  void enumeration(std::string_view name, E e) {
    field(name, [&] { append_string(out_, to_string(e)); });
  }
  template <class S>
  void object(std::string_view name, const S& sub) {
    field(name, [&] { write_object(out_, sub); });
  }
  template <class S>
  void objects(std::string_view name, const std::vector<S>& list) {
    field(name, [&] { array(list, [&](const S& s) { write_object(out_, s); }); });
  }

  template <class S>
  static void write_object(std::string& out, const S& record) {
    static const Defaults defaults = record_defaults<S>();
    out += '{';
    TextWriter w(out, &defaults, nullptr);
    visit(record, w);
    out += '}';
  }

 private:
  template <class S>
  static Defaults record_defaults() {
    Defaults d;
    std::string scratch;
    TextWriter w(scratch, nullptr, &d);
    const S default_record{};
    visit(default_record, w);
    return d;
  }

  template <class F>
  void field(std::string_view name, F&& write_value) {
    std::size_t mark = out_.size();
    out_ += first_ ? "\"" : ",\"";
    out_ += name;  // a field name from json_fields.h: nothing to escape
    out_ += "\":";
    std::size_t value_at = out_.size();
    write_value();
    std::string_view value(out_.data() + value_at, out_.size() - value_at);
    if (record_) record_->emplace_back(value);
    if (skip_ && value == (*skip_)[index_])
      out_.resize(mark);
    else
      first_ = false;
    ++index_;
  }

  template <class L, class F>
  void array(const L& list, F&& write_one) {
    out_ += '[';
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (i) out_ += ',';
      write_one(list[i]);
    }
    out_ += ']';
  }

  std::string& out_;
  const Defaults* skip_;
  Defaults* record_;
  std::size_t index_ = 0;
  bool first_ = true;
};

}  // namespace
}  // namespace json_fields

void append_compact_json(std::string& out, const JobRecord& job) {
  json_fields::TextWriter::write_object(out, job);
}

void append_compact_json(std::string& out, const NodeRecord& node) {
  json_fields::TextWriter::write_object(out, node);
}

}  // namespace zs
