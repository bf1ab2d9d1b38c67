// Pollux's processed Microsoft Philly trace: timestamp,duration,num_gpus,gpu_time,cluster.
// Rows are not in time order; jobs get ids 1..N in file order and submit times relative to the
// earliest timestamp. The virtual cluster becomes the tenant.
#include <algorithm>

#include "core/csv.h"
#include "core/input_error.h"
#include "core/text.h"
#include "sim/trace_readers.h"

namespace zs {

namespace {
// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}
}  // namespace

// "YYYY-MM-DD HH:MM:SS" (no time zone) -> seconds since the epoch, or nullopt.
std::optional<std::int64_t> parse_timestamp(std::string_view s) {
  s = trim(s);
  if (s.size() != 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
      s[13] != ':' || s[16] != ':')
    return std::nullopt;
  auto y = parse_int(s.substr(0, 4)), mo = parse_int(s.substr(5, 2)), d = parse_int(s.substr(8, 2));
  auto h = parse_int(s.substr(11, 2)), mi = parse_int(s.substr(14, 2)),
       se = parse_int(s.substr(17, 2));
  if (!y || !mo || !d || !h || !mi || !se || *mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 ||
      *mi > 59 || *se > 60 || *h < 0 || *mi < 0 || *se < 0)
    return std::nullopt;
  return days_from_civil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d)) * 86400 +
         *h * 3600 + *mi * 60 + *se;
}

void read_philly_csv(const ReaderContext& ctx, Trace& out) {
  CsvReader reader(ctx.text, ctx.source);
  auto header_rec = reader.next();
  if (!header_rec) throw InputError(ctx.source, "empty trace: expected a header row");
  CsvHeader h(*header_rec, ctx.source, {"timestamp", "duration", "num_gpus"},
              {"gpu_time", "cluster"});
  const int c_ts = h.index("timestamp"), c_dur = h.index("duration"), c_gpus = h.index("num_gpus"),
            c_vc = h.index("cluster");
  std::vector<std::pair<std::int64_t, Job>> rows;
  rows.reserve(out.jobs.capacity());  // one per line at most (read_trace_text)
  RowSink sink(out, ctx.opt.skip_bad_rows);
  JobId next_id = 1;
  while (auto rec = reader.next()) {
    const JobId id = next_id++;
    sink.row([&] {
      // Only a bad row needs its place spelled out.
      auto where = [&] { return ctx.source + ":" + std::to_string(rec->line); };
      if (rec->fields.size() != h.size())
        throw InputError(where(), "expected " + std::to_string(h.size()) + " fields, found " +
                                      std::to_string(rec->fields.size()));
      auto ts = parse_timestamp(rec->fields[c_ts]);
      if (!ts)
        throw InputError(
            where(), "column timestamp: '" + rec->fields[c_ts] + "' is not YYYY-MM-DD HH:MM:SS");
      auto dur = parse_double(rec->fields[c_dur]);
      if (!dur)
        throw InputError(where(), "column duration: '" + rec->fields[c_dur] + "' is not a number");
      if (*dur < 0)
        throw InputError(where(), "column duration: negative duration " + rec->fields[c_dur]);
      if (*dur > 1e10)
        throw InputError(
            where(), "column duration: " + rec->fields[c_dur] + " seconds is implausibly large");
      auto gpus = parse_double(rec->fields[c_gpus]);
      if (!gpus || *gpus < 1 || *gpus > 1e6 ||
          *gpus != static_cast<double>(static_cast<int>(*gpus)))
        throw InputError(where(), "column num_gpus: '" + rec->fields[c_gpus] +
                                      "' is not a positive whole number");
      Job j;
      j.id = id;
      j.duration = seconds_to_ms(*dur);
      j.accel_count = static_cast<int>(*gpus);
      j.tenant = c_vc >= 0 ? std::string(trim(rec->fields[c_vc])) : std::string();
      j.recorded_type = ctx.opt.recorded_type;
      rows.emplace_back(*ts, std::move(j));
    });
  }
  if (rows.empty()) return;
  std::int64_t t0 = rows.front().first;
  for (const auto& r : rows) t0 = std::min(t0, r.first);
  for (auto& [ts, j] : rows) {
    j.submit = (ts - t0) * kMsPerSecond;
    out.jobs.push_back(std::move(j));
  }
}

}  // namespace zs
