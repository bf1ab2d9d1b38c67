// ElasticFlow (ASPLOS'23) trace CSV, e.g. traces_for_ElasticFlow/philly_103959.csv:
//   job_id,submit_time,real_iteration,model_name,ddl,batch_size,num_gpu,real_duration,duration,
//   iteration
// Times are seconds. A job asks for num_gpu GPUs and runs `duration` seconds on them (the time
// ElasticFlow's own simulator replays for non-elastic policies). job_id is kept (it must be
// unique; 0 is fine). The model becomes the job's model when the throughput table knows it.
// ddl (deadline), batch_size and the iteration counts have no counterpart in zs: ignored.
// See docs/trace-format.md.
#include <cmath>
#include <unordered_map>

#include "core/csv.h"
#include "core/input_error.h"
#include "core/text.h"
#include "sim/trace_readers.h"
#include "sim/trace_row.h"

namespace zs {

namespace {
constexpr std::int64_t kMaxAccels = 1'000'000;
constexpr std::int64_t kMaxId = std::int64_t{1} << 53;
}  // namespace

void read_elasticflow_csv(const ReaderContext& ctx, Trace& out) {
  CsvReader reader(ctx.text, ctx.source);
  auto header_rec = reader.next();
  if (!header_rec) throw InputError(ctx.source, "empty trace: expected a header row");
  // Other ElasticFlow traces drop the real_* columns or add best_effort: all accepted.
  CsvHeader h(*header_rec, ctx.source, {"job_id", "submit_time", "num_gpu", "duration"},
              {"real_iteration", "model_name", "ddl", "batch_size", "real_duration", "iteration",
               "best_effort"});
  UniqueIds ids;
  RowSink sink(out, ctx.opt.skip_bad_rows);
  while (auto rec = reader.next()) {
    sink.row([&] {
      const TraceRow row(*rec, h, ctx.source);
      Job j;
      j.id = static_cast<JobId>(row.integer("job_id", 0, kMaxId));
      j.submit = seconds_to_ms(row.seconds("submit_time"));
      j.duration = seconds_to_ms(row.seconds("duration"));
      j.accel_count = static_cast<int>(row.integer("num_gpu", 1, kMaxAccels));
      j.accepted = TypeSet::any();
      j.name = std::string(row.cell("model_name"));
      if (!j.name.empty()) {
        if (auto m = ctx.speeds.find_model(j.name)) j.model = *m;  // vgg16 etc.: stays unknown
      }
      j.recorded_type = ctx.opt.recorded_type;
      ids.add(j.id, row, "job_id", rec->line);
      out.jobs.push_back(std::move(j));
    });
  }
}

}  // namespace zs
