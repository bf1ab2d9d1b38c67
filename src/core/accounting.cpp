#include "core/accounting.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <utility>

namespace zs {
namespace {

TimeMs floor_div(TimeMs a, TimeMs b) {
  TimeMs q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// The record's overlap with the window, [lo, hi); lo == hi for an instant record.
struct Overlap {
  TimeMs lo, hi;
};
Overlap overlap(const UsageRecord& r, UsageWindow w) {
  TimeMs end = std::max(r.end_ms, r.start_ms);
  TimeMs lo = std::max(r.start_ms, w.start);
  return {lo, std::max(lo, std::min(end, w.end))};
}

// Calls f(day_start, piece_ms) for each UTC day the overlap touches, in order; an instant
// record is one piece of 0 ms on the day of its start.
template <class F>
void for_each_piece(Overlap o, F&& f) {
  if (o.lo == o.hi) {
    f(utc_day_start(o.lo), TimeMs{0});
    return;
  }
  for (TimeMs day = utc_day_start(o.lo); day < o.hi; day += kMsPerDay)
    f(day, std::min(o.hi, day + kMsPerDay) - std::max(o.lo, day));
}

struct Group {
  std::string tenant, user;
  bool mixed_tenant = false, mixed_user = false, any = false;
  std::set<JobId> jobs;
  std::set<std::pair<JobId, int>> attempts;
  std::int64_t accel_ms = 0, cost_milli = 0;

  void add(const UsageRecord& r, std::int64_t piece_accel_ms) {
    if (!any) {
      tenant = r.tenant;
      user = r.user;
      any = true;
    }
    mixed_tenant = mixed_tenant || tenant != r.tenant;
    mixed_user = mixed_user || user != r.user;
    jobs.insert(r.job);
    attempts.insert({r.job, r.attempt});
    accel_ms += piece_accel_ms;
    cost_milli += zs::cost_milli(piece_accel_ms, r.price_per_hour);
  }

  UsageRow row(std::string key) const {
    UsageRow out;
    out.key = std::move(key);
    if (!mixed_tenant) out.tenant = tenant;
    if (!mixed_user) out.user = user;
    out.jobs = static_cast<std::int64_t>(jobs.size());
    out.attempts = static_cast<std::int64_t>(attempts.size());
    out.accel_ms = accel_ms;
    out.accel_hours = static_cast<double>(accel_ms) / kMsPerHour;
    out.cost_milli = cost_milli;
    return out;
  }
};

}  // namespace

std::string usage_record_problem(const UsageRecord& r) {
  if (r.end_ms < r.start_ms) return "ends before it starts";
  if (r.accel_count < 0) return "has a negative accelerator count";
  if (!std::isfinite(r.price_per_hour) || r.price_per_hour < 0 || r.price_per_hour > kMaxUsagePrice)
    return "has a price that is negative, not finite or above " +
           std::to_string(static_cast<std::int64_t>(kMaxUsagePrice));
  // Both operands are non-negative here; compare by division so nothing overflows.
  TimeMs duration = r.end_ms - r.start_ms;
  if (r.accel_count > 0 && duration > kMaxUsageAccelMs / r.accel_count)
    return "holds more than 2^53 accelerator-ms";
  if (std::find(std::begin(kUsageStates), std::end(kUsageStates), r.state) ==
      std::end(kUsageStates)) {
    std::string choices;
    for (std::string_view s : kUsageStates)
      choices += (choices.empty() ? "" : ", ") + std::string(s);
    return "has an unknown state \"" + r.state + "\" (expected one of: " + choices + ")";
  }
  return "";
}

bool in_window(const UsageRecord& r, UsageWindow w) {
  TimeMs end = std::max(r.end_ms, r.start_ms);
  if (end == r.start_ms) return w.start <= r.start_ms && r.start_ms < w.end;
  return r.start_ms < w.end && end > w.start && w.start < w.end;
}

std::int64_t accel_ms(const UsageRecord& r, UsageWindow w) {
  if (!in_window(r, w)) return 0;
  Overlap o = overlap(r, w);
  return static_cast<std::int64_t>(r.accel_count) * (o.hi - o.lo);
}

std::int64_t cost_milli(std::int64_t accel_ms, double price_per_hour) {
  return std::llround(static_cast<double>(accel_ms) * price_per_hour / 3600.0);
}

// The sum over pieces without walking every day: the full days in the middle all cost the same.
std::int64_t cost_milli(const UsageRecord& r, UsageWindow w) {
  if (!in_window(r, w)) return 0;
  Overlap o = overlap(r, w);
  if (o.lo == o.hi) return 0;
  const std::int64_t n = r.accel_count;
  const TimeMs first_end = utc_day_start(o.lo) + kMsPerDay;
  const TimeMs last_start = utc_day_start(o.hi - 1);
  if (last_start < first_end) return cost_milli(n * (o.hi - o.lo), r.price_per_hour);
  const std::int64_t full_days = (last_start - first_end) / kMsPerDay;
  return cost_milli(n * (first_end - o.lo), r.price_per_hour) +
         full_days * cost_milli(n * kMsPerDay, r.price_per_hour) +
         cost_milli(n * (o.hi - last_start), r.price_per_hour);
}

std::string_view to_string(UsageGroup g) {
  switch (g) {
    case UsageGroup::tenant:
      return "tenant";
    case UsageGroup::user:
      return "user";
    case UsageGroup::type:
      return "type";
    case UsageGroup::day:
      return "day";
    case UsageGroup::job:
      return "job";
  }
  return "?";
}

std::optional<UsageGroup> usage_group_from_string(std::string_view s) {
  for (UsageGroup g :
       {UsageGroup::tenant, UsageGroup::user, UsageGroup::type, UsageGroup::day, UsageGroup::job})
    if (to_string(g) == s) return g;
  return std::nullopt;
}

TimeMs utc_day_start(TimeMs t) {
  return floor_div(t, kMsPerDay) * kMsPerDay;
}

// Howard Hinnant's civil_from_days.
std::string utc_day(TimeMs t) {
  std::int64_t z = floor_div(t, kMsPerDay) + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = yoe + era * 400;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  auto two = [](std::int64_t v) { return std::string(v < 10 ? "0" : "") + std::to_string(v); };
  std::string year = std::to_string(y);
  if (y >= 0 && y < 1000) year.insert(0, 4 - year.size(), '0');
  return year + "-" + two(m) + "-" + two(d);
}

std::vector<UsageRow> summarize(std::span<const UsageRecord> records, UsageWindow w, UsageGroup by,
                                const UsageFilter& filter) {
  // Numeric keys (job id, day start) sort job and day rows; text keys sort the others.
  std::map<std::pair<std::int64_t, std::string>, Group> groups;
  for (const UsageRecord& r : records) {
    if (!filter.accepts(r) || !in_window(r, w)) continue;
    Overlap o = overlap(r, w);
    for_each_piece(o, [&](TimeMs day, TimeMs piece_ms) {
      const std::int64_t piece_accel_ms = static_cast<std::int64_t>(r.accel_count) * piece_ms;
      std::pair<std::int64_t, std::string> key;
      switch (by) {
        case UsageGroup::tenant:
          key.second = r.tenant;
          break;
        case UsageGroup::user:
          key.second = r.user;
          break;
        case UsageGroup::type:
          key.second = r.accel_type;
          break;
        case UsageGroup::day:
          key.first = day;
          break;
        case UsageGroup::job:
          key.first = static_cast<std::int64_t>(r.job);
          break;
      }
      groups[key].add(r, piece_accel_ms);
    });
  }
  std::vector<UsageRow> rows;
  rows.reserve(groups.size());
  for (const auto& [key, g] : groups) {
    switch (by) {
      case UsageGroup::day:
        rows.push_back(g.row(utc_day(key.first)));
        break;
      case UsageGroup::job:
        rows.push_back(g.row(std::to_string(key.first)));
        break;
      default:
        rows.push_back(g.row(key.second));
        break;
    }
  }
  return rows;
}

UsageRow usage_total(std::span<const UsageRecord> records, UsageWindow w,
                     const UsageFilter& filter) {
  Group total;
  for (const UsageRecord& r : records) {
    if (!filter.accepts(r) || !in_window(r, w)) continue;
    // One add per record, with its window totals: the piece sums, computed in O(1).
    total.add(r, 0);
    total.accel_ms += accel_ms(r, w);
    total.cost_milli += cost_milli(r, w);
  }
  return total.row("");
}

}  // namespace zs
