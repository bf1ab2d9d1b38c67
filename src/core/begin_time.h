// sbatch --begin: when a job becomes eligible to start. Pure: times of day and dates are local
// (as in Slurm), and the local time zone is passed in (the CLI's is the system's).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/time.h"

namespace zs {

// A wall-clock time in some time zone.
struct CivilTime {
  int year = 1970, month = 1, day = 1;  // month 1..12, day 1..31
  int hour = 0, minute = 0, second = 0;
  bool operator==(const CivilTime&) const = default;
};

// Conversions between seconds since the epoch and a time zone's wall clock.
class TimeZone {
 public:
  virtual ~TimeZone() = default;
  virtual CivilTime civil(std::int64_t epoch_s) const = 0;
  // The moment a valid civil time names (in a daylight-saving gap: the zone's choice).
  virtual std::int64_t epoch_s(const CivilTime& t) const = 0;
};

// A zone at a fixed offset from UTC (UTC itself with 0); pure arithmetic, for tests and UTC.
class FixedOffsetZone : public TimeZone {
 public:
  explicit FixedOffsetZone(std::int64_t offset_s = 0) : offset_s_(offset_s) {}
  CivilTime civil(std::int64_t epoch_s) const override;
  std::int64_t epoch_s(const CivilTime& t) const override;

 private:
  std::int64_t offset_s_;
};

// Days in a month of the proleptic Gregorian calendar.
int days_in_month(int year, int month);

// The moment `text` names, in ms since the epoch, given the time now. Forms (case-insensitive):
//   now, now+N[UNIT], now-N[UNIT]  UNIT: seconds (default), minutes, hours, days, weeks, in any
//                                  of the forms s sec secs second seconds, m min minute(s),
//                                  h hour(s), d day(s), w week(s): "now+1hour", "now+90"
//   YYYY-MM-DD[THH:MM[:SS]]        ISO 8601 date and time ("2025-03-01T08:00")
//   HH:MM[:SS][AM|PM]              today, or tomorrow when that time has passed
//   MMDD[YY], MM/DD[/YY], MM.DD[.YY]  a date (this year when no year; the next time that date
//                                  comes when it has passed), optionally with a time of day
//                                  after a blank or a '-' ("12/25-08:00", "08:00 12/25")
//   today, tomorrow                midnight at the start of that day
//   midnight, noon, elevenses, fika, teatime  the next 00:00, 12:00, 11:00, 15:00, 16:00
//   @SECONDS, or 9 or more digits  seconds since the epoch (1700000000)
// A time in the past is allowed (the job may start at once). Throws InputError(where, ...)
// naming the accepted forms.
TimeMs parse_begin_time(std::string_view text, TimeMs now_ms, const TimeZone& zone,
                        const std::string& where = "--begin");

}  // namespace zs
