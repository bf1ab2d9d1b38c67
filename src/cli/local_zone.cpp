#include "cli/local_zone.h"

#include <ctime>

namespace zs::cli {

CivilTime SystemTimeZone::civil(std::int64_t epoch_s) const {
  const std::time_t t = static_cast<std::time_t>(epoch_s);
  std::tm tm{};
  localtime_r(&t, &tm);
  return {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
}

std::int64_t SystemTimeZone::epoch_s(const CivilTime& c) const {
  std::tm tm{};
  tm.tm_year = c.year - 1900;
  tm.tm_mon = c.month - 1;
  tm.tm_mday = c.day;
  tm.tm_hour = c.hour;
  tm.tm_min = c.minute;
  tm.tm_sec = c.second;
  tm.tm_isdst = -1;  // whatever applies then (mktime resolves a daylight-saving gap)
  return static_cast<std::int64_t>(std::mktime(&tm));
}

}  // namespace zs::cli
