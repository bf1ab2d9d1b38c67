#include "core/csv.h"

#include <algorithm>

#include "core/input_error.h"
#include "core/text.h"

namespace zs {

CsvReader::CsvReader(std::string_view text, std::string source, char separator)
    : text_(text), source_(std::move(source)), sep_(separator) {
  if (text_.size() >= 3 && text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // UTF-8 BOM
}

std::optional<CsvRecord> CsvReader::next() {
  while (pos_ < text_.size()) {
    CsvRecord rec;
    rec.line = line_;
    rec.fields.reserve(width_);  // records are usually as wide as the last one
    std::string field;
    bool in_quotes = false, quoted = false, any_content = false;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (in_quotes) {
        if (c == '"') {
          if (pos_ < text_.size() && text_[pos_] == '"') {
            field.push_back('"');
            ++pos_;
          } else {
            in_quotes = false;
          }
        } else {
          if (c == '\n') ++line_;
          field.push_back(c);
        }
        continue;
      }
      if (c == '"' && trim(field).empty() && !quoted) {
        in_quotes = quoted = any_content = true;
        field.clear();
      } else if (c == sep_) {
        rec.fields.push_back(std::move(field));
        field.clear();
        quoted = false;
        any_content = true;
      } else if (c == '\n') {
        ++line_;
        break;
      } else if (c == '\r') {
        // tolerated before \n
      } else {
        field.push_back(c);
        if (c != ' ' && c != '\t') any_content = true;
      }
    }
    if (in_quotes)
      throw InputError(source_ + ":" + std::to_string(rec.line), "unterminated quoted field");
    if (!any_content) continue;  // blank line
    rec.fields.push_back(std::move(field));
    width_ = rec.fields.size();
    return rec;
  }
  return std::nullopt;
}

CsvHeader::CsvHeader(const CsvRecord& header, const std::string& source,
                     const std::vector<std::string>& required,
                     const std::vector<std::string>& optional, bool reject_unknown) {
  const std::string where = source + ":" + std::to_string(header.line);
  std::vector<std::string> unknown;
  for (const auto& raw : header.fields) {
    std::string name = to_lower(trim(raw));
    if (std::find(names_.begin(), names_.end(), name) != names_.end())
      throw InputError(where, "column '" + name + "' appears twice in the header");
    names_.push_back(name);
    bool known = std::find(required.begin(), required.end(), name) != required.end() ||
                 std::find(optional.begin(), optional.end(), name) != optional.end();
    if (!known) unknown.push_back(name.empty() ? std::string("(empty)") : name);
  }
  if (reject_unknown && !unknown.empty()) {
    std::string list, allowed;
    for (const auto& u : unknown) list += (list.empty() ? "" : ", ") + u;
    for (const auto& r : required) allowed += (allowed.empty() ? "" : ", ") + r;
    for (const auto& o : optional) allowed += ", " + o;
    throw InputError(where, "unknown column" + std::string(unknown.size() > 1 ? "s " : " ") + list +
                                " (known columns: " + allowed + ")");
  }
  for (const auto& r : required)
    if (index(r) < 0) throw InputError(where, "missing required column '" + r + "'");
}

int CsvHeader::index(std::string_view name) const {
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return static_cast<int>(i);
  return -1;
}

}  // namespace zs
