// The Standard Workload Format of the Parallel Workloads Archive (docs/trace-format.md):
// one job per line, 18 whitespace-separated numeric fields, -1 for unknown, header comments
// starting with ';'. Processors become accelerators of one type.
#include <cmath>

#include "core/input_error.h"
#include "core/text.h"
#include "sim/trace_readers.h"
#include "sim/trace_row.h"

namespace zs {

namespace {

constexpr std::size_t kFields = 18;
constexpr std::int64_t kMaxAccels = 1'000'000;

// The fields this reader uses, 1-based as the SWF definition numbers them.
enum Field : std::size_t {
  kJobNumber = 1,
  kSubmit = 2,
  kRunTime = 4,
  kAllocatedProcs = 5,
  kRequestedProcs = 8,
  kRequestedTime = 9,
  kUser = 12,
  kGroup = 13,
  kExecutable = 14,
  kQueue = 15,
};

const char* field_name(std::size_t f) {
  switch (f) {
    case kJobNumber:
      return "job number";
    case kSubmit:
      return "submit time";
    case kRunTime:
      return "run time";
    case kAllocatedProcs:
      return "allocated processors";
    case kRequestedProcs:
      return "requested processors";
    case kRequestedTime:
      return "requested time";
    case kUser:
      return "user id";
    case kGroup:
      return "group id";
    case kExecutable:
      return "executable number";
    case kQueue:
      return "queue number";
    default:
      return "field";
  }
}

std::vector<std::string_view> split_whitespace(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

class SwfRow {
 public:
  SwfRow(std::vector<std::string_view> fields, std::string where)
      : fields_(std::move(fields)), where_(std::move(where)) {}
  const std::string& where() const { return where_; }

  InputError bad(std::size_t f, const std::string& msg) const {
    return InputError(where_, "field " + std::to_string(f) + " (" + field_name(f) + "): " + msg);
  }
  // A number; SWF writes whole numbers, some logs "123.0". -1 (or any negative) is "unknown".
  double number(std::size_t f) const {
    const std::string_view cell = fields_[f - 1];
    auto v = parse_double(cell);
    if (!v) throw bad(f, "'" + std::string(cell) + "' is not a number");
    return *v;
  }
  // A whole number in [lo, hi], or -1 (unknown) when `unknown_ok`.
  std::int64_t integer(std::size_t f, std::int64_t lo, std::int64_t hi, bool unknown_ok) const {
    const double v = number(f);
    if (unknown_ok && v == -1) return -1;
    if (v != std::floor(v) || v < static_cast<double>(lo) || v > static_cast<double>(hi))
      throw bad(f, "'" + std::string(fields_[f - 1]) + "' is not a whole number " +
                       std::to_string(lo) + ".." + std::to_string(hi) +
                       (unknown_ok ? " (or -1: unknown)" : ""));
    return static_cast<std::int64_t>(v);
  }
  // A time in seconds, or -1 (unknown); negative values other than -1 are errors, as are
  // values above TraceRow::kMaxSeconds (unit mistakes).
  double seconds(std::size_t f) const {
    const double v = number(f);
    if (v == -1) return -1;
    if (v < 0) throw bad(f, "negative time " + std::string(fields_[f - 1]) + " (or -1: unknown)");
    if (v > TraceRow::kMaxSeconds)
      throw bad(f, std::string(fields_[f - 1]) + " seconds is implausibly large");
    return v;
  }
  // An id as text ("" when unknown).
  std::string id_text(std::size_t f) const {
    const std::int64_t v = integer(f, 0, std::int64_t{1} << 53, true);
    return v < 0 ? std::string() : std::to_string(v);
  }

 private:
  std::vector<std::string_view> fields_;
  std::string where_;
};

// "; MaxProcs: 1024" -> 1024 (other header lines are ignored).
std::optional<std::int64_t> header_value(std::string_view comment, std::string_view key) {
  comment = trim(comment.substr(1));  // after ';'
  if (comment.size() <= key.size() || to_lower(comment.substr(0, key.size())) != to_lower(key))
    return std::nullopt;
  comment.remove_prefix(key.size());
  comment = trim(comment);
  if (comment.empty() || comment.front() != ':') return std::nullopt;
  return parse_int(trim(comment.substr(1)));
}

}  // namespace

bool looks_like_swf(std::string_view first_line) {
  first_line = trim(first_line);
  if (!first_line.empty() && first_line.front() == ';') return true;
  const auto fields = split_whitespace(first_line);
  if (fields.size() != kFields) return false;
  for (auto f : fields)
    if (!parse_double(f)) return false;
  return true;
}

void read_swf(const ReaderContext& ctx, Trace& out) {
  RowSink sink(out, ctx.opt.skip_bad_rows);
  std::unordered_map<JobId, std::size_t> first_line;
  const int per_node = ctx.opt.swf_per_node;
  if (ctx.opt.swf_type >= static_cast<int>(ctx.catalog.size()))
    throw InputError("--swf-type",
                     "type " + std::to_string(ctx.opt.swf_type) + " is not in the catalog");
  std::size_t line_no = 0;
  std::string_view text = ctx.text;
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    const std::string_view t = trim(line);
    if (t.empty()) continue;
    const std::string where = ctx.source + ":" + std::to_string(line_no);
    if (t.front() == ';') {
      if (auto v = header_value(t, "MaxProcs")) {
        if (*v <= 0 || *v > kMaxAccels)
          throw InputError(where, "MaxProcs: " + std::to_string(*v) + " is not 1..1000000");
        out.max_procs = static_cast<int>(*v);
      }
      continue;
    }
    sink.row([&] {
      auto fields = split_whitespace(t);
      if (fields.size() != kFields)
        throw InputError(where, "expected 18 whitespace-separated fields (SWF), found " +
                                    std::to_string(fields.size()));
      const SwfRow row(std::move(fields), where);
      const auto id = static_cast<JobId>(row.integer(kJobNumber, 0, std::int64_t{1} << 53, false));
      auto [it, added] = first_line.emplace(id, line_no);
      if (!added)
        throw row.bad(kJobNumber, "job number " + std::to_string(id) + " already used on line " +
                                      std::to_string(it->second));
      const double submit = row.seconds(kSubmit);
      if (submit < 0) throw row.bad(kSubmit, "unknown (-1): a job needs a submit time");
      const double run = row.seconds(kRunTime);
      const std::int64_t allocated = row.integer(kAllocatedProcs, 0, kMaxAccels, true);
      const std::int64_t requested = row.integer(kRequestedProcs, 0, kMaxAccels, true);
      const double wall = row.seconds(kRequestedTime);
      const std::int64_t procs = allocated > 0 ? allocated : requested;
      // Cancelled before it ran: nothing to replay (counted, not an error).
      if (run <= 0) {
        ++out.not_run;
        return;
      }
      // It ran, but its size is unknown (KTH-SP2-1996 has one such job): nothing to place.
      if (procs <= 0) {
        ++out.no_size;
        return;
      }
      if (out.max_procs > 0 && procs > out.max_procs)
        throw row.bad(allocated > 0 ? kAllocatedProcs : kRequestedProcs,
                      std::to_string(procs) + " processors is more than the header's MaxProcs " +
                          std::to_string(out.max_procs));
      Job j;
      j.id = id;
      j.submit = seconds_to_ms(submit);
      j.duration = seconds_to_ms(run);
      j.accel_count = static_cast<int>(procs);
      if (per_node > 0 && procs > per_node)
        j.nodes = static_cast<int>((procs + per_node - 1) / per_node);
      if (wall > 0) j.walltime = seconds_to_ms(wall);
      j.user = row.id_text(kUser);
      j.tenant = row.id_text(kGroup);
      j.name = row.id_text(kExecutable);
      j.partition = row.id_text(kQueue);
      if (ctx.opt.swf_type >= 0) {
        j.accepted = TypeSet::of(static_cast<TypeId>(ctx.opt.swf_type));
        j.recorded_type = ctx.opt.swf_type;
      } else {
        j.recorded_type = ctx.opt.recorded_type;
      }
      out.jobs.push_back(std::move(j));
    });
  }
}

}  // namespace zs
