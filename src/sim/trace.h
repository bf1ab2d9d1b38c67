// Reading job traces: the canonical CSV (docs/trace-format.md) and the public trace formats in
// data/traces (Philly, Gavel, ElasticFlow, Pollux). Every bad row is reported with file, line
// and column; with `skip_bad_rows` it is counted and skipped instead.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/job.h"
#include "core/throughput.h"

namespace zs {

struct TraceOptions {
  std::string format = "auto";  // or one of trace_formats()
  bool skip_bad_rows = false;
  int recorded_type = -1;  // --recorded-on: type the durations were measured on
  // SWF only: processors grouped into nodes of this many devices (0: the scheduler chooses),
  // and the one type every job asks for (-1: any type the cluster has).
  int swf_per_node = 0;
  int swf_type = -1;
};

struct Trace {
  std::string format;
  std::vector<Job> jobs;
  int skipped_rows = 0;
  std::vector<std::string> skipped;  // the first few skip messages
  // SWF: jobs that never ran (run time <= 0 or unknown) are skipped and counted here, and the
  // header's "; MaxProcs:" (0 when absent) is checked against the cluster by the caller.
  int not_run = 0;
  int no_size = 0;  // SWF jobs that ran with neither processor count known (fields 5 and 8)
  int max_procs = 0;
};

const std::vector<std::string>& trace_formats();

// Picks the format from the header / first line (and file extension). Throws InputError when
// the text matches no known format, naming the formats.
std::string detect_trace_format(std::string_view text, const std::string& source);

Trace read_trace_text(std::string_view text, const std::string& source, const TraceOptions& opt,
                      const Catalog& catalog, const ThroughputTable& speeds);
Trace read_trace_file(const std::string& path, const TraceOptions& opt, const Catalog& catalog,
                      const ThroughputTable& speeds);

}  // namespace zs
