#include "core/begin_time.h"

#include <cstdint>
#include <optional>
#include <vector>

#include "core/input_error.h"
#include "core/slurm_values.h"
#include "core/text.h"

namespace zs {
namespace {

constexpr const char* kBeginForms =
    "use now+N[seconds|minutes|hours|days|weeks], YYYY-MM-DD[THH:MM[:SS]], HH:MM[:SS][AM|PM], "
    "MM/DD[/YY][-HH:MM[:SS]], MMDD[YY], today, tomorrow, midnight, noon, or @EPOCH-SECONDS";

constexpr std::int64_t kMaxBeginS = std::int64_t{253402300799};  // 9999-12-31T23:59:59Z

std::optional<std::int64_t> digits_value(std::string_view s, std::size_t max_digits) {
  if (s.empty() || s.size() > max_digits) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

struct Clock {
  int hour = 0, minute = 0, second = 0;
};
struct Date {
  int year = 0, month = 0, day = 0;  // year 0 = not given
};

// "HH:MM[:SS]" with an optional "am"/"pm" suffix.
std::optional<Clock> parse_clock(std::string_view s) {
  int half = 0;  // 1 = am, 2 = pm
  if (s.size() > 2 && (s.substr(s.size() - 2) == "am" || s.substr(s.size() - 2) == "pm")) {
    half = s.substr(s.size() - 2) == "am" ? 1 : 2;
    s.remove_suffix(2);
  }
  const auto parts = split(s, ':');
  if (parts.size() < 2 || parts.size() > 3) return std::nullopt;
  Clock c;
  auto h = digits_value(parts[0], 2), m = digits_value(parts[1], 2);
  auto sec = parts.size() == 3 ? digits_value(parts[2], 2) : std::optional<std::int64_t>(0);
  if (!h || !m || !sec || *m > 59 || *sec > 59) return std::nullopt;
  if (half) {
    if (*h < 1 || *h > 12) return std::nullopt;
    c.hour = static_cast<int>(*h % 12) + (half == 2 ? 12 : 0);
  } else {
    if (*h > 23) return std::nullopt;
    c.hour = static_cast<int>(*h);
  }
  c.minute = static_cast<int>(*m);
  c.second = static_cast<int>(*sec);
  return c;
}

// MMDD[YY], MM/DD[/YY], MM.DD[.YY] (YY: 20YY; a four-digit year is accepted too).
std::optional<Date> parse_slurm_date(std::string_view s) {
  Date d;
  std::optional<std::int64_t> month, day, year;
  const char sep = s.find('/') != std::string_view::npos   ? '/'
                   : s.find('.') != std::string_view::npos ? '.'
                                                           : 0;
  if (sep) {
    const auto parts = split(s, sep);
    if (parts.size() < 2 || parts.size() > 3) return std::nullopt;
    month = digits_value(parts[0], 2);
    day = digits_value(parts[1], 2);
    if (parts.size() == 3) {
      if (parts[2].size() != 2 && parts[2].size() != 4) return std::nullopt;
      year = digits_value(parts[2], 4);
      if (!year) return std::nullopt;
      if (parts[2].size() == 2) *year += 2000;
    }
  } else {
    if (s.size() != 4 && s.size() != 6) return std::nullopt;
    month = digits_value(s.substr(0, 2), 2);
    day = digits_value(s.substr(2, 2), 2);
    if (s.size() == 6) {
      year = digits_value(s.substr(4, 2), 2);
      if (!year) return std::nullopt;
      *year += 2000;
    }
  }
  if (!month || !day || *month < 1 || *month > 12 || *day < 1 || *day > 31) return std::nullopt;
  d.month = static_cast<int>(*month);
  d.day = static_cast<int>(*day);
  d.year = year ? static_cast<int>(*year) : 0;
  return d;
}

// Days since 1970-01-01 of a civil date, and back (H. Hinnant's algorithms).
std::int64_t days_from_civil(std::int64_t y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilTime civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  CivilTime t;
  t.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  t.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  t.year = static_cast<int>(yoe + era * 400 + (t.month <= 2));
  return t;
}

// The zone's moment of a date at a clock time; nullopt when the date does not exist (Feb 30)
// or is out of range.
std::optional<std::int64_t> local_seconds(const TimeZone& zone, int year, int month, int day,
                                          const Clock& c) {
  if (year < 1970 || year > 9999 || month < 1 || month > 12 || day < 1 ||
      day > days_in_month(year, month))
    return std::nullopt;
  return zone.epoch_s({year, month, day, c.hour, c.minute, c.second});
}

// Today (+ days) at `c`, in the zone.
std::optional<std::int64_t> day_at(const TimeZone& zone, TimeMs now_ms, int days, const Clock& c) {
  const CivilTime today = zone.civil(now_ms / 1000);
  const CivilTime d = civil_from_days(days_from_civil(today.year, today.month, today.day) + days);
  return local_seconds(zone, d.year, d.month, d.day, c);
}

// "now", "now+90", "now+1hour", "now-2days".
std::optional<std::int64_t> relative_ms(std::string_view s, TimeMs now_ms) {
  if (s == "now") return now_ms;
  if (s.size() < 5 || (s[3] != '+' && s[3] != '-')) return std::nullopt;
  const int sign = s[3] == '+' ? 1 : -1;
  std::string_view rest = s.substr(4);
  std::size_t n = 0;
  while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
  const auto count = digits_value(rest.substr(0, n), 10);
  if (!count) return std::nullopt;
  const std::string_view unit = rest.substr(n);
  std::int64_t seconds = unit.empty() ? 1 : 0;  // seconds by default, as Slurm
  struct Unit {
    std::string_view names[5];
    std::int64_t seconds;
  };
  static constexpr Unit kUnits[] = {
      {{"s", "sec", "secs", "second", "seconds"}, 1},
      {{"m", "min", "mins", "minute", "minutes"}, 60},
      {{"h", "hr", "hrs", "hour", "hours"}, 3600},
      {{"d", "day", "days"}, 86400},
      {{"w", "week", "weeks"}, 7 * 86400},
  };
  for (const auto& u : kUnits)
    for (std::string_view name : u.names)
      if (!name.empty() && name == unit) seconds = u.seconds;
  if (!seconds) return std::nullopt;
  if (*count > kMaxBeginS / seconds) return std::nullopt;
  return now_ms + sign * *count * seconds * 1000;
}

// "YYYY-MM-DD[THH:MM[:SS]]".
std::optional<std::int64_t> iso_seconds(const TimeZone& zone, std::string_view s) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  const auto y = digits_value(s.substr(0, 4), 4), m = digits_value(s.substr(5, 2), 2),
             d = digits_value(s.substr(8, 2), 2);
  if (!y || !m || !d || *m < 1 || *m > 12 || *d < 1 || *d > 31) return std::nullopt;
  Clock c;
  if (s.size() > 10) {
    if (s[10] != 't' && s[10] != ' ') return std::nullopt;
    const auto clock = parse_clock(s.substr(11));
    if (!clock) return std::nullopt;
    c = *clock;
  }
  return local_seconds(zone, static_cast<int>(*y), static_cast<int>(*m), static_cast<int>(*d), c);
}

}  // namespace

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

CivilTime FixedOffsetZone::civil(std::int64_t epoch_s) const {
  const std::int64_t local = epoch_s + offset_s_;
  std::int64_t days = local / 86400, rest = local % 86400;
  if (rest < 0) rest += 86400, --days;
  CivilTime t = civil_from_days(days);
  t.hour = static_cast<int>(rest / 3600);
  t.minute = static_cast<int>(rest / 60 % 60);
  t.second = static_cast<int>(rest % 60);
  return t;
}

std::int64_t FixedOffsetZone::epoch_s(const CivilTime& t) const {
  return days_from_civil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 +
         t.second - offset_s_;
}

TimeMs parse_begin_time(std::string_view text, TimeMs now_ms, const TimeZone& zone,
                        const std::string& where) {
  const std::string t = to_lower(trim(text));
  auto bad = [&](const std::string& why = "") {
    return InputError(where, "bad begin time " + quote_value(text) + ": " +
                                 (why.empty() ? std::string(kBeginForms) : why));
  };
  if (t.empty() || t.size() > 64) throw bad();
  auto in_range = [&](std::int64_t ms) {
    if (ms < 0 || ms / 1000 > kMaxBeginS) throw bad("out of range (1970 to 9999)");
    return static_cast<TimeMs>(ms);
  };

  // Seconds since the epoch: "@1700000000", or a bare number too long to be a date.
  if (t[0] == '@' || (t.size() >= 9 && digits_value(t, 12))) {
    const auto s = digits_value(t[0] == '@' ? std::string_view(t).substr(1) : t, 12);
    if (!s) throw bad();
    return in_range(*s * 1000);
  }
  if (t.rfind("now", 0) == 0) {
    const auto ms = relative_ms(t, now_ms);
    if (!ms) throw bad();
    return in_range(*ms);
  }
  if (t.size() >= 10 && t[4] == '-' && t[7] == '-') {
    const auto s = iso_seconds(zone, t);
    if (!s) throw bad("no such date or time; " + std::string(kBeginForms));
    return in_range(*s * 1000);
  }

  // Words: a time of day, a date, and the day or time names, in any order.
  std::optional<Clock> clock;
  std::optional<Date> date;
  int day_offset = 0;
  bool day_named = false;
  std::vector<std::string_view> words;
  for (std::string_view w : split(t, ' '))
    if (!w.empty()) words.push_back(w);
  // "12/25-08:00": a date and a time joined by '-'.
  if (words.size() == 1 && words[0].find('-') != std::string_view::npos) {
    const auto dash = words[0].find('-');
    const std::string_view both = words[0];
    words = {both.substr(0, dash), both.substr(dash + 1)};
  }
  for (std::size_t i = 0; i < words.size(); ++i) {
    std::string_view w = words[i];
    static constexpr std::pair<std::string_view, int> kNamedTimes[] = {
        {"midnight", 0}, {"noon", 12}, {"elevenses", 11}, {"fika", 15}, {"teatime", 16}};
    bool named = false;
    for (const auto& [name, hour] : kNamedTimes)
      if (w == name) {
        if (clock) throw bad("two times of day");
        clock = Clock{hour, 0, 0};
        named = true;
      }
    if (named) continue;
    if (w == "today" || w == "tomorrow") {
      if (day_named || date) throw bad("two days");
      day_named = true;
      day_offset = w == "tomorrow" ? 1 : 0;
      continue;
    }
    if ((w == "am" || w == "pm") && i > 0 && clock) continue;  // "8:00 pm": handled below
    if (w.find(':') != std::string_view::npos) {
      std::string with_half(w);
      if (i + 1 < words.size() && (words[i + 1] == "am" || words[i + 1] == "pm"))
        with_half += words[i + 1];
      if (clock) throw bad("two times of day");
      clock = parse_clock(with_half);
      if (!clock) throw bad("bad time of day " + quote_value(w) + "; " + kBeginForms);
      continue;
    }
    if (date || day_named) throw bad("two days");
    date = parse_slurm_date(w);
    if (!date) throw bad();
  }
  if (!clock && !date && !day_named) throw bad();

  const Clock at = clock.value_or(Clock{});
  std::optional<std::int64_t> s;
  if (date) {
    const int this_year = zone.civil(now_ms / 1000).year;
    s = local_seconds(zone, date->year ? date->year : this_year, date->month, date->day, at);
    if (s && !date->year && *s * 1000 < now_ms)
      s = local_seconds(zone, this_year + 1, date->month, date->day, at);  // next year's
    if (!s) throw bad("no such date " + quote_value(text));
  } else {
    s = day_at(zone, now_ms, day_offset, at);
    // A time of day alone (or "noon") is the next one to come: tomorrow's once today's passed.
    if (s && !day_named && *s * 1000 < now_ms) s = day_at(zone, now_ms, 1, at);
  }
  if (!s) throw bad();
  return in_range(*s * 1000);
}

}  // namespace zs
