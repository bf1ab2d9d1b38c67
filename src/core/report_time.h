// Times that bound an accounting report (zs usage -S/-E, GET /api/v1/usage?start=&end=), as
// sacct and sreport take them but always in UTC: bills are cut at UTC day boundaries
// (core/accounting.h), so a report's edges are too. Unlike sbatch --begin, a date never rolls
// forward to its next occurrence: a report is about the past.
#pragma once
#include <string>
#include <string_view>

#include "core/time.h"

namespace zs {

// Forms (case-insensitive):
//   YYYY-MM                      the first day of that month, 00:00 ("2026-11": November's bill)
//   YYYY-MM-DD[THH:MM[:SS]]      a date, or a date and time
//   now, now-N[UNIT], now+N[UNIT] as for --begin (s, m, h, d, w and their long forms)
//   today, yesterday             00:00 of that day
//   @SECONDS                     seconds since the epoch
// Throws InputError(where, ...) naming the forms.
TimeMs parse_report_time(std::string_view text, TimeMs now_ms, const std::string& where);

// 00:00 UTC of the first day of the month `t` falls in.
TimeMs utc_month_start(TimeMs t);

// "2026-12-01T00:00:00Z"
std::string utc_time_text(TimeMs t);

}  // namespace zs
