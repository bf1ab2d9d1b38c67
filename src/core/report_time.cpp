#include "core/report_time.h"

#include "core/begin_time.h"
#include "core/input_error.h"
#include "core/slurm_values.h"
#include "core/text.h"

namespace zs {

namespace {

constexpr const char* kReportForms =
    "expected YYYY-MM, YYYY-MM-DD[THH:MM[:SS]], now[-N[s|m|h|d|w]], today, yesterday or "
    "@SECONDS (times are UTC)";

}  // namespace

TimeMs utc_month_start(TimeMs t) {
  const FixedOffsetZone utc;
  CivilTime c = utc.civil(t / 1000 - (t % 1000 < 0 ? 1 : 0));
  c.day = 1;
  c.hour = c.minute = c.second = 0;
  return utc.epoch_s(c) * 1000;
}

std::string utc_time_text(TimeMs t) {
  const CivilTime c = FixedOffsetZone().civil(t / 1000 - (t % 1000 < 0 ? 1 : 0));
  auto pad = [](int v, std::size_t width) {
    std::string s = std::to_string(v);
    return std::string(s.size() < width ? width - s.size() : 0, '0') + s;
  };
  return pad(c.year, 4) + "-" + pad(c.month, 2) + "-" + pad(c.day, 2) + "T" + pad(c.hour, 2) + ":" +
         pad(c.minute, 2) + ":" + pad(c.second, 2) + "Z";
}

TimeMs parse_report_time(std::string_view text, TimeMs now_ms, const std::string& where) {
  const std::string t = to_lower(trim(text));
  auto bad = [&] {
    return InputError(where, "bad time " + quote_value(text) + ": " + kReportForms);
  };
  if (t.empty() || t.size() > 64) throw bad();
  const FixedOffsetZone utc;
  // YYYY-MM: the month's first day (parse_begin_time has no such form).
  if (t.size() == 7 && t[4] == '-') {
    for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u})
      if (t[i] < '0' || t[i] > '9') throw bad();
    const int year = std::stoi(t.substr(0, 4)), month = std::stoi(t.substr(5, 2));
    if (year < 1970 || month < 1 || month > 12) throw bad();
    return utc.epoch_s(CivilTime{year, month, 1}) * 1000;
  }
  if (t == "yesterday") return parse_begin_time("today", now_ms, utc, where) - 86'400'000;
  // The forms that never look forward; the others (a time of day, MM/DD) would mean the next
  // occurrence, which a report cannot want.
  const bool allowed = t == "today" || t.rfind("now", 0) == 0 || t[0] == '@' ||
                       (t.size() >= 10 && t[4] == '-' && t[7] == '-');
  if (!allowed) throw bad();
  try {
    return parse_begin_time(t, now_ms, utc, where);
  } catch (const InputError&) {
    throw InputError(where, "bad time " + quote_value(text) + ": " + kReportForms);
  }
}

}  // namespace zs
