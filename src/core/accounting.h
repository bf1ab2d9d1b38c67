// Accounting: one usage record per attempt of a job, and the reports `zs usage` makes of them.
//
// Money is integer: costs are in milli-currency units (1/1000 of the unit prices are given in).
// The unit of rounding is a *piece*: the part of one record that falls into one UTC calendar day
// inside the report's window. A piece's cost is rounded once,
//   cost_milli(piece) = llround(accel_ms(piece) * price_per_hour / 3600)
// (accel_ms * price * 1000 / 3.6e6, halves away from zero), and every total is an integer sum of
// piece costs. So the rows of a report by tenant, by user, by type, by day or by job add up to
// the same grand total exactly, and reports over consecutive day-aligned windows add up to the
// report over their union.
//
// Windows are half-open, [start, end). A record that crosses an edge counts only its overlap
// (its accelerator-ms and the cost of those); one that lasted no time at all (start == end)
// belongs to the window that contains its start, with no usage but as an attempt.
#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/job.h"
#include "core/time.h"

namespace zs {

// One attempt of one job: what it held and for how long. end_ms is the moment its devices were
// released, grace period included (a preempted attempt is billed until its processes are gone).
struct UsageRecord {
  std::string tenant;
  std::string user;
  JobId job = 0;
  int attempt = 0;
  std::string accel_type;  // catalog name
  int accel_count = 0;
  TimeMs start_ms = 0;
  TimeMs end_ms = 0;
  int exit_code = 0;
  std::string state;  // how the attempt ended: completed, failed, preempted, cancelled, timeout,
                      // node_fail
  double price_per_hour = 0;  // per accelerator-hour, at the time of the attempt
  bool operator==(const UsageRecord&) const = default;
};

inline constexpr TimeMs kMsPerHour = 3'600'000;
inline constexpr TimeMs kMsPerDay = 86'400'000;
// Bounds that keep every sum in 64 bits: a record's accelerator-ms (count x duration) and price.
inline constexpr std::int64_t kMaxUsageAccelMs = std::int64_t{1} << 53;
inline constexpr double kMaxUsagePrice = 1e6;

// How an attempt can end: UsageRecord::state is one of these.
inline constexpr std::string_view kUsageStates[] = {"completed", "failed",  "preempted",
                                                    "cancelled", "timeout", "node_fail"};

// What makes a record unusable for billing (end before start, a negative count, a price that is
// negative, not finite or above kMaxUsagePrice, count x duration above kMaxUsageAccelMs, a state
// not in kUsageStates), or "".
std::string usage_record_problem(const UsageRecord& r);

struct UsageWindow {
  TimeMs start = 0;
  TimeMs end = kNever;  // exclusive
};

// Whether the record belongs to the window: its [start, end) overlaps it, or it lasted no time
// and started inside it. Stores select records by the same rule.
bool in_window(const UsageRecord& r, UsageWindow w);
// Accelerator-ms of the record inside the window: accel_count x the overlap.
std::int64_t accel_ms(const UsageRecord& r, UsageWindow w);
// Its cost inside the window, in milli-units: the sum of its pieces' rounded costs.
std::int64_t cost_milli(const UsageRecord& r, UsageWindow w);
// The cost of `accel_ms` accelerator-ms at `price_per_hour`, rounded to milli-units.
std::int64_t cost_milli(std::int64_t accel_ms, double price_per_hour);

enum class UsageGroup { tenant, user, type, day, job };
std::string_view to_string(UsageGroup g);
std::optional<UsageGroup> usage_group_from_string(std::string_view s);

// The UTC calendar day of an epoch-ms time, as YYYY-MM-DD; its first ms.
std::string utc_day(TimeMs t);
TimeMs utc_day_start(TimeMs t);

// Which records a report covers; an empty set means all.
struct UsageFilter {
  std::set<std::string> tenants;
  std::set<std::string> users;
  bool accepts(const UsageRecord& r) const {
    return (tenants.empty() || tenants.count(r.tenant)) && (users.empty() || users.count(r.user));
  }
};

struct UsageRow {
  // The tenant, user or type; the day as YYYY-MM-DD; the job id in decimal. "" for a total.
  std::string key;
  // The group's tenant and user when all its records share one (always for a job), else "".
  std::string tenant, user;
  std::int64_t jobs = 0;      // distinct jobs
  std::int64_t attempts = 0;  // distinct (job, attempt) pairs
  std::int64_t accel_ms = 0;
  double accel_hours = 0;  // accel_ms / 3.6e6, for display only
  std::int64_t cost_milli = 0;
  bool operator==(const UsageRow&) const = default;
};

// One row per group with usage or attempts in the window, sorted by key (job rows by id, day
// rows by date). Records the filter refuses or outside the window are left out.
std::vector<UsageRow> summarize(std::span<const UsageRecord> records, UsageWindow w, UsageGroup by,
                                const UsageFilter& filter = {});
// The grand total of the same records (key ""); equals the sum of any summarize() rows.
UsageRow usage_total(std::span<const UsageRecord> records, UsageWindow w,
                     const UsageFilter& filter = {});

}  // namespace zs
