// Gavel (OSDI'20) trace files: tab-separated, no header, one job per line, as read by
// `parse_trace()` in Gavel's scheduler/utils.py. See docs/trace-format.md.
//
//   gavel           7 fields: job_type, command, num_steps_arg, needs_data_dir, total_steps,
//                             arrival_time_s, scale_factor   (scheduler/traces/msr/seed=*/*.trace)
//   gavel-physical 10 fields: job_type, command, working_directory, num_steps_arg, needs_data_dir,
//                             total_steps, scale_factor, priority_weight, SLO, arrival_time_s
//
// A job is `total_steps` training steps of `job_type` on `scale_factor` GPUs. Its duration is
// total_steps / throughput(job_type, reference type, scale_factor) from the throughput table,
// with V100 as the reference type (Gavel's generators size total_steps on V100), or the
// --recorded-on type when given. The job records that reference type, so the simulator rescales
// the duration by the throughput ratio when the job runs on another type.
#include <cmath>

#include "core/input_error.h"
#include "core/text.h"
#include "sim/trace_readers.h"

namespace zs {

namespace {

constexpr double kMaxSeconds = 1e10;  // ~300 years: anything larger is a unit mistake
constexpr std::int64_t kMaxAccels = 1'000'000;
constexpr std::int64_t kMaxSteps = std::int64_t{1} << 53;  // exact in a double

struct GavelLayout {
  const char* format;
  std::vector<const char*> fields;                                                // in file order
  int job_type = 0, needs_data_dir = 0, total_steps = 0, arrival = 0, scale = 0;  // positions
  int priority_weight = -1, slo = -1;  // physical-cluster traces only
};

const GavelLayout& msr_layout() {
  static const GavelLayout l{.format = "gavel",
                             .fields = {"job_type", "command", "num_steps_arg", "needs_data_dir",
                                        "total_steps", "arrival_time_s", "scale_factor"},
                             .job_type = 0,
                             .needs_data_dir = 3,
                             .total_steps = 4,
                             .arrival = 5,
                             .scale = 6};
  return l;
}

const GavelLayout& physical_layout() {
  static const GavelLayout l{
      .format = "gavel-physical",
      .fields = {"job_type", "command", "working_directory", "num_steps_arg", "needs_data_dir",
                 "total_steps", "scale_factor", "priority_weight", "slo", "arrival_time_s"},
      .job_type = 0,
      .needs_data_dir = 4,
      .total_steps = 5,
      .arrival = 9,
      .scale = 6,
      .priority_weight = 7,
      .slo = 8};
  return l;
}

// A whole number in [lo, hi], written as an integer or as a float with no fraction ("4.0").
std::optional<std::int64_t> whole_number(std::string_view s, std::int64_t lo, std::int64_t hi) {
  if (auto v = parse_int(s)) {
    if (*v < lo || *v > hi) return std::nullopt;
    return v;
  }
  auto d = parse_double(s);
  if (!d || *d < static_cast<double>(lo) || *d > static_cast<double>(hi) || *d != std::floor(*d))
    return std::nullopt;
  return static_cast<std::int64_t>(*d);  // in range, so the conversion is defined
}

void read_gavel(const ReaderContext& ctx, Trace& out, const GavelLayout& layout) {
  // The type total_steps was sized on. Not a row problem, so it is checked before any row.
  int ref = ctx.opt.recorded_type;
  if (ref < 0) {
    auto v100 = ctx.catalog.find("V100");
    if (!v100)
      throw InputError(ctx.source,
                       "Gavel traces size total_steps on a V100, but the accelerator catalog has "
                       "no V100; give the reference type with --recorded-on");
    ref = *v100;
  }
  const TypeId ref_type = static_cast<TypeId>(ref);
  const std::size_t nfields = layout.fields.size();
  std::string field_list;
  for (const char* f : layout.fields)
    field_list += (field_list.empty() ? "" : ", ") + std::string(f);

  RowSink sink(out, ctx.opt.skip_bad_rows);
  std::string_view text = ctx.text;
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::size_t pos = 0, line_no = 0;
  bool any_line = false;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty()) continue;
    any_line = true;
    sink.row([&] {
      const std::string where = ctx.source + ":" + std::to_string(line_no);
      const auto f = split(line, '\t');
      if (f.size() != nfields) {
        std::string hint;
        if (f.size() == 7 && nfields != 7)
          hint = " (7 fields is the msr format: use --trace-format gavel)";
        else if (f.size() == 10 && nfields != 10)
          hint = " (10 fields is the physical-cluster format: use --trace-format gavel-physical)";
        else if (f.size() == 1)
          hint = " (fields must be separated by tabs)";
        throw InputError(where, "expected " + std::to_string(nfields) + " tab-separated fields (" +
                                    field_list + "), found " + std::to_string(f.size()) + hint);
      }
      auto cell = [&](int i) { return trim(f[static_cast<std::size_t>(i)]); };
      auto bad = [&](int i, const std::string& msg) {
        return InputError(where, std::string("column ") +
                                     layout.fields[static_cast<std::size_t>(i)] + ": " + msg);
      };
      auto quoted = [&](int i) { return "'" + std::string(cell(i)) + "'"; };

      const std::string job_type(cell(layout.job_type));
      if (job_type.empty()) throw bad(layout.job_type, "empty job type");
      const auto model = ctx.speeds.find_model(job_type);
      if (!model)
        throw bad(layout.job_type, quoted(layout.job_type) +
                                       " is not in the throughput table (Gavel job types look like "
                                       "'ResNet-50 (batch size 64)'; add it with --throughputs)");

      auto needs_data = whole_number(cell(layout.needs_data_dir), 0, 1);
      if (!needs_data)
        throw bad(layout.needs_data_dir, quoted(layout.needs_data_dir) + " is not 0 or 1");

      auto steps = whole_number(cell(layout.total_steps), 1, kMaxSteps);
      if (!steps) {
        auto d = parse_double(cell(layout.total_steps));
        throw bad(layout.total_steps, quoted(layout.total_steps) +
                                          (d && *d <= 0 ? " must be a positive number of steps"
                                                        : " is not a whole number of steps (1.." +
                                                              std::to_string(kMaxSteps) + ")"));
      }

      auto arrival = parse_double(cell(layout.arrival));
      if (!arrival)
        throw bad(layout.arrival, quoted(layout.arrival) + " is not a number of seconds");
      if (*arrival < 0)
        throw bad(layout.arrival, "negative arrival time " + std::string(cell(layout.arrival)));
      if (*arrival > kMaxSeconds)
        throw bad(layout.arrival,
                  std::string(cell(layout.arrival)) + " seconds is implausibly large");

      auto scale = whole_number(cell(layout.scale), 1, kMaxAccels);
      if (!scale)
        throw bad(layout.scale, quoted(layout.scale) + " is not a GPU count (a whole number 1.." +
                                    std::to_string(kMaxAccels) + ")");

      Job j;
      j.id = static_cast<JobId>(line_no);
      j.name = job_type;
      j.submit = seconds_to_ms(*arrival);
      j.accel_count = static_cast<int>(*scale);
      j.accepted = TypeSet::any();
      j.model = *model;
      j.recorded_type = ref;

      if (layout.priority_weight >= 0) {
        auto w = parse_double(cell(layout.priority_weight));
        if (!w || *w <= 0 || *w > 10'000)
          throw bad(layout.priority_weight,
                    quoted(layout.priority_weight) + " is not a positive weight (0 < w <= 10000)");
        // zs priorities are strict classes (higher runs first), Gavel's weights are shares.
        // The mapping keeps the order at 0.01 resolution and makes the usual weight 1 the
        // default priority 0: 2 -> 100, 0.5 -> -50.
        j.priority = static_cast<std::int32_t>(std::llround((*w - 1.0) * 100.0));
      }
      if (layout.slo >= 0) {
        // Gavel's SLO (-1 = none) has no counterpart in zs: checked, then ignored.
        auto slo = parse_double(cell(layout.slo));
        if (!slo || (*slo < 0 && *slo != -1))
          throw bad(layout.slo,
                    quoted(layout.slo) + " is not -1 (no SLO) or a non-negative number");
      }

      auto tp = ctx.speeds.throughput(*model, ref_type, j.accel_count);
      if (!tp)
        throw bad(layout.job_type, quoted(layout.job_type) + " has no throughput on " +
                                       ctx.catalog.name(ref_type) +
                                       " in the throughput table, so total_steps cannot be "
                                       "turned into a duration");
      const double seconds = static_cast<double>(*steps) / *tp;
      if (!(seconds <= kMaxSeconds))
        throw bad(layout.total_steps, std::to_string(*steps) + " steps at " + std::to_string(*tp) +
                                          " steps/s on " + ctx.catalog.name(ref_type) +
                                          " is implausibly long");
      j.duration = seconds_to_ms(seconds);
      out.jobs.push_back(std::move(j));
    });
  }
  if (!any_line)
    throw InputError(ctx.source, "empty trace: expected one tab-separated job per line (" +
                                     std::string(layout.format) + " format: " + field_list + ")");
}

}  // namespace

void read_gavel_trace(const ReaderContext& ctx, Trace& out) {
  read_gavel(ctx, out, msr_layout());
}

void read_gavel_physical_trace(const ReaderContext& ctx, Trace& out) {
  read_gavel(ctx, out, physical_layout());
}

}  // namespace zs
