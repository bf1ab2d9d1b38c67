#include "sim/trace.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/input_error.h"
#include "core/text.h"
#include "sim/trace_readers.h"

namespace zs {

const std::vector<std::string>& trace_formats() {
  static const std::vector<std::string> f = {"canonical",      "philly", "elasticflow", "gavel",
                                             "gavel-physical", "pollux", "swf"};
  return f;
}

void RowSink::row(const std::function<void()>& parse_row) {
  try {
    parse_row();
  } catch (const InputError& e) {
    if (!skip_) throw;
    ++trace_.skipped_rows;
    if (trace_.skipped.size() < 10) trace_.skipped.push_back(e.what());
  }
}

std::string detect_trace_format(std::string_view text, const std::string& source) {
  std::string_view first = text.substr(0, text.find('\n'));
  if (first.size() >= 3 && first.substr(0, 3) == "\xEF\xBB\xBF") first.remove_prefix(3);
  const std::string header = to_lower(trim(first));
  auto has = [&](std::string_view col) {
    for (auto c : split(header, ','))
      if (trim(c) == col) return true;
    return false;
  };
  if (has("id") && has("submit_s") && has("duration_s")) return "canonical";
  if (has("timestamp") && has("num_gpus") && has("duration")) return "philly";
  if (has("job_id") && has("submit_time") && has("num_gpu")) return "elasticflow";
  if (has("name") && has("time") && has("application") && has("num_replicas")) return "pollux";
  if (looks_like_swf(first) ||
      (source.size() > 4 && to_lower(std::string_view(source).substr(source.size() - 4)) == ".swf"))
    return "swf";
  const auto tabs = std::count(first.begin(), first.end(), '\t');
  if (tabs == 6) return "gavel";
  if (tabs == 9) return "gavel-physical";
  std::string known;
  for (const auto& f : trace_formats()) known += (known.empty() ? "" : ", ") + f;
  throw InputError(
      source + ":1",
      "cannot tell the trace format from the first line; use --trace-format (" + known + ")");
}

Trace read_trace_text(std::string_view text, const std::string& source, const TraceOptions& opt,
                      const Catalog& catalog, const ThroughputTable& speeds) {
  Trace t;
  t.format =
      opt.format == "auto" || opt.format.empty() ? detect_trace_format(text, source) : opt.format;
  ReaderContext ctx{text, source, opt, catalog, speeds};
  // At most one job per line: reserving avoids holding two copies of a growing job vector (the
  // replay's peak memory).
  t.jobs.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  if (t.format == "canonical")
    read_canonical_csv(ctx, t);
  else if (t.format == "philly")
    read_philly_csv(ctx, t);
  else if (t.format == "elasticflow")
    read_elasticflow_csv(ctx, t);
  else if (t.format == "gavel")
    read_gavel_trace(ctx, t);
  else if (t.format == "gavel-physical")
    read_gavel_physical_trace(ctx, t);
  else if (t.format == "pollux")
    read_pollux_workload(ctx, t);
  else if (t.format == "swf")
    read_swf(ctx, t);
  else {
    std::string known;
    for (const auto& f : trace_formats()) known += (known.empty() ? "" : ", ") + f;
    throw InputError("--trace-format",
                     "unknown trace format '" + t.format + "' (known: auto, " + known + ")");
  }
  return t;
}

Trace read_trace_file(const std::string& path, const TraceOptions& opt, const Catalog& catalog,
                      const ThroughputTable& speeds) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open trace file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return read_trace_text(ss.str(), path, opt, catalog, speeds);
}

}  // namespace zs
