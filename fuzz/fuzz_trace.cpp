// libFuzzer target: every trace reader (canonical, philly, elasticflow, gavel, gavel-physical,
// pollux, swf) and format detection, on the same input, strict and with --skip-bad-rows.
#include <cstddef>
#include <cstdint>

#include "core/input_error.h"
#include "fuzz_common.h"
#include "sim/trace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const zs::Catalog& cat = zs::Catalog::builtin();
  const zs::ThroughputTable& speeds = zs::ThroughputTable::builtin();
  const auto text = zs::fuzz::as_text(data, size);
  std::vector<std::string> formats = zs::trace_formats();
  formats.push_back("auto");
  for (const auto& format : formats) {
    for (bool skip : {false, true}) {
      zs::TraceOptions opt;
      opt.format = format;
      opt.skip_bad_rows = skip;
      // Sometimes a --recorded-on type (always a valid one, as the CLI resolves it first).
      if (skip && size % 3 == 0) opt.recorded_type = static_cast<int>(size % cat.size());
      // SWF: processors per node and a --swf-type (valid, as the CLI resolves it first).
      if (format == "swf" && size % 2 == 0) opt.swf_per_node = static_cast<int>(size % 9);
      if (format == "swf" && size % 5 == 0) opt.swf_type = static_cast<int>(size % cat.size());
      try {
        zs::Trace t = zs::read_trace_text(text, "fuzz.trace", opt, cat, speeds);
        zs::fuzz::check_trace(t, cat, speeds);
      } catch (const zs::InputError&) {
      }
    }
  }
  return 0;
}
