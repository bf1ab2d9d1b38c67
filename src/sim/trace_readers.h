// One reader per trace format (internal to src/sim; use trace.h).
// Each appends jobs to `out` and records bad rows through `RowSink`.
#pragma once
#include <functional>
#include <string>
#include <string_view>

#include "sim/trace.h"

namespace zs {

// Reports a bad row: throws InputError, or (with --skip-bad-rows) counts it in the trace.
class RowSink {
 public:
  RowSink(Trace& trace, bool skip) : trace_(trace), skip_(skip) {}
  // Runs `parse_row`; an InputError it throws is rethrown, or counted when skipping.
  void row(const std::function<void()>& parse_row);

 private:
  Trace& trace_;
  bool skip_;
};

struct ReaderContext {
  std::string_view text;
  const std::string& source;
  const TraceOptions& opt;
  const Catalog& catalog;
  const ThroughputTable& speeds;
};

void read_canonical_csv(const ReaderContext& ctx, Trace& out);
void read_philly_csv(const ReaderContext& ctx, Trace& out);       // Pollux's philly.csv
void read_elasticflow_csv(const ReaderContext& ctx, Trace& out);  // ElasticFlow philly_*.csv
void read_gavel_trace(const ReaderContext& ctx, Trace& out);      // Gavel msr *.trace (7 fields)
void read_gavel_physical_trace(const ReaderContext& ctx, Trace& out);  // 10 fields
void read_pollux_workload(const ReaderContext& ctx, Trace& out);       // Pollux workload-N.csv
void read_swf(const ReaderContext& ctx, Trace& out);  // Standard Workload Format (PWA logs)
// A header comment (';') or a line of 18 numbers.
bool looks_like_swf(std::string_view first_line);

}  // namespace zs
