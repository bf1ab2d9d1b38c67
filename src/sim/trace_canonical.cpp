// The canonical trace CSV: see docs/trace-format.md.
#include <cmath>
#include <unordered_map>

#include "core/csv.h"
#include "core/input_error.h"
#include "core/text.h"
#include "sim/trace_readers.h"
#include "sim/trace_row.h"

namespace zs {

namespace {
const std::vector<std::string> kRequired = {"id", "submit_s", "duration_s", "accel_count"};
const std::vector<std::string> kOptional = {
    "accel_types", "nodes",    "per_node", "walltime_s",    "tenant",        "user",
    "priority",    "model",    "name",     "recorded_type", "cpu_per_accel", "mem_gib_per_accel",
    "checkpoint",  "partition"};
constexpr std::int64_t kMaxAccels = 1'000'000;
}  // namespace

// Parses an `accel_types` cell: "any", empty, or catalog names joined by '|'. Unknown names are
// kept on the job so that it is rejected with a reason naming them.
TypeSet parse_accel_types(std::string_view cell, const Catalog& catalog, std::string& unknown) {
  cell = trim(cell);
  if (cell.empty() || to_lower(cell) == "any" || cell == "*") return TypeSet::any();
  TypeSet set;
  for (auto name : split(cell, '|')) {
    name = trim(name);
    if (name.empty()) continue;
    if (auto t = catalog.find(name))
      set.add(*t);
    else if (unknown.empty())
      unknown = std::string(name);
  }
  return set;
}

void read_canonical_csv(const ReaderContext& ctx, Trace& out) {
  CsvReader reader(ctx.text, ctx.source);
  auto header_rec = reader.next();
  if (!header_rec) throw InputError(ctx.source, "empty trace: expected a header row");
  CsvHeader h(*header_rec, ctx.source, kRequired, kOptional);
  UniqueIds ids;
  RowSink sink(out, ctx.opt.skip_bad_rows);
  while (auto rec = reader.next()) {
    sink.row([&] {
      const TraceRow row(*rec, h, ctx.source);
      Job j;
      j.id = static_cast<JobId>(row.integer("id", 0, std::int64_t{1} << 53));
      j.submit = seconds_to_ms(row.seconds("submit_s", "duration", false));
      j.duration = seconds_to_ms(row.seconds("duration_s", "duration", false));
      j.accel_count = static_cast<int>(row.integer("accel_count", 1, kMaxAccels));
      if (!row.cell("nodes").empty())
        j.nodes = static_cast<int>(row.integer("nodes", 1, kMaxAccels));
      if (!row.cell("per_node").empty())
        j.per_node = static_cast<int>(row.integer("per_node", 1, kMaxAccels));
      if (!row.cell("walltime_s").empty())
        j.walltime = seconds_to_ms(row.seconds("walltime_s", "duration", true));
      if (!row.cell("priority").empty())
        j.priority = static_cast<std::int32_t>(row.integer("priority", -1'000'000, 1'000'000));
      if (!row.cell("cpu_per_accel").empty()) {
        auto v = parse_double(row.cell("cpu_per_accel"));
        if (!v || *v < 0)
          throw row.bad("cpu_per_accel", "'" + std::string(row.cell("cpu_per_accel")) +
                                             "' is not a non-negative number");
        j.cpu_per_accel = *v;
      }
      if (!row.cell("mem_gib_per_accel").empty()) {
        auto v = parse_double(row.cell("mem_gib_per_accel"));
        if (!v || *v < 0)
          throw row.bad("mem_gib_per_accel", "'" + std::string(row.cell("mem_gib_per_accel")) +
                                                 "' is not a non-negative number");
        j.mem_gib_per_accel = *v;
      }
      if (const auto c = to_lower(trim(row.cell("checkpoint"))); !c.empty()) {
        if (c == "1" || c == "yes" || c == "true")
          j.checkpoint = 1;
        else if (c == "0" || c == "no" || c == "false")
          j.checkpoint = 0;
        else
          throw row.bad("checkpoint", "'" + std::string(row.cell("checkpoint")) +
                                          "' is not yes or no (empty: the tenants file decides)");
      }
      j.tenant = std::string(row.cell("tenant"));
      j.user = std::string(row.cell("user"));
      j.name = std::string(row.cell("name"));
      j.partition = std::string(row.cell("partition"));
      j.accepted = parse_accel_types(row.cell("accel_types"), ctx.catalog, j.unknown_type);
      if (!row.cell("model").empty()) {
        if (auto m = ctx.speeds.find_model(row.cell("model"))) j.model = *m;
      }
      j.recorded_type = ctx.opt.recorded_type;
      if (!row.cell("recorded_type").empty()) {
        auto t = ctx.catalog.find(row.cell("recorded_type"));
        if (!t)
          throw row.bad("recorded_type", "unknown accelerator type '" +
                                             std::string(row.cell("recorded_type")) + "'");
        j.recorded_type = *t;
      } else if (j.recorded_type < 0 && !j.accepted.is_any() && j.accepted.count() == 1) {
        for (TypeId t = 0; t < ctx.catalog.size(); ++t)
          if (j.accepted.contains(t)) j.recorded_type = t;
      }
      ids.add(j.id, row, "id", rec->line);
      out.jobs.push_back(std::move(j));
    });
  }
}

}  // namespace zs
