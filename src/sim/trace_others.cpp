// Readers for the Gavel, ElasticFlow and Pollux formats: being written (see trace_readers.h).
#include "core/input_error.h"
#include "sim/trace_readers.h"

namespace zs {
void read_elasticflow_csv(const ReaderContext& ctx, Trace&) {
  throw InputError(ctx.source, "elasticflow reader pending");
}
void read_gavel_trace(const ReaderContext& ctx, Trace&) {
  throw InputError(ctx.source, "gavel reader pending");
}
void read_gavel_physical_trace(const ReaderContext& ctx, Trace&) {
  throw InputError(ctx.source, "gavel reader pending");
}
void read_pollux_workload(const ReaderContext& ctx, Trace&) {
  throw InputError(ctx.source, "pollux reader pending");
}
}  // namespace zs
