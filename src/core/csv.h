// A strict CSV tokenizer over in-memory text (RFC 4180: quoted fields, "" escapes, CRLF).
// Pure: the caller reads the file. Every record knows its 1-based line number so that parsers
// can report "file:line: column name: problem".
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zs {

struct CsvRecord {
  std::size_t line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

class CsvReader {
 public:
  // `source` names the input in error messages (usually the file path).
  CsvReader(std::string_view text, std::string source, char separator = ',');

  // Next non-blank record, or nullopt at the end. Throws InputError on an unterminated quote.
  std::optional<CsvRecord> next();
  const std::string& source() const { return source_; }

 private:
  std::string_view text_;
  std::string source_;
  char sep_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t width_ = 0;  // fields in the last record
};

// Maps header names to positions and reports unknown or missing columns by name.
class CsvHeader {
 public:
  // Throws InputError if a required column is missing, a column repeats, or (when `known` is
  // non-empty) a column is not one of required+known.
  CsvHeader(const CsvRecord& header, const std::string& source,
            const std::vector<std::string>& required, const std::vector<std::string>& optional,
            bool reject_unknown = true);
  // Position of a column, or -1 if the header does not have it.
  int index(std::string_view name) const;
  std::size_t size() const { return names_.size(); }
  const std::string& name(std::size_t i) const { return names_[i]; }

 private:
  std::vector<std::string> names_;
};

}  // namespace zs
