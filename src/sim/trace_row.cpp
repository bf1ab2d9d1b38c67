#include "sim/trace_row.h"

#include <cmath>

#include "core/text.h"

namespace zs {

TraceRow::TraceRow(const CsvRecord& rec, const CsvHeader& header, const std::string& source)
    : rec_(rec), header_(header), where_(source + ":" + std::to_string(rec.line)) {
  if (rec.fields.size() != header.size())
    throw InputError(where_, "expected " + std::to_string(header.size()) + " fields, found " +
                                 std::to_string(rec.fields.size()));
}

std::string_view TraceRow::cell(std::string_view col) const {
  const int i = header_.index(col);
  return i < 0 ? std::string_view() : trim(rec_.fields[static_cast<std::size_t>(i)]);
}

InputError TraceRow::bad(std::string_view col, const std::string& msg) const {
  return InputError(where_, "column " + std::string(col) + ": " + msg);
}

std::int64_t TraceRow::integer(std::string_view col, std::int64_t lo, std::int64_t hi) const {
  std::optional<std::int64_t> v = parse_int(cell(col));
  if (!v) {
    auto d = parse_double(cell(col));
    if (d && std::fabs(*d) < 9.0e18 && *d == std::trunc(*d)) v = static_cast<std::int64_t>(*d);
  }
  if (!v) throw bad(col, "'" + std::string(cell(col)) + "' is not a whole number");
  if (*v < lo || *v > hi)
    throw bad(col, std::to_string(*v) + " is out of range (" + std::to_string(lo) + ".." +
                       std::to_string(hi) + ")");
  return *v;
}

double TraceRow::seconds(std::string_view col, const char* noun, bool positive) const {
  auto v = parse_double(cell(col));
  if (!v) throw bad(col, "'" + std::string(cell(col)) + "' is not a number of seconds");
  if (*v < 0)
    throw bad(col,
              std::string("negative ") + noun + " " + std::string(cell(col)) + " (must be >= 0)");
  if (positive && *v == 0) throw bad(col, "must be > 0");
  if (*v > kMaxSeconds) throw bad(col, std::string(cell(col)) + " seconds is implausibly large");
  return *v;
}

void UniqueIds::add(JobId id, const TraceRow& row, std::string_view col, std::size_t line) {
  auto [it, inserted] = first_line_.emplace(id, line);
  if (!inserted)
    throw row.bad(col, "job id " + std::to_string(id) + " already used on line " +
                           std::to_string(it->second));
}

}  // namespace zs
