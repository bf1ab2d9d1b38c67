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
    "accel_types", "nodes", "per_node", "walltime_s",    "tenant",        "user",
    "priority",    "model", "name",     "recorded_type", "cpu_per_accel", "mem_gib_per_accel"};
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
  std::unordered_map<JobId, std::size_t> seen;  // id -> line
  RowSink sink(out, ctx.opt.skip_bad_rows);
  while (auto rec = reader.next()) {
    sink.row([&] {
      const TraceRow row(*rec, h, ctx.source);
      auto cell = [&](const char* col) { return row.cell(col); };
      auto bad = [&](const char* col, const std::string& msg) { return row.bad(col, msg); };
      auto integer = [&](const char* col, std::int64_t lo, std::int64_t hi) {
        return row.integer(col, lo, hi);
      };
      auto seconds = [&](const char* col, bool positive) {
        return row.seconds(col, "duration", positive);
      };
      Job j;
      j.id = static_cast<JobId>(integer("id", 0, std::int64_t{1} << 53));
      j.submit = seconds_to_ms(seconds("submit_s", false));
      j.duration = seconds_to_ms(seconds("duration_s", false));
      j.accel_count = static_cast<int>(integer("accel_count", 1, kMaxAccels));
      if (!cell("nodes").empty()) j.nodes = static_cast<int>(integer("nodes", 1, kMaxAccels));
      if (!cell("per_node").empty())
        j.per_node = static_cast<int>(integer("per_node", 1, kMaxAccels));
      if (!cell("walltime_s").empty()) j.walltime = seconds_to_ms(seconds("walltime_s", true));
      if (!cell("priority").empty())
        j.priority = static_cast<std::int32_t>(integer("priority", -1'000'000, 1'000'000));
      if (!cell("cpu_per_accel").empty()) {
        auto v = parse_double(cell("cpu_per_accel"));
        if (!v || *v < 0)
          throw bad("cpu_per_accel",
                    "'" + std::string(cell("cpu_per_accel")) + "' is not a non-negative number");
        j.cpu_per_accel = *v;
      }
      if (!cell("mem_gib_per_accel").empty()) {
        auto v = parse_double(cell("mem_gib_per_accel"));
        if (!v || *v < 0)
          throw bad("mem_gib_per_accel", "'" + std::string(cell("mem_gib_per_accel")) +
                                             "' is not a non-negative number");
        j.mem_gib_per_accel = *v;
      }
      j.tenant = std::string(cell("tenant"));
      j.user = std::string(cell("user"));
      j.name = std::string(cell("name"));
      j.accepted = parse_accel_types(cell("accel_types"), ctx.catalog, j.unknown_type);
      if (!cell("model").empty()) {
        if (auto m = ctx.speeds.find_model(cell("model"))) j.model = *m;
      }
      j.recorded_type = ctx.opt.recorded_type;
      if (!cell("recorded_type").empty()) {
        auto t = ctx.catalog.find(cell("recorded_type"));
        if (!t)
          throw bad("recorded_type",
                    "unknown accelerator type '" + std::string(cell("recorded_type")) + "'");
        j.recorded_type = *t;
      } else if (j.recorded_type < 0 && !j.accepted.is_any() && j.accepted.count() == 1) {
        for (TypeId t = 0; t < ctx.catalog.size(); ++t)
          if (j.accepted.contains(t)) j.recorded_type = t;
      }
      auto [it, inserted] = seen.emplace(j.id, rec->line);
      if (!inserted)
        throw bad("id", "job id " + std::to_string(j.id) + " already used on line " +
                            std::to_string(it->second));
      out.jobs.push_back(std::move(j));
    });
  }
}

}  // namespace zs
