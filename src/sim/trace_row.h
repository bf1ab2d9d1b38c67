// One data row of a CSV trace with typed accessors. Every error names "file:line: column X:".
// Shared by the CSV trace readers so that they check numbers the same way.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/job.h"

#include "core/csv.h"
#include "core/input_error.h"

namespace zs {

class TraceRow {
 public:
  // Throws InputError when the row has a different number of fields than the header.
  TraceRow(const CsvRecord& rec, const CsvHeader& header, const std::string& source);

  const std::string& where() const { return where_; }
  // The trimmed cell, or "" when the header has no such column.
  std::string_view cell(std::string_view col) const;
  InputError bad(std::string_view col, const std::string& msg) const;
  // A whole number in [lo, hi]; "8.0" is accepted, "8.5", "nan" and overflowing values are not.
  std::int64_t integer(std::string_view col, std::int64_t lo, std::int64_t hi) const;
  // A number of seconds in [0, 1e10] (larger values are unit mistakes); `positive`: > 0.
  // `noun` names the quantity in the message: "negative duration -5 (must be >= 0)".
  double seconds(std::string_view col, const char* noun = "time", bool positive = false) const;

  static constexpr double kMaxSeconds = 1e10;

 private:
  const CsvRecord& rec_;
  const CsvHeader& header_;
  std::string where_;
};

// Remembers the job ids seen so far; a repeat is an error naming the first line.
class UniqueIds {
 public:
  void add(JobId id, const TraceRow& row, std::string_view col, std::size_t line);

 private:
  std::unordered_map<JobId, std::size_t> first_line_;
};

}  // namespace zs
