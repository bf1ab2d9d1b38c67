// Pollux (OSDI'21) workload CSV, e.g. adaptdl osdi21-artifact simulator/workloads/workload-1.csv:
//   name,time,application,num_replicas,batch_size
// `time` is the arrival in seconds; non-adaptive schedulers run the job on num_replicas GPUs with
// the given global batch size. The file has NO run times: Pollux's simulator trains each job
// until its application's fixed number of epochs is done, on measured profiles.
//
// zs therefore ESTIMATES each job's run time (see docs/trace-format.md, "Pollux"):
//  - For the configurations that Pollux's workload generator emits, the table below holds the
//    time the job takes when it runs alone on num_replicas T4 GPUs packed 4 per node. It was
//    computed offline by replaying Pollux's own Job.step() (simulator.py, osdi21-artifact
//    c793c708) with a fixed placement: step/sync times from traces/<app>/placements.csv and
//    scalability.csv (copied to data/traces/pollux_workloads/app_profiles), epochs and
//    statistical efficiency from traces/<app>/validation-<batch>.csv, max_epochs from
//    applications.py; the 30 s restart delay of Pollux's simulator is not included.
//  - Any other (num_replicas, batch_size) of a known application gets the application's typical
//    GPU time (geometric mean of its table rows) divided by num_replicas: cruder, it assumes
//    linear scaling.
// An unknown application is a bad row. The application becomes the tenant.
#include <cmath>

#include "core/csv.h"
#include "core/input_error.h"
#include "core/text.h"
#include "sim/trace_readers.h"
#include "sim/trace_row.h"

namespace zs {

namespace {

constexpr std::int64_t kMaxAccels = 1'000'000;
constexpr std::int64_t kMaxBatch = std::int64_t{1} << 40;

struct Profiled {
  const char* app;
  int replicas;
  std::int64_t batch_size;
  double seconds;  // alone, packed 4 GPUs per node
};

// Every configuration in the artifact's workloads, workloads-0.5/1.5/2.0 and workloads-realistic.
constexpr Profiled kProfiled[] = {
    {"bert", 1, 12, 13614},         {"bert", 4, 48, 3587},         {"bert", 6, 384, 3092},
    {"bert", 8, 384, 2459},         {"bert", 12, 384, 1594},       {"bert", 16, 384, 1324},
    {"cifar10", 1, 128, 4000},      {"cifar10", 4, 512, 1170},     {"cifar10", 6, 2048, 910},
    {"cifar10", 8, 1024, 1323},     {"cifar10", 8, 2048, 865},     {"cifar10", 12, 4096, 624},
    {"cifar10", 16, 4096, 482},     {"deepspeech2", 1, 20, 19440}, {"deepspeech2", 4, 80, 6370},
    {"deepspeech2", 6, 320, 4142},  {"deepspeech2", 8, 160, 6154}, {"deepspeech2", 8, 320, 3530},
    {"deepspeech2", 12, 640, 2477}, {"imagenet", 8, 1600, 79840},  {"imagenet", 16, 3200, 44832},
    {"imagenet", 24, 3200, 31805},  {"imagenet", 32, 6400, 27431}, {"imagenet", 48, 6400, 19689},
    {"ncf", 1, 256, 1440},          {"ncf", 1, 32768, 47},         {"ncf", 2, 512, 940},
    {"ncf", 4, 1024, 591},          {"ncf", 8, 2048, 930},         {"yolov3", 1, 8, 33748},
    {"yolov3", 2, 16, 19070},       {"yolov3", 4, 32, 14268},      {"yolov3", 4, 64, 14102},
    {"yolov3", 8, 64, 26142},       {"yolov3", 16, 128, 11541},
};

struct Application {
  const char* name;
  double typical_gpu_seconds;  // geometric mean of replicas * seconds over its kProfiled rows
};

constexpr Application kApplications[] = {
    {"bert", 17517},      {"cifar10", 6384}, {"deepspeech2", 28254},
    {"imagenet", 780758}, {"ncf", 1175},     {"yolov3", 73682},
};

std::string known_applications() {
  std::string s;
  for (const auto& a : kApplications) s += (s.empty() ? "" : ", ") + std::string(a.name);
  return s;
}

}  // namespace

void read_pollux_workload(const ReaderContext& ctx, Trace& out) {
  CsvReader reader(ctx.text, ctx.source);
  auto header_rec = reader.next();
  if (!header_rec) throw InputError(ctx.source, "empty trace: expected a header row");
  CsvHeader h(*header_rec, ctx.source,
              {"name", "time", "application", "num_replicas", "batch_size"}, {});
  // Pollux's profiles were measured on AWS g4dn.12xlarge nodes (4x NVIDIA T4).
  int recorded = ctx.opt.recorded_type;
  if (recorded < 0) {
    if (auto t4 = ctx.catalog.find("T4")) recorded = *t4;
  }
  RowSink sink(out, ctx.opt.skip_bad_rows);
  JobId next_id = 1;
  while (auto rec = reader.next()) {
    const JobId id = next_id++;
    sink.row([&] {
      const TraceRow row(*rec, h, ctx.source);

      Job j;
      j.id = id;
      j.name = std::string(row.cell("name"));
      if (j.name.empty()) throw row.bad("name", "empty job name");
      j.submit = seconds_to_ms(row.seconds("time", "arrival time"));

      const std::string app = to_lower(row.cell("application"));
      const Application* application = nullptr;
      for (const auto& a : kApplications)
        if (app == a.name) application = &a;
      if (!application)
        throw row.bad("application", "unknown application '" +
                                         std::string(row.cell("application")) +
                                         "' (known: " + known_applications() + ")");
      const auto replicas = row.integer("num_replicas", 1, kMaxAccels);
      const auto batch = row.integer("batch_size", 1, kMaxBatch);

      double seconds = application->typical_gpu_seconds / static_cast<double>(replicas);
      for (const auto& p : kProfiled)
        if (app == p.app && replicas == p.replicas && batch == p.batch_size) seconds = p.seconds;

      j.duration = seconds_to_ms(seconds);
      j.accel_count = static_cast<int>(replicas);
      j.accepted = TypeSet::any();
      j.tenant = application->name;
      if (auto m = ctx.speeds.find_model(application->name)) j.model = *m;
      j.recorded_type = recorded;
      out.jobs.push_back(std::move(j));
    });
  }
}

}  // namespace zs
